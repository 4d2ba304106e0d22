// Package rules judges assembled calls: caller-ID and forwarding rules on each
// call entering through a partner, and behaviour rules over sliding windows of
// capture time. Rule IDs are a stable public contract.
//
// When rules run: Engine.Setup is called once per call when its setup is
// complete (the first message after IAM/SAM, so overlap digits are in), and
// Engine.Close when the call ends. Per-call alerts carry the IAM's capture
// time and outcome "open".
//
//   - Per call, on ingress calls from partners that are not kind internal:
//     cli.missing, cli.restricted, cli.nonconforming (numplan verdict),
//     cli.intl_spoofed_domestic (international partner, home-country number
//     under any NAI, or a plausible local subscriber number; home mobiles
//     exempt where the partner has roaming_mobile_exempt), cli.protected_spoofed
//     (national significant number in the protected list, partner not
//     entitled), cli.unauthorized (partner has allowed_cli and the national
//     number matches no prefix), cli.blocklisted (E.164 on the blocklist),
//     fwd.loop (redirection counter at or above the threshold, or a
//     redirecting/original called number equal to the called number, compared
//     in E.164 when both normalise), fwd.unregistered (redirected and the
//     partner is not registered for forwarding).
//   - cli.generic_number on ingress and egress calls.
//   - Behaviour, on ingress calls, counted per number in E.164 form (the
//     digits as presented when the plan cannot normalise them), over the
//     window (t − window, t]: caller.high_frequency (attempts per calling
//     number, at IAM time), call.bombing (attempts per called number),
//     fwd.relay (calls per redirecting number, else original called number),
//     call.one_ring (calls alerted, never answered and released by the caller
//     within ring_max of alerting, at release time). An alert fires when the
//     count reaches the threshold, then not again for that key until a window
//     length later. Memory: see window.
//   - Transit (transit.go): Engine.Open gives ingress calls their origin
//     country and registers them with the transit correlator
//     (analysis/transit); when an egress call's setup links it to its
//     ingress leg, cli.intl_marking_stripped and cli.altered_in_transit judge
//     the pair and alert on the egress leg.
//   - Route (route.go), at close, per partner, link and direction:
//     route.asr_drop (hourly ASR) and route.short_calls (share of short
//     answered calls).
package rules

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/numplan"
	"github.com/gatewarden/gatewarden/analysis/transit"
	"github.com/gatewarden/gatewarden/internal/fnv1a"
)

// builtinCountries parses the embedded country table on first use, not at
// package init: commands that never build an engine (decode) skip the YAML.
var builtinCountries = sync.OnceValue(numplan.BuiltinCountries)

// Stable rule IDs.
const (
	CLIMissing             = "cli.missing"
	CLIRestricted          = "cli.restricted"
	CLINonconforming       = "cli.nonconforming"
	CLIIntlSpoofedDomestic = "cli.intl_spoofed_domestic"
	CLIProtectedSpoofed    = "cli.protected_spoofed"
	CLIUnauthorized        = "cli.unauthorized"
	CLIGenericNumber       = "cli.generic_number"
	CLIBlocklisted         = "cli.blocklisted"
	FwdLoop                = "fwd.loop"
	FwdUnregistered        = "fwd.unregistered"
	FwdRelay               = "fwd.relay"
	CallOneRing            = "call.one_ring"
	CallBombing            = "call.bombing"
	CallerHighFrequency    = "caller.high_frequency"
	CLIIntlMarkingStripped = "cli.intl_marking_stripped"
	CLIAlteredInTransit    = "cli.altered_in_transit"
	RouteASRDrop           = "route.asr_drop"
	RouteShortCalls        = "route.short_calls"
	CLIIdentityMismatch    = "cli.identity_mismatch"
)

// IDs lists every rule, in a fixed order (for summaries and docs).
var IDs = []string{
	CLIMissing, CLIRestricted, CLINonconforming, CLIIntlSpoofedDomestic, CLIProtectedSpoofed,
	CLIUnauthorized, CLIGenericNumber, CLIBlocklisted, FwdLoop, FwdUnregistered, FwdRelay,
	CallOneRing, CallBombing, CallerHighFrequency, CLIIntlMarkingStripped, CLIAlteredInTransit,
	RouteASRDrop, RouteShortCalls, CLIIdentityMismatch,
}

