// Package config loads and validates gatewarden's YAML configuration: home
// country and numbering plan, the partners (who is behind each address and
// point code, and which calling numbers each may present), protected numbers,
// the blocklist and the rule thresholds. Every key is documented in
// deploy/gatewarden.example.yaml.
//
// A Config is immutable after loading and safe for concurrent use.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gatewarden/gatewarden/analysis/numplan"
	"github.com/gatewarden/gatewarden/analysis/rules"
)

// Partner kinds.
const (
	KindInternational = rules.KindInternational // international gateway peer (calls from abroad)
	KindInterconnect  = rules.KindInterconnect  // another domestic operator
	KindLeasedLine    = rules.KindLeasedLine    // enterprise voice leased line (语音专线)
	KindInternal      = rules.KindInternal      // our own network
)

var kinds = []string{KindInternational, KindInterconnect, KindLeasedLine, KindInternal}

// Severities a rule may be given.
var Severities = []string{"info", "warning", "critical"}

// DefaultProtectedNumbers are emergency and government hotlines protected when
// the file does not list its own.
var DefaultProtectedNumbers = []string{"110", "119", "120", "122", "12345", "12321", "95588"}

// Partner is one configured peer: who is behind an address or point code.
type Partner struct {
	Name  string
	Kind  string // one of the Kind constants
	Index int    // position in the file's partners list
	// IPs and PointCodes identify the partner; either suffices.
	IPs        []netip.Addr
	PointCodes []uint32
	// SIPEndpoints are SIP signalling addresses (IP and port) of the
	// partner: for SBCs that several partners reach on one IP, a port
	// names the partner; they win over IPs for SIP calls.
	SIPEndpoints []netip.AddrPort
	// AllowedCLI are national-significant prefixes the partner may present
	// as calling number; empty means any.
	AllowedCLI []string
	// Forwarding: the partner is registered for call forwarding.
	Forwarding bool
	// RoamingMobileExempt: home mobiles roaming abroad may arrive from this
	// international partner with a home calling number.
	RoamingMobileExempt bool
	// ProtectedAllowed lists protected numbers this partner may present.
	ProtectedAllowed []string
	// PCBits is the point-code width on this partner's links (14 or 24).
	PCBits uint8
	// Country is the ISO 3166-1 alpha-2 code of an international partner's
	// country: the origin of its calls whose caller has no foreign country
	// code. "" when not configured.
	Country string
	// CLIChangeAllowed: the gateway may present another calling number on
	// the egress leg of a call this partner sends or receives
	// (cli.altered_in_transit does not fire).
	CLIChangeAllowed bool
}

// Window is a count of events within a time window.
type Window struct {
	Calls  int
	Window time.Duration
}

// OneRing is the one-ring (wangiri) threshold: Calls calls released by the
// caller within RingMax of alerting, within Window.
type OneRing struct {
	Calls   int
	Window  time.Duration
	RingMax time.Duration
}

// Thresholds of the behaviour rules.
type Thresholds struct {
	OneRing       OneRing
	Bombing       Window // calls to one number
	HighFrequency Window // calls from one number
	Relay         Window // forwarded calls by one redirecting number
	// FwdLoopCounter is the redirection counter at or above which fwd.loop fires.
	FwdLoopCounter int
	// Transit correlation of ingress and egress legs.
	Transit Transit
	// ASRDrop is route.asr_drop; ShortCalls is route.short_calls.
	ASRDrop    ASRDrop
	ShortCalls ShortCalls
}

// Transit bounds the correlation of transit legs.
type Transit struct {
	Window     time.Duration // egress IAM at most this long after the ingress IAM
	MaxPending int           // ingress legs held for matching
}

// ASRDrop: a route's hourly ASR (E.411) below Floor, or below Fraction of its
// trailing 7-day ASR at the same hour, with at least MinSeizures seizures. An
// hour is judged Settle after it ends (calls it started have closed by then).
type ASRDrop struct {
	Floor       float64
	Fraction    float64
	MinSeizures int
	Settle      time.Duration
}

// ShortCalls: within each Window, at least MinAnswered answered calls on a
// route and more than Share of them with talk time below MaxTalk.
type ShortCalls struct {
	MaxTalk     time.Duration
	Share       float64
	MinAnswered int
	Window      time.Duration
}

