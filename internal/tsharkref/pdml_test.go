package tsharkref

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// parseFile parses a stored PDML file (made by tshark 4.0.17 from the crafted
// captures: tshark -n -r X.pcap -Y isup -T pdml) without running tshark.
func parseFile(t testing.TB, name string) []Record {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []Record
	if err := ParsePDML(f, func(r *Record) error { recs = append(recs, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	return recs
}

func u8v(v uint8) *uint8    { return &v }
func u32v(v uint32) *uint32 { return &v }

func TestParsePDMLM3UA(t *testing.T) {
	recs := parseFile(t, "crafted_m3ua.pdml")
	iamFull, acm, rel, iamEmpty, _ := craftedISUP()

	// Frame 2 resends TSN 1000: tshark's SCTP TSN analysis marks it and does
	// not dissect it again, so it yields no record.
	type where struct {
		frame uint64
		index int
		tsn   uint32
		src   string
		vtag  uint32
		isup  []byte
	}
	want := []where{
		{1, 0, 1000, "10.0.0.1:2905", 0x11111111, iamFull},
		{1, 1, 1001, "10.0.0.1:2905", 0x11111111, acm},
		{3, 0, 1002, "10.0.0.1:2905", 0x11111111, rel},
		{4, 0, 1000, "10.0.0.1:2906", 0x22222222, iamFull},
		{5, 0, 1003, "10.0.0.1:2905", 0x11111111, iamEmpty},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		r := recs[i]
		if r.Frame != w.frame || r.Index != w.index || r.TSN == nil || *r.TSN != w.tsn ||
			r.Src != w.src || r.Dst != "10.0.0.2:2905" || r.VTag == nil || *r.VTag != w.vtag {
			t.Errorf("record %d: frame %d/%d tsn %v %s→%s vtag %v; want %+v", i, r.Frame, r.Index, r.TSN, r.Src, r.Dst, r.VTag, w)
		}
		if r.Transport != "m3ua" || r.RC == nil || *r.RC != 7 || r.OPC != 100 || r.DPC != 200 ||
			r.SI != 5 || r.NI != 2 || r.SLS != 3 || r.Stream == nil || *r.Stream != 1 {
			t.Errorf("record %d: context %+v", i, r)
		}
		if r.ISUPPartial || r.ISUPLen != len(w.isup) || r.ISUPHash != HashISUP(w.isup) || r.ISUPHex != hex.EncodeToString(w.isup) {
			t.Errorf("record %d: bytes %s (partial %v), want %x", i, r.ISUPHex, r.ISUPPartial, w.isup)
		}
	}

	full := recs[0]
	if full.CIC != 1 || full.Type != 1 || full.Category == nil || *full.Category != 0x0a {
		t.Errorf("IAM header: cic %d type %d category %v", full.CIC, full.Type, full.Category)
	}
	checks := []struct {
		name string
		have *Number
		want Number
	}{
		{"called (ST and non-decimal signals)", full.Called, Number{Digits: "12B4CE5F", Odd: u8v(0), NAI: u8v(3), NPI: u8v(1), INN: u8v(0)}},
		{"calling", full.Calling, Number{Digits: "8613800138000", Odd: u8v(1), NAI: u8v(4), NPI: u8v(1), NI: u8v(1), APRI: u8v(1), SI: u8v(1)}},
		{"redirecting (no screening)", full.Redirecting, Number{Digits: "1234567", Odd: u8v(1), NAI: u8v(3), NPI: u8v(1), APRI: u8v(0)}},
		{"original called", full.OriginalCalled, Number{Digits: "8610123456", Odd: u8v(0), NAI: u8v(4), NPI: u8v(1), APRI: u8v(1)}},
		{"location", full.Location, Number{Digits: "2012345", Odd: u8v(1), NAI: u8v(3), NPI: u8v(1), INN: u8v(1), APRI: u8v(0), SI: u8v(3)}},
		{"redirection number", recs[2].RedirectionNumber, Number{Digits: "55512", Odd: u8v(1), NAI: u8v(3), NPI: u8v(1), INN: u8v(1)}},
		{"called with filler 0xA", recs[4].Called, Number{Digits: "139", Odd: u8v(1), NAI: u8v(3), NPI: u8v(1), INN: u8v(0)}},
		{"calling without digits", recs[4].Calling, Number{Empty: true, Odd: u8v(0), NAI: u8v(0), NPI: u8v(0), NI: u8v(0), APRI: u8v(2), SI: u8v(3)}},
	}
	for _, c := range checks {
		if c.have == nil {
			t.Errorf("%s: missing", c.name)
		} else if !reflect.DeepEqual(*c.have, c.want) {
			t.Errorf("%s:\n have %s\n want %s", c.name, show(*c.have), show(c.want))
		}
	}
	wantGeneric := []Number{
		{Digits: "13912345678", Odd: u8v(1), NAI: u8v(3), NPI: u8v(1), NI: u8v(0), APRI: u8v(0), SI: u8v(1), Qualifier: u8v(6)},
		// Odd count: the filler nibble (7) is not a signal.
		{Digits: "8675512345678", Odd: u8v(1), NAI: u8v(4), NPI: u8v(1), NI: u8v(1), APRI: u8v(1), SI: u8v(3), Qualifier: u8v(0x82)},
	}
	if !reflect.DeepEqual(full.Generic, wantGeneric) {
		t.Errorf("generic numbers: %+v", full.Generic)
	}
	if g := recs[4].Generic; len(g) != 1 || !g[0].Empty || g[0].Digits != "" || g[0].Qualifier == nil || *g[0].Qualifier != 1 {
		t.Errorf("empty generic number: %+v", g)
	}
	wantRedir := Redirection{Indicator: u8v(3), OriginalReason: u8v(1), Counter: u8v(2), Reason: u8v(12)}
	if full.Redirection == nil || !reflect.DeepEqual(*full.Redirection, wantRedir) {
		t.Errorf("redirection: %+v", full.Redirection)
	}
	wantCause := Cause{Value: u8v(16), Location: u8v(10), Standard: u8v(0)}
	if c := recs[2].Cause; c == nil || !reflect.DeepEqual(*c, wantCause) {
		t.Errorf("cause: %+v", c)
	}
	if recs[1].Called != nil || recs[1].Cause != nil || recs[1].Category != nil || recs[1].Generic != nil {
		t.Errorf("ACM carries parameters it does not have: %+v", recs[1])
	}
}

func show(n Number) string {
	var b strings.Builder
	b.WriteString(n.Digits)
	for _, f := range []struct {
		name string
		v    *uint8
	}{{"odd", n.Odd}, {"nai", n.NAI}, {"npi", n.NPI}, {"inn", n.INN}, {"ni", n.NI}, {"apri", n.APRI}, {"si", n.SI}, {"q", n.Qualifier}} {
		if f.v != nil {
			b.WriteString(" " + f.name + "=" + string(rune('0'+*f.v%10)))
		}
	}
	if n.Empty {
		b.WriteString(" empty")
	}
	return b.String()
}

func TestParsePDMLMTP2Retransmissions(t *testing.T) {
	recs := parseFile(t, "crafted_mtp2.pdml")
	var frames, fsns []uint64
	for _, r := range recs {
		if r.Transport != "mtp2" || r.FSN == nil || r.Src != "" || r.TSN != nil {
			t.Fatalf("frame %d: transport %s fsn %v src %q", r.Frame, r.Transport, r.FSN, r.Src)
		}
		frames = append(frames, r.Frame)
		fsns = append(fsns, uint64(*r.FSN))
	}
	// The FISU (frame 3) carries no ISUP; tshark shows both resent MSUs.
	if !reflect.DeepEqual(frames, []uint64{1, 2, 4, 5, 6, 7, 8}) || !reflect.DeepEqual(fsns, []uint64{5, 6, 5, 6, 7, 8, 9}) {
		t.Fatalf("frames %v fsns %v", frames, fsns)
	}
	dup := Retransmissions(recs)
	if want := []bool{false, false, true, true, false, false, false}; !reflect.DeepEqual(dup, want) {
		t.Errorf("retransmissions %v, want %v", dup, want)
	}
}

func TestRetransmissionsSCTP(t *testing.T) {
	r := func(src string, vtag, tsn uint32, hash string) Record {
		return Record{Transport: "m3ua", Src: src, Dst: "b:1", VTag: u32v(vtag), TSN: u32v(tsn), ISUPHash: hash}
	}
	recs := []Record{
		r("a:1", 1, 10, "x"),
		r("a:1", 1, 10, "x"), // resent
		r("a:1", 2, 10, "x"), // other association
		r("a:1", 1, 10, "y"), // same TSN, other bytes (synthetic captures reuse TSNs)
		r("a:1", 1, 11, "x"),
		{Transport: "mtp3", ISUPHash: "x"}, // no sequence number: never a copy
		{Transport: "mtp3", ISUPHash: "x"},
	}
	want := []bool{false, true, false, false, false, false, false}
	if got := Retransmissions(recs); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestRetransmissionsMTP2Wrap(t *testing.T) {
	// Around the FSN wrap, the same bytes under FSN 127 again after the link
	// has moved to 0..3 are a copy; the same bytes after a full cycle are not.
	var recs []Record
	add := func(fsn uint32, hash string) {
		recs = append(recs, Record{Transport: "mtp2", Link: u32v(0), FSN: u32v(fsn), ISUPHash: hash})
	}
	add(126, "a")
	add(127, "b")
	add(0, "c")
	add(127, "b") // resent after the wrap
	add(1, "d")
	for f := uint32(2); f < 128; f += 10 {
		add(f, "z")
	}
	add(127, "b") // a whole cycle later: new traffic with the same bytes
	got := Retransmissions(recs)
	for i, d := range got {
		if d != (i == 3) {
			t.Errorf("record %d (fsn %d): retransmission %v", i, *recs[i].FSN, d)
		}
	}
}

func TestRebuild(t *testing.T) {
	// A RLC-like 4-byte message and a message with two pointer gaps.
	buf, known, partial := rebuild(10, 4, []span{{10, []byte{1, 0}}, {12, []byte{0x10}}, {13, []byte{0}}}, nil)
	if partial || hexKnown(buf, known) != "01001000" {
		t.Errorf("plain: %s partial %v", hexKnown(buf, known), partial)
	}
	buf, known, partial = rebuild(0, 6, []span{{0, []byte{1, 0, 1}}, {5, []byte{9}}}, []byte{0x02, 0x03})
	if partial || hexKnown(buf, known) != "010001020309" {
		t.Errorf("pointers: %s partial %v", hexKnown(buf, known), partial)
	}
	// Trailing bytes tshark does not show, and a span outside the range.
	buf, known, partial = rebuild(0, 5, []span{{0, []byte{1, 0, 0x10}}, {40, []byte{7}}}, nil)
	if !partial || hexKnown(buf, known) != "010010????" {
		t.Errorf("trailing: %s partial %v", hexKnown(buf, known), partial)
	}
	// Disagreeing spans.
	_, _, partial = rebuild(0, 2, []span{{0, []byte{1, 2}}, {1, []byte{3}}}, nil)
	if !partial {
		t.Error("conflicting spans not flagged")
	}
}

func TestSplitArgs(t *testing.T) {
	got, err := SplitArgs("-o \"mtp3.standard:Chinese ITU\"  # China\n-o 'a b' c\n")
	want := []string{"-o", "mtp3.standard:Chinese ITU", "-o", "a b", "c"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %q %v, want %q", got, err, want)
	}
	if _, err := SplitArgs(`-o "open`); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestLoadCapture(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("cn.pcap", "")
	write("cn.pcap.pc-bits", "24\n")
	write("ansi.pcap", "")
	write("ansi.pcap.pc-bits", "24")
	write("ansi.pcap.tshark-args", "-o mtp3.standard:ANSI\n")
	write("e1.pcapng", "")
	write("e1.pcapng.tshark-args", "-o mtp2.capture_contains_frame_check_sequence:TRUE")
	write("notes.txt", "")
	caps, err := FindCaptures(dir, filepath.Join(dir, "absent"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Capture{}
	for _, c := range caps {
		got[c.Name] = c
	}
	if len(caps) != 3 {
		t.Fatalf("captures %+v", caps)
	}
	if c := got["cn"]; c.PCBits != 24 || !reflect.DeepEqual(c.Args, []string{"-o", "mtp3.standard:Chinese ITU"}) {
		t.Errorf("cn: %+v", c)
	}
	if c := got["ansi"]; c.PCBits != 24 || !reflect.DeepEqual(c.Args, []string{"-o", "mtp3.standard:ANSI"}) {
		t.Errorf("ansi: %+v", c)
	}
	if c := got["e1"]; c.PCBits != 14 || c.MTP2FCSLen != 2 {
		t.Errorf("e1: %+v", c)
	}
	write("cn.pcapng", "")
	if _, err := FindCaptures(dir); err == nil {
		t.Error("two captures named cn accepted")
	}
	write("bad.pcap", "")
	write("bad.pcap.pc-bits", "23")
	if _, err := LoadCapture(filepath.Join(dir, "bad.pcap")); err == nil {
		t.Error("pc-bits 23 accepted")
	}
}

func TestGoldenRoundTrip(t *testing.T) {
	recs := parseFile(t, "crafted_m3ua.pdml")
	h := Header{Capture: "crafted_m3ua.pcap", CaptureSHA256: "00", TsharkArgs: []string{}, TsharkVersion: "4.0.17"}
	var buf bytes.Buffer
	if err := EncodeGolden(&buf, h, recs); err != nil {
		t.Fatal(err)
	}
	h2, recs2, err := DecodeGolden(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	h.Messages = len(recs)
	if !reflect.DeepEqual(h, h2) || !reflect.DeepEqual(recs, recs2) {
		t.Error("golden round trip changed the records")
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	bad := map[string]string{
		"count":         strings.Join(lines[:3], ""),
		"unknown field": strings.Replace(buf.String(), `"frame":`, `"frame_no":`, 1),
		"empty":         "",
		"no capture":    `{"messages":0}` + "\n",
	}
	for name, s := range bad {
		if _, _, err := DecodeGolden(strings.NewReader(s)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParsePDMLErrors(t *testing.T) {
	for name, s := range map[string]string{
		"truncated":   `<pdml><packet><proto name="isup" pos="0" size="4">`,
		"bad pos":     `<pdml><packet><proto name="isup" pos="x" size="4"></proto></packet></pdml>`,
		"bad cic":     `<pdml><packet><proto name="isup" pos="0" size="4"><field name="isup.cic" show="many"/></proto></packet></pdml>`,
		"nested isup": `<pdml><packet><proto name="isup" pos="0" size="4"><proto name="isup" pos="0" size="4"></proto></proto></packet></pdml>`,
	} {
		err := ParsePDML(strings.NewReader(s), func(*Record) error { return nil })
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParsePDML(f *testing.F) {
	// Seeds: the ISUP proto and its context cut out of real tshark output,
	// kept small so the fuzzer mutates what matters.
	for _, name := range []string{"crafted_m3ua.pdml", "crafted_mtp2.pdml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seedPacket(b))
	}
	f.Add([]byte(`<pdml><packet><proto name="isup" pos="0" size="4"><field name="isup.cic" show="1" pos="0" size="2" value="0100"/><field name="" pos="2" size="2" value="0c02"><field name="isup.parameter_type" show="18" pos="2" size="0"/><field name="isup.cause_indicator" show="16"/></field></proto></packet></pdml>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = ParsePDML(bytes.NewReader(b), func(r *Record) error {
			if r.ISUPLen < 0 || len(r.ISUPHex) != 2*max(r.ISUPLen, 0) {
				t.Fatalf("record with length %d and hex %q", r.ISUPLen, r.ISUPHex)
			}
			return nil
		})
	})
}

// TestRunMatchesStoredPDML runs tshark on the crafted captures and checks it
// still yields what the stored PDML does.
func TestRunMatchesStoredPDML(t *testing.T) {
	if !Available() {
		t.Skip("tshark not installed")
	}
	for _, name := range []string{"crafted_m3ua", "crafted_mtp2"} {
		c, err := LoadCapture(filepath.Join("testdata", name+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Run(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if want := parseFile(t, name+".pdml"); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: tshark now gives %d records differing from the stored PDML's %d", name, len(got), len(want))
		}
	}
}

func BenchmarkParsePDML(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "crafted_m3ua.pdml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		n := 0
		if err := ParsePDML(bytes.NewReader(data), func(*Record) error { n++; return nil }); err != nil || n != 5 {
			b.Fatal(n, err)
		}
	}
}

// seedPacket keeps, from the first packet of a PDML file, the frame number,
// the lower-layer fields a record uses and the ISUP proto, with the verbose
// showname attributes removed.
func seedPacket(pdml []byte) []byte {
	start := bytes.Index(pdml, []byte("<packet>"))
	end := bytes.Index(pdml, []byte("</packet>"))
	if start < 0 || end < start {
		return pdml
	}
	var out bytes.Buffer
	out.WriteString("<pdml>")
	for _, line := range bytes.Split(pdml[start:end], []byte("\n")) {
		l := bytes.TrimSpace(line)
		// Elements with children stay, so the XML remains balanced.
		keep := !bytes.HasSuffix(l, []byte("/>")) ||
			bytes.Contains(l, []byte(`name="isup.`)) || bytes.Contains(l, []byte(`name=""`)) ||
			bytes.Contains(l, []byte(`name="frame.number"`)) || bytes.Contains(l, []byte(`name="sctp.data_tsn_raw"`)) ||
			bytes.Contains(l, []byte(`name="m3ua.protocol_data`)) || bytes.Contains(l, []byte(`name="mtp3.`)) ||
			bytes.Contains(l, []byte(`name="mtp2.fsn"`))
		if !keep {
			continue
		}
		if i := bytes.Index(l, []byte(` showname="`)); i >= 0 {
			if j := bytes.IndexByte(l[i+11:], '"'); j >= 0 {
				l = append(l[:i:i], l[i+11+j+1:]...)
			}
		}
		out.Write(l)
		out.WriteByte('\n')
	}
	out.WriteString("</packet></pdml>")
	return out.Bytes()
}
