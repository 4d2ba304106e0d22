package decode

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// pcapDir is the shared capture directory, relative to this package.
const pcapDir = "../../shared/pcaps"

// readCapture reads a pcap or pcapng file into frames (source 0, 1-based
// frame numbers, FCSLen unknown).
func readCapture(tb testing.TB, path string) []Frame {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var frames []Frame
	add := func(data []byte, ts int64, lt uint16, iface int) {
		frames = append(frames, Frame{
			TS: ts, LinkType: lt, Frame: uint64(len(frames) + 1),
			Iface: uint16(iface), FCSLen: -1, Data: append([]byte(nil), data...),
		})
	}
	if len(raw) >= 4 && bytes.Equal(raw[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			tb.Fatal(err)
		}
		for {
			data, ci, err := r.ReadPacketData()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				tb.Fatal(err)
			}
			intf, err := r.Interface(ci.InterfaceIndex)
			if err != nil {
				tb.Fatal(err)
			}
			add(data, ci.Timestamp.UnixNano(), uint16(intf.LinkType), ci.InterfaceIndex)
		}
		return frames
	}
	r, err := pcapgo.NewReader(bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	lt := uint16(r.LinkType())
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		add(data, ci.Timestamp.UnixNano(), lt, 0)
	}
	return frames
}

func needPcaps(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat(pcapDir); err != nil {
		tb.Fatalf("shared captures not found at %s (part of the test contract: lay shared/ beside the repository): %v", pcapDir, err)
	}
}

// pcapConfig is the decoder configuration a capture needs, from its
// NAME.pc-bits file and what its NAME.tshark-args say about the MTP2 FCS.
func pcapConfig(tb testing.TB, name string) Config {
	tb.Helper()
	var cfg Config
	pcBits := filepath.Join(pcapDir, name+".pc-bits")
	if _, err := os.Stat(pcBits); err != nil {
		pcBits = filepath.Join("testdata", "sidecars", name+".pc-bits")
	}
	if b, err := os.ReadFile(pcBits); err == nil {
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			tb.Fatal(err)
		}
		cfg.PCBits = uint8(n)
	}
	if b, err := os.ReadFile(filepath.Join(pcapDir, name+".tshark-args")); err == nil &&
		strings.Contains(string(b), "capture_contains_frame_check_sequence:TRUE") {
		cfg.MTP2FCSLen = 2
	}
	return cfg
}

