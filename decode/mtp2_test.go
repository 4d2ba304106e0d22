package decode

import "testing"

// Frames 1 (IAM) and 2 (ANM) of isup_load_generator.pcap: MTP2 with a 2-octet
// FCS on the end.
const (
	mtp2IAMWithFCS = "1d1d2085024000900e00011100000a03020907039040380982990a06031317734508007989"
	mtp2ANMWithFCS = "1d1f0985018000900c0009009a18"
	// sng_ss7mon_test1.pcap frames 1 (SLTM), 5 (ACM) and 8 (type 0xE1),
	// pseudo-header included; SIO 0xA5 has its spare bits set.
	phdrSLTM    = "0000000072fd0881b78ca5221110aa"
	phdrACM     = "0000000074ff0fa5b78ca5f21f00061604012a010100"
	phdrUnknown = "0000000074820ba5b78ca5f21f00e1050100"
)

func TestMTP2(t *testing.T) {
	iam := lowerHex(t, mtp2IAMWithFCS)
	fr := func(lt uint16, fcs int8, b []byte) Frame {
		return Frame{LinkType: lt, Frame: 1, FCSLen: fcs, Data: b}
	}
	cases := []struct {
		name   string
		cfg    Config
		frame  Frame
		reason Reason // ReasonNone: one message
		cic    uint32
		typ    uint8
	}{
		{"fcs from config", Config{MTP2FCSLen: 2}, fr(LinkTypeMTP2, -1, iam), ReasonNone, 14, 1},
		{"fcs from the frame wins", Config{MTP2FCSLen: 4}, fr(LinkTypeMTP2, 2, lowerHex(t, mtp2ANMWithFCS)), ReasonNone, 12, 9},
		{"no fcs: trailing octets stay in the ISUP", Config{}, fr(LinkTypeMTP2, -1, iam), ReasonNone, 14, 1},
		{"fisu", Config{}, fr(LinkTypeMTP2, 0, []byte{0x80, 0x80, 0}), SkipMTP2FISU, 0, 0},
		{"lssu", Config{}, fr(LinkTypeMTP2, 0, []byte{0x80, 0x80, 1, 2}), SkipMTP2LSSU, 0, 0},
		{"lssu with 2-octet status", Config{}, fr(LinkTypeMTP2, 0, []byte{0x80, 0x80, 2, 2, 0}), SkipMTP2LSSU, 0, 0},
		{"two octets", Config{}, fr(LinkTypeMTP2, 0, []byte{0x80, 0x80}), DropMTP2Truncated, 0, 0},
		{"fcs longer than frame", Config{MTP2FCSLen: 4}, fr(LinkTypeMTP2, -1, []byte{1, 2, 3}), DropMTP2Truncated, 0, 0},
		{"li longer than msu", Config{}, fr(LinkTypeMTP2, 0, []byte{1, 1, 20, 0x85, 1, 2, 3, 4}), DropMTP2Truncated, 0, 0},
		{"sltm", Config{}, fr(LinkTypeMTP2WithPHdr, -1, lowerHex(t, phdrSLTM)), SkipMTP3NotISUP, 0, 0},
		{"acm, spare bits in the SIO", Config{}, fr(LinkTypeMTP2WithPHdr, -1, lowerHex(t, phdrACM)), ReasonNone, 31, 6},
		{"unknown type is delivered", Config{}, fr(LinkTypeMTP2WithPHdr, -1, lowerHex(t, phdrUnknown)), SkipISUPUnknownType, 31, 0xe1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, st := decodeOne(t, c.cfg, c.frame)
			if c.reason != ReasonNone && st.Reasons[c.reason] != 1 {
				t.Errorf("%v not counted: %s", c.reason, st.Summary())
			}
			if c.reason == ReasonNone || c.reason == SkipISUPUnknownType {
				if len(got) != 1 {
					t.Fatalf("no message: %s", st.Summary())
				}
				if got[0].ISUP.CIC != c.cic || got[0].ISUP.Type != c.typ || got[0].Transport != TransportMTP2 {
					t.Errorf("cic %d type %d transport %v", got[0].ISUP.CIC, got[0].ISUP.Type, got[0].Transport)
				}
				return
			}
			if len(got) != 0 {
				t.Errorf("%d messages", len(got))
			}
		})
	}
}

func TestMTP2FCSStripped(t *testing.T) {
	got, _ := decodeOne(t, Config{MTP2FCSLen: 2}, Frame{LinkType: LinkTypeMTP2, FCSLen: -1, Data: lowerHex(t, mtp2IAMWithFCS)})
	raw := lowerHex(t, mtp2IAMWithFCS)
	if len(got) != 1 || len(got[0].MTP3) != len(raw)-3-2 || len(got[0].ISUP.Raw) != len(raw)-3-2-5 {
		t.Fatalf("MTP3 %d octets, ISUP %d", len(got[0].MTP3), len(got[0].ISUP.Raw))
	}
}