// DefaultSeverity is each rule's severity unless the configuration overrides it.
var DefaultSeverity = map[string]analysis.Severity{
	CLIMissing:             analysis.SeverityWarning,
	CLIRestricted:          analysis.SeverityWarning,
	CLINonconforming:       analysis.SeverityWarning,
	CLIIntlSpoofedDomestic: analysis.SeverityCritical,
	CLIProtectedSpoofed:    analysis.SeverityCritical,
	CLIUnauthorized:        analysis.SeverityCritical,
	CLIGenericNumber:       analysis.SeverityWarning,
	CLIBlocklisted:         analysis.SeverityCritical,
	FwdLoop:                analysis.SeverityWarning,
	FwdUnregistered:        analysis.SeverityWarning,
	FwdRelay:               analysis.SeverityWarning,
	CallOneRing:            analysis.SeverityCritical,
	CallBombing:            analysis.SeverityCritical,
	CallerHighFrequency:    analysis.SeverityWarning,
	CLIIntlMarkingStripped: analysis.SeverityCritical,
	CLIAlteredInTransit:    analysis.SeverityCritical,
	RouteASRDrop:           analysis.SeverityWarning,
	RouteShortCalls:        analysis.SeverityWarning,
	CLIIdentityMismatch:    analysis.SeverityCritical,
}

// Partner kinds.
const (
	KindInternational = "international"
	KindInterconnect  = "interconnect"
	KindLeasedLine    = "leased_line"
	KindInternal      = "internal"
)

// Partner is what the rules need to know about one partner.
type Partner struct {
	Name string
	Kind string
	// AllowedCLI are national-significant prefixes the partner may present;
	// empty means any.
	AllowedCLI []string
	// Forwarding: registered for call forwarding.
	Forwarding bool
	// RoamingMobileExempt: home mobiles roaming abroad may arrive from this
	// international partner with a home CLI.
	RoamingMobileExempt bool
	// ProtectedAllowed lists protected numbers this partner may present.
	ProtectedAllowed []string
	// Country (ISO 3166-1 alpha-2) of an international partner: the origin
	// of its calls whose caller has no foreign country code.
	Country string
	// CLIChangeAllowed: the gateway may change the calling number of the
	// calls this partner sends or receives in transit.
	CLIChangeAllowed bool
}

// Thresholds of the behaviour rules and fwd.loop. Durations are nanoseconds.
type Thresholds struct {
	OneRingCalls   int   // default 10
	OneRingWindow  int64 // default 600 s
	OneRingMaxRing int64 // released within this of alerting; default 5 s
	BombingCalls   int   // default 20
	BombingWindow  int64 // default 300 s
	HighFreqCalls  int   // default 60
	HighFreqWindow int64 // default 600 s
	RelayCalls     int   // default 30
	RelayWindow    int64 // default 600 s
	LoopCounter    int   // redirection counter at or above which fwd.loop fires; default 5

	TransitWindow     int64 // egress IAM at most this long after the ingress IAM; default 3 s
	TransitMaxPending int   // ingress legs held for matching; default 65536

	ASRFloor       float64 // route.asr_drop: hourly ASR below this; default 0.2
	ASRFraction    float64 // or below this fraction of the trailing 7-day ASR at the same hour; default 0.5
	ASRMinSeizures int     // with at least this many seizures in the hour (and in the 7-day baseline); default 30
	ASRSettle      int64   // an hour is judged this long after it ends; default 10 min

	ShortMaxTalk     int64   // route.short_calls: answered calls shorter than this; default 10 s
	ShortShare       float64 // more than this share of the answered calls; default 0.5
	ShortMinAnswered int     // with at least this many answered calls; default 20
	ShortWindow      int64   // per window of release time; default 1 h
}

const second = int64(1e9)

// DefaultThresholds returns the defaults of issue 3.
func DefaultThresholds() Thresholds {
	return Thresholds{
		OneRingCalls: 10, OneRingWindow: 600 * second, OneRingMaxRing: 5 * second,
		BombingCalls: 20, BombingWindow: 300 * second,
		HighFreqCalls: 60, HighFreqWindow: 600 * second,
		RelayCalls: 30, RelayWindow: 600 * second,
		LoopCounter:   5,
		TransitWindow: 3 * second, TransitMaxPending: 1 << 16,
		ASRFloor: 0.2, ASRFraction: 0.5, ASRMinSeizures: 30, ASRSettle: 600 * second,
		ShortMaxTalk: 10 * second, ShortShare: 0.5, ShortMinAnswered: 20, ShortWindow: 3600 * second,
	}
}