// DefaultThresholds are the thresholds when the file does not override them.
func DefaultThresholds() Thresholds {
	return Thresholds{
		OneRing:        OneRing{Calls: 10, Window: 600 * time.Second, RingMax: 5 * time.Second},
		Bombing:        Window{Calls: 20, Window: 300 * time.Second},
		HighFrequency:  Window{Calls: 60, Window: 600 * time.Second},
		Relay:          Window{Calls: 30, Window: 600 * time.Second},
		FwdLoopCounter: 5,
		Transit:        Transit{Window: 3 * time.Second, MaxPending: 1 << 16},
		ASRDrop:        ASRDrop{Floor: 0.2, Fraction: 0.5, MinSeizures: 30, Settle: 10 * time.Minute},
		ShortCalls:     ShortCalls{MaxTalk: 10 * time.Second, Share: 0.5, MinAnswered: 20, Window: time.Hour},
	}
}

// Config is a loaded, validated configuration.
type Config struct {
	File            string // the file it was loaded from ("" for Default)
	HomeCountryCode string
	NumberingPlan   string        // as written: cn, e164 or a path
	Plan            *numplan.Plan // loaded plan, its country code the home one
	PointCodeBits   uint8         // default width; partners may override
	// Partners in file order. Do not append: the lookups point into it.
	Partners         []Partner
	ProtectedNumbers []string // national significant numbers
	// BlocklistFile is the path of the blocklist, resolved against the
	// configuration file's directory; "" when none.
	BlocklistFile string
	Thresholds    Thresholds
	// Severity overrides the default severity per rule ID ("info",
	// "warning", "critical").
	Severity map[string]string
	// Daemon is the `daemon:` section (gatewarden run); see daemon.go.
	Daemon Daemon
	// Box names this gatewarden box in the province (default: host name);
	// every row shipped to the central store carries it (central.go).
	Box string
	// Central is the `central:` section (central.go).
	Central Central

	byAddr map[netip.Addr]*Partner
	bySIP  map[netip.AddrPort]*Partner
	byPC   map[uint32]*Partner
}

// PartnerByAddr returns the partner owning address a, or nil. It does not allocate.
func (c *Config) PartnerByAddr(a netip.Addr) *Partner {
	return c.byAddr[a.Unmap()]
}

// PartnerByPC returns the partner owning point code pc, or nil. It does not allocate.
func (c *Config) PartnerByPC(pc uint32) *Partner {
	return c.byPC[pc]
}

// PartnerName names the partner owning addr or, failing that, point code pc;
// "" if neither is configured. It fits analysis.AssemblerConfig.Partner.
func (c *Config) PartnerName(addr netip.Addr, pc uint32) string {
	if p := c.byAddr[addr.Unmap()]; p != nil {
		return p.Name
	}
	if p := c.byPC[pc]; p != nil {
		return p.Name
	}
	return ""
}

// SIPPartnerName names the partner owning a SIP endpoint: its match.sip
// address and port, else its IP address (match.ips); "" if none.
func (c *Config) SIPPartnerName(ap netip.AddrPort) string {
	if p := c.bySIP[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())]; p != nil {
		return p.Name
	}
	if p := c.byAddr[ap.Addr().Unmap()]; p != nil {
		return p.Name
	}
	return ""
}

// PartnerByName returns the named partner, or nil.
func (c *Config) PartnerByName(name string) *Partner {
	for i := range c.Partners {
		if c.Partners[i].Name == name {
			return &c.Partners[i]
		}
	}
	return nil
}

// Default returns the configuration used without a file: China, the cn plan,
// 14-bit point codes, no partners, default protected numbers and thresholds.
func Default() *Config {
	plan, err := numplan.Builtin("cn")
	if err != nil {
		panic("config: built-in cn plan: " + err.Error()) // embedded data: a build defect
	}
	return &Config{
		HomeCountryCode:  "86",
		NumberingPlan:    "cn",
		Plan:             plan,
		PointCodeBits:    14,
		ProtectedNumbers: append([]string(nil), DefaultProtectedNumbers...),
		Thresholds:       DefaultThresholds(),
		Severity:         map[string]string{},
		Daemon:           defaultDaemon(),
		Box:              defaultBox(),
		Central:          buildCentral(nil, nil),
		byAddr:           map[netip.Addr]*Partner{},
		byPC:             map[uint32]*Partner{},
	}
}

// Load reads and validates the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path)
}

