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
}

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
		n := max(sc.Count, 1)
		for k := 0; k < n; k++ {
			c.Start = start.Add(sc.At + time.Duration(k)*sc.Every)
			calls = append(calls, c)
		}
	}
	return calls, nil
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
