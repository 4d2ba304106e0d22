package gen

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/internal/tsharkref"
)

// tsharkCaptures writes the committed captures' twins plus a larger one of
// each width into a temp dir; the *.pc-bits sidecar tells tsharkref the width.
func tsharkCaptures(t *testing.T, big bool) []struct {
	cap   tsharkref.Capture
	sum   Summary
	truth []Truth
} {
	t.Helper()
	if !tsharkref.Available() {
		t.Skip("tshark not installed")
	}
	dir := t.TempDir()
	var opts []Options
	for _, c := range Committed {
		opts = append(opts, c.Options())
	}
	if big && !testing.Short() {
		opts = append(opts, Options{Seed: 21, Calls: 500, PCBits: 14, File: "big14.pcap"},
			Options{Seed: 22, Calls: 300, PCBits: 24, File: "big24.pcap"})
	}
	var out []struct {
		cap   tsharkref.Capture
		sum   Summary
		truth []Truth
	}
	for _, o := range opts {
		var p, tr bytes.Buffer
		sum, err := Write(&p, &tr, o)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, o.File)
		if err := os.WriteFile(path, p.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if o.PCBits == 24 {
			if err := os.WriteFile(path+".pc-bits", []byte("24\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		c, err := tsharkref.LoadCapture(path)
		if err != nil {
			t.Fatal(err)
		}
		truth, err := ReadTruth(&tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, struct {
			cap   tsharkref.Capture
			sum   Summary
			truth []Truth
		}{c, sum, truth})
	}
	return out
}

func tsharkFields(t *testing.T, c tsharkref.Capture, filter string, fields ...string) []string {
	t.Helper()
	args := []string{"-n", "-r", c.Path, "-o", "sctp.checksum:CRC-32C", "-o", "ip.check_checksum:TRUE"}
	args = append(args, c.Args...)
	args = append(args, "-Y", filter, "-T", "fields")
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tsharkref.Binary(), args...)
	cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %v: %v\n%s", args, err, stderr.String())
	}
	s := strings.TrimSpace(string(out))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// TestTsharkDissectsCleanly: no malformed packet, no expert warning or error,
// every IPv4 and SCTP checksum verified good, and tshark reassembles exactly
// the messages the generator fragmented.
func TestTsharkDissectsCleanly(t *testing.T) {
	for _, c := range tsharkCaptures(t, false) {
		t.Run(filepath.Base(c.cap.Path), func(t *testing.T) {
			bad := tsharkFields(t, c.cap, "_ws.malformed || _ws.expert.severity >= warning"+
				" || (sctp && sctp.checksum.status != 1) || (ip && ip.checksum.status != 1)",
				"frame.number", "_ws.expert.message")
			if len(bad) > 0 {
				t.Errorf("%d frames with problems, first: %v", len(bad), bad[:min(5, len(bad))])
			}
			reassembled := tsharkFields(t, c.cap, "sctp.fragments", "frame.number")
			if uint64(len(reassembled)) != c.sum.Fragmented {
				t.Errorf("tshark reassembled %d messages, generator fragmented %d", len(reassembled), c.sum.Fragmented)
			}
			inTruth := map[string]bool{}
			for _, l := range c.truth {
				inTruth[fmt.Sprint(l.Frame)] = true
			}
			for _, f := range reassembled {
				if !inTruth[f] {
					t.Errorf("frame %s completes a reassembly but has no truth line", f)
				}
			}
			firsts := tsharkFields(t, c.cap, "sctp.data_b_bit == 1 && sctp.data_e_bit == 0", "frame.number")
			if uint64(len(firsts)) != c.sum.Fragmented {
				t.Errorf("%d first fragments, generator fragmented %d messages", len(firsts), c.sum.Fragmented)
			}
		})
	}
}

// TestTsharkAgreesWithTruth compares every ISUP message tshark dissects with
// the truth file, field by field.
func TestTsharkAgreesWithTruth(t *testing.T) {
	for _, c := range tsharkCaptures(t, true) {
		t.Run(filepath.Base(c.cap.Path), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			all, err := tsharkref.Run(ctx, c.cap)
			if err != nil {
				t.Fatal(err)
			}
			dup := tsharkref.Retransmissions(all)
			var recs []tsharkref.Record
			for i := range all {
				if !dup[i] {
					recs = append(recs, all[i])
				}
			}
			if len(recs) != len(c.truth) {
				t.Errorf("tshark shows %d ISUP messages (%d with retransmissions), truth has %d", len(recs), len(all), len(c.truth))
			}
			bad := 0
			for i := 0; i < min(len(recs), len(c.truth)); i++ {
				if diffs := compareRecord(&recs[i], &c.truth[i]); len(diffs) > 0 {
					if bad++; bad <= 5 {
						t.Errorf("message %d (frame %d): %s", i+1, c.truth[i].Frame, strings.Join(diffs, "; "))
					}
				}
			}
			if bad > 5 {
				t.Errorf("%d messages differ", bad)
			}
		})
	}
}

func compareRecord(r *tsharkref.Record, w *Truth) []string {
	var d []string
	eq := func(name string, got, want any) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			d = append(d, fmt.Sprintf("%s: tshark %v, truth %v", name, got, want))
		}
	}
	eq("frame", r.Frame, w.Frame)
	eq("transport", r.Transport, w.Transport)
	proto := r.Protocol
	if proto == "" {
		proto = "isup"
	}
	eq("protocol", proto, w.Protocol)
	eq("src", r.Src, w.Src)
	eq("dst", r.Dst, w.Dst)
	eq("opc", r.OPC, w.OPC)
	eq("dpc", r.DPC, w.DPC)
	eq("ni", r.NI, w.NI)
	eq("sls", r.SLS, w.SLS)
	eq("cic", r.CIC, w.CIC)
	eq("type", TypeName(r.Type), w.Type)
	eq("rc", deref32(r.RC), deref32(w.RC))
	eq("category", deref8(r.Category), deref8(w.Category))
	numbers := []struct {
		name string
		got  *tsharkref.Number
		want *TruthNumber
	}{
		{"called", r.Called, w.Called}, {"calling", r.Calling, w.Calling}, {"redirecting", r.Redirecting, w.Redirecting},
		{"original_called", r.OriginalCalled, w.OriginalCalled}, {"redirection_number", r.RedirectionNumber, w.RedirectionNumber},
		{"location", r.Location, w.Location},
	}
	for i := range max(len(r.Generic), len(w.Generic)) {
		var g *tsharkref.Number
		var tn *TruthNumber
		if i < len(r.Generic) {
			g = &r.Generic[i]
		}
		if i < len(w.Generic) {
			tn = &w.Generic[i]
		}
		numbers = append(numbers, struct {
			name string
			got  *tsharkref.Number
			want *TruthNumber
		}{fmt.Sprintf("generic[%d]", i), g, tn})
	}
	for _, n := range numbers {
		if (n.got == nil) != (n.want == nil) {
			d = append(d, fmt.Sprintf("%s: tshark %v, truth %v", n.name, n.got != nil, n.want != nil))
			continue
		}
		if n.got == nil {
			continue
		}
		eq(n.name+".digits", n.got.Digits, n.want.Digits)
		for _, f := range []struct {
			name      string
			got, want *uint8
		}{{"nai", n.got.NAI, n.want.NAI}, {"npi", n.got.NPI, n.want.NPI}, {"inn", n.got.INN, n.want.INN},
			{"ni", n.got.NI, n.want.NI}, {"apri", n.got.APRI, n.want.APRI}, {"si", n.got.SI, n.want.SI},
			{"qualifier", n.got.Qualifier, n.want.Qualifier}} {
			// tshark leaves out some indicators; compare what both show
			if f.got != nil && f.want != nil {
				eq(n.name+"."+f.name, *f.got, *f.want)
			} else if f.want != nil && f.name != "inn" && f.name != "ni" {
				d = append(d, n.name+"."+f.name+": tshark does not show it")
			}
		}
	}
	if (r.Redirection == nil) != (w.Redirection == nil) {
		d = append(d, "redirection presence differs")
	} else if r.Redirection != nil {
		eq("redirection", []any{deref8(r.Redirection.Indicator), deref8(r.Redirection.OriginalReason), deref8(r.Redirection.Counter), deref8(r.Redirection.Reason)},
			[]uint8{w.Redirection.Indicator, w.Redirection.OriginalReason, w.Redirection.Counter, w.Redirection.Reason})
	}
	if (r.Cause == nil) != (w.Cause == nil) {
		d = append(d, "cause presence differs")
	} else if r.Cause != nil {
		eq("cause", []any{deref8(r.Cause.Value), deref8(r.Cause.Location)}, []uint8{w.Cause.Value, w.Cause.Location})
	}
	return d
}

func deref8(p *uint8) any {
	if p == nil {
		return nil
	}
	return *p
}

func deref32(p *uint32) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestCompareRecordReportsDifferences(t *testing.T) {
	nai, cat := uint8(3), uint8(10)
	r := tsharkref.Record{Frame: 5, Transport: "m3ua", CIC: 7, Type: TypeIAM, Category: &cat,
		Called: &tsharkref.Number{Digits: "10086", NAI: &nai}}
	w := Truth{Frame: 5, Transport: "m3ua", Protocol: "isup", CIC: 7, Type: "IAM", Category: &cat,
		Called: &TruthNumber{Digits: "10086", NAI: &nai}}
	if d := compareRecord(&r, &w); len(d) != 0 {
		t.Fatalf("equal records differ: %v", d)
	}
	w.Called = &TruthNumber{Digits: "10087", NAI: &nai}
	w.CIC = 8
	w.Calling = &TruthNumber{Digits: "1"}
	if d := compareRecord(&r, &w); len(d) != 3 {
		t.Fatalf("want cic, called digits and calling presence reported, got %v", d)
	}
}