// The file's shape. Pointers tell "absent" (take the default) from zero.
type fileConfig struct {
	HomeCountryCode  *string           `yaml:"home_country_code"`
	NumberingPlan    *string           `yaml:"numbering_plan"`
	PointCodeBits    *int              `yaml:"point_code_bits"`
	Partners         []filePartner     `yaml:"partners"`
	ProtectedNumbers *[]string         `yaml:"protected_numbers"`
	BlocklistFile    string            `yaml:"blocklist_file"`
	Thresholds       fileThresholds    `yaml:"thresholds"`
	Severity         map[string]string `yaml:"severity"`
	Daemon           *fileDaemon       `yaml:"daemon"`
	Box              *string           `yaml:"box"`
	Central          *fileCentral      `yaml:"central"`
}

type filePartner struct {
	Name                string    `yaml:"name"`
	Kind                string    `yaml:"kind"`
	Match               fileMatch `yaml:"match"`
	AllowedCLI          []string  `yaml:"allowed_cli"`
	Forwarding          *bool     `yaml:"forwarding"`
	RoamingMobileExempt bool      `yaml:"roaming_mobile_exempt"`
	ProtectedAllowed    []string  `yaml:"protected_allowed"`
	PointCodeBits       *int      `yaml:"point_code_bits"`
	Country             string    `yaml:"country"`
	CLIChangeAllowed    bool      `yaml:"cli_change_allowed"`
}

type fileMatch struct {
	IPs        []string    `yaml:"ips"`
	PointCodes []yaml.Node `yaml:"point_codes"` // integers or "8-8-8"/"3-8-3" strings
	SIP        []string    `yaml:"sip"`         // "ip:port" SIP endpoints
}

type fileWindow struct {
	Calls  *int    `yaml:"calls"`
	Window *string `yaml:"window"`
}

type fileOneRing struct {
	Calls   *int    `yaml:"calls"`
	Window  *string `yaml:"window"`
	RingMax *string `yaml:"ring_max"`
}

type fileThresholds struct {
	OneRing        fileOneRing `yaml:"one_ring"`
	Bombing        fileWindow  `yaml:"bombing"`
	HighFrequency  fileWindow  `yaml:"high_frequency"`
	Relay          fileWindow  `yaml:"relay"`
	FwdLoopCounter *int        `yaml:"fwd_loop_counter"`
	Transit        struct {
		Window     *string `yaml:"window"`
		MaxPending *int    `yaml:"max_pending"`
	} `yaml:"transit"`
	ASRDrop struct {
		Floor       *float64 `yaml:"floor"`
		Fraction    *float64 `yaml:"fraction"`
		MinSeizures *int     `yaml:"min_seizures"`
		Settle      *string  `yaml:"settle"`
	} `yaml:"asr_drop"`
	ShortCalls struct {
		MaxTalk     *string  `yaml:"max_talk"`
		Share       *float64 `yaml:"share"`
		MinAnswered *int     `yaml:"min_answered"`
		Window      *string  `yaml:"window"`
	} `yaml:"short_calls"`
}

// problems collects every validation error so the operator sees them all at
// once, each with the file, key and line.
type problems struct {
	file string
	root *yaml.Node // the parsed document, for line numbers; nil if none
	errs []error
}

func (p *problems) add(key, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	if line := lineOf(p.root, key); line > 0 {
		msg += fmt.Sprintf(" (line %d)", line)
	}
	p.errs = append(p.errs, fmt.Errorf("%s: key %s: %s", p.file, key, msg))
}

func (p *problems) err() error { return errors.Join(p.errs...) }

