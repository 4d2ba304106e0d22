package gen

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Rule scenarios: scripted calls that must raise exactly the listed alerts of
// `gatewarden replay`, mixed into clean calls that must raise none. The policy
// they assume (partner kinds, allowed CLI ranges, forwarding registration,
// protected numbers, blocklist) is ScenarioConfigYAML's.

// ExpectedAlert is one alert a scenario must raise. Empty fields match anything.
type ExpectedAlert struct {
	Rule        string `json:"rule"`
	Partner     string `json:"partner"`
	Direction   string `json:"direction"`
	Calling     string `json:"calling,omitempty"`
	Called      string `json:"called,omitempty"`
	Redirecting string `json:"redirecting,omitempty"`
	Count       int    `json:"count,omitempty"`
	Scenario    string `json:"scenario"`
}

// Scenario partner roles, by DefaultPartners name.
const (
	scenarioIntl   = "intl-pacific"
	scenarioIC     = "ic-telecom"
	scenarioLeased = "ll-fintech"
)

// Policy the scenarios are written against.
var (
	// ScenarioAllowedCLI are the leased line's registered national prefixes.
	ScenarioAllowedCLI = []string{"106588", "950188"}
	// ScenarioProtected are the protected national numbers.
	ScenarioProtected = []string{"110", "119", "120", "122", "12345", "12321", "95588"}
	// ScenarioBlocklist are blocked numbers in E.164 (no '+').
	ScenarioBlocklist = []string{"8613700000001", "447700900999"}
)

// ScenarioBlocklistFile is the blocklist file content: one +E.164 number a line.
func ScenarioBlocklistFile() string {
	var b strings.Builder
	for _, n := range ScenarioBlocklist {
		b.WriteString("+" + n + "\n")
	}
	return b.String()
}

// ScenarioConfigYAML is the gatewarden configuration matching the scenarios
// for partners (DefaultPartners): blocklistPath is written as blocklist_file.
func ScenarioConfigYAML(partners []Partner, pcBits uint8, blocklistPath string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "home_country_code: \"86\"\nnumbering_plan: cn\npoint_code_bits: %d\npartners:\n", pcBits)
	for _, p := range partners {
		kind, forwarding := "international", false
		switch p.Kind {
		case KindInterconnect:
			kind, forwarding = "interconnect", true
		case KindLeasedLine:
			kind = "leased_line"
		}
		var ips, pcs []string
		for _, l := range p.Links {
			ips = append(ips, strconv.Quote(l.PeerIP.String()))
			pcs = append(pcs, strconv.FormatUint(uint64(l.PeerPC), 10))
		}
		fmt.Fprintf(&b, "  - name: %s\n    kind: %s\n    match: {ips: [%s], point_codes: [%s]}\n    forwarding: %v\n",
			p.Name, kind, strings.Join(ips, ", "), strings.Join(pcs, ", "), forwarding)
		if p.Kind == KindLeasedLine {
			fmt.Fprintf(&b, "    allowed_cli: [%s]\n", quoteAll(ScenarioAllowedCLI))
		}
	}
	fmt.Fprintf(&b, "protected_numbers: [%s]\n", quoteAll(ScenarioProtected))
	fmt.Fprintf(&b, "blocklist_file: %s\n", strconv.Quote(blocklistPath))
	return b.String()
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// CleanSource produces calls that break no rule: conforming numbers in the
// format each partner kind should send, no generic numbers, no forwarding,
// distinct callers and called numbers (so no behaviour threshold is reached)
// and no caller hanging up within seconds of ringing.
type CleanSource struct {
	rng      *rand.Rand
	partners []Partner
	left     int
	at       time.Time
	serial   int
	gap      time.Duration
}

// NewCleanSource returns n clean calls over partners starting after start,
// on average gap apart (0: 200 ms).
func NewCleanSource(seed int64, n int, partners []Partner, start time.Time, gap time.Duration) *CleanSource {
	if gap <= 0 {
		gap = 200 * time.Millisecond
	}
	return &CleanSource{
		rng:      rand.New(rand.NewPCG(uint64(seed)^0x243f6a8885a308d3, uint64(seed))),
		partners: partners, left: n, at: start, gap: gap,
	}
}

// unique returns width digits that no other call of this source uses.
func (s *CleanSource) unique(width int) string {
	s.serial++
	v := strconv.Itoa(s.serial*7919 + s.rng.IntN(7919))
	for len(v) < width {
		v = "0" + v
	}
	return v[len(v)-width:]
}

func (s *CleanSource) mobile() string {
	return mobilePrefixes[s.rng.IntN(len(mobilePrefixes))] + s.unique(8)
}

func (s *CleanSource) foreign() string {
	switch s.rng.IntN(3) {
	case 0:
		return "8529" + s.unique(7)
	case 1:
		return "447" + s.unique(9)
	}
	return "6598" + s.unique(6)
}

