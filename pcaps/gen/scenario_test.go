package gen

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

const exampleScenario = `
calls:
  # from partner X at time T, N calls with CLI c to called d, alerting then
  # release after 2 s by the caller
  - label: call.one_ring
    partner: intl-pacific
    direction: ingress
    at: 30s
    count: 4
    every: 3s
    calling: {digits: "85291234567", nai: 4, si: 1}
    called: {digits: "8613912345678", nai: 4}
    alerting: 1s
    release: 2s
    released_by: calling
  - label: cli.missing
    partner: ic-telecom
    link: 1
    at: 31s
    called: {digits: "13912345678", nai: 3}
    category: 15
    generic: [{qualifier: 6, digits: "1065881234", nai: 3, si: 1}]
    answer: 5s
    release: 65s
    released_by: called
`

func TestLoadScenario(t *testing.T) {
	calls, err := LoadScenario(strings.NewReader(exampleScenario), DefaultStart)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 5 {
		t.Fatalf("%d calls, want 5", len(calls))
	}
	c := calls[3]
	if c.Start != DefaultStart.Add(39*time.Second) || c.ACM != time.Second || c.Alerting != time.Second ||
		c.Release != 2*time.Second || c.ReleasedBy != SideCalling || c.Cause.Value != CauseNormal {
		t.Fatalf("fourth call %+v", c)
	}
	if c.IAM.Calling.Digits != "85291234567" || c.IAM.Calling.NPI != NPIISDN || c.IAM.Category != CategoryOrdinary {
		t.Fatalf("calling %+v category %d", c.IAM.Calling, c.IAM.Category)
	}
	m := calls[4]
	if m.IAM.Calling != nil || m.IAM.Category != CategoryPayphone || len(m.IAM.Generic) != 1 || m.Link != 1 {
		t.Fatalf("cli.missing call %+v", m)
	}

	var p, tr bytes.Buffer
	var recs []CallRecord
	sum, err := Write(&p, &tr, Options{Seed: 9, Source: Merge(NewSliceSource(calls), NewRandomSource(9, 50, DefaultPartners(14), DefaultStart.Add(time.Second))),
		OnCall: func(r CallRecord) {
			if r.Call.Label != "" {
				recs = append(recs, r)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Calls != 55 || len(recs) != 5 {
		t.Fatalf("%d calls, %d labelled IAMs", sum.Calls, len(recs))
	}
	lines, err := ReadTruth(&tr)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		found := false
		for _, l := range lines {
			if l.Frame == r.Frame && l.Type == "IAM" && l.CIC == uint32(r.CIC) && l.Src == r.Src && l.OPC == r.OPC {
				found = true
				if r.Call.Label == "cli.missing" && (l.Calling != nil || len(l.Generic) != 1 || l.Src != "192.0.2.22:2905") {
					t.Errorf("cli.missing IAM %+v", l)
				}
			}
		}
		if !found {
			t.Errorf("no truth IAM for %s at frame %d", r.Call.Label, r.Frame)
		}
	}
}

func TestLoadScenarioRejectsMistakes(t *testing.T) {
	for _, bad := range []string{
		"calls:\n  - partner: x\n    called: {digits: '1'}\n    release: 1s\n    colour: red\n",
		"calls:\n  - partner: x\n    release: 1s\n",
		"calls:\n  - partner: x\n    called: {digits: '1'}\n",
		"calls:\n  - partner: x\n    called: {digits: '1'}\n    release: 1s\n    direction: sideways\n",
		"calls:\n  - partner: x\n    called: {digits: '1'}\n    release: 1s\n    released_by: nobody\n",
		"calls: [",
		"calls:\n  - partner: x\n    called: {digits: '1'}\n    release: 1s\n    count: 2000000000\n",
		"calls:\n  - partner: x\n    called: {digits: '1'}\n    release: 1s\n    at: -5s\n",
		"calls:\n  - partner: x\n    called: {digits: '12X4'}\n    release: 1s\n",
		"calls:\n  - partner: x\n    called: {digits: '1'}\n    calling: {digits: '123456789012345678901234567890123'}\n    release: 1s\n",
		"calls:\n  - partner: x\n    called: {digits: '1'}\n    sam: '+1'\n    release: 1s\n",
	} {
		if _, err := LoadScenario(strings.NewReader(bad), DefaultStart); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// FuzzLoadScenario: any file either loads or is rejected; it never panics,
// and what loads can be written.
func FuzzLoadScenario(f *testing.F) {
	f.Add(exampleScenario)
	f.Add("calls:\n  - partner: ll-fintech\n    called: {digits: '10086'}\n    release: 1s\n    sam: '12'\n")
	f.Fuzz(func(t *testing.T, s string) {
		calls, err := LoadScenario(strings.NewReader(s), DefaultStart)
		if err != nil || len(calls) > 50 {
			return
		}
		for _, c := range calls {
			if c.Release > time.Hour || c.Start.Before(DefaultStart) {
				return
			}
		}
		if _, err := Write(io.Discard, io.Discard, Options{Source: NewSliceSource(calls)}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLoadScenarioTransit(t *testing.T) {
	const y = `
calls:
  - label: ingress
    partner: intl-pacific
    count: 2
    every: 10s
    calling: {digits: "85291234567", nai: 4}
    called: {digits: "8613912345678", nai: 4}
    acm: 2s
    alerting: 2s
    answer: 5s
    release: 65s
    generic: [{qualifier: 6, digits: "123456", nai: 3}]
    transit:
      label: cli.intl_marking_stripped
      partner: ic-telecom
      link: 1
      delay: 200ms
      called: {digits: "13912345678", nai: 3}
      calling: {digits: "91234567", nai: 3}
      generic: []
`
	calls, err := LoadScenario(strings.NewReader(y), DefaultStart)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 4 {
		t.Fatalf("%d calls, want 2 transit calls of 2 legs", len(calls))
	}
	in, out := calls[2], calls[3]
	if in.Direction != Ingress || out.Direction != Egress || out.Partner != "ic-telecom" || out.Link != 1 ||
		out.Start != in.Start.Add(200*time.Millisecond) || out.Label != "cli.intl_marking_stripped" {
		t.Fatalf("legs %+v / %+v", in, out)
	}
	if out.IAM.Calling.Digits != "91234567" || out.IAM.Called.Digits != "13912345678" || len(out.IAM.Generic) != 0 ||
		len(in.IAM.Generic) != 1 || in.IAM.Calling.Digits != "85291234567" {
		t.Fatalf("egress IAM %+v", out.IAM)
	}
	// Both legs release together.
	if in.Start.Add(in.Release) != out.Start.Add(out.Release) || in.Start.Add(in.Answer) != out.Start.Add(out.Answer) {
		t.Fatalf("timing in %v/%v out %v/%v", in.Answer, in.Release, out.Answer, out.Release)
	}
	for _, bad := range []string{
		"calls:\n  - {partner: a, called: {digits: \"1\"}, release: 1s, transit: {delay: 1s}}\n",
		"calls:\n  - {partner: a, called: {digits: \"1\"}, release: 1s, transit: {partner: b, delay: 2s}}\n",
	} {
		if _, err := LoadScenario(strings.NewReader(bad), DefaultStart); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