// Parse validates a configuration; name is the file path, used in error
// messages and to resolve relative paths in it.
func Parse(data []byte, name string) (*Config, error) {
	var f fileConfig
	probs := &problems{file: name}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) == nil {
		probs.root = &root
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) || probs.root == nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		// Unknown keys and wrong types: yaml.v3 decoded everything else, so
		// it is validated too and every problem is listed at once.
		for _, m := range te.Errors {
			probs.errs = append(probs.errs, explainTypeError(probs.root, name, m))
		}
	}
	c := Default()
	c.File = name
	dir := filepath.Dir(name)

	if f.HomeCountryCode != nil {
		c.HomeCountryCode = *f.HomeCountryCode
	}
	if f.NumberingPlan != nil {
		c.NumberingPlan = *f.NumberingPlan
	}
	c.Plan = loadPlan(c.NumberingPlan, c.HomeCountryCode, dir, probs)

	if f.PointCodeBits != nil {
		if bits, ok := pcBits(*f.PointCodeBits); ok {
			c.PointCodeBits = bits
		} else {
			probs.add("point_code_bits", "%d is not 14 or 24", *f.PointCodeBits)
		}
	}

	if f.ProtectedNumbers != nil {
		c.ProtectedNumbers = *f.ProtectedNumbers
	}
	protected := map[string]bool{}
	for i, n := range c.ProtectedNumbers {
		checkNational(probs, fmt.Sprintf("protected_numbers[%d]", i), n, "a number")
		protected[n] = true
	}

	c.Partners = make([]Partner, len(f.Partners))
	for i := range f.Partners {
		c.Partners[i] = buildPartner(&f.Partners[i], i, c.PointCodeBits, protected, probs)
	}
	c.index(probs)

	if f.BlocklistFile != "" {
		c.BlocklistFile = f.BlocklistFile
		if !filepath.IsAbs(c.BlocklistFile) {
			c.BlocklistFile = filepath.Join(dir, c.BlocklistFile)
		}
		if _, err := LoadBlocklistCC(c.BlocklistFile, c.HomeCountryCode); err != nil {
			probs.add("blocklist_file", "%v", err)
		}
	}

	c.Thresholds = buildThresholds(&f.Thresholds, probs)

	for rule, sev := range f.Severity {
		if !contains(rules.IDs, rule) {
			probs.add("severity."+rule, "%q is not a rule ID (%s)", rule, strings.Join(rules.IDs, ", "))
			continue
		}
		if !contains(Severities, sev) {
			probs.add("severity."+rule, "%q is not one of %s", sev, strings.Join(Severities, ", "))
			continue
		}
		c.Severity[rule] = sev
	}

	if f.Daemon != nil {
		c.Daemon = buildDaemon(f.Daemon, dir, probs)
	}
	c.Box, c.Central = buildBox(f.Box, probs), buildCentral(f.Central, probs)

	if err := probs.err(); err != nil {
		return nil, err
	}
	return c, nil
}

func loadPlan(spec, home, dir string, probs *problems) *numplan.Plan {
	if !isNumber(home) || len(home) > 3 {
		probs.add("home_country_code", "%q is not a country code (1-3 digits)", home)
		return nil
	}
	var plan *numplan.Plan
	var err error
	switch spec {
	case "cn", "e164":
		plan, err = numplan.Builtin(spec)
	case "":
		probs.add("numbering_plan", "empty (cn, e164 or a plan file)")
		return nil
	default:
		path := spec
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		if _, serr := os.Stat(path); serr != nil && !strings.ContainsAny(spec, `/\.`) {
			// A bare word that is not a plan name is a typo of one, not a
			// file the operator meant.
			probs.add("numbering_plan", "%q is not a built-in plan (cn, e164) nor a plan file (%s: %v)", spec, path, serr)
			return nil
		}
		plan, err = numplan.Load(path)
	}
	if err != nil {
		probs.add("numbering_plan", "%v", err)
		return nil
	}
	switch plan.CountryCode() {
	case home:
		return plan
	case "":
		// A plan without a home country (e164) takes ours.
		withHome, err := plan.WithCountryCode(home)
		if err != nil {
			probs.add("home_country_code", "%v", err)
			return nil
		}
		return withHome
	default:
		probs.add("home_country_code", "%q does not match numbering plan %s (country code %s)", home, spec, plan.CountryCode())
		return nil
	}
}

func pcBits(v int) (uint8, bool) {
	if v == 14 || v == 24 {
		return uint8(v), true
	}
	return 0, false
}

