package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/decode"
)

func sharedPcapDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "pcaps"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("shared captures not available (part of the test contract: lay shared/ beside the repository): %v", err)
	}
	return dir
}

// ISUP messages per capture, counted with
// `tshark -r F $(cat F.tshark-args) -Y isup -T fields -e isup.message_type`.
var tsharkISUPCounts = map[string]int{
	"3gpp_mc.cap":               0,
	"ansi_map_win.pcap":         0,
	"bicc.pcap":                 1, // BICC (-Y bicc), with its 24-bit sidecar
	"camel.pcap":                0,
	"gsm-r.uus1.pcap":           0,
	"isup_load_generator.pcap":  5265,
	"japan_tcap_over_m2pa.pcap": 0,
	"mod_isup_m3ua_mgcp.pcap":   10,
	"mod_isup_validate.pcap":    10,
	"sng_ss7mon_test1.pcap":     5,
	"sng_ss7mon_test2.pcap":     5,
	"sng_ss7mon_test3.pcap":     5,
	"xdr_tester_m2pa.pcap":      6,
}

func runDecodeCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = decodeMain(args, &out, &errb)
	return out.String(), errb.String(), code
}

type jsonLine struct {
	TS        string `json:"ts"`
	Frame     uint64 `json:"frame"`
	File      string `json:"file"`
	Transport string `json:"transport"`
	OPC       *int   `json:"opc"`
	DPC       *int   `json:"dpc"`
	NI        *int   `json:"ni"`
	SLS       *int   `json:"sls"`
	CIC       *int   `json:"cic"`
	Type      string `json:"type"`
}

func parseLines(t *testing.T, out string) []jsonLine {
	t.Helper()
	var lines []jsonLine
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l jsonLine
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", len(lines)+1, err, sc.Text())
		}
		if dec.More() {
			t.Fatalf("line %d holds more than one JSON value: %s", len(lines)+1, sc.Text())
		}
		if l.TS == "" || l.Frame == 0 || l.File == "" || l.Transport == "" || l.Type == "" ||
			l.OPC == nil || l.DPC == nil || l.NI == nil || l.SLS == nil || l.CIC == nil {
			t.Fatalf("line %d lacks a required field: %s", len(lines)+1, sc.Text())
		}
		lines = append(lines, l)
	}
	return lines
}

