package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/pcaps/gen"
)

// scenarioFixture is a generated scenario capture with its configuration.
type scenarioFixture struct {
	dir, pcap, config string
	want              []gen.ExpectedAlert
}

func writeScenarioFixture(t testing.TB, pcBits uint8) *scenarioFixture {
	t.Helper()
	dir := t.TempDir()
	fx := &scenarioFixture{dir: dir, pcap: filepath.Join(dir, "scenarios.pcap"), config: filepath.Join(dir, "gatewarden.yaml")}
	pf, err := os.Create(fx.pcap)
	if err != nil {
		t.Fatal(err)
	}
	var expected bytes.Buffer
	if _, err := gen.WriteScenarios(pf, &expected, gen.ScenarioOptions{Seed: 7, PCBits: pcBits, File: fx.pcap}); err != nil {
		t.Fatal(err)
	}
	if err := pf.Close(); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&expected)
	for {
		var w gen.ExpectedAlert
		if err := dec.Decode(&w); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		fx.want = append(fx.want, w)
	}
	block := filepath.Join(dir, "blocklist.txt")
	if err := os.WriteFile(block, []byte(gen.ScenarioBlocklistFile()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := gen.ScenarioConfigYAML(gen.DefaultPartners(pcBits), pcBits, block)
	if err := os.WriteFile(fx.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return fx
}

type alertLine struct {
	TS          string `json:"ts"`
	Rule        string `json:"rule"`
	Severity    string `json:"severity"`
	Partner     string `json:"partner"`
	Direction   string `json:"direction"`
	Calling     string `json:"calling"`
	Called      string `json:"called"`
	Redirecting string `json:"redirecting"`
	OPC         *uint32
	CallID      string `json:"call_id"`
	Outcome     string `json:"outcome"`
	Count       int    `json:"count"`
	WindowS     int    `json:"window_s"`
	Detail      string `json:"detail"`
}

func runReplayArgs(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = replayMain(args, &out, &errb)
	return out.String(), errb.String(), code
}

func parseAlerts(t *testing.T, out string) []alertLine {
	t.Helper()
	var alerts []alertLine
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var a alertLine
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		alerts = append(alerts, a)
	}
	return alerts
}

func matches(w *gen.ExpectedAlert, a *alertLine) bool {
	return w.Rule == a.Rule && w.Partner == a.Partner && w.Direction == a.Direction &&
		(w.Calling == "" || w.Calling == a.Calling) && (w.Called == "" || w.Called == a.Called) &&
		(w.Redirecting == "" || w.Redirecting == a.Redirecting) && (w.Count == 0 || w.Count == a.Count)
}

// checkExpected reports every expected alert that is missing and every
// alert nobody expected.
func checkExpected(t *testing.T, want []gen.ExpectedAlert, got []alertLine) {
	t.Helper()
	used := make([]bool, len(got))
	for i := range want {
		found := false
		for j := range got {
			if !used[j] && matches(&want[i], &got[j]) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("scenario %q: expected alert not raised: %+v", want[i].Scenario, want[i])
		}
	}
	for j := range got {
		if !used[j] {
			t.Errorf("unexpected alert: %+v", got[j])
		}
	}
}

func TestReplayScenarios(t *testing.T) {
	for _, bits := range []uint8{14, 24} {
		fx := writeScenarioFixture(t, bits)
		if len(fx.want) < 14 {
			t.Fatalf("only %d expected alerts", len(fx.want))
		}
		callsPath := filepath.Join(fx.dir, "calls.json")
		out, stderr, code := runReplayArgs(t, "--config", fx.config, "--calls", callsPath, fx.pcap)
		if code != 0 {
			t.Fatalf("pc bits %d: exit %d: %s", bits, code, stderr)
		}
		t.Logf("pc bits %d: %s", bits, strings.TrimSpace(stderr))
		alerts := parseAlerts(t, out)
		checkExpected(t, fx.want, alerts)
		rules := map[string]bool{}
		for _, a := range alerts {
			rules[a.Rule] = true
			if a.TS == "" || a.Severity == "" || a.CallID == "" || a.Detail == "" || a.OPC == nil {
				t.Errorf("incomplete alert %+v", a)
			}
		}
		if len(rules) != 14 {
			t.Errorf("pc bits %d: %d distinct rules fired, want all 14", bits, len(rules))
		}
		calls, err := os.ReadFile(callsPath)
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(calls, []byte("\n")); n < 5000 {
			t.Errorf("%d call records", n)
		}
		if !strings.Contains(stderr, "drops=0") {
			t.Errorf("decoder dropped messages: %s", stderr)
		}

		// The same replay twice gives byte-identical alerts.
		again, _, _ := runReplayArgs(t, "--config", fx.config, fx.pcap)
		if again != out {
			t.Errorf("pc bits %d: second replay differs", bits)
		}
	}
}

// splitPcap writes the first half of src's packets to a and the rest to b.
func splitPcap(t *testing.T, src, a, b string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := pcapgo.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	var datas [][]byte
	var cis []gopacket.CaptureInfo
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		datas, cis = append(datas, data), append(cis, ci)
	}
	half := len(datas) / 2
	for part, path := range []string{a, b} {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := pcapgo.NewWriterNanos(f)
		if err := w.WriteFileHeader(65535, r.LinkType()); err != nil {
			t.Fatal(err)
		}
		lo, hi := 0, half
		if part == 1 {
			lo, hi = half, len(datas)
		}
		for i := lo; i < hi; i++ {
			if err := w.WritePacket(cis[i], datas[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReplaySplitAcrossFiles(t *testing.T) {
	fx := writeScenarioFixture(t, 14)
	one, _, code := runReplayArgs(t, "--config", fx.config, fx.pcap)
	if code != 0 {
		t.Fatal("replay failed")
	}
	a, b := filepath.Join(fx.dir, "part1.pcap"), filepath.Join(fx.dir, "part2.pcap")
	splitPcap(t, fx.pcap, a, b)
	two, stderr, code := runReplayArgs(t, "--config", fx.config, b, a) // order of arguments does not matter
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	strip := func(out string) []alertLine {
		al := parseAlerts(t, out)
		for i := range al {
			al[i].CallID = "" // names the source file
		}
		return al
	}
	x, y := strip(one), strip(two)
	if len(x) != len(y) {
		t.Fatalf("%d alerts from one file, %d from two", len(x), len(y))
	}
	for i := range x {
		xj, _ := json.Marshal(x[i])
		yj, _ := json.Marshal(y[i])
		if !bytes.Equal(xj, yj) {
			t.Errorf("alert %d differs:\n%s\n%s", i, xj, yj)
		}
	}
}

func TestReplayBadConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.yaml")
	os.WriteFile(cfg, []byte("point_code_bits: 15\n"), 0o644)
	_, stderr, code := runReplayArgs(t, "--config", cfg, filepath.Join(dir, "none.pcap"))
	if code != 2 || !strings.Contains(stderr, "bad.yaml") || !strings.Contains(stderr, "point_code_bits") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	_, _, code = runReplayArgs(t)
	if code != 2 {
		t.Errorf("no files: exit %d", code)
	}
}

// replay --config checks the daemon's capture filter too, so the RUNBOOK's
// suggested check catches a filter the daemon would refuse.
func TestReplayConfigChecksFilter(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		bpf  string
		code int
	}{{"sctp and port 2905", 0}, {"sctp and port", 2}} {
		cfg := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(cfg, []byte("daemon: {capture: {bpf: \""+tc.bpf+"\"}}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := runReplayArgs(t, "--config", cfg, "--data", filepath.Join(dir, "data"), scenarioPcap)
		if (code == 0) != (tc.code == 0) || (tc.code != 0 && !strings.Contains(stderr, "daemon.capture.bpf")) {
			t.Errorf("bpf %q: exit %d, want %d: %s", tc.bpf, code, tc.code, stderr)
		}
	}
}

func TestReplaySharedCaptures(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "pcaps", "isup_load_generator.pcap")
	if _, err := os.Stat(path); err != nil {
		t.Fatal("shared captures not available (part of the test contract: lay shared/ beside the repository): ", err)
	}
	_, stderr, code := runReplayArgs(t, path)
	if code != 0 || !strings.Contains(stderr, "calls=1149 ") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

var benchSink int

// BenchmarkReplay runs the whole pipeline with every rule on a generated
// capture of at least a million ISUP messages and reports messages per second.
func BenchmarkReplay(b *testing.B) {
	pcap, _ := loadCapture(b)
	setup := benchSetup(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuSeconds()
	var messages uint64
	for i := 0; i < b.N; i++ {
		r, err := capture.OpenFiles([]string{pcap})
		if err != nil {
			b.Fatal(err)
		}
		p := newReplayPipeline(setup, io.Discard, nil, nil, nil)
		if err := p.run(r, func(error) {}); err != nil {
			b.Fatal(err)
		}
		r.Close()
		messages += p.p.Stats().Decode.Messages
		benchSink += int(p.p.Stats().Calls.Closed)
	}
	b.StopTimer()
	cpu := cpuSeconds() - cpu0
	secs := b.Elapsed().Seconds()
	// The pipeline runs on one goroutine. msgs/s is wall clock, which other
	// processes on a shared machine slow down; msgs/cpu-s divides by the CPU
	// time this process used (GC included), i.e. the rate per core.
	b.ReportMetric(float64(messages)/secs, "msgs/s")
	b.ReportMetric(float64(messages)/cpu, "msgs/cpu-s")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapSys)/1e6, "heap-MB")
}

// cpuSeconds is the user and system CPU time this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

var updateScenarios = flag.Bool("update-scenarios", false, "rewrite pcaps/scenarios.* from the generator")

// The committed scenario capture (pcaps/scenarios.*) is what the generator
// makes, and replaying it raises exactly the expected alerts.
func TestScenarioFiles(t *testing.T) {
	dir := filepath.Join("..", "..", "pcaps")
	names := map[string]string{
		"pcap": filepath.Join(dir, "scenarios.pcap"), "expected": filepath.Join(dir, "scenarios.expected.jsonl"),
		"config": filepath.Join(dir, "scenarios.yaml"), "blocklist": filepath.Join(dir, "scenarios.blocklist"),
	}
	var pcap, expected bytes.Buffer
	if _, err := gen.WriteScenarios(&pcap, &expected, gen.ScenarioOptions{Seed: 3, CleanCalls: 1000, File: "scenarios.pcap"}); err != nil {
		t.Fatal(err)
	}
	fresh := map[string][]byte{
		"pcap": pcap.Bytes(), "expected": expected.Bytes(),
		"config":    []byte(gen.ScenarioConfigYAML(gen.DefaultPartners(14), 14, "scenarios.blocklist")),
		"blocklist": []byte(gen.ScenarioBlocklistFile()),
	}
	for k, path := range names {
		if *updateScenarios {
			if err := os.WriteFile(path, fresh[k], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestScenarioFiles -update-scenarios)", err)
		}
		if !bytes.Equal(old, fresh[k]) {
			t.Errorf("%s differs from what the generator makes (run go test -run TestScenarioFiles -update-scenarios)", path)
		}
	}
	var want []gen.ExpectedAlert
	dec := json.NewDecoder(bytes.NewReader(fresh["expected"]))
	for {
		var w gen.ExpectedAlert
		if err := dec.Decode(&w); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		want = append(want, w)
	}
	out, stderr, code := runReplayArgs(t, "--config", names["config"], names["pcap"])
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkExpected(t, want, parseAlerts(t, out))
}
