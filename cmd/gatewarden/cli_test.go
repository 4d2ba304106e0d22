package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gatewarden/gatewarden/retention"
	"golang.org/x/crypto/bcrypt"
)

// Every command prints its usage on stdout for -h and --help and exits 0;
// so do `gatewarden --help`, `-h` and `help`.
func TestHelpGoesToStdoutAndExitsZero(t *testing.T) {
	var stdout, stderr bytes.Buffer
	saved := helpOut
	helpOut = &stdout
	defer func() { helpOut = saved }()
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, h := range []string{"-h", "--help"} {
			stdout.Reset()
			stderr.Reset()
			var code int
			switch name {
			// Commands whose main takes writers are run through them, the
			// rest through their registered entry (help to helpOut).
			case "trace":
				code = traceMain([]string{h}, &stdout, &stderr)
			case "report":
				code = reportMain([]string{h}, &stdout, &stderr)
			case "verify":
				code = verifyMain([]string{h}, &stdout, &stderr)
			case "passwd":
				code = passwdMain([]string{h}, strings.NewReader(""), &stdout, &stderr)
			case "replay":
				code = replayMain([]string{h}, &stdout, &stderr)
			case "version":
				code = versionMain([]string{h}, &stdout, &stderr)
			case "serve":
				code = serveMain(context.Background(), []string{h}, &stderr, nil)
			case "run":
				code = daemonMain([]string{h}, &stderr)
			case "decode":
				code = decodeMain([]string{h}, io.Discard, &stderr)
			case "gen":
				code = runGen([]string{h})
			case "central":
				code = centralMain([]string{h}, &stdout, &stderr)
			case "ship":
				code = shipMain([]string{h}, &stdout, &stderr)
			default:
				t.Errorf("%s: not covered by this test: add it", name)
				continue
			}
			if code != exitOK || !strings.Contains(stdout.String(), "usage: gatewarden "+name) || stderr.Len() != 0 {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q", name, h, code, stdout.String(), stderr.String())
			}
		}
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		stdout.Reset()
		stderr.Reset()
		if code := mainArgs(args, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), "commands:") || stderr.Len() != 0 {
			t.Errorf("gatewarden %v: exit %d stdout %q stderr %q", args, code, stdout.String(), stderr.String())
		}
	}
	// help COMMAND runs the command's own --help, on the real stdout.
	tmp, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	savedStdout := os.Stdout
	os.Stdout = tmp
	code := mainArgs([]string{"help", "report"}, &stdout, &stderr)
	os.Stdout = savedStdout
	tmp.Close()
	if got, _ := os.ReadFile(tmp.Name()); code != exitOK || !strings.Contains(string(got), "usage: gatewarden report") {
		t.Errorf("help report: exit %d %q", code, got)
	}
	stdout.Reset()
	stderr.Reset()
	if code := mainArgs(nil, &stdout, &stderr); code != exitUsage || stdout.Len() != 0 || !strings.Contains(stderr.String(), "commands:") {
		t.Errorf("no command: exit %d", code)
	}
}

func TestVersion(t *testing.T) {
	saved := helpOut
	defer func() { helpOut = saved }()
	for _, args := range [][]string{{"--version"}, {"version"}} {
		var stdout, stderr bytes.Buffer
		helpOut = &stdout
		code := mainArgs(args, &stdout, &stderr)
		line := stdout.String()
		if code != exitOK || !strings.HasPrefix(line, "gatewarden ") || !strings.Contains(line, "commit ") || !strings.Contains(line, " go1.") {
			t.Errorf("%v: exit %d %q", args, code, line)
		}
	}
}