// Next implements CallSource.
func (s *CleanSource) Next() (Call, bool) {
	if s.left <= 0 {
		return Call{}, false
	}
	s.left--
	r := s.rng
	s.at = s.at.Add(time.Duration(r.ExpFloat64() * float64(s.gap)))
	p := &s.partners[r.IntN(len(s.partners))]
	c := Call{Start: s.at, Partner: p.Name, Link: r.IntN(len(p.Links)), Direction: Direction(r.IntN(2))}
	iam := &c.IAM
	iam.ForwardCallIndicators = 0x0160
	iam.Category = CategoryOrdinary
	nat := func(d string) *Number { return &Number{Digits: d, NAI: NAINational, NPI: NPIISDN, SI: SIUserPassed} }
	intl := func(d string) *Number {
		return &Number{Digits: d, NAI: NAIInternational, NPI: NPIISDN, SI: SIUserPassed}
	}
	switch p.Kind {
	case KindInternational:
		iam.ForwardCallIndicators |= 0x01
		if c.Direction == Ingress {
			iam.Calling, iam.Called = intl(s.foreign()), *intl("86" + s.mobile())
		} else {
			iam.Calling, iam.Called = intl("86"+s.mobile()), *intl(s.foreign())
		}
	case KindInterconnect:
		iam.Calling, iam.Called = nat(s.mobile()), *nat(s.mobile())
	case KindLeasedLine:
		if c.Direction == Ingress {
			iam.Calling, iam.Called = nat("106588"+s.unique(4)), *nat(s.mobile())
		} else {
			iam.Calling, iam.Called = nat(s.mobile()), *nat("106588" + s.unique(4))
		}
	}
	c.RLCDelay = time.Duration(4+r.IntN(30)) * time.Millisecond
	acm := time.Duration(400+r.IntN(3000)) * time.Millisecond
	switch k := r.IntN(100); {
	case k < 60:
		c.ACM, c.Alerting = acm, acm
		c.Answer = acm + time.Duration(2000+r.IntN(15000))*time.Millisecond
		c.Release = c.Answer + time.Duration(1+r.IntN(120))*time.Second
		c.ReleasedBy = Side(r.IntN(2))
		c.Cause = Cause{Value: CauseNormal, Location: LocationPublicLocal}
	case k < 70:
		c.Release, c.ReleasedBy = acm, SideCalled
		c.Cause = Cause{Value: CauseBusy, Location: LocationUser}
	case k < 80:
		c.ACM, c.Alerting = acm, acm+time.Duration(50+r.IntN(500))*time.Millisecond
		c.Release, c.ReleasedBy = c.Alerting+time.Duration(30+r.IntN(30))*time.Second, SideCalled
		c.Cause = Cause{Value: CauseNoAnswer, Location: LocationPublicRem}
	case k < 90:
		// The caller gives up, but only after ringing a while.
		c.ACM, c.Alerting = acm, acm
		c.Release, c.ReleasedBy = acm+time.Duration(8+r.IntN(20))*time.Second, SideCalling
		c.Cause = Cause{Value: CauseNormal, Location: LocationUser}
	case k < 95:
		c.Release, c.ReleasedBy = time.Duration(300+r.IntN(2000))*time.Millisecond, SideCalling
		c.Cause = Cause{Value: CauseNormal, Location: LocationUser}
	default:
		c.Release, c.ReleasedBy = time.Duration(30+r.IntN(2000))*time.Millisecond, SideCalled
		c.Cause = Cause{Value: CauseCongestion, Location: LocationTransit}
	}
	return c, true
}

