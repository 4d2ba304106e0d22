package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/pcaps/gen"
	"github.com/gatewarden/gatewarden/retention"
)

// crashLongEnv selects the long setting of the crash harness (more calls,
// files and trials): GATEWARDEN_CRASH_LONG=1 go test ./cmd/gatewarden -run TestCrashHarness.
const crashLongEnv = "GATEWARDEN_CRASH_LONG"

// crashHookDelay is how long the harness's webhook takes to answer: alerts
// wait in the webhook's queue, so kills land while some are undelivered.
const crashHookDelay = 20 * time.Millisecond

// TestCrashHarness runs the real daemon (this test binary re-executed as
// `gatewarden run`) on a generated multi-file pcap_dir and kills it with
// SIGKILL at random moments, restarting it each time, until every file is
// committed; then stops it with SIGTERM. The store and the alert file must
// then hold exactly what one uninterrupted run gives: the same messages
// (each call's ladder, source file and frame), calls and alerts, none
// duplicated, none lost; and the alert file sink holds every alert line of
// the uninterrupted run exactly once (its delivery cursor re-sends, after a
// restart, the committed alerts that were still queued at the kill). A
// slow webhook (crashHookDelay per alert, so kills land while alerts wait
// in its queue) receives every alert at least once, and again only for a
// request in flight at a kill: at most one per kill.
func TestCrashHarness(t *testing.T) {
	calls, files, trials, kills := 20000, 6, 3, 4
	if os.Getenv(crashLongEnv) != "" {
		calls, files, trials, kills = 200000, 20, 6, 12
	}
	dir := t.TempDir()
	if keep := os.Getenv("GATEWARDEN_CRASH_KEEP"); keep != "" {
		dir = keep // inspect what a failing trial left
	}
	staging := filepath.Join(dir, "staging")
	os.MkdirAll(staging, 0o755)
	partners := gen.DefaultPartners(14)
	// The rule scenarios three times over the capture: alerts (behaviour
	// windows among them) early, in the middle and late.
	sources := []gen.CallSource{nil}
	for _, at := range []time.Duration{time.Minute, 50 * time.Minute, 100 * time.Minute} {
		ruleCalls, _ := gen.RuleScenarios(gen.DefaultStart.Add(at))
		sources = append(sources, gen.NewSliceSource(ruleCalls))
	}
	pcap := filepath.Join(dir, "all.pcap")
	f, err := os.Create(pcap)
	if err != nil {
		t.Fatal(err)
	}
	// Calls spread over about two and a half hours of capture time, so the
	// store changes partition during the run.
	gap := 150 * time.Minute / time.Duration(calls)
	sources[0] = gen.NewCleanSource(11, calls, partners, gen.DefaultStart, gap)
	sum, err := gen.Write(f, nil, gen.Options{Seed: 11, Partners: partners, Source: gen.Merge(sources...)})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	splitCapture(t, pcap, staging, files)
	os.Remove(pcap)
	block := filepath.Join(dir, "blocklist.txt")
	os.WriteFile(block, []byte(gen.ScenarioBlocklistFile()), 0o644)
	base := gen.ScenarioConfigYAML(partners, 14, block)

	want := crashRun(t, filepath.Join(dir, "reference"), staging, base, nil, 0, 0)
	if want.messages < sum.Messages*9/10 || want.alerts == 0 || want.partitions < 2 {
		t.Fatalf("reference run: %d messages of %d, %d alerts, %d partitions: the harness would prove little",
			want.messages, sum.Messages, want.alerts, want.partitions)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	totalKills, totalResends := 0, 0
	for trial := 0; trial < trials; trial++ {
		got := crashRun(t, filepath.Join(dir, fmt.Sprintf("trial%d", trial)), staging, base, rng, kills, want.frames)
		totalKills += got.kills
		if got.kills == 0 {
			t.Errorf("trial %d: no kill landed before the end: it proves nothing", trial)
		}
		if d := want.diff(&got); d != "" {
			t.Errorf("trial %d (%d kills): differs from the uninterrupted run: %s", trial, got.kills, d)
		} else {
			t.Logf("trial %d: %d kill -9s, %d restarts that cut records, %d restarts that re-sent alerts; the store equals the uninterrupted run (%d messages, %d calls, %d alerts: 0 duplicates, 0 lost); alert file sink: %d lines, 0 duplicates, 0 missing; webhook: 0 missing, %d repeated",
				trial, got.kills, got.cutRestarts, got.resendRestarts, got.messages, got.calls, got.alerts, len(got.alertLines), len(got.hookLines)-len(want.hookLines))
		}
		totalResends += got.resendRestarts
	}
	t.Logf("%d trials, %d kills over %d files of %d messages; %d restarts re-sent committed alerts", trials, totalKills, files, want.messages, totalResends)
}

// crashOutcome is what a run left: counts, and each call (ladder, record,
// alerts) and alert line as a comparable string.
type crashOutcome struct {
	messages, calls, alerts, partitions uint64
	callLines, alertLines, hookLines    []string
	kills, cutRestarts, resendRestarts  int
	frames                              float64 // frames the reference run decoded
}

func (w *crashOutcome) diff(g *crashOutcome) string {
	var d []string
	if w.messages != g.messages || w.calls != g.calls || w.alerts != g.alerts {
		d = append(d, fmt.Sprintf("messages/calls/alerts %d/%d/%d, want %d/%d/%d", g.messages, g.calls, g.alerts, w.messages, w.calls, w.alerts))
	}
	if !slices.Equal(w.callLines, g.callLines) {
		missing, extra := setDiff(w.callLines, g.callLines), setDiff(g.callLines, w.callLines)
		d = append(d, fmt.Sprintf("calls: %d lost (e.g. %.200q), %d duplicated or extra (e.g. %.200q)", len(missing), first(missing), len(extra), first(extra)))
	}
	// The alert file sink: every line of the uninterrupted run, once.
	if extra := setDiff(g.alertLines, w.alertLines); len(extra) > 0 {
		d = append(d, fmt.Sprintf("alert file sink: %d duplicated or extra lines (e.g. %.200q)", len(extra), first(extra)))
	}
	if missing := setDiff(w.alertLines, g.alertLines); len(missing) > 0 {
		d = append(d, fmt.Sprintf("alert file sink: %d lines missing (e.g. %.200q)", len(missing), first(missing)))
	}
	// The webhook: at least once; a repeat only for a request in flight at a
	// kill (no acknowledgement reached the cursor).
	if missing := setDiff(w.hookLines, g.hookLines); len(missing) > 0 {
		d = append(d, fmt.Sprintf("webhook: %d alerts missing (e.g. %.200q)", len(missing), first(missing)))
	}
	if extra := setDiff(g.hookLines, w.hookLines); len(extra) > g.kills {
		d = append(d, fmt.Sprintf("webhook: %d alerts repeated after %d kills (at most one per kill)", len(extra), g.kills))
	}
	return strings.Join(d, "; ")
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// setDiff is the multiset a − b (both sorted).
func setDiff(a, b []string) []string {
	var out []string
	i, j := 0, 0
	for i < len(a) {
		switch {
		case j >= len(b) || a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			j++
		default:
			i++
			j++
		}
	}
	return out
}

// crashRun copies the files into a fresh pcap_dir and runs the daemon on
// it until every file is committed, killing it up to kills times (when rng
// is set), each time once it has decoded a random 2–40 % of the frames
// (frames is the whole input's count), then stops it with SIGTERM and reads
// what it left.
func crashRun(t *testing.T, dir, staging, baseYAML string, rng *rand.Rand, kills int, frames float64) crashOutcome {
	t.Helper()
	spool := filepath.Join(dir, "spool")
	os.MkdirAll(spool, 0o755)
	ents, _ := os.ReadDir(staging)
	for _, e := range ents {
		copyFile(t, filepath.Join(staging, e.Name()), filepath.Join(spool, e.Name()))
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out crashOutcome
	var logs bytes.Buffer
	var hookMu sync.Mutex
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		time.Sleep(crashHookDelay)
		if l := string(body); !strings.Contains(l, `"store.checkpoint"`) {
			hookMu.Lock()
			out.hookLines = append(out.hookLines, l)
			hookMu.Unlock()
		}
	}))
	defer hook.Close()
	for start := 0; ; start++ {
		if start > 200 {
			t.Fatalf("not done after %d starts:\n%s", start, logs.String())
		}
		addr := freePort(t)
		cfg := filepath.Join(dir, "gatewarden.yaml")
		os.WriteFile(cfg, []byte(baseYAML+fmt.Sprintf(`daemon:
  pcap_dir: %s
  pcap_settle: 10ms
  pcap_poll: 10ms
  queue: {batches: 4, frames_per_batch: 64}
  data_dir: %s
  retention: {min_free_mib: -1, flush_interval: 200ms}
  listen: {metrics: %q}
  alerts:
    file: {path: %s}
    webhook: {url: %q, timeout: 5s, retries: 0}
`, spool, filepath.Join(dir, "data"), addr, filepath.Join(dir, "alerts.jsonl"), hook.URL)), 0o644)
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), daemonChildEnv+"="+cfg)
		var stderr syncBuffer // read while the child writes to it
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		deadline := time.Now().Add(60 * time.Second)
		killAt := -1.0
		if rng != nil && out.kills < kills {
			killAt = frames * (0.02 + 0.38*rng.Float64())
		}
		done := false
		for !done {
			select {
			case err := <-exited:
				t.Fatalf("daemon exited by itself: %v\n%s", err, stderr.String())
			case <-time.After(20 * time.Millisecond):
			}
			m, err := scrape(addr)
			if err == nil && m["gatewarden_pcap_files_committed"] == float64(len(ents)) {
				done = true
				out.frames = m["gatewarden_decode_frames_total"]
				break
			}
			if err == nil && killAt >= 0 && m["gatewarden_decode_frames_total"] >= killAt {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("daemon did not finish:\n%s", stderr.String())
			}
		}
		if strings.Contains(stderr.String(), "records after the last commit were cut") {
			out.cutRestarts++
		}
		if strings.Contains(stderr.String(), "re-sending committed alerts") {
			out.resendRestarts++
		}
		if !done {
			cmd.Process.Signal(syscall.SIGKILL)
			<-exited
			out.kills++
			logs.WriteString(stderr.String())
			continue
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if err := <-exited; err != nil {
			t.Fatalf("daemon stop: %v\n%s", err, stderr.String())
		}
		logs.WriteString(stderr.String())
		break
	}
	os.WriteFile(filepath.Join(dir, "daemon.log"), logs.Bytes(), 0o644)
	storeDir := filepath.Join(dir, "data", "store")
	// The recoveries leave a store that verifies, and that still contains and
	// extends every signed checkpoint made before a kill (a recovery cut only
	// ever removes what no checkpoint signed).
	if v, err := retention.Verify(storeDir); err != nil || !v.OK() {
		t.Fatalf("verify after the run: %+v %v", v, err)
	}
	cf, err := os.Open(filepath.Join(storeDir, "checkpoints.log"))
	if err != nil {
		t.Fatal(err)
	}
	cps, err := retention.ReadCheckpoints(cf)
	cf.Close()
	if err != nil {
		t.Fatal(err)
	}
	if probs, err := retention.VerifyCheckpoints(storeDir, cps); err != nil || len(probs) > 0 {
		t.Fatalf("the store no longer extends its own checkpoints: %v %v", probs, err)
	}
	st, err := retention.Open(storeDir, retention.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range st.Partitions() {
		out.messages += uint64(p.Messages)
		out.calls += uint64(p.Calls)
		out.alerts += uint64(p.Alerts)
		out.partitions++
	}
	res, err := st.QueryCalls(retention.Query{From: 1, To: 1 << 62})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res {
		var b strings.Builder
		for _, m := range c.Ladder {
			fmt.Fprintf(&b, "%s:%d:%d ", filepath.Base(m.Source), m.Frame, m.Type)
		}
		if c.Call != nil {
			fmt.Fprintf(&b, "| %s %s %d %d", c.Call.ID, c.Call.Outcome, c.Call.Messages, c.Call.End)
		}
		for _, a := range c.Alerts {
			fmt.Fprintf(&b, "| %s %d", a.Rule, a.TS)
		}
		out.callLines = append(out.callLines, b.String())
	}
	slices.Sort(out.callLines)
	alerts, _ := os.ReadFile(filepath.Join(dir, "alerts.jsonl"))
	for _, l := range strings.Split(strings.TrimSpace(string(alerts)), "\n") {
		// The store's signed checkpoints go to the sinks too; they carry
		// wall-clock times, so only alerts are compared.
		if l != "" && !strings.Contains(l, `"store.checkpoint"`) {
			out.alertLines = append(out.alertLines, l)
		}
	}
	slices.Sort(out.alertLines)
	hook.Close() // waits for requests in progress
	hookMu.Lock()
	slices.Sort(out.hookLines)
	hookMu.Unlock()
	return out
}