func TestMTP2Retransmission(t *testing.T) {
	msu := func(fsn byte, cic uint16) []byte {
		m := mtp3ITU(0x85, 1, 2, 3, isupMessage(cic, 0x10))
		return append([]byte{0x80, 0x80 | fsn, byte(len(m))}, m...)
	}
	phdr := func(dir byte, link uint16, b []byte) []byte {
		return append([]byte{dir, 0, byte(link >> 8), byte(link)}, b...)
	}
	f := func(lt uint16, iface uint16, b []byte) Frame {
		return Frame{LinkType: lt, Iface: iface, FCSLen: 0, Data: b}
	}
	cases := []struct {
		name   string
		frames []Frame
		msgs   int
		rtx    uint64
	}{
		{"same fsn, same msu", []Frame{f(140, 0, msu(5, 1)), f(140, 0, msu(5, 1))}, 1, 1},
		{"cyclic retransmission of two", []Frame{f(140, 0, msu(5, 1)), f(140, 0, msu(6, 2)), f(140, 0, msu(6, 2)), f(140, 0, msu(6, 2))}, 2, 2},
		{"same fsn, other msu", []Frame{f(140, 0, msu(5, 1)), f(140, 0, msu(5, 2))}, 2, 0},
		{"other interface", []Frame{f(140, 0, msu(5, 1)), f(140, 1, msu(5, 1))}, 2, 0},
		{"other direction", []Frame{f(139, 0, phdr(0, 1, msu(5, 1))), f(139, 0, phdr(1, 1, msu(5, 1)))}, 2, 0},
		{"other link", []Frame{f(139, 0, phdr(0, 1, msu(5, 1))), f(139, 0, phdr(0, 2, msu(5, 1)))}, 2, 0},
		{"same direction and link", []Frame{f(139, 0, phdr(1, 1, msu(5, 1))), f(139, 0, phdr(1, 1, msu(5, 1)))}, 1, 1},
		{"fisus in between", []Frame{f(140, 0, msu(5, 1)), f(140, 0, []byte{0x80, 0x85, 0}), f(140, 0, msu(5, 1))}, 1, 1},
		// Q.703 5.3: every unacknowledged MSU is resent in order, not only the last.
		{"basic retransmission of an older msu", []Frame{f(140, 0, msu(5, 1)), f(140, 0, msu(6, 2)), f(140, 0, msu(5, 1)), f(140, 0, msu(6, 2))}, 2, 2},
		{"cyclic over three", []Frame{f(140, 0, msu(5, 1)), f(140, 0, msu(6, 2)), f(140, 0, msu(7, 3)),
			f(140, 0, msu(5, 1)), f(140, 0, msu(6, 2)), f(140, 0, msu(7, 3)), f(140, 0, msu(5, 1))}, 3, 4},
		{"resend 127 behind", append(seqFrames(f, msu, 0, 127), f(140, 0, msu(0, 1))), 127, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, st := decodeOne(t, Config{}, c.frames...)
			if len(got) != c.msgs || st.Reasons[SkipMTP2Retransmission] != c.rtx {
				t.Errorf("%d messages, want %d: %s", len(got), c.msgs, st.Summary())
			}
		})
	}
}

// seqFrames is n consecutive MSUs from fsn first, each with its own CIC.
func seqFrames(f func(uint16, uint16, []byte) Frame, msu func(byte, uint16) []byte, first, n int) []Frame {
	var fr []Frame
	for i := 0; i < n; i++ {
		fr = append(fr, f(140, 0, msu(byte((first+i)&0x7f), uint16(i+1))))
	}
	return fr
}

// TestMTP2SequenceWrap: once the forward sequence numbers have come round
// (128 MSUs later), an MSU with the same FSN and the same bytes as an old one
// is new traffic (an RLC on a reused circuit, say), not a resend.
func TestMTP2SequenceWrap(t *testing.T) {
	msu := func(fsn byte, cic uint16) []byte {
		m := mtp3ITU(0x85, 1, 2, 3, isupMessage(cic, 0x10))
		return append([]byte{0x80, 0x80 | fsn, byte(len(m))}, m...)
	}
	var frames []Frame
	for i := 0; i < 3*128; i++ {
		// The same 4 MSUs over and over: bytes repeat every 4, FSNs every 128.
		frames = append(frames, Frame{LinkType: LinkTypeMTP2, Data: msu(byte(i&0x7f), uint16(i%4+1))})
	}
	got, st := decodeOne(t, Config{}, frames...)
	if len(got) != len(frames) || st.Reasons[SkipMTP2Retransmission] != 0 {
		t.Fatalf("%d of %d delivered: %s", len(got), len(frames), st.Summary())
	}
}
