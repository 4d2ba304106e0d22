package decode

import (
	"bytes"
	"testing"
)

// xdr_tester_m2pa.pcap frame 1 (IAM, priority octet 0x3f) and
// japan_tcap_over_m2pa.pcap frame 2 (empty User Data), from the M2PA header.
const (
	m2paIAMHex   = "01000b010000003500000033000000473f85203c99f30f0001112000e400020a08839009480210210f0a0703139469183091006100"
	m2paEmptyHex = "01000b01000000100000000800000007"
)

func TestReadM2PA(t *testing.T) {
	iam := lowerHex(t, m2paIAMHex)
	linkStatus := []byte{1, 0, 11, 2, 0, 0, 0, 12, 0, 0, 0, 3}
	set := func(i int, v byte) []byte { b := append([]byte(nil), iam...); b[i] = v; return b }
	cases := []struct {
		name      string
		b         []byte
		reason    Reason
		keepAlive bool
		mtp3      []byte
	}{
		{"user data", iam, ReasonNone, false, iam[17:]},
		{"empty user data", lowerHex(t, m2paEmptyHex), SkipM2PALinkStatus, true, nil},
		{"link status", linkStatus, SkipM2PALinkStatus, false, nil},
		{"built", m2paUserData(1, 2, []byte{0x85, 1, 2, 3, 4, 5}), ReasonNone, false, []byte{0x85, 1, 2, 3, 4, 5}},
		{"priority and nothing else", m2paUserData(1, 2, []byte{})[:17], DropM2PATruncated, false, nil},
		{"version 2", set(0, 2), DropM2PABad, false, nil},
		{"class 10", set(2, 10), DropM2PABad, false, nil},
		{"type 3", set(3, 3), DropM2PABad, false, nil},
		{"length beyond data", iam[:len(iam)-1], DropM2PATruncated, false, nil},
		{"length 4", set(7, 4), DropM2PABad, false, nil},
		{"user data without sequence numbers", []byte{1, 0, 11, 1, 0, 0, 0, 12, 0, 0, 0, 0}, DropM2PATruncated, false, nil},
		{"short", iam[:5], DropM2PATruncated, false, nil},
	}
	for _, c := range cases {
		mtp3, keep, r := readM2PA(c.b)
		if r != c.reason || keep != c.keepAlive || !bytes.Equal(mtp3, c.mtp3) {
			t.Errorf("%s: %v keep-alive %v mtp3 % x; want %v %v % x", c.name, r, keep, mtp3, c.reason, c.keepAlive, c.mtp3)
		}
	}
}

func TestDecodeM2PA(t *testing.T) {
	got, st := decodeOne(t, Config{},
		ethSCTPFrame(lowerHex(t, m2paIAMHex), ppidM2PA, 0),
		ethSCTPFrame(lowerHex(t, m2paEmptyHex), ppidM2PA, 1))
	if len(got) != 1 || st.M2PAKeepAlives != 1 || st.Reasons[SkipM2PALinkStatus] != 1 {
		t.Fatalf("%d messages: %s keep-alives %d", len(got), st.Summary(), st.M2PAKeepAlives)
	}
	m := got[0]
	// tshark: OPC 3684, DPC 15392, SLS 15, CIC 15, IAM.
	if m.Transport != TransportM2PA || m.Label.OPC != 3684 || m.Label.DPC != 15392 || m.Label.SLS != 15 || m.ISUP.CIC != 15 || m.ISUP.Type != 1 {
		t.Errorf("got %v %+v cic %d type %d", m.Transport, m.Label, m.ISUP.CIC, m.ISUP.Type)
	}
}
