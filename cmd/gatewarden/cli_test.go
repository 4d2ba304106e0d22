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