// sharedCaptureFiles links the shared captures into a temporary directory
// with the side files the read-only shared directory cannot hold
// (decode/testdata/sidecars: bicc.pcap uses 24-bit point codes).
func sharedCaptureFiles(t *testing.T, dir string) []string {
	t.Helper()
	tmp := t.TempDir()
	sidecars := filepath.Join("..", "..", "decode", "testdata", "sidecars")
	var files []string
	for name := range tsharkISUPCounts {
		for _, ext := range []string{"", ".pc-bits", ".tshark-args"} {
			src := filepath.Join(dir, name+ext)
			if _, err := os.Stat(src); err != nil {
				src = filepath.Join(sidecars, name+ext)
				if _, err := os.Stat(src); err != nil {
					continue
				}
			}
			abs, err := filepath.Abs(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(abs, filepath.Join(tmp, name+ext)); err != nil {
				t.Fatal(err)
			}
		}
		files = append(files, filepath.Join(tmp, name))
	}
	sort.Strings(files)
	return files
}

func TestDecodeSharedCaptures(t *testing.T) {
	dir := sharedPcapDir(t)
	files := sharedCaptureFiles(t, dir)
	stdout, stderr, code := runDecodeCmd(t, files...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	lines := parseLines(t, stdout)
	perFile := map[string]int{}
	want := 0
	for _, n := range tsharkISUPCounts {
		want += n
	}
	if len(lines) != want {
		t.Errorf("%d messages, want %d", len(lines), want)
	}
	var prev time.Time
	for i, l := range lines {
		perFile[filepath.Base(l.File)]++
		ts, err := time.Parse(time.RFC3339Nano, l.TS)
		if err != nil {
			t.Fatalf("line %d: ts %q: %v", i+1, l.TS, err)
		}
		if ts.Before(prev) {
			t.Errorf("line %d: %s before previous %s: not in timestamp order", i+1, ts, prev)
		}
		prev = ts
	}
	for name, n := range tsharkISUPCounts {
		if perFile[name] != n {
			t.Errorf("%s: %d messages, tshark has %d", name, perFile[name], n)
		}
	}
	// No drops on these captures: stderr holds the summary line only.
	errLines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(errLines) != 1 {
		t.Errorf("stderr has %d lines:\n%s", len(errLines), stderr)
	}
	summary := errLines[len(errLines)-1]
	for _, s := range []string{"files=13", "unreadable=0", "messages=" + itoa(want), "drops=0", "skips="} {
		if !strings.Contains(summary, s) {
			t.Errorf("summary %q lacks %q", summary, s)
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// copyCapture copies a shared capture (without its sidecars) into dir.
func copyCapture(t *testing.T, src, dir string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// withoutFileNames blanks the file field so runs on copies compare equal.
func withoutFileNames(out, path string) string {
	quoted, _ := json.Marshal(path)
	return strings.ReplaceAll(out, `"file":`+string(quoted), `"file":""`)
}

func TestDecodeFCSSidecarAndFlag(t *testing.T) {
	src := filepath.Join(sharedPcapDir(t), "isup_load_generator.pcap")
	copied := copyCapture(t, src, t.TempDir())

	withSidecar, stderr, code := runDecodeCmd(t, src)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	withFlag, stderr, code := runDecodeCmd(t, "--fcs", "2", copied)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := len(parseLines(t, withSidecar)); n != 5265 {
		t.Fatalf("%d messages, want 5265", n)
	}
	if withoutFileNames(withSidecar, src) != withoutFileNames(withFlag, copied) {
		t.Fatal("the sidecar and --fcs 2 decode differently")
	}
	// The decoder bounds an MSU by its length indicator, so 0 and 2 decode
	// alike here; stripping 4 cuts into every MSU, which shows the flag
	// reaches the decoder.
	_, stderr, _ = runDecodeCmd(t, "--fcs", "4", "--max-errors", "1", copied)
	if !strings.Contains(stderr, "mtp2_truncated=5265") {
		t.Errorf("--fcs 4 did not truncate every MSU:\n%s", stderr)
	}
}

func TestApplyFCS(t *testing.T) {
	fileFCS := []int8{-1, 2}
	for _, tc := range []struct {
		linkType uint16
		source   uint16
		capture  int8 // from the capture file (if_fcslen)
		flag     int8
		want     int8
	}{
		{decode.LinkTypeMTP2, 0, -1, -1, -1},       // nothing known: decoder default
		{decode.LinkTypeMTP2, 1, -1, -1, 2},        // sidecar
		{decode.LinkTypeMTP2WithPHdr, 1, 0, -1, 0}, // if_fcslen beats the sidecar
		{decode.LinkTypeMTP2, 1, 0, 4, 4},          // --fcs beats all
		{decode.LinkTypeEthernet, 1, -1, 4, -1},    // not MTP2: untouched
		{decode.LinkTypeMTP2, 7, -1, -1, -1},       // unknown source
	} {
		f := decode.Frame{LinkType: tc.linkType, Source: tc.source, FCSLen: tc.capture}
		applyFCS(&f, tc.flag, fileFCS)
		if f.FCSLen != tc.want {
			t.Errorf("%+v: FCSLen %d, want %d", tc, f.FCSLen, tc.want)
		}
	}
}

func TestReadSidecars(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.pcap")
	var errb bytes.Buffer
	if bits, fcs := readSidecars(p, &errb); bits != 0 || fcs != -1 {
		t.Errorf("no sidecars: %d %d", bits, fcs)
	}
	os.WriteFile(p+".pc-bits", []byte("24\n"), 0o644)
	os.WriteFile(p+".tshark-args", []byte("-o mtp2.capture_contains_frame_check_sequence:TRUE"), 0o644)
	if bits, fcs := readSidecars(p, &errb); bits != 24 || fcs != 2 {
		t.Errorf("sidecars: %d %d", bits, fcs)
	}
	os.WriteFile(p+".pc-bits", []byte("16"), 0o644)
	if bits, _ := readSidecars(p, &errb); bits != 0 || !strings.Contains(errb.String(), "x.pcap.pc-bits") {
		t.Errorf("bad sidecar: bits %d, stderr %q", bits, errb.String())
	}
	// The shared ANSI capture is marked 24-bit.
	if dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "pcaps")); err == nil {
		if _, err := os.Stat(dir); err == nil {
			if bits, _ := readSidecars(filepath.Join(dir, "ansi_map_win.pcap"), &errb); bits != 24 {
				t.Errorf("ansi_map_win.pcap: pc bits %d, want 24", bits)
			}
		}
	}
}

func TestDecodeUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--pc-bits", "16", "x"}, []string{"--pc-bits", "14", "24"}},
		{[]string{"--fcs", "3", "x"}, []string{"--fcs", "0, 2 and 4"}},
		{[]string{"--iface-pc-bits", "a.pcap", "x"}, []string{"--iface-pc-bits", "FILE=BITS"}},
		{[]string{"--iface-pc-bits", "a.pcap=15", "x"}, []string{"--iface-pc-bits", "14 and 24"}},
		{[]string{"--link-pc-bits", "nohost=24", "x"}, []string{"--link-pc-bits"}},
		{[]string{"--max-errors", "-1", "x"}, []string{"--max-errors"}},
		{[]string{"--no-such-flag", "x"}, []string{"no-such-flag"}},
		{nil, []string{"no capture files"}},
	} {
		_, stderr, code := runDecodeCmd(t, tc.args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d", tc.args, code, exitUsage)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, w)
			}
		}
	}
	if _, _, code := runDecodeCmd(t, "-h"); code != exitOK {
		t.Errorf("-h: exit %d", code)
	}
}

func TestDecodeBadFiles(t *testing.T) {
	dir := sharedPcapDir(t)
	tmp := t.TempDir()
	missing := filepath.Join(tmp, "missing.pcap")
	raw, err := os.ReadFile(filepath.Join(dir, "xdr_tester_m2pa.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(tmp, "truncated.pcap")
	os.WriteFile(truncated, raw[:len(raw)-150], 0o644)
	good := filepath.Join(dir, "sng_ss7mon_test2.pcap")

	stdout, stderr, code := runDecodeCmd(t, missing, truncated, good)
	if code != exitFailed {
		t.Errorf("exit %d, want %d (a file could not be read at all)", code, exitFailed)
	}
	if !strings.Contains(stderr, missing) {
		t.Errorf("stderr does not name the missing file:\n%s", stderr)
	}
	if !strings.Contains(stderr, truncated+": frame ") || !strings.Contains(stderr, "truncated") {
		t.Errorf("stderr does not name the truncated file and frame:\n%s", stderr)
	}
	per := map[string]int{}
	for _, l := range parseLines(t, stdout) {
		per[l.File]++
	}
	if per[good] != 5 || per[truncated] == 0 || per[truncated] >= 6 {
		t.Errorf("messages per file %v", per)
	}
	if !strings.Contains(stderr, "unreadable=1 not_capture=0 broken=1") {
		t.Errorf("summary lacks the file counts:\n%s", stderr)
	}

	// Only broken midway: what could be read is printed, and the exit
	// status (3) tells a script the output is partial.
	if stdout, stderr, code := runDecodeCmd(t, truncated); code != exitDamaged || len(parseLines(t, stdout)) == 0 {
		t.Errorf("truncated only: exit %d, want %d with output\n%s", code, exitDamaged, stderr)
	}
}

// "-" reads standard input, pcapng (read twice) included, and flags may
// follow it.
func TestDecodeStdin(t *testing.T) {
	dir := sharedPcapDir(t)
	for _, name := range []string{"sng_ss7mon_test2.pcap", "xdr_tester_m2pa.pcap"} {
		path := filepath.Join(dir, name)
		want, _, code := runDecodeCmd(t, path)
		if code != exitOK {
			t.Fatalf("%s: exit %d", name, code)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		saved := os.Stdin
		os.Stdin = f
		got, stderr, code := runDecodeCmd(t, "-", "--max-errors", "10")
		os.Stdin = saved
		f.Close()
		if code != exitOK {
			t.Fatalf("%s from stdin: exit %d\n%s", name, code, stderr)
		}
		if n := len(parseLines(t, want)); n == 0 || strings.Count(got, "\n") != n {
			t.Errorf("%s from stdin: %d lines, want %d", name, strings.Count(got, "\n"), n)
		}
	}
}

func TestErrorPrinterRateLimit(t *testing.T) {
	var b bytes.Buffer
	p := &errorPrinter{w: &b, names: func(i uint16) string { return []string{"a.pcap", "b.pcap"}[i] }, limit: 2}
	for i := uint64(1); i <= 5; i++ {
		p.handle(1, i, decode.DropISUPTruncated)
	}
	p.handle(0, 9, decode.DropSCTPBadChunk)
	p.handle(0, 10, decode.SkipNotSCTP) // skips are not errors
	p.summary()
	got := b.String()
	want := "gatewarden decode: b.pcap: frame 1: isup_truncated\n" +
		"gatewarden decode: b.pcap: frame 2: isup_truncated\n" +
		"gatewarden decode: a.pcap: frame 9: sctp_bad_chunk\n" +
		"gatewarden decode: isup_truncated: 3 more not shown (--max-errors 2)\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestDecodeGlobOfSharedDir is `gatewarden decode /work/shared/pcaps/*`: the
// sidecars go with their captures and README.md is skipped as no capture.
func TestDecodeGlobOfSharedDir(t *testing.T) {
	dir := sharedPcapDir(t)
	all, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runDecodeCmd(t, all...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if n := len(parseLines(t, stdout)); n != 5306 {
		t.Errorf("%d messages, want 5306", n)
	}
	if !strings.Contains(stderr, "skipped: "+filepath.Join(dir, "README.md")) || strings.Contains(stderr, ".tshark-args") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if !strings.Contains(stderr, "files=14 unreadable=0 not_capture=1 broken=0") {
		t.Errorf("summary:\n%s", stderr)
	}
	// Nothing but non-captures: that is a failure.
	if _, _, code := runDecodeCmd(t, filepath.Join(dir, "README.md")); code != exitFailed {
		t.Errorf("README.md alone: exit %d", code)
	}
}

func TestWithoutSidecars(t *testing.T) {
	got := withoutSidecars([]string{"a.pcap", "a.pcap.pc-bits", "a.pcap.tshark-args", "b.pc-bits", "c.pcap.tshark-args.pcap"})
	want := []string{"a.pcap", "b.pc-bits", "c.pcap.tshark-args.pcap"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %v, want %v", got, want)
	}
}

// BenchmarkDecodeCommand runs the whole command on the 5265-message E1
// capture, output discarded: read, decode, JSON. One op is one run.
func BenchmarkDecodeCommand(b *testing.B) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "pcaps"))
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "isup_load_generator.pcap")
	if _, err := os.Stat(path); err != nil {
		b.Fatalf("shared captures not available (part of the test contract: lay shared/ beside the repository): %v", err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if code := decodeMain([]string{path}, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	b.ReportMetric(float64(5265*b.N)/b.Elapsed().Seconds(), "messages/s")
}
