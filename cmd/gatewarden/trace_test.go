package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/pipeline"
	"github.com/gatewarden/gatewarden/retention"
)

// retainedCapture decodes a real capture into a fresh store, with call records
// from the project's assembler and an alert on the first call, and returns the
// directory, that call's calling number and the number of call records.
func retainedCapture(t *testing.T) (dir, calling string, calls int) {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "pcaps", "isup_load_generator.pcap")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("real captures not available (part of the test contract: lay shared/ beside the repository): %v", err)
	}
	r, err := capture.OpenFiles([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	st, err := retention.Open(dir, retention.Options{NoSync: true, MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "load.yaml")
	os.WriteFile(cfgPath, []byte(`partners:
  - name: load-generator
    kind: internal
    match: {point_codes: [1, 2]}
# Route rules off: the test's one alert is the one it adds.
thresholds:
  short_calls: {min_answered: 1000000000}
  asr_drop: {min_seizures: 1000000000}
`), 0o644)
	gen, err := pipeline.LoadGeneration(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(pipeline.Config{Gen: gen, Store: st, Source: r.SourceName,
		OnCall: func(c *analysis.Call) {
			calls++
			if calls == 1 {
				calling = c.Calling.Digits
				a := &analysis.Alert{TS: c.Start, Rule: "cli.generic_number", Partner: c.Partner, OPC: c.OPC, DPC: c.DPC, CIC: c.CIC,
					CallID: c.ID, CallRef: c.Ref}
				if err := st.AddAlert(a); err != nil {
					t.Fatal(err)
				}
			}
		}})
	var f decode.Frame
	for r.Next(&f) == nil {
		p.Frame(&f)
	}
	p.Finish()
	if err := p.StoreErr(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if calling == "" {
		t.Fatal("no call with a calling number")
	}
	return dir, calling, calls
}

func run(t *testing.T, main func([]string, *bytes.Buffer, *bytes.Buffer) int, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func traceRun(args []string, o, e *bytes.Buffer) int  { return traceMain(args, o, e) }
func reportRun(args []string, o, e *bytes.Buffer) int { return reportMain(args, o, e) }
func verifyRun(args []string, o, e *bytes.Buffer) int { return verifyMain(args, o, e) }

func TestTraceReportVerify(t *testing.T) {
	dir, calling, ncalls := retainedCapture(t)

	code, out, stderr := run(t, traceRun, "--data", dir, "--number", calling, "--role", "calling", "--format", "json",
		"--from", "2000-01-01", "--to", "2100-01-01T00:00")
	if code != 0 {
		t.Fatalf("trace exit %d: %s", code, stderr)
	}
	var got []traceCall
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("no calls traced")
	}
	withAlert := 0
	for _, c := range got {
		if c.Calling != calling || c.Ingress == nil || c.Ingress.Partner != "load-generator" || len(c.Ladder) < 2 ||
			c.Ladder[0].Type != "IAM" || c.Ladder[0].Calling == nil || c.Ladder[0].Calling.Digits != calling {
			t.Fatalf("traced call %+v", c)
		}
		if _, err := hex.DecodeString(c.Ladder[0].MTP3); err != nil {
			t.Fatal(err)
		}
		if len(c.Alerts) > 0 && c.Alerts[0].Rule == "cli.generic_number" {
			withAlert++
		}
	}
	if withAlert != 1 {
		t.Fatalf("%d traced calls carry the alert, want 1", withAlert)
	}

	// Rule alone finds the alerted call; pcap holds its ladder.
	pcap := filepath.Join(t.TempDir(), "out.pcap")
	code, out, stderr = run(t, traceRun, "--data", dir, "--rule", "cli.generic_number", "--format", "csv", "--pcap", pcap)
	if code != 0 {
		t.Fatalf("trace --rule exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// The export is pcapng with the link framing as captured (the capture
	// is E1: MTP2); the capture reader reads it back packet by packet.
	pf, err := capture.OpenFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	if pf.Format() != capture.FormatPcapNG {
		t.Fatalf("export format %v", pf.Format())
	}
	packets := 0
	var fr decode.Frame
	for pf.Next(&fr) == nil {
		if fr.LinkType != decode.LinkTypeMTP2 {
			t.Fatalf("packet %d link type %d, want MTP2", packets+1, fr.LinkType)
		}
		packets++
	}
	pf.Close()
	if packets != len(lines)-1 || packets < 2 {
		t.Fatalf("%d packets for %d CSV ladder rows", packets, len(lines)-1)
	}

	code, out, _ = run(t, traceRun, "--data", dir, "--number", calling, "--format", "table")
	if code != 0 || !strings.Contains(out, "IAM") || !strings.Contains(out, "ingress") {
		t.Fatalf("table: %d %s", code, out)
	}
	for _, bad := range [][]string{
		{"--data", dir, "--number", calling, "--from", "yesterday"},
		{"--data", dir, "--number", calling, "--to", "2025-13-01"},
		{"--data", dir, "--number", calling, "--role", "caller"},
		{"--data", dir},
		{"--number", calling},
	} {
		if code, _, stderr := run(t, traceRun, bad...); code != 2 || stderr == "" {
			t.Fatalf("%q: exit %d %q", bad, code, stderr)
		}
	}

	code, out, stderr = run(t, reportRun, "--data", dir, "--format", "json")
	if code != 0 {
		t.Fatalf("report exit %d: %s", code, stderr)
	}
	var rep struct{ Rows []retention.ReportRow }
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	total, flagged := 0, 0
	for _, r := range rep.Rows {
		total += r.Calls
		flagged += r.Flagged
	}
	if total != ncalls || flagged != 1 {
		t.Fatalf("report: %d calls (want %d), %d flagged", total, ncalls, flagged)
	}
	if code, out, _ := run(t, reportRun, "--data", dir, "--format", "csv"); code != 0 || !strings.Contains(out, "cli.generic_number") {
		t.Fatalf("report csv: %d %s", code, out)
	}

	if code, out, _ := run(t, verifyRun, "--data", dir); code != 0 || !strings.HasPrefix(out, "OK") {
		t.Fatalf("verify clean: %d %s", code, out)
	}
	seg, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	data, _ := os.ReadFile(seg[0])
	data[len(data)/3] ^= 0x40
	os.WriteFile(seg[0], data, 0o644)
	if code, out, _ := run(t, verifyRun, "--data", dir); code != 1 || !strings.Contains(out, "altered") {
		t.Fatalf("verify tampered: %d %s", code, out)
	}
}

func TestParseRangeNamesTheFlag(t *testing.T) {
	// The forms themselves are tested in internal/timerange.
	if _, _, err := parseRange("31/01/2025", ""); err == nil || !strings.HasPrefix(err.Error(), "--from: ") || !strings.Contains(err.Error(), "RFC 3339") {
		t.Errorf("bad from: %v", err)
	}
	if _, _, err := parseRange("2025-02-01", "2025-01-01"); err == nil || err.Error() != "--to must be after from" {
		t.Errorf("reversed: %v", err)
	}
}