func buildPartner(fp *filePartner, i int, defaultBits uint8, protected map[string]bool, probs *problems) Partner {
	key := fmt.Sprintf("partners[%d]", i)
	p := Partner{
		Name: fp.Name, Kind: fp.Kind, Index: i, PCBits: defaultBits,
		AllowedCLI: fp.AllowedCLI, RoamingMobileExempt: fp.RoamingMobileExempt,
		ProtectedAllowed: fp.ProtectedAllowed, Country: fp.Country, CLIChangeAllowed: fp.CLIChangeAllowed,
	}
	if c := p.Country; c != "" && (len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z') {
		probs.add(key+".country", "%q is not an ISO 3166-1 alpha-2 code (two capital letters, e.g. HK)", c)
	}
	if p.Name == "" {
		probs.add(key+".name", "missing")
	}
	if !contains(kinds, p.Kind) {
		probs.add(key+".kind", "%q is not one of %s", p.Kind, strings.Join(kinds, ", "))
	}
	// Leased lines forward only when registered; other partners carry
	// forwarded calls as a matter of course.
	p.Forwarding = p.Kind != KindLeasedLine
	if fp.Forwarding != nil {
		p.Forwarding = *fp.Forwarding
	}
	if fp.PointCodeBits != nil {
		if bits, ok := pcBits(*fp.PointCodeBits); ok {
			p.PCBits = bits
		} else {
			probs.add(key+".point_code_bits", "%d is not 14 or 24", *fp.PointCodeBits)
		}
	}
	if len(fp.Match.IPs) == 0 && len(fp.Match.PointCodes) == 0 && len(fp.Match.SIP) == 0 {
		probs.add(key+".match", "no ips, point_codes or sip: the partner would match nothing")
	}
	for j, s := range fp.Match.SIP {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			probs.add(fmt.Sprintf("%s.match.sip[%d]", key, j), "%q is not an IP address and port (192.0.2.1:5060, [2001:db8::1]:5060)", s)
			continue
		}
		p.SIPEndpoints = append(p.SIPEndpoints, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
	}
	for j, s := range fp.Match.IPs {
		a, err := netip.ParseAddr(s)
		if err != nil {
			probs.add(fmt.Sprintf("%s.match.ips[%d]", key, j), "%q is not an IP address", s)
			continue
		}
		p.IPs = append(p.IPs, a.Unmap())
	}
	for j := range fp.Match.PointCodes {
		n := &fp.Match.PointCodes[j]
		pc, err := parsePointCode(n, p.PCBits)
		if err != nil {
			probs.add(fmt.Sprintf("%s.match.point_codes[%d]", key, j), "%v", err)
			continue
		}
		p.PointCodes = append(p.PointCodes, pc)
	}
	for j, s := range p.AllowedCLI {
		checkNational(probs, fmt.Sprintf("%s.allowed_cli[%d]", key, j), s, "a number prefix")
	}
	for j, s := range p.ProtectedAllowed {
		k := fmt.Sprintf("%s.protected_allowed[%d]", key, j)
		if checkNational(probs, k, s, "a number") && !protected[s] {
			probs.add(k, "%q is not in protected_numbers", s)
		}
	}
	return p
}

// parsePointCode reads an integer or the dotted forms "3-8-3" (14-bit ITU) and
// "8-8-8" (24-bit, as used in China), checking the value fits in bits.
func parsePointCode(n *yaml.Node, bits uint8) (uint32, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, fmt.Errorf("line %d: not a point code (integer or \"a-b-c\")", n.Line)
	}
	s := n.Value
	limit := uint64(1) << bits
	if isNumber(s) {
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil || v >= limit {
			return 0, fmt.Errorf("%s does not fit in %d bits", s, bits)
		}
		return uint32(v), nil
	}
	parts := strings.Split(strings.ReplaceAll(s, ".", "-"), "-")
	if len(parts) != 3 {
		return 0, fmt.Errorf("%q is not a point code (integer, \"3-8-3\" or \"8-8-8\")", s)
	}
	widths := [3]uint{3, 8, 3}
	if bits == 24 {
		widths = [3]uint{8, 8, 8}
	}
	var v uint64
	for i, part := range parts {
		f, err := strconv.ParseUint(part, 10, 16)
		if err != nil || f >= 1<<widths[i] {
			return 0, fmt.Errorf("%q is not a %d-bit point code (%d-%d-%d)", s, bits, widths[0], widths[1], widths[2])
		}
		v = v<<widths[i] | f
	}
	return uint32(v), nil
}

// index builds the lookups and rejects names, addresses and point codes
// claimed twice.
func (c *Config) index(probs *problems) {
	names := map[string]int{}
	for i := range c.Partners {
		p := &c.Partners[i]
		key := fmt.Sprintf("partners[%d]", i)
		if prev, dup := names[p.Name]; dup && p.Name != "" {
			probs.add(key+".name", "%q is already the name of partners[%d]", p.Name, prev)
		} else {
			names[p.Name] = i
		}
		for j, ap := range p.SIPEndpoints {
			if other := c.bySIP[ap]; other != nil {
				probs.add(fmt.Sprintf("%s.match.sip[%d]", key, j), "%s is already claimed by partner %q", ap, other.Name)
				continue
			}
			if c.bySIP == nil {
				c.bySIP = make(map[netip.AddrPort]*Partner)
			}
			c.bySIP[ap] = p
		}
		for j, a := range p.IPs {
			if other := c.byAddr[a]; other != nil {
				probs.add(fmt.Sprintf("%s.match.ips[%d]", key, j), "%s is already claimed by partner %q", a, other.Name)
				continue
			}
			c.byAddr[a] = p
		}
		for j, pc := range p.PointCodes {
			if other := c.byPC[pc]; other != nil {
				probs.add(fmt.Sprintf("%s.match.point_codes[%d]", key, j), "point code %d is already claimed by partner %q", pc, other.Name)
				continue
			}
			c.byPC[pc] = p
		}
	}
}