// Normaliser is the numbering plan (numplan.Plan).
type Normaliser interface {
	Normalise(digits []byte, nai uint8, out *numplan.Result)
}

// Blocklist answers whether an E.164 number (digits, no '+') is blocked.
type Blocklist interface {
	Contains(e164 []byte) bool
}

// Settings configure an Engine.
type Settings struct {
	Plan       Normaliser
	Partners   []Partner
	Protected  []string // protected national numbers (110, 12345, ...)
	Blocklist  Blocklist
	Thresholds Thresholds
	// Severity overrides DefaultSeverity per rule ID.
	Severity map[string]analysis.Severity
	// MaxWindowEvents caps the events each behaviour rule holds (default 1<<22).
	MaxWindowEvents int
	// AnnotateCalls stores each number's E.164 form in the call record
	// (allocates; only worth it when call records are written).
	AnnotateCalls bool
	// Countries names the origin country of international calls; nil: the
	// built-in table (numplan.BuiltinCountries).
	Countries *numplan.Countries
}

// Stats counts alerts per rule and the behaviour tables' state.
type Stats struct {
	Alerts         map[string]uint64
	WindowKeys     map[string]int    // live keys per behaviour rule
	WindowOverflow map[string]uint64 // events dropped early per behaviour rule
	Transit        transit.Stats     // transit correlation
	Routes         int               // routes (partner, link, direction) the route rules follow
	RouteOverflow  uint64            // calls not followed because MaxRoutes was reached
}

// Engine applies every rule. It is not safe for concurrent use.
type Engine struct {
	s         Settings
	th        Thresholds
	partners  map[string]*Partner
	protected map[string]bool
	severity  map[string]analysis.Severity
	emit      func(*analysis.Alert)

	oneRing, bombing, highFreq, relay *window
	alerts                            map[string]uint64
	transit                           *transit.Correlator
	routes                            routeTable

	// scratch, reused per call
	calling, called, redir, orig numplan.Result
	header                       numplan.Result // a SIP-I call's header identity
	tin, tout                    numplan.Result // transit legs' calling numbers, origin
	alert                        analysis.Alert
	buf                          []byte
}

// New returns an engine that reports alerts to emit. The alert passed to
// emit is reused afterwards.
func New(s Settings, emit func(*analysis.Alert)) *Engine {
	th := s.Thresholds
	def := DefaultThresholds()
	setDefault := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setDefault64 := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	setDefault(&th.OneRingCalls, def.OneRingCalls)
	setDefault64(&th.OneRingWindow, def.OneRingWindow)
	setDefault64(&th.OneRingMaxRing, def.OneRingMaxRing)
	setDefault(&th.BombingCalls, def.BombingCalls)
	setDefault64(&th.BombingWindow, def.BombingWindow)
	setDefault(&th.HighFreqCalls, def.HighFreqCalls)
	setDefault64(&th.HighFreqWindow, def.HighFreqWindow)
	setDefault(&th.RelayCalls, def.RelayCalls)
	setDefault64(&th.RelayWindow, def.RelayWindow)
	setDefault(&th.LoopCounter, def.LoopCounter)
	setDefault64(&th.TransitWindow, def.TransitWindow)
	setDefault(&th.TransitMaxPending, def.TransitMaxPending)
	setDefaultF := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	setDefaultF(&th.ASRFloor, def.ASRFloor)
	setDefaultF(&th.ASRFraction, def.ASRFraction)
	setDefault(&th.ASRMinSeizures, def.ASRMinSeizures)
	setDefault64(&th.ASRSettle, def.ASRSettle)
	setDefault64(&th.ShortMaxTalk, def.ShortMaxTalk)
	setDefaultF(&th.ShortShare, def.ShortShare)
	setDefault(&th.ShortMinAnswered, def.ShortMinAnswered)
	setDefault64(&th.ShortWindow, def.ShortWindow)
	if s.Countries == nil {
		s.Countries = builtinCountries()
	}
	if s.MaxWindowEvents <= 0 {
		s.MaxWindowEvents = 1 << 22
	}
	e := &Engine{
		s: s, th: th, emit: emit,
		partners:  make(map[string]*Partner, len(s.Partners)),
		protected: make(map[string]bool, len(s.Protected)),
		severity:  make(map[string]analysis.Severity, len(DefaultSeverity)),
		alerts:    make(map[string]uint64),
		oneRing:   newWindow(th.OneRingWindow, th.OneRingCalls, s.MaxWindowEvents),
		bombing:   newWindow(th.BombingWindow, th.BombingCalls, s.MaxWindowEvents),
		highFreq:  newWindow(th.HighFreqWindow, th.HighFreqCalls, s.MaxWindowEvents),
		relay:     newWindow(th.RelayWindow, th.RelayCalls, s.MaxWindowEvents),
	}
	for i := range s.Partners {
		e.partners[s.Partners[i].Name] = &s.Partners[i]
	}
	for _, p := range s.Protected {
		e.protected[p] = true
	}
	for id, sev := range DefaultSeverity {
		e.severity[id] = sev
	}
	for id, sev := range s.Severity {
		e.severity[id] = sev
	}
	e.transit = transit.New(e.transitConfig())
	e.routes.init()
	return e
}

