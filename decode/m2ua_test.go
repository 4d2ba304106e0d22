package decode

import (
	"bytes"
	"testing"
)

// camel.pcap frame 1 (Protocol Data 1, no interface identifier) and
// ansi_map_win.pcap frame 1 (integer interface identifier 51), from the M2UA
// header.
const (
	m2uaCamelHex = "01000601000000ac030000a383648002c0098103070b04436400c804430a00988a628187480206f76b1e281c060700118605010101a011600f80020780a1090607040000010032016c61a15f020101020100305780012a830884111487095040f79c01029f32061487572586f9bf34148107913366020000f0a3098007313233343536379f3605a12345678f9f3707913366020000f09f3807111487085040f79f3908023090021122337000"
	m2uaANSIHex  = "01000601000000880001000800000033030000778306000009000018098003080d05c30606000005430809000059e257c70400000048e84fe94dcf0101d102090ff2448107000c020000120084060100210454819503000c029601139f50060200010302089f200509090000089f7b0207309f82170120bf82180c9f8215037070189f8219010300"
)

func TestReadM2UA(t *testing.T) {
	camel := lowerHex(t, m2uaCamelHex)
	ansi := lowerHex(t, m2uaANSIHex)
	mtp3 := mtp3ITU(0x85, 1, 2, 3, isupMessage(9, 0x10))
	pd2 := sigtranHeader(6, 1, append(tlv(m2uaTagIIDText, []byte("e1-7")), tlv(m2uaTagProtocolData2, append([]byte{0x40}, mtp3...))...))
	set := func(i int, v byte) []byte { b := append([]byte(nil), camel...); b[i] = v; return b }
	cases := []struct {
		name   string
		b      []byte
		reason Reason
		iid    uint32
		mtp3   []byte
	}{
		{"camel", camel, ReasonNone, 0, camel[12 : 12+0xa3-4]},
		{"ansi, integer iid", ansi, ReasonNone, 51, ansi[20 : 20+0x77-4]},
		{"protocol data 2 with text iid", pd2, ReasonNone, 0, mtp3},
		{"aspsm", sigtranHeader(3, 1, nil), SkipM2UAManagement, 0, nil},
		{"maup establish", sigtranHeader(6, 2, nil), SkipM2UAManagement, 0, nil},
		{"iim", sigtranHeader(10, 1, nil), SkipM2UAManagement, 0, nil},
		{"class 1", sigtranHeader(1, 1, nil), DropM2UABad, 0, nil},
		{"no protocol data", sigtranHeader(6, 1, tlv(m2uaTagIIDInteger, []byte{0, 0, 0, 1})), DropM2UABad, 0, nil},
		{"iid of 2 octets", sigtranHeader(6, 1, tlv(m2uaTagIIDInteger, []byte{0, 1})), DropM2UABad, 0, nil},
		{"version 0", set(0, 0), DropM2UABad, 0, nil},
		{"length beyond data", camel[:100], DropM2UATruncated, 0, nil},
		{"parameter length 3", set(11, 3), DropM2UABad, 0, nil},
		{"short", camel[:6], DropM2UATruncated, 0, nil},
	}
	for _, c := range cases {
		iid, m, r := readM2UA(c.b)
		if r != c.reason || iid != c.iid || !bytes.Equal(m, c.mtp3) {
			t.Errorf("%s: %v iid %d mtp3 %d octets; want %v %d %d", c.name, r, iid, len(m), c.reason, c.iid, len(c.mtp3))
		}
	}
}

func TestDecodeM2UA(t *testing.T) {
	mtp3 := mtp3ITU(0x85, 1, 2, 3, isupMessage(9, 0x10))
	msg := sigtranHeader(6, 1, append(tlv(m2uaTagIIDInteger, []byte{0, 0, 1, 2}), tlv(m2uaTagProtocolData1, mtp3)...))
	got, st := decodeOne(t, Config{}, ethSCTPFrame(msg, ppidM2UA, 1), ethSCTPFrame(lowerHex(t, m2uaCamelHex), ppidM2UA, 2))
	if len(got) != 1 || st.Reasons[SkipMTP3NotISUP] != 1 {
		t.Fatalf("%d messages: %s", len(got), st.Summary())
	}
	if got[0].Transport != TransportM2UA || got[0].Link != 0x0102 || got[0].ISUP.CIC != 9 || !bytes.Equal(got[0].MTP3, mtp3) {
		t.Errorf("got %v link %d cic %d", got[0].Transport, got[0].Link, got[0].ISUP.CIC)
	}
}