// Flags may follow the arguments; "--" ends them.
func TestFlagsAfterArguments(t *testing.T) {
	fs := newFlagSet("x", io.Discard, io.Discard)
	cfg := fs.String("config", "", "")
	n := fs.Int("n", 0, "")
	if err := fs.Parse([]string{"a.pcap", "--config", "c.yaml", "b.pcap", "-n", "3", "--", "-c.pcap"}); err != nil {
		t.Fatal(err)
	}
	if *cfg != "c.yaml" || *n != 3 || strings.Join(fs.Args(), " ") != "a.pcap b.pcap -c.pcap" || fs.NArg() != 3 {
		t.Errorf("config=%q n=%d args=%q", *cfg, *n, fs.Args())
	}
	// The case: replay x.pcap --config c.yaml takes c.yaml as the
	// configuration, not "--config" as a file.
	var stderr bytes.Buffer
	code := replayMain([]string{"no-such.pcap", "--config", "no-such.yaml"}, io.Discard, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "no-such.yaml") || strings.Contains(stderr.String(), "open --config") {
		t.Errorf("replay with trailing flags: exit %d %s", code, stderr.String())
	}
}

// --data accepts the daemon's data_dir or its store, and refuses a directory
// without a store in every command that takes it.
func TestDataDirResolution(t *testing.T) {
	store, calling, _ := retainedCapture(t)
	dataDir := t.TempDir()
	if err := os.Rename(store, filepath.Join(dataDir, retention.DataDirStore)); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	traceArgs := func(d string) []string {
		return []string{"--data", d, "--number", calling, "--from", "2000-01-01", "--to", "2100-01-01"}
	}
	for _, d := range []string{dataDir, filepath.Join(dataDir, retention.DataDirStore)} {
		if code, out, stderr := run(t, traceRun, traceArgs(d)...); code != 0 || strings.Contains(out, "\n0 calls") {
			t.Errorf("trace --data %s: exit %d %s %s", d, code, out, stderr)
		}
		if code, out, _ := run(t, verifyRun, "--data", d); code != 0 || strings.Contains(out, "OK: 0 sealed") {
			t.Errorf("verify --data %s: exit %d %s", d, code, out)
		}
		if code, out, _ := run(t, reportRun, "--data", d); code != 0 || !strings.Contains(out, "load-generator") {
			t.Errorf("report --data %s: exit %d %s", d, code, out)
		}
	}
	for name, try := range map[string]func() (int, string){
		"trace":  func() (int, string) { c, _, e := run(t, traceRun, traceArgs(empty)...); return c, e },
		"report": func() (int, string) { c, _, e := run(t, reportRun, "--data", empty); return c, e },
		"verify": func() (int, string) { c, _, e := run(t, verifyRun, "--data", empty); return c, e },
		"serve": func() (int, string) {
			var e bytes.Buffer
			cfg := filepath.Join(t.TempDir(), "c.yaml")
			os.WriteFile(cfg, []byte("daemon:\n  web:\n    users: []\n"), 0o600)
			c := serveMain(context.Background(), []string{"--data", empty, "--config", cfg, "--listen", "127.0.0.1:0"}, &e, nil)
			return c, e.String()
		},
	} {
		code, stderr := try()
		if code != exitFailed || !strings.Contains(stderr, "no gatewarden store here") || !strings.Contains(stderr, empty) {
			t.Errorf("%s --data EMPTY: exit %d: %s", name, code, stderr)
		}
	}
}

// Typos are usage errors that list the known values, never "0 calls".
func TestTraceValidation(t *testing.T) {
	store, _, _ := retainedCapture(t)
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte("partners:\n  - name: alpha\n    kind: interconnect\n    match: {ips: [10.0.0.1]}\n  - name: beta\n    kind: international\n    match: {ips: [10.0.0.2]}\n"), 0o644)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--number", "138abc50000002"}, []string{"138abc50000002", "only digits"}},
		{[]string{"--rule", "cli.nosuch"}, []string{"cli.nosuch", "cli.generic_number", "call.one_ring"}},
		{[]string{"--partner", "nosuch", "--from", "2000-01-01"}, []string{"nosuch", "partners there: load-generator"}},
		{[]string{"--partner", "nosuch", "--from", "2000-01-01", "--config", cfg}, []string{"nosuch", "alpha, beta"}},
		{[]string{"--from", "yesterday"}, []string{"--from", "RFC 3339"}},
		{[]string{"--number", "13850000002", "--cc", "+86"}, []string{"--cc", "1 to 3 digits"}},
		{[]string{"--from", "2026-03-03", "--to", "2026-03-02"}, []string{"--to must be after from"}},
	} {
		code, out, stderr := run(t, traceRun, append([]string{"--data", store}, c.args...)...)
		if code != exitUsage || out != "" {
			t.Errorf("%v: exit %d, stdout %q", c.args, code, out)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr lacks %q: %s", c.args, w, stderr)
			}
		}
	}
	// A partner that is in the store is not refused.
	if code, _, stderr := run(t, traceRun, "--data", store, "--partner", "load-generator", "--from", "2000-01-01", "--limit", "1"); code != 0 {
		t.Errorf("known partner: exit %d %s", code, stderr)
	}
}

