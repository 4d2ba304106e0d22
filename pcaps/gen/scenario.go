package gen

import (
	"errors"
	"fmt"
	"io"
	"time"

	"gopkg.in/yaml.v3"
)

// Scenario files (YAML) script labelled calls for rule tests, e.g.
//
//	calls:
//	  - label: call.one_ring
//	    partner: intl-pacific
//	    direction: ingress
//	    at: 30s          # offset from the capture start
//	    count: 20
//	    every: 3s
//	    calling: {digits: "85291234567", nai: 4}
//	    called: {digits: "13912345678", nai: 3}
//	    alerting: 1s
//	    release: 2s
//	    released_by: calling
//	    cause: 16
//
// A call with transit: is a transit call: the ingress leg as scripted, and an
// egress leg the gateway sends to another partner delay after each ingress
// IAM (default 100 ms), with the same timing and release, e.g.
//
//	transit:
//	  label: cli.intl_marking_stripped
//	  partner: ic-telecom
//	  delay: 150ms
//	  called: {digits: "13912345678", nai: 3}   # default: the ingress called number
//	  calling: {digits: "91234567", nai: 3}     # default: the ingress calling number
//	  drop_calling: true                       # no calling number on the egress leg
//	  generic: []                              # default: the ingress generic numbers
//
// A call without calling: has no calling party number. Numbers default to
// NPI 1 (E.164); category defaults to 10 (ordinary subscriber).
type scenarioFile struct {
	Calls []scenarioCall `yaml:"calls"`
}

type scenarioNumber struct {
	Digits    string `yaml:"digits"`
	NAI       uint8  `yaml:"nai"`
	NPI       *uint8 `yaml:"npi"`
	INN       uint8  `yaml:"inn"`
	NI        uint8  `yaml:"ni"`
	APRI      uint8  `yaml:"apri"`
	SI        uint8  `yaml:"si"`
	Qualifier uint8  `yaml:"qualifier"`
}

type scenarioCall struct {
	Label     string        `yaml:"label"`
	Partner   string        `yaml:"partner"`
	Link      int           `yaml:"link"`
	Direction string        `yaml:"direction"`
	At        time.Duration `yaml:"at"`
	Count     int           `yaml:"count"`
	Every     time.Duration `yaml:"every"`
	CIC       uint16        `yaml:"cic"`

	Called         scenarioNumber   `yaml:"called"`
	Calling        *scenarioNumber  `yaml:"calling"`
	Redirecting    *scenarioNumber  `yaml:"redirecting"`
	OriginalCalled *scenarioNumber  `yaml:"original_called"`
	Location       *scenarioNumber  `yaml:"location"`
	Generic        []scenarioNumber `yaml:"generic"`
	Redirection    *Redirection     `yaml:"redirection"`
	Category       *uint8           `yaml:"category"`
	HopCounter     uint8            `yaml:"hop_counter"`
	SAM            string           `yaml:"sam"`
	SAMDelay       time.Duration    `yaml:"sam_delay"`

	ACM           time.Duration `yaml:"acm"`
	Alerting      time.Duration `yaml:"alerting"`
	Answer        time.Duration `yaml:"answer"`
	Release       time.Duration `yaml:"release"`
	ReleasedBy    string        `yaml:"released_by"`
	Cause         uint8         `yaml:"cause"`
	CauseLocation uint8         `yaml:"cause_location"`

	Transit *scenarioTransit `yaml:"transit"`
}

// scenarioTransit is the egress leg of a transit call.
type scenarioTransit struct {
	Label       string            `yaml:"label"`
	Partner     string            `yaml:"partner"`
	Link        int               `yaml:"link"`
	Delay       time.Duration     `yaml:"delay"`
	Called      *scenarioNumber   `yaml:"called"`
	Calling     *scenarioNumber   `yaml:"calling"`
	DropCalling bool              `yaml:"drop_calling"`
	Generic     *[]scenarioNumber `yaml:"generic"`
}

// defaultTransitDelay is how long after the ingress IAM the egress IAM goes out.
const defaultTransitDelay = 100 * time.Millisecond

func (n *scenarioNumber) number() *Number {
	if n == nil {
		return nil
	}
	out := &Number{Digits: n.Digits, NAI: n.NAI, NPI: NPIISDN, INN: n.INN, NI: n.NI, APRI: n.APRI, SI: n.SI, Qualifier: n.Qualifier}
	if n.NPI != nil {
		out.NPI = *n.NPI
	}
	return out
}