// RuleScenarios scripts calls for every rule from start on, with the alerts
// they must raise. It includes near misses (threshold − 1) that must raise
// nothing. The calls take about 40 minutes of capture time.
func RuleScenarios(start time.Time) ([]Call, []ExpectedAlert) {
	var calls []Call
	var want []ExpectedAlert
	at := start
	next := func(gap time.Duration) time.Time { at = at.Add(gap); return at }
	nat := func(d string) *Number { return &Number{Digits: d, NAI: NAINational, NPI: NPIISDN, SI: SIUserPassed} }
	intl := func(d string) *Number {
		return &Number{Digits: d, NAI: NAIInternational, NPI: NPIISDN, SI: SIUserPassed}
	}
	answered := func(c Call) Call {
		c.ACM, c.Alerting, c.Answer = time.Second, time.Second, 4*time.Second
		c.Release, c.ReleasedBy, c.Cause = 30*time.Second, SideCalling, Cause{Value: CauseNormal}
		return c
	}
	serial := 0
	mobile := func(prefix string) string {
		serial++
		return fmt.Sprintf("%s%08d", prefix, 50000000+serial)
	}
	single := func(name, rule, partner string, dir Direction, iam IAM) {
		c := answered(Call{Start: next(7 * time.Second), Partner: partner, Direction: dir, IAM: iam})
		calls = append(calls, c)
		if rule == "" {
			return
		}
		w := ExpectedAlert{Rule: rule, Partner: partner, Direction: "ingress", Called: iam.Called.Digits, Scenario: name}
		if dir == Egress {
			w.Direction = "egress"
		}
		if iam.Calling != nil {
			w.Calling = iam.Calling.Digits
		}
		want = append(want, w)
	}
	ic := func(calling *Number, called string) IAM {
		return IAM{ForwardCallIndicators: 0x0160, Category: CategoryOrdinary, Calling: calling, Called: *nat(called)}
	}

	// Per-call caller-ID rules.
	single("missing CLI", "cli.missing", scenarioIC, Ingress, ic(nil, mobile("139")))
	restricted := nat(mobile("138"))
	restricted.APRI = APRIRestricted
	single("restricted CLI", "cli.restricted", scenarioIC, Ingress, ic(restricted, mobile("139")))
	single("10-digit mobile", "cli.nonconforming", scenarioIC, Ingress, ic(nat("1381234567"), mobile("139")))
	single("400 number as caller", "cli.nonconforming", scenarioIC, Ingress, ic(nat("4008123456"), mobile("139")))
	single("trunk prefix under national NAI", "cli.nonconforming", scenarioIC, Ingress, ic(nat("013812345678"), mobile("139")))
	single("+86 mobile from abroad", "cli.intl_spoofed_domestic", scenarioIntl, Ingress,
		IAM{ForwardCallIndicators: 0x0161, Calling: intl("86" + mobile("136")), Called: *intl("86" + mobile("139"))})
	single("+86 stripped from abroad", "cli.intl_spoofed_domestic", scenarioIntl, Ingress,
		IAM{ForwardCallIndicators: 0x0161, Calling: nat("1087654321"), Called: *intl("86" + mobile("139"))})
	single("110 from interconnect", "cli.protected_spoofed", scenarioIC, Ingress, ic(nat("110"), mobile("139")))
	single("12345 international form", "cli.protected_spoofed", scenarioIC, Ingress, ic(intl("8612345"), mobile("139")))
	single("leased line outside range", "cli.unauthorized", scenarioLeased, Ingress, ic(nat("1065990000"), mobile("139")))
	single("leased line in range", "", scenarioLeased, Ingress, ic(nat("1065880001"), mobile("139")))
	gi := ic(nat(mobile("135")), mobile("139"))
	gi.Generic = []Number{{Digits: mobile("137"), NAI: NAINational, NPI: NPIISDN, Qualifier: QualifierAdditionalCalling}}
	single("generic number ingress", "cli.generic_number", scenarioIC, Ingress, gi)
	ge := ic(nat(mobile("135")), mobile("139"))
	ge.Generic = []Number{{Digits: mobile("137"), NAI: NAINational, NPI: NPIISDN, Qualifier: QualifierAdditionalCalling}}
	single("generic number egress", "cli.generic_number", scenarioIC, Egress, ge)
	single("blocklisted national", "cli.blocklisted", scenarioIC, Ingress, ic(nat("13700000001"), mobile("139")))
	single("blocklisted foreign", "cli.blocklisted", scenarioIntl, Ingress,
		IAM{ForwardCallIndicators: 0x0161, Calling: intl("447700900999"), Called: *intl("86" + mobile("139"))})

	// Forwarding.
	loop := ic(nat(mobile("135")), mobile("139"))
	loop.Redirecting, loop.OriginalCalled = nat(mobile("158")), nat(mobile("158"))
	loop.Redirection = &Redirection{Indicator: 3, OriginalReason: 1, Counter: 5, Reason: 1}
	single("redirection counter 5", "fwd.loop", scenarioIC, Ingress, loop)
	self := ic(nat(mobile("135")), mobile("139"))
	self.Redirecting = nat(self.Called.Digits)
	self.Redirection = &Redirection{Indicator: 3, OriginalReason: 2, Counter: 1, Reason: 2}
	single("redirecting equals called", "fwd.loop", scenarioIC, Ingress, self)
	four := ic(nat(mobile("135")), mobile("139"))
	four.Redirecting = nat(mobile("158"))
	four.Redirection = &Redirection{Indicator: 3, OriginalReason: 1, Counter: 4, Reason: 1}
	single("redirection counter 4", "", scenarioIC, Ingress, four)
	unreg := ic(nat("1065880002"), mobile("139"))
	unreg.Redirecting = nat("1065880003")
	unreg.Redirection = &Redirection{Indicator: 3, OriginalReason: 3, Counter: 1, Reason: 3}
	single("forwarding on an unregistered leased line", "fwd.unregistered", scenarioLeased, Ingress, unreg)

	// Behaviour rules: threshold − 1 first (nothing), then threshold.
	burst := func(name, rule string, n int, gap time.Duration, partner string, mk func(i int) Call) {
		first := next(time.Minute)
		var last Call
		for i := 0; i < n; i++ {
			c := mk(i)
			c.Start, c.Partner, c.Direction = first.Add(time.Duration(i)*gap), partner, Ingress
			calls = append(calls, c)
			last = c
		}
		at = last.Start
		if rule != "" {
			w := ExpectedAlert{Rule: rule, Partner: partner, Direction: "ingress", Called: last.IAM.Called.Digits,
				Count: n, Scenario: name}
			if last.IAM.Calling != nil {
				w.Calling = last.IAM.Calling.Digits
			}
			if last.IAM.Redirecting != nil {
				w.Redirecting = last.IAM.Redirecting.Digits
			}
			want = append(want, w)
		}
	}
	oneRing := func(cli string) func(int) Call {
		return func(int) Call {
			return Call{IAM: IAM{ForwardCallIndicators: 0x0161, Calling: intl(cli), Called: *intl("86" + mobile("139"))},
				ACM: 2 * time.Second, Alerting: 2 * time.Second, Release: 4 * time.Second, ReleasedBy: SideCalling,
				Cause: Cause{Value: CauseNormal}}
		}
	}
	burst("one-ring 9 calls", "", 9, 50*time.Second, scenarioIntl, oneRing("447700900123"))
	burst("one-ring 10 calls", "call.one_ring", 10, 50*time.Second, scenarioIntl, oneRing("447700900456"))
	toOne := func(called string) func(int) Call {
		return func(int) Call { return answered(Call{IAM: ic(nat(mobile("133")), called)}) }
	}
	burst("bombing 19 calls", "", 19, 12*time.Second, scenarioIC, toOne("13912340001"))
	burst("bombing 20 calls", "call.bombing", 20, 12*time.Second, scenarioIC, toOne("13912340002"))
	fromOne := func(cli string) func(int) Call {
		return func(int) Call { return answered(Call{IAM: ic(nat(cli), mobile("139"))}) }
	}
	burst("high frequency 59 calls", "", 59, 9*time.Second, scenarioIC, fromOne("13812340001"))
	burst("high frequency 60 calls", "caller.high_frequency", 60, 9*time.Second, scenarioIC, fromOne("13812340002"))
	relay := func(redirecting string) func(int) Call {
		return func(int) Call {
			iam := ic(nat(mobile("133")), mobile("139"))
			iam.Redirecting, iam.OriginalCalled = nat(redirecting), nat(redirecting)
			iam.Redirection = &Redirection{Indicator: 3, OriginalReason: 3, Counter: 1, Reason: 3}
			return answered(Call{IAM: iam})
		}
	}
	burst("relay 29 calls", "", 29, 19*time.Second, scenarioIC, relay("13612340001"))
	burst("relay 30 calls", "fwd.relay", 30, 19*time.Second, scenarioIC, relay("13612340002"))
	return calls, want
}