// Reconfigure puts new settings (partners, plan, protected numbers,
// thresholds, severities, blocklist) in force between two calls. The
// behaviour windows keep what they have counted, under their new lengths and
// thresholds, so a SIGHUP that tunes a threshold does not blind one-ring,
// bombing, high-frequency or relay detection for a window's length. The
// alert counters carry on too. e keeps its identity (callbacks stay valid).
func (e *Engine) Reconfigure(s Settings) {
	n := New(s, e.emit)
	for _, w := range []struct{ old, new **window }{
		{&e.oneRing, &n.oneRing}, {&e.bombing, &n.bombing}, {&e.highFreq, &n.highFreq}, {&e.relay, &n.relay},
	} {
		(*w.old).retune(*w.new)
		*w.new = *w.old
	}
	n.alerts = e.alerts
	n.transit = e.transit
	n.routes = e.routes
	*e = *n
	// The correlator keeps its pending legs; its callbacks must see e.
	e.transit.Reconfigure(e.transitConfig())
}

// Stats returns alert counts and table sizes.
func (e *Engine) Stats() Stats {
	st := Stats{Alerts: make(map[string]uint64), WindowKeys: make(map[string]int), WindowOverflow: make(map[string]uint64)}
	for k, v := range e.alerts {
		st.Alerts[k] = v
	}
	for id, w := range map[string]*window{CallOneRing: e.oneRing, CallBombing: e.bombing, CallerHighFrequency: e.highFreq, FwdRelay: e.relay} {
		st.WindowKeys[id] = w.Keys()
		st.WindowOverflow[id] = w.Overflow
	}
	st.Transit = e.transit.Stats()
	st.Routes, st.RouteOverflow = len(e.routes.byKey), e.routes.overflow
	return st
}

// TransitStats returns the transit correlator's counters (cheaper than Stats).
func (e *Engine) TransitStats() transit.Stats { return e.transit.Stats() }

// RouteOverflow counts calls the route rules did not follow because their
// table of routes was full (cheaper than Stats).
func (e *Engine) RouteOverflow() uint64 { return e.routes.overflow }

func (e *Engine) normalise(p *analysis.PartyNumber, out *numplan.Result) bool {
	*out = numplan.Result{}
	if p == nil {
		return false
	}
	if e.s.Plan != nil {
		e.buf = append(e.buf[:0], p.Digits...)
		e.s.Plan.Normalise(e.buf, p.NAI, out)
		if e.s.AnnotateCalls && out.NE164 > 0 && p.E164 == "" {
			p.E164 = out.E164String()
		}
	}
	return true
}

// keyHash hashes the form of a number the behaviour tables count by: E.164
// when the plan could normalise it, else the digits as presented.
func keyHash(p *analysis.PartyNumber, r *numplan.Result) uint64 {
	if r.NE164 > 0 {
		return fnv1a.Sum64(r.Bytes())
	}
	return fnv1a.Sum64(p.Digits)
}

