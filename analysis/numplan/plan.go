package numplan

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed cn.yaml e164.yaml
var builtinFiles embed.FS

// lengthSet is a bitmask of allowed digit counts (bit n = n digits).
type lengthSet uint64

func (s lengthSet) has(n int) bool { return n >= 0 && n < 64 && s&(1<<uint(n)) != 0 }

// rule is one line of the plan: numbers starting with a prefix, of some lengths.
type rule struct {
	class   Class
	label   string
	lengths lengthSet // of the whole national significant number
	// areaLen > 0 marks a fixed-line area: the digit after the area code must
	// be an allowed first subscriber digit.
	areaLen int
	prefix  string // for error messages
	source  string // key it came from, for error messages
}

// node is a decimal trie node; rule is an index into Plan.rules or -1.
type node struct {
	child [10]int32
	rule  int32
}

// Plan is a loaded numbering plan. It is immutable and safe for concurrent use.
type Plan struct {
	name        string
	cc          []byte // home country code, may be empty (generic e164 plan without a home)
	intlPrefix  []byte
	trunkPrefix []byte
	nsnMin      int
	nsnMax      int
	intlMin     int
	intlMax     int

	// Country codes by length: ccKnown[l][value] for l = 1..3. ITU codes
	// are prefix-free, so at most one length matches.
	ccKnown [4][]bool

	rules []rule
	trie  []node // trie[0] is the root

	subscriberFirst   [10]bool  // allowed first digits of a fixed subscriber number
	subscriberLengths lengthSet // of local subscriber numbers (all fixed areas)
}

// Name is the plan's name from its file ("cn", "e164", ...).
func (p *Plan) Name() string { return p.name }

// CountryCode is the home country code ("86"), or "" for a plan without one.
func (p *Plan) CountryCode() string { return string(p.cc) }

// Builtin returns one of the plans compiled into the binary: "cn" or "e164".
func Builtin(name string) (*Plan, error) {
	switch name {
	case "cn", "e164":
	default:
		return nil, fmt.Errorf("numplan: no built-in plan %q (have cn, e164)", name)
	}
	data, err := builtinFiles.ReadFile(name + ".yaml")
	if err != nil {
		return nil, err
	}
	return Parse(data, "builtin:"+name)
}

// Load reads an operator's plan file (the format of cn.yaml). A file without
// country_codes uses the ITU table of the built-in e164 plan.
func Load(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("numplan: %w", err)
	}
	return Parse(data, path)
}

// WithCountryCode returns a copy of p whose home country code is cc. The
// generic e164 plan needs one from the configuration to read national numbers.
func (p *Plan) WithCountryCode(cc string) (*Plan, error) {
	if !isDigits(cc) || len(cc) > 3 || p.countryCodeLen([]byte(cc)) != len(cc) {
		return nil, fmt.Errorf("numplan: %q is not a known country code", cc)
	}
	q := *p
	q.cc = []byte(cc)
	return &q, nil
}

type planFile struct {
	Name                string     `yaml:"name"`
	CountryCode         string     `yaml:"country_code"`
	InternationalPrefix string     `yaml:"international_prefix"`
	TrunkPrefix         string     `yaml:"trunk_prefix"`
	NSNMin              int        `yaml:"nsn_min_length"`
	NSNMax              int        `yaml:"nsn_max_length"`
	IntlMin             int        `yaml:"international_min_length"`
	IntlMax             int        `yaml:"international_max_length"`
	CountryCodes        []string   `yaml:"country_codes"`
	Rules               []ruleFile `yaml:"rules"`
	Fixed               *fixedFile `yaml:"fixed"`
}

type ruleFile struct {
	Class    string `yaml:"class"`
	Label    string `yaml:"label"`
	Prefixes string `yaml:"prefixes"`
	Lengths  string `yaml:"lengths"`
}

type fixedFile struct {
	SubscriberFirstDigits string     `yaml:"subscriber_first_digits"`
	Areas                 []areaFile `yaml:"areas"`
}

type areaFile struct {
	Codes             string `yaml:"codes"`
	SubscriberLengths string `yaml:"subscriber_lengths"`
}