// goldenISUP reads testdata/lower/NAME.isup: one line per ISUP message as
// tshark shows it: frame opc dpc sls cic type. Made with
//
//	tshark -r F $(cat F.tshark-args) -Y 'isup || bicc' -T fields -E occurrence=f -e frame.number \
//	  -e mtp3.opc -e mtp3.dpc -e mtp3.sls -e m3ua.protocol_data_opc \
//	  -e m3ua.protocol_data_dpc -e m3ua.protocol_data_sls -e isup.cic -e isup.message_type
//
// with the M3UA columns standing in for the MTP3 ones where those are empty,
// and bicc.cic for isup.cic in BICC (bicc.pcap, with -o 'mtp3.standard:Chinese ITU').
func goldenISUP(tb testing.TB, name string) []string {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", "lower", name+".isup"))
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		tb.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

type pcapExpect struct {
	transport Transport
	messages  int
	skips     map[Reason]uint64 // exact count of every skip reason (from tshark)
}

var pcapExpectations = map[string]pcapExpect{
	// Every frame is an ISUP MSU; no FSN repeats with the same MSU, so no
	// retransmission (checked with tshark: interface, FSN).
	"isup_load_generator.pcap": {TransportMTP2, 5265, nil},
	// 225 (0xE1) is not a Q.763 type: delivered and counted.
	"sng_ss7mon_test1.pcap": {TransportMTP2, 5, map[Reason]uint64{SkipMTP3NotISUP: 20, SkipISUPUnknownType: 1}},
	"sng_ss7mon_test2.pcap": {TransportMTP2, 5, map[Reason]uint64{SkipMTP3NotISUP: 2}},
	"sng_ss7mon_test3.pcap": {TransportMTP2, 5, map[Reason]uint64{SkipMTP3NotISUP: 4}},
	// Both STP copies: different associations and routing contexts.
	"mod_isup_validate.pcap":  {TransportM3UA, 10, map[Reason]uint64{SkipNotSCTP: 73, SkipSCTPControl: 41, SkipM3UAManagement: 29}},
	"mod_isup_m3ua_mgcp.pcap": {TransportM3UA, 10, map[Reason]uint64{SkipNotSCTP: 12, SkipSCTPControl: 42, SkipM3UAManagement: 30}},
	// TSN 0 everywhere with different payloads: every one is new.
	"xdr_tester_m2pa.pcap": {TransportM2PA, 6, nil},
	// One BICC IAM (SI 13, call instance code 18), 24-bit point codes.
	"bicc.pcap":         {TransportM3UA, 1, nil},
	"camel.pcap":        {TransportNone, 0, map[Reason]uint64{SkipMTP3NotISUP: 5}},
	"ansi_map_win.pcap": {TransportNone, 0, map[Reason]uint64{SkipMTP3NotISUP: 9, SkipSCTPControl: 3}},
	// Three empty User Data messages (keep-alives), one SACK.
	"japan_tcap_over_m2pa.pcap": {TransportNone, 0, map[Reason]uint64{SkipMTP3NotISUP: 3, SkipSCTPControl: 1, SkipM2PALinkStatus: 3}},
	"gsm-r.uus1.pcap":           {TransportNone, 0, map[Reason]uint64{SkipMTP3NotISUP: 9}},
	// 393 M3UA DATA: SCCP (SI 3) and H.248 (SI 14); all PPID 3.
	"3gpp_mc.cap": {TransportNone, 0, map[Reason]uint64{SkipMTP3NotISUP: 393, SkipSCTPControl: 186, SkipM3UAManagement: 10}},
}

func TestDecodeSharedCaptures(t *testing.T) {
	needPcaps(t)
	entries, err := os.ReadDir(pcapDir)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".pcap") && !strings.HasSuffix(name, ".cap") && !strings.HasSuffix(name, ".pcapng") {
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			want, ok := pcapExpectations[name]
			if !ok {
				t.Fatalf("no expectation for capture %s: add one", name)
			}
			frames := readCapture(t, filepath.Join(pcapDir, name))
			var got []string
			d := New(pcapConfig(t, name), func(m *Message) {
				if m.Transport != want.transport {
					t.Errorf("frame %d: transport %v, want %v", m.Frame, m.Transport, want.transport)
				}
				if (m.Transport == TransportM3UA || m.Transport == TransportM2PA) && (!m.Src.IsValid() || !m.Dst.IsValid()) {
					t.Errorf("frame %d: no addresses", m.Frame)
				}
				if len(m.MTP3) == 0 || m.MTP3[0]&0x0f != SIISUP && m.MTP3[0]&0x0f != SIBICC {
					t.Errorf("frame %d: MTP3 % x does not start with an ISUP or BICC SIO", m.Frame, m.MTP3)
				}
				got = append(got, fmt.Sprintf("%d %d %d %d %d %d", m.Frame, m.Label.OPC, m.Label.DPC, m.Label.SLS, m.ISUP.CIC, m.ISUP.Type))
			})
			d.SetErrorHandler(func(source uint16, frame uint64, r Reason) {
				t.Errorf("frame %d: drop %v", frame, r)
			})
			for i := range frames {
				d.Decode(&frames[i])
			}
			d.Flush()
			st := d.Stats()
			t.Log(st.Summary())
			if st.Frames != uint64(len(frames)) {
				t.Errorf("frames = %d, want %d", st.Frames, len(frames))
			}
			if st.Messages != uint64(want.messages) || len(got) != want.messages {
				t.Errorf("messages = %d (handler %d), want %d", st.Messages, len(got), want.messages)
			}
			if st.Drops() != 0 {
				t.Errorf("drops: %s", st.Summary())
			}
			for r := Reason(1); r < NumReasons; r++ {
				w := want.skips[r]
				if !r.IsDrop() && st.Reasons[r] != w {
					t.Errorf("%v = %d, want %d", r, st.Reasons[r], w)
				}
			}
			if golden := goldenISUP(t, name); golden != nil || want.messages > 0 {
				if len(golden) != len(got) {
					t.Fatalf("%d messages, tshark shows %d", len(got), len(golden))
				}
				for i := range golden {
					if golden[i] != got[i] {
						t.Errorf("message %d: got %q, tshark %q", i, got[i], golden[i])
					}
				}
			}
		})
	}
	if seen < len(pcapExpectations) {
		t.Errorf("found %d captures, expected %d", seen, len(pcapExpectations))
	}
}

