package decode

import (
	"net/netip"
	"testing"
)

func TestMTP3Label(t *testing.T) {
	rlc := isupMessage(0x123, 0x10)
	china := append([]byte{0x85, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0xff}, rlc...)
	cases := []struct {
		name      string
		cfg       Config
		b         []byte
		reason    Reason
		want      Label
		isupBytes int
	}{
		{"itu", Config{}, mtp3ITU(0x85, 0x2aaa, 0x1555, 0xa, rlc), ReasonNone,
			Label{NI: 2, SI: 5, OPC: 0x2aaa, DPC: 0x1555, SLS: 0xa, PCBits: 14}, len(rlc)},
		{"spare bits set", Config{}, mtp3ITU(0xa5, 1, 2, 3, rlc), ReasonNone,
			Label{NI: 2, SI: 5, MP: 2, OPC: 1, DPC: 2, SLS: 3, PCBits: 14}, len(rlc)},
		// tshark -o mtp3.standard:"Chinese ITU": DPC 0x030201, OPC 0x060504, SLS 15.
		{"china 24-bit", Config{PCBits: 24}, china, ReasonNone,
			Label{NI: 2, SI: 5, OPC: 0x060504, DPC: 0x030201, SLS: 15, PCBits: 24}, len(rlc)},
		{"24-bit per source", Config{SourcePCBits: map[uint16]uint8{0: 24}}, china, ReasonNone,
			Label{NI: 2, SI: 5, OPC: 0x060504, DPC: 0x030201, SLS: 15, PCBits: 24}, len(rlc)},
		{"japan 16-bit isup", Config{PCBits: 16}, mtp3ITU(0x85, 1, 2, 3, rlc), DropMTP3PCWidthUnsupported, Label{}, 0},
		{"japan 16-bit sccp", Config{PCBits: 16}, mtp3ITU(0x83, 1, 2, 3, rlc), SkipMTP3NotISUP, Label{}, 0},
		{"snm", Config{}, mtp3ITU(0x80, 1, 2, 3, []byte{0x17}), SkipMTP3NotISUP, Label{}, 0},
		{"sltm", Config{}, mtp3ITU(0x81, 1, 2, 3, []byte{0x11, 0x10, 0xaa}), SkipMTP3NotISUP, Label{}, 0},
		{"tup", Config{}, mtp3ITU(0x84, 1, 2, 3, rlc), SkipMTP3NotISUP, Label{}, 0},
		{"empty", Config{}, nil, DropMTP3Truncated, Label{}, 0},
		{"itu label cut", Config{}, []byte{0x85, 1, 2, 3}, DropMTP3Truncated, Label{}, 0},
		{"24-bit label cut", Config{PCBits: 24}, china[:7], DropMTP3Truncated, Label{}, 0},
		{"isup cut", Config{}, mtp3ITU(0x85, 1, 2, 3, []byte{1}), DropISUPTruncated, Label{}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, st := decodeOne(t, c.cfg, Frame{LinkType: LinkTypeMTP3, FCSLen: -1, Data: c.b})
			if c.reason != ReasonNone {
				if len(got) != 0 || st.Reasons[c.reason] != 1 {
					t.Errorf("%d messages, %s; want %v", len(got), st.Summary(), c.reason)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("no message: %s", st.Summary())
			}
			if got[0].Label != c.want || len(got[0].ISUP.Raw) != c.isupBytes || got[0].ISUP.CIC != 0x123 {
				t.Errorf("label %+v, want %+v; isup %d octets cic %d", got[0].Label, c.want, len(got[0].ISUP.Raw), got[0].ISUP.CIC)
			}
			if got[0].Transport != TransportMTP3 || got[0].Src.IsValid() {
				t.Errorf("transport %v src %v", got[0].Transport, got[0].Src)
			}
		})
	}
}

func TestPCBitsPrecedence(t *testing.T) {
	peer := netip.MustParseAddr("192.0.2.2")
	msg := m3uaDATA(0, 0x010203, 0x040506, SIISUP, 2, 0, 1, isupMessage(1, 0x10))
	frame := func(source uint16) Frame {
		f := sctpFrame(1, 0, 2905, 2905, 1, dataChunk(3, 1, 0, 0, ppidM3UA, msg))
		f.Source = source
		return f
	}
	cases := []struct {
		name string
		cfg  Config
		src  uint16
		want uint8 // 0: dropped
	}{
		{"default 14 drops a 24-bit pc", Config{}, 0, 0},
		{"link overrides source and default", Config{PCBits: 14, SourcePCBits: map[uint16]uint8{0: 16}, LinkPCBits: map[netip.Addr]uint8{peer: 24}}, 0, 24},
		{"source overrides default", Config{SourcePCBits: map[uint16]uint8{3: 24}}, 3, 24},
		{"other source", Config{SourcePCBits: map[uint16]uint8{3: 24}}, 4, 0},
	}
	for _, c := range cases {
		got, st := decodeOne(t, c.cfg, frame(c.src))
		switch {
		case c.want == 0 && (len(got) != 0 || st.Reasons[DropMTP3PCWidthUnsupported] != 1):
			t.Errorf("%s: %d messages, %s", c.name, len(got), st.Summary())
		case c.want != 0 && (len(got) != 1 || got[0].Label.PCBits != c.want):
			t.Errorf("%s: %d messages, %s", c.name, len(got), st.Summary())
		}
	}
}