// ruleClasses are the classes a plan file may assign.
var ruleClasses = map[string]Class{
	"mobile": ClassMobile, "fixed": ClassFixed, "service": ClassService,
	"inbound": ClassInbound, "sms": ClassSMS,
}

// Parse reads a plan from YAML; name is used in error messages (a path).
func Parse(data []byte, name string) (*Plan, error) {
	var f planFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p, err := build(&f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

func keyErr(key, format string, a ...any) error {
	return fmt.Errorf("key %s: %s", key, fmt.Sprintf(format, a...))
}

func build(f *planFile) (*Plan, error) {
	p := &Plan{name: f.Name}
	if f.Name == "" {
		return nil, keyErr("name", "missing")
	}

	codes := f.CountryCodes
	codesKey := "country_codes"
	if codes == nil {
		var base planFile
		data, err := builtinFiles.ReadFile("e164.yaml")
		if err != nil {
			return nil, err
		}
		if err := yaml.Unmarshal(data, &base); err != nil {
			return nil, err
		}
		codes, codesKey = base.CountryCodes, "country_codes (built-in e164)"
	}
	if err := p.setCountryCodes(codes, codesKey); err != nil {
		return nil, err
	}

	if f.CountryCode != "" && (!isDigits(f.CountryCode) || p.countryCodeLen([]byte(f.CountryCode)) != len(f.CountryCode)) {
		return nil, keyErr("country_code", "%q is not in the country code table", f.CountryCode)
	}
	p.cc = []byte(f.CountryCode)
	if f.InternationalPrefix == "" || !isDigits(f.InternationalPrefix) {
		return nil, keyErr("international_prefix", "%q is not a digit string", f.InternationalPrefix)
	}
	p.intlPrefix = []byte(f.InternationalPrefix)
	if !isDigits(f.TrunkPrefix) {
		return nil, keyErr("trunk_prefix", "%q is not a digit string", f.TrunkPrefix)
	}
	p.trunkPrefix = []byte(f.TrunkPrefix)

	for _, l := range []struct {
		key      string
		min, max int
	}{{"nsn_min_length", f.NSNMin, f.NSNMax}, {"international_min_length", f.IntlMin, f.IntlMax}} {
		if l.min < 1 || l.max < l.min || l.max > MaxE164 {
			return nil, keyErr(l.key, "lengths %d..%d must satisfy 1 <= min <= max <= %d", l.min, l.max, MaxE164)
		}
	}
	p.nsnMin, p.nsnMax, p.intlMin, p.intlMax = f.NSNMin, f.NSNMax, f.IntlMin, f.IntlMax

	p.trie = []node{newNode()}
	for i, r := range f.Rules {
		key := fmt.Sprintf("rules[%d]", i)
		class, ok := ruleClasses[r.Class]
		if !ok {
			return nil, keyErr(key+".class", "%q is not one of mobile, fixed, service, inbound, sms", r.Class)
		}
		lengths, err := parseLengths(r.Lengths)
		if err != nil {
			return nil, keyErr(key+".lengths", "%v", err)
		}
		prefixes, err := expandRanges(r.Prefixes)
		if err != nil {
			return nil, keyErr(key+".prefixes", "%v", err)
		}
		for _, pre := range prefixes {
			if err := p.addRule(rule{class: class, label: r.Label, lengths: lengths, prefix: pre, source: key}); err != nil {
				return nil, keyErr(key+".prefixes", "%v", err)
			}
		}
	}

	if f.Fixed != nil {
		first := f.Fixed.SubscriberFirstDigits
		if first == "" || !isDigits(first) {
			return nil, keyErr("fixed.subscriber_first_digits", "%q is not a digit string", first)
		}
		for _, c := range first {
			p.subscriberFirst[c-'0'] = true
		}
		for i, a := range f.Fixed.Areas {
			key := fmt.Sprintf("fixed.areas[%d]", i)
			subLens, err := parseLengths(a.SubscriberLengths)
			if err != nil {
				return nil, keyErr(key+".subscriber_lengths", "%v", err)
			}
			areas, err := expandRanges(a.Codes)
			if err != nil {
				return nil, keyErr(key+".codes", "%v", err)
			}
			p.subscriberLengths |= subLens
			for _, area := range areas {
				// Shift subscriber lengths by the area length: lengths are of the NSN.
				nsnLens := subLens << uint(len(area))
				if err := p.addRule(rule{class: ClassFixed, lengths: nsnLens, areaLen: len(area), prefix: area, source: key}); err != nil {
					return nil, keyErr(key+".codes", "%v", err)
				}
			}
		}
	}
	return p, nil
}

func newNode() node {
	var n node
	for i := range n.child {
		n.child[i] = -1
	}
	n.rule = -1
	return n
}

func (p *Plan) addRule(r rule) error {
	cur := int32(0)
	for i := 0; i < len(r.prefix); i++ {
		d := r.prefix[i] - '0'
		next := p.trie[cur].child[d]
		if next < 0 {
			p.trie = append(p.trie, newNode())
			next = int32(len(p.trie) - 1)
			p.trie[cur].child[d] = next
		}
		cur = next
	}
	if old := p.trie[cur].rule; old >= 0 {
		return fmt.Errorf("prefix %s is already in %s", r.prefix, p.rules[old].source)
	}
	p.rules = append(p.rules, r)
	p.trie[cur].rule = int32(len(p.rules) - 1)
	return nil
}

func (p *Plan) setCountryCodes(specs []string, key string) error {
	for l := 1; l <= 3; l++ {
		p.ccKnown[l] = make([]bool, pow10(l))
	}
	var all []string
	for i, spec := range specs {
		codes, err := expandRanges(spec)
		if err != nil {
			return keyErr(fmt.Sprintf("%s[%d]", key, i), "%v", err)
		}
		for _, c := range codes {
			if len(c) > 3 || c[0] == '0' {
				return keyErr(fmt.Sprintf("%s[%d]", key, i), "%q is not a country code (1-3 digits, not starting with 0)", c)
			}
			v, _ := strconv.Atoi(c)
			p.ccKnown[len(c)][v] = true
			all = append(all, c)
		}
	}
	if len(all) == 0 {
		return keyErr(key, "no country codes")
	}
	// A code that starts another would make the split of an international
	// number ambiguous.
	for _, c := range all {
		for l := 1; l < len(c); l++ {
			v, _ := strconv.Atoi(c[:l])
			if p.ccKnown[l][v] {
				return keyErr(key, "country code %s starts with country code %s", c, c[:l])
			}
		}
	}
	return nil
}

func pow10(n int) int {
	v := 1
	for range n {
		v *= 10
	}
	return v
}

// maxExpansion bounds how many prefixes one spec may expand to, so a typo such
// as "1-99999999" fails instead of exhausting memory.
const maxExpansion = 100000

// expandRanges parses "130-139,145,150-153" into the listed digit strings. Both
// ends of a range must have the same number of digits.
func expandRanges(spec string) ([]string, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("empty")
	}
	var out []string
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
		if lo == "" || !isDigits(lo) || !isDigits(hi) || len(lo) != len(hi) || len(lo) > 9 {
			return nil, fmt.Errorf("%q is not a digit string or a range of equally long digit strings", part)
		}
		a, _ := strconv.Atoi(lo)
		b, _ := strconv.Atoi(hi)
		if a > b {
			return nil, fmt.Errorf("range %q runs backwards", part)
		}
		if len(out)+b-a+1 > maxExpansion {
			return nil, fmt.Errorf("%q expands to more than %d entries", spec, maxExpansion)
		}
		for v := a; v <= b; v++ {
			out = append(out, fmt.Sprintf("%0*d", len(lo), v))
		}
	}
	return out, nil
}

// parseLengths parses "11" or "5-9,11-20" into a lengthSet.
func parseLengths(spec string) (lengthSet, error) {
	var s lengthSet
	if strings.TrimSpace(spec) == "" {
		return 0, errors.New("empty")
	}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b, err2 := strconv.Atoi(strings.TrimSpace(hi))
		if err1 != nil || err2 != nil || a < 1 || b < a || b > MaxE164 {
			return 0, fmt.Errorf("%q is not a length or range of lengths within 1..%d", part, MaxE164)
		}
		for n := a; n <= b; n++ {
			s |= 1 << uint(n)
		}
	}
	return s, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
