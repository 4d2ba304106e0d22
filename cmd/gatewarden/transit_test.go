package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis/kpi"
	"github.com/gatewarden/gatewarden/pcaps/gen"
)

// transitFixture is generated traffic with transit calls (kept, stripped,
// altered), routes with known quality figures and clean background calls,
// with the generator's truth: the expected alerts and every call as written.
type transitFixture struct {
	dir, pcap, config, data string
	want                    []gen.ExpectedAlert
	truth                   []gen.CallTruth
	transitCalls            int // transit calls (pairs of legs)
}

const (
	profileIntlIngress = 60 // route.asr_drop: 3 answered of 60
	profileICAnswered  = 39
)

func writeTransitFixture(t *testing.T) *transitFixture {
	t.Helper()
	dir := t.TempDir()
	fx := &transitFixture{dir: dir, pcap: filepath.Join(dir, "transit.pcap"), config: filepath.Join(dir, "gatewarden.yaml"),
		data: filepath.Join(dir, "store")}
	partners := gen.DefaultPartners(14)
	start := gen.DefaultStart // 09:00
	transitCalls, want := gen.TransitScenarios(start.Add(time.Minute))
	fx.transitCalls = len(transitCalls) / 2
	profiles, err := gen.NewProfileSource([]gen.RouteProfile{
		// intl-pacific ingress: ASR 5% — below the 20% floor.
		{Partner: "intl-pacific", Direction: gen.Ingress, Start: start.Add(2 * time.Minute), Span: 50 * time.Minute,
			Calls: profileIntlIngress, Answered: 3, Talk: 60 * time.Second, PDD: 3 * time.Second,
			Busy: 10, NoAnswer: 10, Rejected: 5, Congestion: 25, CallingPrefix: "442079", CalledPrefix: "8613900", NAI: 4},
		// ic-telecom's second link, ingress: a route with known figures and no other traffic.
		{Partner: "ic-telecom", Link: 1, Direction: gen.Ingress, Start: start.Add(90 * time.Second), Span: 50 * time.Minute,
			Calls: 60, Answered: profileICAnswered, Talk: 95 * time.Second, PDD: 2500 * time.Millisecond,
			Busy: 6, NoAnswer: 5, Rejected: 3, Congestion: 4, CallingPrefix: "138", CalledPrefix: "137", Width: 8, NAI: 3},
		// the leased line: 28 answered calls of 3 s (SIM-box pattern).
		{Partner: "ll-fintech", Direction: gen.Ingress, Start: start.Add(3 * time.Minute), Span: 40 * time.Minute,
			Calls: 30, Answered: 28, Talk: 3 * time.Second, PDD: 1500 * time.Millisecond, Busy: 2,
			CallingPrefix: "106588", CalledPrefix: "136", Width: 4, NAI: 3},
		// one call after 10:10, so the 09:00 hour is judged
		{Partner: "ic-telecom", Link: 1, Direction: gen.Egress, Start: start.Add(71 * time.Minute), Span: time.Minute,
			Calls: 1, Answered: 1, Talk: 20 * time.Second, PDD: time.Second, CallingPrefix: "135", CalledPrefix: "133", Width: 8, NAI: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	// clean background traffic on ic-telecom's first link only
	clean := []gen.Partner{partners[1]}
	clean[0].Links = clean[0].Links[:1]
	src := gen.Merge(gen.NewSliceSource(transitCalls), profiles, gen.NewCleanSource(5, 200, clean, start.Add(time.Second), 15*time.Second))
	pf, err := os.Create(fx.pcap)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := gen.Write(pf, nil, gen.Options{Seed: 5, Start: start, File: fx.pcap, Partners: partners, Source: src,
		OnCallEnd: func(c gen.CallTruth) { fx.truth = append(fx.truth, c) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := pf.Close(); err != nil {
		t.Fatal(err)
	}
	if sum.SkippedCalls > 0 || uint64(len(fx.truth)) != sum.Calls {
		t.Fatalf("generator: %d calls, %d skipped, %d finished", sum.Calls, sum.SkippedCalls, len(fx.truth))
	}
	fx.want = append(want,
		gen.ExpectedAlert{Rule: "route.asr_drop", Partner: "intl-pacific", Direction: "ingress", Scenario: "ASR below the floor"},
		gen.ExpectedAlert{Rule: "route.short_calls", Partner: "ll-fintech", Direction: "ingress", Count: 20, Scenario: "short calls"})
	block := filepath.Join(dir, "blocklist.txt")
	if err := os.WriteFile(block, []byte(gen.ScenarioBlocklistFile()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := gen.ScenarioConfigYAML(partners, 14, block)
	cfg = strings.Replace(cfg, "  - name: ll-fintech\n", "  - name: ll-fintech\n    cli_change_allowed: true\n", 1)
	if err := os.WriteFile(fx.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return fx
}

type callLine struct {
	ID            string `json:"call_id"`
	Partner       string `json:"partner"`
	Direction     string `json:"direction"`
	TransitOf     string `json:"transit_of"`
	TransitTo     string `json:"transit_to"`
	OriginCountry string `json:"origin_country"`
	Calling       *struct {
		Digits string `json:"digits"`
	} `json:"calling"`
}

// TestTransitAndRouteKPIs is the held-out-style test of issue 13: generated
// traffic through the whole pipeline (replay into a store), then the alerts,
// the transit links, trace, and report --kpi/--origin against the
// generator's truth, call for call.
func TestTransitAndRouteKPIs(t *testing.T) {
	fx := writeTransitFixture(t)
	callsFile := filepath.Join(fx.dir, "calls.jsonl")
	out, stderr, code := runReplayArgs(t, "--config", fx.config, "--data", fx.data, "--calls", callsFile, fx.pcap)
	if code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr)
	}
	alerts := parseAlerts(t, out)
	checkExpected(t, fx.want, alerts)
	for _, a := range alerts {
		if a.Partner == "intl-pacific" && a.Direction == "ingress" && a.Rule != "route.asr_drop" {
			t.Errorf("alert on an international call: %+v", a)
		}
	}

	// Every transit call is linked both ways, and nothing else is.
	f, err := os.Open(callsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	byID := map[string]callLine{}
	var calls []callLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c callLine
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		calls = append(calls, c)
		byID[c.ID] = c
	}
	linked := 0
	for _, c := range calls {
		if c.TransitOf == "" {
			continue
		}
		linked++
		in, ok := byID[c.TransitOf]
		if !ok || in.TransitTo != c.ID || c.Direction != "egress" || in.Direction != "ingress" {
			t.Errorf("egress %s: transit_of %s, whose record is %+v", c.ID, c.TransitOf, in)
		}
		if in.Partner == "intl-pacific" && (c.OriginCountry == "" || c.OriginCountry != in.OriginCountry) {
			t.Errorf("egress leg %s origin %q, ingress leg %q", c.ID, c.OriginCountry, in.OriginCountry)
		}
	}
	if linked != fx.transitCalls {
		t.Errorf("%d egress legs linked, want %d", linked, fx.transitCalls)
	}
	if !strings.Contains(stderr, "transit_linked=11 ") {
		t.Errorf("summary: %s", stderr)
	}

	// trace shows both legs and what changed.
	var o, e bytes.Buffer
	if code := traceMain([]string{"--data", fx.data, "--rule", "cli.intl_marking_stripped", "--from", "2026-03-02", "--to", "2026-03-03", "--format", "json"}, &o, &e); code != 0 {
		t.Fatalf("trace exit %d: %s", code, e.String())
	}
	var traced []traceCall
	if err := json.Unmarshal(o.Bytes(), &traced); err != nil {
		t.Fatal(err)
	}
	if len(traced) != 3 {
		t.Fatalf("%d calls traced by cli.intl_marking_stripped, want 3", len(traced))
	}
	for _, c := range traced {
		tt := c.Transit
		if tt == nil || tt.Leg != "egress" || tt.Other == nil || tt.Other.CallID != tt.OtherID || tt.Other.Direction != "ingress" {
			t.Fatalf("trace %s: transit %+v", c.CallID, tt)
		}
		changed := map[string]bool{}
		for _, ch := range tt.Changes {
			changed[ch.Field] = true
		}
		if !changed["calling_nai"] || c.OriginCountry == "" || tt.Other.OriginCountry != c.OriginCountry {
			t.Errorf("trace %s: changes %+v origin %q/%q", c.CallID, tt.Changes, c.OriginCountry, tt.Other.OriginCountry)
		}
	}
	o.Reset()
	if code := traceMain([]string{"--data", fx.data, "--number", "91234567", "--role", "calling", "--from", "2026-03-02", "--to", "2026-03-03"}, &o, &e); code != 0 {
		t.Fatalf("trace exit %d: %s", code, e.String())
	}
	for _, want := range []string{"transit\tegress leg; ingress leg is call", "changed  calling_nai  4 -> 3", "calling  85291234567 -> 91234567", "origin   HK"} {
		if !strings.Contains(strings.Join(strings.Fields(o.String()), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("trace table lacks %q:\n%s", want, o.String())
		}
	}

	// report --kpi equals the truth, route for route.
	checkKPIs(t, fx)
	checkOrigins(t, fx)
}

// truthRows computes the figures from the generator's truth, independently
// of package kpi: what the capture holds, message for message.
func truthRows(tr []gen.CallTruth) map[string]kpi.Row {
	type acc struct {
		seiz, ans, user int
		talk            int64
		pdd             []int64
		causes          map[uint8]int
	}
	m := map[string]*acc{}
	for _, c := range tr {
		dir := "ingress"
		if c.Call.Direction == gen.Egress {
			dir = "egress"
		}
		k := c.Call.Partner + "|" + c.Src + ">" + c.Dst + "|" + dir
		a := m[k]
		if a == nil {
			a = &acc{causes: map[uint8]int{}}
			m[k] = a
		}
		a.seiz++
		answered := c.Answer != 0
		if answered {
			a.ans++
			a.talk += c.Release - c.Answer
		}
		switch {
		case answered, c.ReleaseCause == 17, c.ReleaseCause == 18, c.ReleaseCause == 19, c.ReleaseCause == 21,
			c.ReleasedByCaller && c.Alerting != 0:
			a.user++
		}
		if c.Alerting != 0 {
			a.pdd = append(a.pdd, c.Alerting-c.IAM)
		}
		a.causes[c.ReleaseCause]++
	}
	out := map[string]kpi.Row{}
	for k, a := range m {
		r := kpi.Row{Seizures: a.seiz, Answered: a.ans, UserOutcome: a.user, PDDCalls: len(a.pdd),
			ASR: kpi.Figure(float64(a.ans) / float64(a.seiz)), NER: kpi.Figure(float64(a.user) / float64(a.seiz))}
		if a.ans > 0 {
			r.ACD = kpi.Figure(float64(a.talk) / float64(a.ans) / 1e9)
		}
		sort.Slice(a.pdd, func(i, j int) bool { return a.pdd[i] < a.pdd[j] })
		if n := len(a.pdd); n > 0 {
			r.PDDMedian = kpi.Figure(float64(a.pdd[(50*n+99)/100-1]) / 1e9)
			r.PDDP95 = kpi.Figure(float64(a.pdd[(95*n+99)/100-1]) / 1e9)
		}
		for v, n := range a.causes {
			r.Causes = append(r.Causes, kpi.CauseCount{Cause: v, Calls: n})
		}
		out[k] = r
	}
	return out
}

func checkKPIs(t *testing.T, fx *transitFixture) {
	t.Helper()
	var o, e bytes.Buffer
	if code := reportMain([]string{"--data", fx.data, "--kpi", "--format", "json"}, &o, &e); code != 0 {
		t.Fatalf("report --kpi exit %d: %s", code, e.String())
	}
	var rep struct {
		Rows []struct {
			Partner, Link, Direction string
			Seizures, Answered       int
			UserOutcome              int      `json:"user_outcome"`
			ASR                      *float64 `json:"asr"`
			NER                      *float64 `json:"ner"`
			ACD                      *float64 `json:"acd_s"`
			PDDMedian                *float64 `json:"pdd_median_s"`
			PDDP95                   *float64 `json:"pdd_p95_s"`
			PDDCalls                 int      `json:"pdd_calls"`
			Causes                   []kpi.CauseCount
		}
	}
	if err := json.Unmarshal(o.Bytes(), &rep); err != nil {
		t.Fatalf("%v: %s", err, o.String())
	}
	truth := truthRows(fx.truth)
	if len(rep.Rows) != len(truth) {
		t.Errorf("%d KPI rows, truth has %d routes", len(rep.Rows), len(truth))
	}
	val := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	for _, r := range rep.Rows {
		k := r.Partner + "|" + r.Link + "|" + r.Direction
		w, ok := truth[k]
		if !ok {
			t.Errorf("KPI row %s not in the truth", k)
			continue
		}
		got := [...]float64{float64(r.Seizures), float64(r.Answered), float64(r.UserOutcome), val(r.ASR), val(r.NER),
			val(r.ACD), val(r.PDDMedian), val(r.PDDP95), float64(r.PDDCalls)}
		exp := [...]float64{float64(w.Seizures), float64(w.Answered), float64(w.UserOutcome), float64(w.ASR), float64(w.NER),
			float64(w.ACD), float64(w.PDDMedian), float64(w.PDDP95), float64(w.PDDCalls)}
		if got != exp {
			t.Errorf("route %s:\n got  seizures answered user asr ner acd pdd50 pdd95 pddn %v\n want %v", k, got, exp)
		}
		causes := map[uint8]int{}
		for _, c := range r.Causes {
			causes[c.Cause] = c.Calls
			if c.Name == "" {
				t.Errorf("cause %d without a name", c.Cause)
			}
		}
		for _, c := range w.Causes {
			if causes[c.Cause] != c.Calls {
				t.Errorf("route %s: cause %d: %d calls, truth %d", k, c.Cause, causes[c.Cause], c.Calls)
			}
		}
		// The route scripted with known figures has them.
		if r.Partner == "ic-telecom" && strings.HasPrefix(r.Link, "192.0.2.22:") && r.Direction == "ingress" {
			if r.Seizures != 60 || r.Answered != profileICAnswered || val(r.ACD) < 94.999 || val(r.ACD) > 95.001 ||
				val(r.PDDMedian) < 2.499 || val(r.PDDMedian) > 2.501 || r.UserOutcome != profileICAnswered+6+5+3 {
				t.Errorf("profiled route: %+v", r)
			}
		}
	}
	// The CSV and table forms carry the same rows.
	for _, format := range []string{"csv", "table"} {
		o.Reset()
		if code := reportMain([]string{"--data", fx.data, "--kpi", "--format", format}, &o, &e); code != 0 {
			t.Fatalf("report --kpi --format %s exit %d: %s", format, code, e.String())
		}
		if n := strings.Count(o.String(), "\n"); n != len(truth)+1 {
			t.Errorf("report --kpi --format %s: %d lines, want %d:\n%s", format, n, len(truth)+1, o.String())
		}
		if format != "csv" {
			continue
		}
		recs, err := csv.NewReader(strings.NewReader(o.String())).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for i, rec := range recs[1:] {
			k := rec[0] + "|" + rec[1] + "|" + rec[2]
			w := truth[k]
			if rec[4] != strconv.Itoa(w.Seizures) || rec[7] != strconv.FormatFloat(float64(w.ASR), 'f', -1, 64) ||
				rec[8] != strconv.FormatFloat(float64(w.NER), 'f', -1, 64) {
				t.Errorf("CSV row %d %v, truth %+v", i+1, rec, w)
			}
		}
	}
}

func checkOrigins(t *testing.T, fx *transitFixture) {
	t.Helper()
	want := map[string]int{}
	for _, c := range fx.truth {
		if c.Call.Partner != "intl-pacific" || c.Call.Direction != gen.Ingress || c.Call.IAM.Calling == nil {
			continue
		}
		d := c.Call.IAM.Calling.Digits
		switch {
		case strings.HasPrefix(d, "852"):
			want["HK"]++
		case strings.HasPrefix(d, "44"):
			want["GB"]++
		case strings.HasPrefix(d, "65"):
			want["SG"]++
		default:
			t.Fatalf("truth: unexpected international caller %s", d)
		}
	}
	var o, e bytes.Buffer
	if code := reportMain([]string{"--data", fx.data, "--origin", "--format", "json"}, &o, &e); code != 0 {
		t.Fatalf("report --origin exit %d: %s", code, e.String())
	}
	var rep struct{ Rows []OriginRow }
	if err := json.Unmarshal(o.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range rep.Rows {
		got[r.Country] = r.Calls
	}
	if len(got) != len(want) || got["HK"] != want["HK"] || got["GB"] != want["GB"] || got["SG"] != want["SG"] {
		t.Errorf("calls per origin %v, truth %v", got, want)
	}
}

func TestReportKPIUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--data", t.TempDir(), "--kpi", "--origin"},
		{"--data", t.TempDir(), "--hourly"},
		{"--data", t.TempDir(), "--merge-links", "--origin"},
	} {
		var o, e bytes.Buffer
		if code := reportMain(args, &o, &e); code != exitUsage {
			t.Errorf("report %v: exit %d, want %d: %s", args, code, exitUsage, e.String())
		}
	}
}

// The daemon links transit legs and exports the route figures as replay
// does: same links, same transit and route alerts, one seizure per call.
func TestDaemonTransitAndRouteMetrics(t *testing.T) {
	fx := writeTransitFixture(t)
	spool := filepath.Join(fx.dir, "spool")
	os.MkdirAll(spool, 0o755)
	metricsAddr := freePort(t)
	base, err := os.ReadFile(fx.config)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(fx.dir, "daemon.yaml")
	daemonYAML := fmt.Sprintf(`
daemon:
  pcap_dir: spool
  pcap_settle: 10ms
  pcap_poll: 10ms
  data_dir: daemon-data
  retention: {min_free_mib: -1}
  listen: {metrics: %q}
`, metricsAddr)
	if err := os.WriteFile(cfgPath, append(base, daemonYAML...), 0o644); err != nil {
		t.Fatal(err)
	}
	d := mustStart(t, cfgPath, slog.New(slog.NewTextHandler(io.Discard, nil)))
	stopped := false
	defer func() {
		if !stopped {
			d.stop(context.Background())
		}
	}()
	copyFile(t, fx.pcap, filepath.Join(spool, "transit.pcap"))
	m := waitMetric(t, metricsAddr, "the file", func(m map[string]float64) bool {
		return m[`gatewarden_pcap_files_total{result="done"}`] == 1
	})
	if m["gatewarden_transit_linked_total"] != float64(fx.transitCalls) || m["gatewarden_transit_pending_overflow_total"] != 0 {
		t.Errorf("transit metrics: linked %v (want %d), overflow %v", m["gatewarden_transit_linked_total"], fx.transitCalls,
			m["gatewarden_transit_pending_overflow_total"])
	}
	if err := d.stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped = true
	var seizures uint64
	for _, r := range d.stage.published.routes {
		seizures += r.Seizures
	}
	if seizures != uint64(len(fx.truth)) {
		t.Errorf("route seizures %d, calls %d", seizures, len(fx.truth))
	}
	got := map[string]int{}
	for k, n := range d.stage.published.alerts {
		got[k[0]] += int(n)
	}
	want := map[string]int{}
	for _, w := range fx.want {
		want[w.Rule]++
	}
	for rule, n := range want {
		if got[rule] != n {
			t.Errorf("daemon raised %d %s, want %d (all: %v)", got[rule], rule, n, got)
		}
	}
}
