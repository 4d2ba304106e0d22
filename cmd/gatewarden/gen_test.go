package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gatewarden/gatewarden/pcaps/gen"
)

// TestGenReproducesCommittedCaptures runs the command exactly as
// pcaps/README.md says and requires the committed bytes.
func TestGenReproducesCommittedCaptures(t *testing.T) {
	pcaps, err := filepath.Abs(filepath.Join("..", "..", "pcaps"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	for _, c := range gen.Committed {
		args := []string{"--seed", strconv.FormatInt(c.Seed, 10), "--calls", strconv.Itoa(c.Calls),
			"--pc-bits", strconv.Itoa(int(c.PCBits)), "--out", c.Pcap, "--truth", c.Truth}
		if c.BICC {
			args = append(args, "--bicc")
		}
		code := runGen(args)
		if code != 0 {
			t.Fatalf("gen exit %d", code)
		}
		for _, name := range []string{c.Pcap, c.Truth} {
			got, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(pcaps, name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: gatewarden gen output differs from pcaps/%s", name, name)
			}
		}
	}
}

// TestGenReproducesCommittedSIPCaptures: `gatewarden gen --sip` as
// pcaps/README.md says gives the committed SIP captures byte for byte, and
// `gatewarden decode` reads every truth line from them.
func TestGenReproducesCommittedSIPCaptures(t *testing.T) {
	pcaps, err := filepath.Abs(filepath.Join("..", "..", "pcaps"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	for _, c := range gen.CommittedSIP {
		if code := runGen(c.Args()); code != 0 {
			t.Fatalf("gen %v: exit %d", c.Args(), code)
		}
		for _, name := range []string{c.Pcap, c.Truth} {
			got, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(pcaps, name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: gatewarden gen output differs from pcaps/%s", name, name)
			}
		}
		f, err := os.Open(c.Truth)
		if err != nil {
			t.Fatal(err)
		}
		truth, err := gen.ReadSIPTruth(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := runDecodeCmd(t, c.Pcap)
		if code != exitOK {
			t.Fatalf("decode %s: exit %d: %s", c.Pcap, code, stderr)
		}
		var got []sipLine
		for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
			var g sipLine
			if err := json.Unmarshal([]byte(line), &g); err != nil {
				t.Fatal(err)
			}
			got = append(got, g)
		}
		if len(got) != len(truth) {
			t.Fatalf("%s: decode printed %d messages, truth has %d", c.Pcap, len(got), len(truth))
		}
		for i, w := range truth {
			g := got[i]
			calling, called := "", ""
			if g.Calling != nil {
				calling = g.Calling.Digits
			}
			if g.Called != nil && g.Type == "IAM" {
				called = g.Called.Digits
			}
			if g.Frame != w.Frame || g.Transport != w.Transport || g.Protocol != w.Protocol || g.SIP.Method != w.Method ||
				g.SIP.Status != w.Status || g.SIP.CallID != w.CallID || g.SIP.CSeq != w.CSeq || g.Type != w.ISUPType ||
				calling != w.Calling || called != w.Called {
				t.Errorf("%s message %d: decoded %+v, truth %+v", c.Pcap, i, g, w)
			}
		}
	}
}

// sipLine is the part of a `gatewarden decode` line for a SIP message that a
// SIP truth file names.
type sipLine struct {
	Frame     uint64 `json:"frame"`
	Transport string `json:"transport"`
	Protocol  string `json:"protocol"`
	Type      string `json:"type"`
	SIP       struct {
		Method string `json:"method"`
		Status int    `json:"status"`
		CallID string `json:"call_id"`
		CSeq   int    `json:"cseq"`
	} `json:"sip"`
	Calling *struct{ Digits string } `json:"calling"`
	Called  *struct{ Digits string } `json:"called"`
}

func TestGenRejectsBadFlags(t *testing.T) {
	t.Chdir(t.TempDir())
	if code := runGen([]string{"--pc-bits", "16"}); code != 2 {
		t.Errorf("--pc-bits 16: exit %d, want 2", code)
	}
	if code := runGen([]string{"--nonsense"}); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
	if code := runGen([]string{"--out", filepath.Join("missing", "dir", "x.pcap")}); code != 1 {
		t.Errorf("unwritable output: exit %d, want 1", code)
	}
	if code := runGen([]string{"--mix", "nonesuch"}); code != 2 {
		t.Errorf("unknown mix: exit %d, want 2", code)
	}
	if code := runGen([]string{"--mix", "m2pa", "--bicc"}); code != 2 {
		t.Errorf("--mix with --bicc: exit %d, want 2", code)
	}
}

// TestGenMix writes a mix from the command line: the same bytes and truth as
// the generator's MixOptions give.
func TestGenMix(t *testing.T) {
	t.Chdir(t.TempDir())
	if code := runGen([]string{"--mix", "harsh", "--seed", "4", "--calls", "50", "--out", "h.pcap", "--truth", "h.jsonl"}); code != 0 {
		t.Fatalf("gen exit %d", code)
	}
	opt, err := gen.MixOptions("harsh", 4, 50, 14)
	if err != nil {
		t.Fatal(err)
	}
	opt.File = "h.pcap"
	var p, tr bytes.Buffer
	sum, err := gen.Write(&p, &tr, opt)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile("h.pcap")
	truth, _ := os.ReadFile("h.jsonl")
	if !bytes.Equal(got, p.Bytes()) || !bytes.Equal(truth, tr.Bytes()) || sum.ExtraChunks == 0 {
		t.Errorf("gen --mix harsh: %d bytes, %d truth bytes; MixOptions: %d, %d (%d extra chunks)",
			len(got), len(truth), p.Len(), tr.Len(), sum.ExtraChunks)
	}
}

func TestGenScenarioAndLabels(t *testing.T) {
	t.Chdir(t.TempDir())
	scenario := "calls:\n  - label: cli.missing\n    partner: ic-telecom\n    at: 5s\n    count: 3\n    every: 1s\n" +
		"    called: {digits: '13912345678', nai: 3}\n    release: 3s\n"
	if err := os.WriteFile("s.yaml", []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := runGen([]string{"--calls", "10", "--scenario", "s.yaml", "--out", "s.pcap", "--truth", "s.jsonl", "--labels", "s.labels"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	b, err := os.ReadFile("s.labels")
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) != 3 || !bytes.Contains(lines[0], []byte(`"label":"cli.missing"`)) {
		t.Fatalf("labels:\n%s", b)
	}
	if err := os.WriteFile("bad.yaml", []byte("calls:\n  - partner: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := runGen([]string{"--scenario", "bad.yaml", "--out", "b.pcap"}); code != 2 {
		t.Fatalf("bad scenario: exit %d, want 2", code)
	}
}