// ScenarioOptions control WriteScenarios.
type ScenarioOptions struct {
	Seed       int64
	CleanCalls int // clean background calls (default 5000)
	PCBits     uint8
	Start      time.Time
	File       string
}

// WriteScenarios writes a capture with every rule scenario mixed into clean
// calls, and the expected alerts as JSON lines to expected.
func WriteScenarios(pcap, expected io.Writer, opt ScenarioOptions) (Summary, error) {
	if opt.CleanCalls == 0 {
		opt.CleanCalls = 5000
	}
	if opt.PCBits == 0 {
		opt.PCBits = 14
	}
	if opt.Start.IsZero() {
		opt.Start = DefaultStart
	}
	partners := DefaultPartners(opt.PCBits)
	scripted, want := RuleScenarios(opt.Start.Add(2 * time.Minute))
	// Clean calls cover the whole scripted period and a little more, so the
	// scenarios are always mixed into background traffic.
	span := scripted[len(scripted)-1].Start.Sub(opt.Start) + 3*time.Minute
	gap := span / time.Duration(opt.CleanCalls)
	src := Merge(NewSliceSource(scripted), NewCleanSource(opt.Seed, opt.CleanCalls, partners, opt.Start.Add(time.Second), gap))
	sum, err := Write(pcap, nil, Options{Seed: opt.Seed, PCBits: opt.PCBits, Start: opt.Start, File: opt.File,
		Partners: partners, Source: src})
	if err != nil {
		return sum, err
	}
	if sum.SkippedCalls > 0 {
		return sum, fmt.Errorf("gen: %d scenario calls found no free circuit", sum.SkippedCalls)
	}
	enc := json.NewEncoder(expected)
	for i := range want {
		if err := enc.Encode(&want[i]); err != nil {
			return sum, err
		}
	}
	return sum, nil
}
