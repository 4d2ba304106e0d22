package decode

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"testing"

	"github.com/wmnsk/go-m3ua/messages"
	"github.com/wmnsk/go-m3ua/messages/params"
)

func lowerHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// goM3UAData builds a DATA message with go-m3ua (an independent encoder).
func goM3UAData(tb testing.TB, na, rc *uint32, corr *uint32, opc, dpc uint32, si, ni, mp, sls uint8, user []byte) []byte {
	tb.Helper()
	var naP, rcP, corrP *params.Param
	if na != nil {
		naP = params.NewNetworkAppearance(*na)
	}
	if rc != nil {
		rcP = params.NewRoutingContext(*rc)
	}
	if corr != nil {
		corrP = params.NewCorrelationID(*corr)
	}
	b, err := messages.NewData(naP, rcP, params.NewProtocolData(opc, dpc, si, ni, mp, sls, user), corrP).MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func u32(v uint32) *uint32 { return &v }

func TestReadM3UADataAgainstGoM3UA(t *testing.T) {
	cases := []struct {
		name          string
		na, rc, corr  *uint32
		opc, dpc      uint32
		si, ni, mp, s uint8
		user          []byte
	}{
		{"iam with rc", nil, u32(1), nil, 1, 2, 5, 2, 0, 1, isupIAM(1, "1234", "5678")},
		{"all optional parameters", u32(7), u32(0xdeadbeef), u32(99), 0x3fff, 0x2aaa, 5, 0, 1, 15, isupMessage(4095, 0x10)},
		{"no optional parameters", nil, nil, nil, 0xffffff, 0x123456, 5, 2, 3, 0xff, isupMessage(7, 0x0c)},
		{"unpadded user data", nil, u32(3), nil, 10, 20, 13, 2, 0, 0, []byte{1, 2, 3, 4, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := goM3UAData(t, c.na, c.rc, c.corr, c.opc, c.dpc, c.si, c.ni, c.mp, c.s, c.user)
			var pd m3uaData
			class, typ, r := readM3UA(b, &pd)
			if r != ReasonNone || class != 1 || typ != 1 {
				t.Fatalf("readM3UA = %d/%d %v", class, typ, r)
			}
			// Cross-check against go-m3ua's own parser too.
			m, err := messages.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			gd := m.(*messages.Data)
			gp, err := gd.ProtocolData.ProtocolData()
			if err != nil {
				t.Fatal(err)
			}
			if pd.opc != gp.OriginatingPointCode || pd.dpc != gp.DestinationPointCode || pd.si != gp.ServiceIndicator ||
				pd.ni != gp.NetworkIndicator || pd.mp != gp.MessagePriority || pd.sls != gp.SignalingLinkSelection {
				t.Errorf("protocol data %+v, go-m3ua %+v", pd, gp)
			}
			if !bytes.Equal(pd.user, c.user) || !bytes.Equal(pd.user, gp.Data) {
				t.Errorf("user data % x, want % x (go-m3ua % x)", pd.user, c.user, gp.Data)
			}
			if pd.hasRC != (c.rc != nil) || (c.rc != nil && pd.rc != *c.rc) {
				t.Errorf("rc %v %d, want %v", pd.hasRC, pd.rc, c.rc)
			}
			if pd.hasNA != (c.na != nil) || (c.na != nil && pd.na != *c.na) {
				t.Errorf("na %v %d, want %v", pd.hasNA, pd.na, c.na)
			}
		})
	}
}

func TestReadM3UAManagementAgainstGoM3UA(t *testing.T) {
	msgs := []messages.M3UA{
		messages.NewAspUp(params.NewAspIdentifier(1), params.NewInfoString("up")),
		messages.NewAspUpAck(nil, nil),
		messages.NewAspActive(params.NewTrafficModeType(params.TrafficModeLoadshare), params.NewRoutingContext(1, 2), nil),
		messages.NewAspActiveAck(nil, params.NewRoutingContext(1), nil),
		messages.NewHeartbeat(params.NewHeartbeatData([]byte("ping"))),
		messages.NewDestinationUnavailable(nil, params.NewRoutingContext(1), params.NewAffectedPointCode(1234), nil),
		messages.NewNotify(params.NewStatus(0x00010003), nil, nil, nil),
		messages.NewError(params.NewErrorCode(1), nil, nil, nil, nil),
	}
	for _, m := range msgs {
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var pd m3uaData
		class, typ, r := readM3UA(b, &pd)
		if r != SkipM3UAManagement || class != m.MessageClass() || typ != m.MessageType() {
			t.Errorf("%s: readM3UA = %d/%d %v, want %d/%d management", m.MessageTypeName(), class, typ, r, m.MessageClass(), m.MessageType())
		}
	}
}

func TestReadM3UAMalformed(t *testing.T) {
	good := m3uaDATA(1, 1, 2, 5, 2, 0, 1, isupMessage(1, 0x10))
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := []struct {
		name string
		b    []byte
		want Reason
	}{
		{"empty", nil, DropM3UATruncated},
		{"short header", good[:7], DropM3UATruncated},
		{"version 2", mutate(func(b []byte) []byte { b[0] = 2; return b }), DropM3UABad},
		{"length beyond data", good[:len(good)-4], DropM3UATruncated},
		{"length below header", mutate(func(b []byte) []byte { b[7] = 4; return b }), DropM3UABad},
		{"transfer class, type 2", mutate(func(b []byte) []byte { b[3] = 2; return b }), DropM3UABad},
		{"unknown class 7", mutate(func(b []byte) []byte { b[2] = 7; return b }), DropM3UABad},
		{"parameter length 2", mutate(func(b []byte) []byte { b[11] = 2; return b }), DropM3UABad},
		{"parameter past the message", mutate(func(b []byte) []byte { b[10] = 0x10; return b }), DropM3UABad},
		{"no protocol data", sigtranHeader(1, 1, tlv(m3uaTagRoutingContext, []byte{0, 0, 0, 1})), DropM3UABad},
		{"short protocol data", sigtranHeader(1, 1, tlv(m3uaTagProtocolData, make([]byte, 11))), DropM3UABad},
		{"two-context routing context", sigtranHeader(1, 1, append(tlv(m3uaTagRoutingContext, make([]byte, 8)), tlv(m3uaTagProtocolData, make([]byte, 12))...)), DropM3UABad},
		{"good", good, ReasonNone},
	}
	for _, c := range cases {
		var pd m3uaData
		if _, _, r := readM3UA(c.b, &pd); r != c.want {
			t.Errorf("%s: %v, want %v", c.name, r, c.want)
		}
	}
}

// TestReadM3UARealBytes uses frame 105 of mod_isup_validate.pcap (tshark -x,
// M3UA part): DATA, RC 1, OPC 1, DPC 2, SI 5, NI 2, SLS 1, an IAM on CIC 1.
func TestReadM3UARealBytes(t *testing.T) {
	b := lowerHex(t, m3uaIAMHex)
	var pd m3uaData
	if _, _, r := readM3UA(b, &pd); r != ReasonNone {
		t.Fatal(r)
	}
	if !pd.hasRC || pd.rc != 1 || pd.opc != 1 || pd.dpc != 2 || pd.si != 5 || pd.ni != 2 || pd.sls != 1 {
		t.Errorf("got %+v", pd)
	}
	if len(pd.user) < 3 || pd.user[0] != 1 || pd.user[1] != 0 || pd.user[2] != 1 {
		t.Errorf("user data % x is not an IAM on CIC 1", pd.user)
	}
}

// decodeOne runs one frame through a fresh decoder and returns the messages
// (copied) and the stats.
func decodeOne(tb testing.TB, cfg Config, frames ...Frame) ([]Message, Stats) {
	tb.Helper()
	var got []Message
	d := New(cfg, func(m *Message) {
		c := *m
		c.MTP3 = append([]byte(nil), m.MTP3...)
		got = append(got, c)
	})
	for i := range frames {
		d.Decode(&frames[i])
	}
	return got, d.Stats()
}

func ethSCTPFrame(payload []byte, ppid uint32, tsn uint32) Frame {
	pkt := sctpPacket(2905, 2905, 7, dataChunk(3, tsn, 1, 0, ppid, payload))
	return Frame{LinkType: LinkTypeEthernet, Frame: 1, FCSLen: -1,
		Data: ethernet(etherTypeIPv4, ipv4Packet([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1, 0, ipProtoSCTP, pkt))}
}

func TestDecodeM3UALabel(t *testing.T) {
	rel := isupMessage(77, 0x0c)
	peer := netip.MustParseAddr("10.0.0.2")
	cases := []struct {
		name     string
		cfg      Config
		opc, dpc uint32
		si, sls  uint8
		want     Reason
		mtp3     []byte
	}{
		{"itu", Config{}, 0x1234, 0x0321, 5, 9, ReasonNone,
			append([]byte{0x85}, append(mtp3ITU(0x85, 0x1234, 0x0321, 9, nil)[1:], rel...)...)},
		{"china via link", Config{LinkPCBits: map[netip.Addr]uint8{peer: 24}}, 0x0a0b0c, 0x010203, 5, 3, ReasonNone,
			append([]byte{0x85, 0x03, 0x02, 0x01, 0x0c, 0x0b, 0x0a, 0x03}, rel...)},
		{"china default", Config{PCBits: 24}, 0x0a0b0c, 0x010203, 5, 3, ReasonNone,
			append([]byte{0x85, 0x03, 0x02, 0x01, 0x0c, 0x0b, 0x0a, 0x03}, rel...)},
		{"24-bit pc on a 14-bit link", Config{}, 0x0a0b0c, 1, 5, 0, DropMTP3PCWidthUnsupported, nil},
		{"japan 16-bit", Config{PCBits: 16}, 1, 2, 5, 0, DropMTP3PCWidthUnsupported, nil},
		{"sccp", Config{}, 1, 2, 3, 0, SkipMTP3NotISUP, nil},
		{"sccp on japan", Config{PCBits: 16}, 1, 2, 3, 0, SkipMTP3NotISUP, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := ethSCTPFrame(m3uaDATA(5, c.opc, c.dpc, c.si, 2, 0, c.sls, rel), ppidM3UA, 1)
			got, st := decodeOne(t, c.cfg, f)
			if c.want != ReasonNone {
				if len(got) != 0 || st.Reasons[c.want] != 1 {
					t.Fatalf("got %d messages, %s; want %v", len(got), st.Summary(), c.want)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d messages: %s", len(got), st.Summary())
			}
			m := got[0]
			if m.Label.OPC != c.opc || m.Label.DPC != c.dpc || m.Label.SLS != c.sls || m.Label.NI != 2 || m.Label.SI != 5 {
				t.Errorf("label %+v", m.Label)
			}
			if !m.HasRC || m.RoutingContext != 5 || m.HasNA {
				t.Errorf("rc %v %d na %v", m.HasRC, m.RoutingContext, m.HasNA)
			}
			if !bytes.Equal(m.MTP3, c.mtp3) {
				t.Errorf("MTP3 % x, want % x", m.MTP3, c.mtp3)
			}
			if m.ISUP.CIC != 77 || m.ISUP.Type != 0x0c || m.Transport != TransportM3UA {
				t.Errorf("isup %d/%d transport %v", m.ISUP.CIC, m.ISUP.Type, m.Transport)
			}
			if m.Src.String() != "10.0.0.1:2905" || m.Dst.String() != "10.0.0.2:2905" || m.VTag != 7 || m.TSN != 1 || m.Stream != 1 {
				t.Errorf("transport fields %v %v %d %d %d", m.Src, m.Dst, m.VTag, m.TSN, m.Stream)
			}
		})
	}
}

func TestDecodeM3UAManagementCounted(t *testing.T) {
	b, err := messages.NewAspUp(nil, nil).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	_, st := decodeOne(t, Config{}, ethSCTPFrame(b, ppidM3UA, 1))
	if st.Reasons[SkipM3UAManagement] != 1 || st.M3UAManagement[3][1] != 1 {
		t.Errorf("ASP Up not counted: %s, [3][1]=%d", st.Summary(), st.M3UAManagement[3][1])
	}
}

var benchM3UAMsg = m3uaDATA(1, 1, 2, 5, 2, 0, 1, isupIAM(1, "13800138000", "2088881234"))

func BenchmarkM3UAReader(b *testing.B) {
	b.ReportAllocs()
	var pd m3uaData
	for i := 0; i < b.N; i++ {
		if _, _, r := readM3UA(benchM3UAMsg, &pd); r != ReasonNone {
			b.Fatal(r)
		}
	}
}

func BenchmarkGoM3UAParse(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m, err := messages.Parse(benchM3UAMsg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.(*messages.Data).ProtocolData.ProtocolData(); err != nil {
			b.Fatal(err)
		}
	}
}

// m3uaIAMHex is the M3UA message of frame 105 of mod_isup_validate.pcap; the
// routing context follows the protocol data there.
const m3uaIAMHex = "01000101000000400210002d0000000100000002050200010100010060110f03020604031001200a0884131657550000093d0114000000000006000800000001"