func TestErrorHandlerGetsDropsOnly(t *testing.T) {
	type report struct {
		source uint16
		frame  uint64
		reason Reason
	}
	var reports []report
	d := New(Config{}, nil)
	d.SetErrorHandler(func(source uint16, frame uint64, r Reason) { reports = append(reports, report{source, frame, r}) })
	frames := []Frame{
		{Source: 2, Frame: 7, LinkType: LinkTypeEthernet, Data: make([]byte, 10)},                   // drop: truncated
		{Source: 2, Frame: 8, LinkType: LinkTypeEthernet, Data: ethernet(0x0806, make([]byte, 28))}, // skip: ARP
	}
	// A first fragment that never completes: reported at Flush against its frame.
	first := fragments(m3uaISUP(1, 1), 2, 1, 0, false)[0]
	frames = append(frames, sctpFrame(9, 0, 2905, 2905, 1, first))
	frames[2].Source = 2
	for i := range frames {
		d.Decode(&frames[i])
	}
	d.Flush()
	want := []report{{2, 7, DropLinkTruncated}, {2, 9, DropSCTPFragmentExpired}}
	if fmt.Sprint(reports) != fmt.Sprint(want) {
		t.Errorf("reports %v, want %v", reports, want)
	}
	if st := d.Stats(); st.Drops() != 2 || st.Reasons[SkipNotIP] != 1 || st.Frames != 3 {
		t.Errorf("%s", st.Summary())
	}
}

func TestMessageFieldsReset(t *testing.T) {
	// An M3UA message with a routing context, then an MTP2 one: nothing of the
	// first may leak into the second.
	var got []Message
	d := New(Config{}, func(m *Message) { got = append(got, *m) })
	f1 := ethSCTPFrame(m3uaISUP(1, 1), ppidM3UA, 1)
	f1.TS, f1.Frame, f1.Source = 100, 1, 1
	msu := mtp3ITU(0x85, 1, 2, 3, isupMessage(2, 0x10))
	f2 := Frame{TS: 200, Frame: 2, Source: 1, LinkType: LinkTypeMTP2, FCSLen: 0, Data: append([]byte{1, 1, byte(len(msu))}, msu...)}
	d.Decode(&f1)
	d.Decode(&f2)
	if len(got) != 2 {
		t.Fatalf("%d messages", len(got))
	}
	a, b := got[0], got[1]
	if a.TS != 100 || a.Frame != 1 || a.Source != 1 || !a.HasRC || a.RoutingContext != 1 || !a.Src.IsValid() || a.VTag != 7 {
		t.Errorf("first %+v", a)
	}
	if b.TS != 200 || b.Frame != 2 || b.HasRC || b.RoutingContext != 0 || b.Src.IsValid() || b.Dst.IsValid() || b.VTag != 0 || b.TSN != 0 || b.Stream != 0 || b.Transport != TransportMTP2 {
		t.Errorf("second %+v", b)
	}
}

func TestDecodeAllocatesNothing(t *testing.T) {
	for name, frames := range map[string][]Frame{"m3ua": m3uaBenchFrames(), "m2pa": m2paBenchFrames()} {
		d := New(Config{}, func(m *Message) {})
		for i := range frames {
			d.Decode(&frames[i])
		}
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			f := &frames[i%len(frames)]
			f.TS += DefaultFragmentTimeout + int64(len(frames))*1e6 // beyond the duplicate window
			d.Decode(f)
			i++
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per frame", name, allocs)
		}
	}
}

// TestOptionalPartErrorDelivered: an IAM whose calling party number is
// malformed still reaches the handler (rules and retention see the call),
// marked and counted, and the error handler hears of it with the frame.
func TestOptionalPartErrorDelivered(t *testing.T) {
	iam := buildIAM([]byte{0x83, 0x10, 0x21, 0x43, 0x05}, param(ParamCallingPartyNumber, 0x03)) // no NPI/APRI octet
	var heard []Reason
	d := New(Config{}, nil)
	var got []Message
	d.h = func(m *Message) { got = append(got, *m) }
	d.SetErrorHandler(func(_ uint16, frame uint64, r Reason) {
		if frame != 7 {
			t.Errorf("error reported for frame %d, want 7", frame)
		}
		heard = append(heard, r)
	})
	d.Decode(&Frame{LinkType: LinkTypeMTP3, Frame: 7, FCSLen: -1, Data: mtp3ITU(0x85, 1, 2, 3, iam)})
	st := d.Stats()
	if len(got) != 1 || got[0].ISUP.OptionalError != DropISUPBadParameter || got[0].ISUP.Calling.Present || !got[0].ISUP.Called.Present {
		t.Fatalf("got %d messages: %+v", len(got), got)
	}
	if st.ISUPOptionalErrors != 1 || st.Messages != 1 || st.Drops() != 0 || len(heard) != 1 || heard[0] != DropISUPBadParameter {
		t.Errorf("stats %s, optional errors %d, heard %v", st.Summary(), st.ISUPOptionalErrors, heard)
	}
}