func buildThresholds(f *fileThresholds, probs *problems) Thresholds {
	t := DefaultThresholds()
	count := func(key string, v *int, dst *int) {
		if v == nil {
			return
		}
		if *v <= 0 {
			probs.add("thresholds."+key, "%d must be greater than 0", *v)
			return
		}
		*dst = *v
	}
	duration := func(key string, v *string, dst *time.Duration) {
		if v == nil {
			return
		}
		d, err := time.ParseDuration(*v)
		if err != nil {
			probs.add("thresholds."+key, "%q is not a duration (e.g. 600s, 10m)", *v)
			return
		}
		if d <= 0 {
			probs.add("thresholds."+key, "%s must be greater than 0", d)
			return
		}
		*dst = d
	}
	count("one_ring.calls", f.OneRing.Calls, &t.OneRing.Calls)
	duration("one_ring.window", f.OneRing.Window, &t.OneRing.Window)
	duration("one_ring.ring_max", f.OneRing.RingMax, &t.OneRing.RingMax)
	for _, w := range []struct {
		key string
		f   *fileWindow
		dst *Window
	}{{"bombing", &f.Bombing, &t.Bombing}, {"high_frequency", &f.HighFrequency, &t.HighFrequency}, {"relay", &f.Relay, &t.Relay}} {
		count(w.key+".calls", w.f.Calls, &w.dst.Calls)
		duration(w.key+".window", w.f.Window, &w.dst.Window)
	}
	count("fwd_loop_counter", f.FwdLoopCounter, &t.FwdLoopCounter)
	ratio := func(key string, v *float64, dst *float64) {
		if v == nil {
			return
		}
		if *v <= 0 || *v > 1 {
			probs.add("thresholds."+key, "%v must be a fraction in (0, 1]", *v)
			return
		}
		*dst = *v
	}
	duration("transit.window", f.Transit.Window, &t.Transit.Window)
	count("transit.max_pending", f.Transit.MaxPending, &t.Transit.MaxPending)
	ratio("asr_drop.floor", f.ASRDrop.Floor, &t.ASRDrop.Floor)
	ratio("asr_drop.fraction", f.ASRDrop.Fraction, &t.ASRDrop.Fraction)
	count("asr_drop.min_seizures", f.ASRDrop.MinSeizures, &t.ASRDrop.MinSeizures)
	duration("asr_drop.settle", f.ASRDrop.Settle, &t.ASRDrop.Settle)
	duration("short_calls.max_talk", f.ShortCalls.MaxTalk, &t.ShortCalls.MaxTalk)
	ratio("short_calls.share", f.ShortCalls.Share, &t.ShortCalls.Share)
	count("short_calls.min_answered", f.ShortCalls.MinAnswered, &t.ShortCalls.MinAnswered)
	duration("short_calls.window", f.ShortCalls.Window, &t.ShortCalls.Window)
	if t.Transit.Window > time.Minute {
		probs.add("thresholds.transit.window", "%s: at most 1m (the egress IAM follows the ingress IAM within seconds)", t.Transit.Window)
	}
	if t.ASRDrop.Settle >= time.Hour {
		probs.add("thresholds.asr_drop.settle", "%s: must be under an hour", t.ASRDrop.Settle)
	}
	// The redirection counter has 3 bits (Q.763 3.45): above 7 never fires.
	if t.FwdLoopCounter > 7 {
		probs.add("thresholds.fwd_loop_counter", "%d can never be reached (the redirection counter is at most 7)", t.FwdLoopCounter)
	}
	return t
}

// checkNational accepts a national significant number (or prefix): digits,
// not starting with the trunk prefix 0, which the rules never see.
func checkNational(probs *problems, key, s, what string) bool {
	switch {
	case !isNumber(s):
		probs.add(key, "%q is not %s (digits only, national significant)", s, what)
		return false
	case s[0] == '0':
		probs.add(key, "%q starts with 0: write the national significant number, without the trunk prefix", s)
		return false
	}
	return true
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