// Setup judges a call whose setup is complete (analysis.AssemblerConfig.Setup).
func (e *Engine) Setup(c *analysis.Call) {
	if c.Direction == analysis.DirectionIngress && c.OriginCountry == "" {
		e.origin(c) // when Open was not wired
	}
	e.transit.Setup(c)
	if len(c.Generic) > 0 && c.Direction != analysis.DirectionUnknown {
		e.fire(c, CLIGenericNumber, c.Start, 0, 0, "generic number "+c.Generic[0].Digits+" still present")
	}
	if c.Direction != analysis.DirectionIngress && !e.s.AnnotateCalls {
		return // nothing else judges transit or egress calls
	}
	hasCalling := e.normalise(c.Calling, &e.calling)
	hasCalled := e.normalise(c.Called, &e.called)
	hasRedir := e.normalise(c.Redirecting, &e.redir)
	hasOrig := e.normalise(c.OriginalCalled, &e.orig)
	if c.Direction != analysis.DirectionIngress {
		return
	}
	p := e.partners[c.Partner]
	if p == nil {
		p = &Partner{Name: c.Partner}
	}
	if p.Kind == KindInternal {
		return // our own network: nothing enters through it
	}
	e.cliRules(c, p, hasCalling)
	e.identityRule(c, hasCalling)
	e.forwardingRules(c, p, hasCalled, hasRedir, hasOrig)

	if hasCalling && c.Calling.Digits != "" {
		if fire, n := e.highFreq.add(keyHash(c.Calling, &e.calling), c.Start); fire {
			e.fire(c, CallerHighFrequency, c.Start, n, e.th.HighFreqWindow,
				fmt.Sprintf("%d call attempts from this CLI within %d s", n, e.th.HighFreqWindow/second))
		}
	}
	if hasCalled && c.Called.Digits != "" {
		if fire, n := e.bombing.add(keyHash(c.Called, &e.called), c.Start); fire {
			e.fire(c, CallBombing, c.Start, n, e.th.BombingWindow,
				fmt.Sprintf("%d call attempts to this number within %d s", n, e.th.BombingWindow/second))
		}
	}
	var fwd *analysis.PartyNumber
	var fwdRes *numplan.Result
	if hasRedir && c.Redirecting.Digits != "" {
		fwd, fwdRes = c.Redirecting, &e.redir
	} else if hasOrig && c.OriginalCalled.Digits != "" {
		fwd, fwdRes = c.OriginalCalled, &e.orig
	}
	if fwd != nil {
		if fire, n := e.relay.add(keyHash(fwd, fwdRes), c.Start); fire {
			e.fire(c, FwdRelay, c.Start, n, e.th.RelayWindow,
				fmt.Sprintf("%d calls forwarded by %s within %d s", n, fwd.Digits, e.th.RelayWindow/second))
		}
	}
}

func (e *Engine) cliRules(c *analysis.Call, p *Partner, hasCalling bool) {
	// APRI 2 is "address not available": no CLI either.
	if !hasCalling || c.Calling.Digits == "" || c.Calling.APRI == 2 {
		e.fire(c, CLIMissing, c.Start, 0, 0, "no calling party number")
		return
	}
	if c.Calling.APRI == 1 {
		e.fire(c, CLIRestricted, c.Start, 0, 0, "calling party number presentation restricted")
	}
	r := &e.calling
	if e.s.Plan != nil && !r.Conforms {
		e.fire(c, CLINonconforming, c.Start, 0, 0,
			"calling number does not conform to the numbering plan: "+r.Reason+" (NAI "+strconv.Itoa(int(c.Calling.NAI))+")")
	}
	// A plausible local subscriber number (no E.164 form) is domestic too.
	domestic := r.Home || (e.s.Plan != nil && r.NE164 == 0 && r.Conforms)
	if p.Kind == KindInternational && domestic && !(p.RoamingMobileExempt && r.Class == numplan.ClassMobile) {
		e.fire(c, CLIIntlSpoofedDomestic, c.Start, 0, 0,
			"home-country number "+c.Calling.Digits+" (NAI "+strconv.Itoa(int(c.Calling.NAI))+") arriving from an international partner")
	}
	e.buf = append(e.buf[:0], c.Calling.Digits...)
	national := e.buf
	if r.NE164 > 0 {
		national = r.National()
	}
	if national != nil && e.protected[string(national)] && !contains(p.ProtectedAllowed, national) {
		e.fire(c, CLIProtectedSpoofed, c.Start, 0, 0, "protected number "+string(national)+" presented by a partner not entitled to it")
	}
	if len(p.AllowedCLI) > 0 && (national == nil || !hasPrefix(p.AllowedCLI, national)) {
		e.fire(c, CLIUnauthorized, c.Start, 0, 0, "calling number outside the partner's allowed ranges")
	}
	if e.s.Blocklist != nil && r.NE164 > 0 && e.s.Blocklist.Contains(r.Bytes()) {
		e.fire(c, CLIBlocklisted, c.Start, 0, 0, "calling number +"+r.E164String()+" is on the blocklist")
	}
}

