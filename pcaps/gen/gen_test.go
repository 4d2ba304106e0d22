package gen

import (
	"bytes"
	"encoding/binary"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

func generate(t testing.TB, opt Options) ([]byte, []byte, Summary) {
	t.Helper()
	var p, tr bytes.Buffer
	sum, err := Write(&p, &tr, opt)
	if err != nil {
		t.Fatal(err)
	}
	return p.Bytes(), tr.Bytes(), sum
}

func TestDeterministic(t *testing.T) {
	opt := Options{Seed: 7, Calls: 60, File: "x.pcap"}
	p1, t1, _ := generate(t, opt)
	p2, t2, _ := generate(t, opt)
	if !bytes.Equal(p1, p2) || !bytes.Equal(t1, t2) {
		t.Fatal("same options gave different output")
	}
	opt.Seed = 8
	p3, _, _ := generate(t, opt)
	if bytes.Equal(p1, p3) {
		t.Fatal("different seeds gave the same capture")
	}
}

// pcapRecords splits a little-endian nanosecond pcap into records.
func pcapRecords(t *testing.T, b []byte) (ts []int64, frames [][]byte) {
	t.Helper()
	if binary.LittleEndian.Uint32(b) != 0xa1b23c4d || binary.LittleEndian.Uint32(b[20:]) != 1 {
		t.Fatalf("not a nanosecond Ethernet pcap: % x", b[:24])
	}
	for off := 24; off < len(b); {
		sec, ns := binary.LittleEndian.Uint32(b[off:]), binary.LittleEndian.Uint32(b[off+4:])
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		ts = append(ts, int64(sec)*1e9+int64(ns))
		frames = append(frames, b[off+16:off+16+n])
		off += 16 + n
	}
	return ts, frames
}

func TestCaptureShape(t *testing.T) {
	p, tr, sum := generate(t, Options{Seed: 3, Calls: 300})
	ts, frames := pcapRecords(t, p)
	if uint64(len(frames)) != sum.Packets {
		t.Fatalf("%d records, summary says %d", len(frames), sum.Packets)
	}
	for i := range ts {
		if i > 0 && ts[i] < ts[i-1] {
			t.Fatalf("frame %d goes back in time", i+1)
		}
		if len(frames[i]) < minEtherFrame || len(frames[i]) > 1514+8 {
			t.Fatalf("frame %d has %d bytes", i+1, len(frames[i]))
		}
	}
	truth, err := ReadTruth(bytes.NewReader(tr))
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(truth)) != sum.Messages {
		t.Fatalf("%d truth lines, summary says %d messages", len(truth), sum.Messages)
	}
	// every feature the brief asks for shows up in 300 calls
	if sum.BundledPackets == 0 || sum.Fragmented == 0 || sum.FragmentedSplit == 0 || sum.Retransmissions == 0 {
		t.Errorf("missing SCTP features: %+v", sum)
	}
	seen := map[string]int{}
	iamsPerCircuit := map[string]int{}
	for _, l := range truth {
		seen[l.Type]++
		if l.Cause != nil {
			seen["cause"+itoa(int(l.Cause.Value))]++
		}
		if l.Generic != nil {
			seen["generic"]++
		}
		if l.Redirection != nil && l.Redirecting != nil && l.OriginalCalled != nil {
			seen["forwarded"]++
		}
		if l.Location != nil {
			seen["location"]++
		}
		if l.RedirectionNumber != nil {
			seen["redirection_number"]++
		}
		if l.Calling != nil && *l.Calling.APRI == APRIRestricted {
			seen["restricted"]++
		}
		if l.Type == "IAM" {
			iamsPerCircuit[l.Src+l.Dst+itoa(int(l.CIC))]++
			if l.Calling == nil {
				seen["no_cli"]++
			}
			seen["transport_"+l.Transport]++
		}
		if !l.TS.Equal(time.Unix(0, ts[l.Frame-1])) {
			t.Fatalf("line at frame %d: ts %v, frame has %v", l.Frame, l.TS, time.Unix(0, ts[l.Frame-1]).UTC())
		}
	}
	for _, k := range []string{"IAM", "SAM", "ACM", "CPG", "ANM", "REL", "RLC", "cause16", "cause17", "cause19",
		"generic", "forwarded", "location", "redirection_number", "restricted", "no_cli", "transport_m3ua", "transport_m2pa"} {
		if seen[k] == 0 {
			t.Errorf("no %s in 300 calls: %v", k, seen)
		}
	}
	reused := 0
	for _, n := range iamsPerCircuit {
		if n > 1 {
			reused++
		}
	}
	if reused == 0 {
		t.Error("no circuit carries two calls")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestTruthRoundTrip(t *testing.T) {
	_, tr, _ := generate(t, Options{Seed: 4, Calls: 40, File: `dir/"odd".pcap`})
	lines, err := ReadTruth(bytes.NewReader(tr))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) == 0 || lines[0].File != `dir/"odd".pcap` {
		t.Fatalf("file name did not survive: %+v", lines[0])
	}
	for _, l := range lines {
		if l.Type == "IAM" && (l.Called == nil || l.Category == nil || l.Called.NAI == nil) {
			t.Fatalf("IAM without called number or category: %+v", l)
		}
		if l.Type == "REL" && l.Cause == nil {
			t.Fatalf("REL without cause: %+v", l)
		}
	}
}

func TestScriptedScenario(t *testing.T) {
	start := DefaultStart.Add(10 * time.Second)
	iam := IAM{Category: CategoryOrdinary, Called: Number{Digits: "13912345678", NAI: NAINational, NPI: NPIISDN},
		Calling: &Number{Digits: "8613800138000", NAI: NAIInternational, NPI: NPIISDN}}
	calls := Repeat(5, start, 3*time.Second, "intl-pacific", Ingress, iam, time.Second, 2*time.Second, SideCalling,
		Cause{Value: CauseNormal})
	_, tr, sum := generate(t, Options{Seed: 1, Source: NewSliceSource(calls), File: "s.pcap"})
	lines, err := ReadTruth(bytes.NewReader(tr))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Calls != 5 || len(lines) != 5*4 {
		t.Fatalf("want 5 calls of IAM ACM REL RLC, got %d calls, %d messages", sum.Calls, len(lines))
	}
	var types []string
	for _, l := range lines[:5] {
		types = append(types, l.Type)
	}
	// ACM at 1 s says subscriber free (alerting) so no CPG; REL by the caller at 2 s
	if got := strings.Join(types, " "); !strings.HasPrefix(got, "IAM ACM REL RLC IAM") {
		t.Fatalf("ladder %q", got)
	}
	rel := lines[2]
	if rel.Src != "203.0.113.10:2905" || rel.TS.Sub(lines[0].TS) < 2*time.Second-5*time.Millisecond || rel.TS.Sub(lines[0].TS) > 2*time.Second+5*time.Millisecond {
		t.Fatalf("REL from %s after %v", rel.Src, rel.TS.Sub(lines[0].TS))
	}
	if lines[0].Calling.Digits != "8613800138000" || lines[0].Called.Digits != "13912345678" {
		t.Fatalf("numbers %+v %+v", lines[0].Calling, lines[0].Called)
	}
	// unknown partners are skipped, not fatal
	_, _, sum = generate(t, Options{Source: NewSliceSource([]Call{{Start: start, Partner: "nobody", Release: time.Second}})})
	if sum.SkippedCalls != 1 {
		t.Fatalf("skipped %d", sum.SkippedCalls)
	}
}

func TestMergeOrdersByStart(t *testing.T) {
	a := NewSliceSource([]Call{{Start: DefaultStart.Add(3)}, {Start: DefaultStart.Add(1)}})
	b := NewSliceSource([]Call{{Start: DefaultStart.Add(2)}})
	m := Merge(a, b)
	var got []time.Duration
	for c, ok := m.Next(); ok; c, ok = m.Next() {
		got = append(got, c.Start.Sub(DefaultStart))
	}
	if len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("order %v", got)
	}
}

func TestRejectsBadPCBits(t *testing.T) {
	if _, err := Write(io.Discard, nil, Options{PCBits: 16}); err == nil {
		t.Fatal("16-bit point codes accepted")
	}
}

// BenchmarkWrite measures the generator; msgs/s says how long a capture of
// a million ISUP messages takes.
func BenchmarkWrite(b *testing.B) {
	b.ReportAllocs()
	var msgs uint64
	for i := 0; i < b.N; i++ {
		sum, err := Write(io.Discard, io.Discard, Options{Seed: int64(i), Calls: 10000})
		if err != nil {
			b.Fatal(err)
		}
		msgs += sum.Messages
	}
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(msgs)/float64(b.N), "msgs/op")
}