// LoadScenario reads a scenario file and returns its calls, with start times
// counted from start. Unknown keys are errors, so a typo cannot silently
// script a different call.
func LoadScenario(r io.Reader, start time.Time) ([]Call, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var f scenarioFile
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	var calls []Call
	for i, sc := range f.Calls {
		where := fmt.Sprintf("scenario call %d (%s)", i+1, sc.Label)
		if sc.Partner == "" || sc.Called.Digits == "" {
			return nil, fmt.Errorf("%s: partner and called.digits are required", where)
		}
		for _, n := range append([]*scenarioNumber{&sc.Called, sc.Calling, sc.Redirecting, sc.OriginalCalled, sc.Location},
			pointers(sc.Generic)...) {
			if n != nil && !validDigits(n.Digits) {
				return nil, fmt.Errorf("%s: digits %q: want at most %d of 0-9, A-F", where, n.Digits, maxScenarioDigits)
			}
		}
		if sc.SAM != "" && !validDigits(sc.SAM) {
			return nil, fmt.Errorf("%s: sam %q: want at most %d of 0-9, A-F", where, sc.SAM, maxScenarioDigits)
		}
		if sc.Count < 0 || sc.Count > 1_000_000 || sc.At < 0 || sc.Every < 0 {
			return nil, fmt.Errorf("%s: want 0 <= count <= 1000000 and non-negative at and every", where)
		}
		if sc.Release <= 0 {
			return nil, fmt.Errorf("%s: release must be after the IAM", where)
		}
		c := Call{Label: sc.Label, Partner: sc.Partner, Link: sc.Link, CIC: sc.CIC,
			SAMDigits: sc.SAM, SAMDelay: sc.SAMDelay, ACM: sc.ACM, Alerting: sc.Alerting, Answer: sc.Answer,
			Release: sc.Release, Cause: Cause{Value: sc.Cause, Location: sc.CauseLocation}}
		if c.SAMDigits != "" && c.SAMDelay == 0 {
			c.SAMDelay = 200 * time.Millisecond
		}
		if c.Alerting > 0 && c.ACM == 0 {
			c.ACM = c.Alerting
		}
		switch sc.Direction {
		case "", "ingress":
			c.Direction = Ingress
		case "egress":
			c.Direction = Egress
		default:
			return nil, fmt.Errorf("%s: direction %q: want ingress or egress", where, sc.Direction)
		}
		switch sc.ReleasedBy {
		case "", "calling":
			c.ReleasedBy = SideCalling
		case "called":
			c.ReleasedBy = SideCalled
		default:
			return nil, fmt.Errorf("%s: released_by %q: want calling or called", where, sc.ReleasedBy)
		}
		if c.Cause.Value == 0 {
			c.Cause.Value = CauseNormal
		}
		c.IAM = IAM{ForwardCallIndicators: 0x0160, Category: CategoryOrdinary, Called: *sc.Called.number(),
			Calling: sc.Calling.number(), Redirecting: sc.Redirecting.number(), OriginalCalled: sc.OriginalCalled.number(),
			Location: sc.Location.number(), Redirection: sc.Redirection, HopCounter: sc.HopCounter}
		if sc.Category != nil {
			c.IAM.Category = *sc.Category
		}
		for j := range sc.Generic {
			c.IAM.Generic = append(c.IAM.Generic, *sc.Generic[j].number())
		}
		var egress *Call
		if tr := sc.Transit; tr != nil {
			e, err := transitLeg(c, tr)
			if err != nil {
				return nil, fmt.Errorf("%s: transit: %w", where, err)
			}
			egress = &e
		}
		n := max(sc.Count, 1)
		for k := 0; k < n; k++ {
			c.Start = start.Add(sc.At + time.Duration(k)*sc.Every)
			calls = append(calls, c)
			if egress != nil {
				e := *egress
				e.Start = c.Start.Add(sc.Transit.Delay)
				calls = append(calls, e)
			}
		}
	}
	return calls, nil
}

// transitLeg builds the egress leg of the ingress call in (its Start is set
// by the caller).
func transitLeg(in Call, tr *scenarioTransit) (Call, error) {
	if tr.Partner == "" {
		return Call{}, errors.New("partner is required")
	}
	if tr.Delay < 0 {
		return Call{}, errors.New("delay must not be negative")
	}
	if tr.Delay == 0 {
		tr.Delay = defaultTransitDelay
	}
	if tr.Delay >= in.Release {
		return Call{}, errors.New("delay must be shorter than the ingress leg's release")
	}
	for _, n := range []*scenarioNumber{tr.Called, tr.Calling} {
		if n != nil && !validDigits(n.Digits) {
			return Call{}, fmt.Errorf("digits %q: want at most %d of 0-9, A-F", n.Digits, maxScenarioDigits)
		}
	}
	e := in
	e.Label, e.Partner, e.Link, e.Direction, e.CIC = tr.Label, tr.Partner, tr.Link, Egress, 0
	e.IAM.Generic = append([]Number(nil), in.IAM.Generic...)
	if tr.Called != nil {
		e.IAM.Called = *tr.Called.number()
	}
	switch {
	case tr.DropCalling:
		e.IAM.Calling = nil
	case tr.Calling != nil:
		e.IAM.Calling = tr.Calling.number()
	}
	if tr.Generic != nil {
		e.IAM.Generic = nil
		for j := range *tr.Generic {
			e.IAM.Generic = append(e.IAM.Generic, *(*tr.Generic)[j].number())
		}
	}
	// The egress leg's backward messages arrive before the gateway passes
	// them back on the ingress leg: its timing is the ingress leg's, shifted
	// by the delay, so both legs release together.
	shift := func(d time.Duration) time.Duration {
		if d == 0 {
			return 0
		}
		return max(d-tr.Delay, time.Millisecond)
	}
	e.ACM, e.Alerting, e.Answer, e.Release = shift(in.ACM), shift(in.Alerting), shift(in.Answer), shift(in.Release)
	if e.SAMDigits != "" {
		e.SAMDelay = shift(in.SAMDelay)
	}
	return e, nil
}

// maxScenarioDigits is the longest address a scenario may script (Q.763
// numbers are at most 15 E.164 digits plus prefixes).
const maxScenarioDigits = 32

func validDigits(d string) bool {
	if len(d) > maxScenarioDigits {
		return false
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func pointers(ns []scenarioNumber) []*scenarioNumber {
	out := make([]*scenarioNumber, len(ns))
	for i := range ns {
		out[i] = &ns[i]
	}
	return out
}