// identityRule: a SIP-I call whose SIP headers assert one caller identity
// (P-Asserted-Identity, or From without one) while the encapsulated ISUP
// carries another calling number, after both are normalised: the callee is
// shown one number and the network another. Q.1912.5 6.1.1.3 maps the
// P-Asserted-Identity to the calling party number; they must agree.
func (e *Engine) identityRule(c *analysis.Call, hasCalling bool) {
	if c.HeaderCalling == nil || c.HeaderCalling.Digits == "" || !hasCalling || c.Calling.Digits == "" {
		return
	}
	e.normalise(c.HeaderCalling, &e.header)
	if sameNumber(c.Calling, &e.calling, c.HeaderCalling, &e.header) {
		return
	}
	e.fire(c, CLIIdentityMismatch, c.Start, 0, 0,
		"SIP header identity "+c.HeaderCalling.Digits+" differs from the ISUP calling number "+c.Calling.Digits)
}

func (e *Engine) forwardingRules(c *analysis.Call, p *Partner, hasCalled, hasRedir, hasOrig bool) {
	switch {
	case c.RedirCounter >= uint8(e.th.LoopCounter):
		e.fire(c, FwdLoop, c.Start, 0, 0, "redirection counter "+strconv.Itoa(int(c.RedirCounter)))
	case hasCalled && hasRedir && sameNumber(c.Called, &e.called, c.Redirecting, &e.redir):
		e.fire(c, FwdLoop, c.Start, 0, 0, "redirecting number equals the called number")
	case hasCalled && hasOrig && sameNumber(c.Called, &e.called, c.OriginalCalled, &e.orig):
		e.fire(c, FwdLoop, c.Start, 0, 0, "original called number equals the called number")
	}
	if c.Redirected && !p.Forwarding {
		e.fire(c, FwdUnregistered, c.Start, 0, 0, "redirected call from a partner not registered for forwarding")
	}
}

func sameNumber(a *analysis.PartyNumber, ar *numplan.Result, b *analysis.PartyNumber, br *numplan.Result) bool {
	if a.Digits == "" || b.Digits == "" {
		return false
	}
	if ar.NE164 > 0 && br.NE164 > 0 {
		return bytes.Equal(ar.Bytes(), br.Bytes())
	}
	return a.Digits == b.Digits
}

// Close judges a closed call (analysis.AssemblerConfig.Close): one-ring and
// the route rules.
func (e *Engine) Close(c *analysis.Call) {
	e.transit.Close(c)
	e.routeClose(c)
	if c.Direction != analysis.DirectionIngress || c.Calling == nil || c.Calling.Digits == "" {
		return
	}
	if c.Alerting == 0 || c.Answer != 0 || c.ReleasedBy != analysis.SideCalling || c.Release-c.Alerting > e.th.OneRingMaxRing {
		return
	}
	e.normalise(c.Calling, &e.calling)
	if fire, n := e.oneRing.add(keyHash(c.Calling, &e.calling), c.Release); fire {
		e.fire(c, CallOneRing, c.Release, n, e.th.OneRingWindow,
			fmt.Sprintf("%d calls from this CLI released by the caller within %d s of ringing, within %d s",
				n, e.th.OneRingMaxRing/second, e.th.OneRingWindow/second))
	}
}

func (e *Engine) fire(c *analysis.Call, rule string, ts int64, count int, window int64, detail string) {
	e.alerts[rule]++
	if e.emit == nil {
		return
	}
	a := &e.alert
	*a = analysis.Alert{
		TS: ts, Rule: rule, Severity: e.severity[rule], Partner: c.Partner, Direction: c.Direction,
		OPC: c.OPC, DPC: c.DPC, CIC: c.CIC, CallID: c.ID, Outcome: c.Outcome,
		Count: count, WindowS: int(window / second), Detail: detail, OriginCountry: c.OriginCountry, CallRef: c.Ref,
	}
	if c.Calling != nil {
		a.Calling = c.Calling.Digits
	}
	if c.Called != nil {
		a.Called = c.Called.Digits
	}
	if c.Redirecting != nil {
		a.Redirecting = c.Redirecting.Digits
	}
	e.emit(a)
}

func contains(list []string, v []byte) bool {
	for _, s := range list {
		if s == string(v) {
			return true
		}
	}
	return false
}

func hasPrefix(prefixes []string, v []byte) bool {
	for _, p := range prefixes {
		if len(v) >= len(p) && string(v[:len(p)]) == p {
			return true
		}
	}
	return false
}
