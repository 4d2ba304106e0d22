package web

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/pcaps/gen"
)

// newTransitEnv serves a store filled from generated transit calls
// (gen.TransitScenarios) in clean traffic, through the real pipeline.
func newTransitEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	pcap := filepath.Join(dir, "transit.pcap")
	f, err := os.Create(pcap)
	if err != nil {
		t.Fatal(err)
	}
	partners := gen.DefaultPartners(14)
	calls, _ := gen.TransitScenarios(gen.DefaultStart.Add(time.Minute))
	src := gen.Merge(gen.NewSliceSource(calls), gen.NewCleanSource(3, 100, partners, gen.DefaultStart, time.Second))
	if _, err := gen.Write(f, nil, gen.Options{Seed: 3, File: pcap, Partners: partners, Source: src}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	block := filepath.Join(dir, "blocklist.txt")
	cfg := filepath.Join(dir, "gatewarden.yaml")
	if err := os.WriteFile(block, []byte(gen.ScenarioBlocklistFile()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(gen.ScenarioConfigYAML(partners, 14, block)), 0o644); err != nil {
		t.Fatal(err)
	}
	return newEnvFrom(t, dir, pcap, cfg, nil)
}

// The call page of a transit leg names the other leg and what changed; the
// scorecard carries route quality figures; a viewer gets both masked.
func TestCallTransitAndScorecardKPI(t *testing.T) {
	e := newTransitEnv(t)
	res := search(t, e, bearer(testToken), url.Values{"rule": {"cli.intl_marking_stripped"}, "from": {"2026-03-02"}, "to": {"2026-03-03"}})
	if res.Count != 3 {
		t.Fatalf("%d calls with cli.intl_marking_stripped, want 3", res.Count)
	}
	var d CallDetail
	e.getJSON("/api/calls/"+res.Calls[0].ID, bearer(testToken), 200, &d)
	tr := d.Transit
	if tr == nil || tr.Leg != "egress" || tr.Other == "" || tr.OtherPartner != "intl-pacific" || d.OriginCountry == "" {
		t.Fatalf("call %s: origin %q transit %+v", res.Calls[0].ID, d.OriginCountry, tr)
	}
	changed := map[string]bool{}
	for _, c := range tr.Changes {
		changed[c.Field] = true
	}
	if !changed["calling_nai"] {
		t.Errorf("changes %+v lack the calling NAI", tr.Changes)
	}
	// The other leg points back.
	var in CallDetail
	e.getJSON("/api/calls/"+tr.Other, bearer(testToken), 200, &in)
	if in.Transit == nil || in.Transit.Leg != "ingress" || in.Transit.Other != res.Calls[0].ID || in.Direction != "ingress" {
		t.Errorf("ingress leg transit %+v", in.Transit)
	}
	// A viewer sees the changes with the numbers masked.
	_, body := e.do("GET", "/api/calls/"+res.Calls[0].ID, bearer(viewerToken), nil)
	for _, c := range tr.Changes {
		if c.Field == "calling" && (strings.Contains(string(body), c.Ingress) || strings.Contains(string(body), c.Egress)) {
			t.Errorf("viewer sees calling numbers %s/%s", c.Ingress, c.Egress)
		}
	}
	var sc struct {
		KPI []struct {
			Link, Direction    string
			Seizures, Answered int
			ASR                *float64
		}
		KPIHourly []struct{ Hour string } `json:"kpi_hourly"`
	}
	e.getJSON("/api/scorecard?partner=ic-telecom&from=2026-03-02&to=2026-03-03", bearer(testToken), 200, &sc)
	if len(sc.KPI) == 0 || len(sc.KPIHourly) == 0 || sc.KPIHourly[0].Hour != "2026-03-02T09:00:00Z" {
		t.Fatalf("scorecard kpi %+v hourly %+v", sc.KPI, sc.KPIHourly)
	}
	for _, r := range sc.KPI {
		if r.Seizures == 0 || r.ASR == nil || *r.ASR != float64(r.Answered)/float64(r.Seizures) {
			t.Errorf("kpi row %+v", r)
		}
	}
}