// report: a direction column and totals in every cell; trace: names that
// fit the direction and plurals.
func TestReportAndTraceOutput(t *testing.T) {
	store, calling, ncalls := retainedCapture(t)
	code, out, stderr := run(t, reportRun, "--data", store)
	if code != 0 {
		t.Fatalf("report: %d %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.Contains(lines[0], "DIRECTION") {
		t.Errorf("no direction column: %s", lines[0])
	}
	total := strings.Fields(lines[len(lines)-1])
	// total CALLS FLAGGED ALERTS BY-RULE
	if len(total) != 5 || total[0] != "total" || total[3] != "1" || total[4] != "cli.generic_number=1" {
		t.Errorf("total row %q", lines[len(lines)-1])
	}
	if total[1] == "0" || !strings.Contains(lines[1], "ingress") {
		t.Errorf("report rows: %s (%d calls stored)", out, ncalls)
	}
	code, out, _ = run(t, traceRun, "--data", store, "--number", calling, "--role", "calling", "--from", "2000-01-01", "--limit", "1")
	if code != 0 || !strings.HasSuffix(strings.TrimSpace(out), "\n1 call") {
		t.Errorf("plural: %q", out)
	}
	code, out, _ = run(t, traceRun, "--data", store, "--number", calling, "--role", "calling", "--from", "2000-01-01", "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) < 2 {
		t.Fatalf("csv: %d %v", code, err)
	}
	head := strings.Join(rows[0], ",")
	if strings.Contains(head, "ingress_") || !strings.Contains(head, "direction,partner,link,peer,iam_opc,iam_rc") {
		t.Errorf("csv header %s", head)
	}
	_, jout, _ := run(t, reportRun, "--data", store, "--format", "json")
	var rep struct{ Rows []map[string]any }
	if err := json.Unmarshal([]byte(jout), &rep); err != nil || len(rep.Rows) == 0 || rep.Rows[0]["direction"] == nil {
		t.Errorf("report json rows lack direction: %v %s", err, jout)
	}
}

// The daemon's start line names the web listener; a missing pcap_dir is
// refused at start (exit 2, naming the key and the path).
func TestDaemonStartLineAndMissingPcapDir(t *testing.T) {
	dir := t.TempDir()
	cfgPath := scenarioConfig(t, dir, "daemon:\n  pcap_dir: spool\n  data_dir: data\n  retention: {min_free_mib: -1}\n  listen: {metrics: \"127.0.0.1:0\", web: \"127.0.0.1:0\"}\n")
	var stderr bytes.Buffer
	if code := daemonMain([]string{"--config", cfgPath}, &stderr); code != exitUsage ||
		!strings.Contains(stderr.String(), "daemon.pcap_dir") || !strings.Contains(stderr.String(), filepath.Join(dir, "spool")+" does not exist") {
		t.Fatalf("missing pcap_dir: exit %d %s", code, stderr.String())
	}
	os.MkdirAll(filepath.Join(dir, "spool"), 0o755)
	var logs bytes.Buffer
	log, err := newCLILogger(&logs, logFormatJSON, "info")
	if err != nil {
		t.Fatal(err)
	}
	d := mustStart(t, cfgPath, log)
	defer d.stop(context.Background())
	var started map[string]any
	for _, line := range strings.Split(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "started" {
			started = m
		}
	}
	web, _ := started["web"].(string)
	if started == nil || !strings.HasPrefix(web, "127.0.0.1:") || web == started["metrics"] {
		t.Errorf("start line %v lacks the web listener:\n%s", started, logs.String())
	}
}

// serve logs JSON by default, like the daemon, and text on request.
func TestServeLogFormat(t *testing.T) {
	store, _, _ := retainedCapture(t)
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	hash, _ := bcrypt.GenerateFromPassword([]byte("secret-pass"), bcrypt.MinCost)
	os.WriteFile(cfg, []byte("daemon:\n  web:\n    users:\n      - {name: ana, role: admin, password_bcrypt: \""+string(hash)+"\"}\n    audit_log: audit.jsonl\n"), 0o600)
	for format, want := range map[string]string{"": `{"time":`, "text": "time="} {
		ctx, cancel := context.WithCancel(context.Background())
		var logs bytes.Buffer
		args := []string{"--data", store, "--config", cfg, "--listen", "127.0.0.1:0"}
		if format != "" {
			args = append(args, "--log-format", format)
		}
		code := serveMain(ctx, args, &logs, func(string) { cancel() })
		if code != 0 || !strings.HasPrefix(logs.String(), want) {
			t.Errorf("--log-format %q: exit %d, log %q", format, code, logs.String())
		}
	}
	var stderr bytes.Buffer
	if code := serveMain(context.Background(), []string{"--data", store, "--config", cfg, "--log-format", "xml"}, &stderr, nil); code != exitUsage {
		t.Errorf("--log-format xml: exit %d", code)
	}
}

// A damaged segment: trace names the partition and says to run verify.
func TestCorruptionErrorNamesPartition(t *testing.T) {
	store, calling, _ := retainedCapture(t)
	segs, _ := filepath.Glob(filepath.Join(store, "*.seg"))
	if len(segs) == 0 {
		t.Fatal("no sealed segment")
	}
	for _, seg := range segs {
		b, err := os.ReadFile(seg)
		if err != nil {
			t.Fatal(err)
		}
		// Damage the compressed blocks, not the footer or table of contents.
		for i := 16; i < len(b)*2/3; i += 97 {
			b[i] ^= 0x5a
		}
		os.WriteFile(seg, b, 0o644)
	}
	code, _, stderr := run(t, traceRun, "--data", store, "--number", calling, "--from", "2000-01-01", "--to", "2100-01-01")
	if code != exitFailed || !strings.Contains(stderr, "partition ") || !strings.Contains(stderr, ".seg") ||
		!strings.Contains(stderr, "gatewarden verify --data "+store) {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// A progress line is drawn only on a terminal (a character device).
func TestProgressOnlyOnTerminal(t *testing.T) {
	if newProgress(&bytes.Buffer{}, "x") != nil {
		t.Error("progress on a buffer")
	}
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if newProgress(f, "x") != nil {
		t.Error("progress on a regular file")
	}
	// /dev/null and pseudo-terminals: TestIsTerminal (Linux).
	var b bytes.Buffer
	p := &progress{w: &b, label: "gatewarden decode"}
	p.show("%d frames", 10)
	p.done()
	if b.String() != "\r\033[Kgatewarden decode: 10 frames\r\033[K" {
		t.Errorf("progress output %q", b.String())
	}
}

// "-" reads the capture from standard input for replay too.
func TestReplayStdin(t *testing.T) {
	fx := writeScenarioFixture(t, 14)
	want, _, code := runReplayArgs(t, "--config", fx.config, fx.pcap)
	if code != 0 {
		t.Fatalf("replay: exit %d", code)
	}
	f, err := os.Open(fx.pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdin
	os.Stdin = f
	got, stderr, code := runReplayArgs(t, "-", "--config", fx.config)
	os.Stdin = saved
	if code != 0 || got != want || want == "" {
		t.Errorf("replay - : exit %d, %d bytes of alerts, want %d\n%s", code, len(got), len(want), stderr)
	}
}
