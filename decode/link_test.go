package decode

import (
	"encoding/binary"
	"testing"
)

// m3uaSCTP is an SCTP packet carrying one M3UA DATA with an IAM.
func m3uaSCTP() []byte {
	return sctpPacket(2905, 2905, 1, dataChunk(3, 1, 0, 0, ppidM3UA, m3uaISUP(1, 1)))
}

func ipv4SCTP() []byte {
	return ipv4Packet([4]byte{10, 1, 1, 1}, [4]byte{10, 1, 1, 2}, 1, 0, ipProtoSCTP, m3uaSCTP())
}

// ipv6Packet builds an IPv6 header; ext is inserted before payload and next
// is the first next-header value.
func ipv6Packet(next byte, payload []byte) []byte {
	b := make([]byte, 40)
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6] = next
	b[7] = 64
	b[8], b[23] = 0x20, 1
	b[24], b[39] = 0x20, 2
	return append(b, payload...)
}

func sll(proto uint16, payload []byte) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint16(b[14:], proto)
	return append(b, payload...)
}

func sll2(proto uint16, payload []byte) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b, proto)
	return append(b, payload...)
}

func TestLinkTypes(t *testing.T) {
	ip4 := ipv4SCTP()
	ip6 := ipv6Packet(ipProtoSCTP, m3uaSCTP())
	le := func(af uint32, p []byte) []byte { return append(binary.LittleEndian.AppendUint32(nil, af), p...) }
	be := func(af uint32, p []byte) []byte { return append(binary.BigEndian.AppendUint32(nil, af), p...) }
	cases := []struct {
		name   string
		lt     uint16
		data   []byte
		reason Reason // ReasonNone: one message expected
	}{
		{"ethernet", LinkTypeEthernet, ethernet(etherTypeIPv4, ip4), ReasonNone},
		{"ethernet padding after IP", LinkTypeEthernet, append(ethernet(etherTypeIPv4, ip4), 0, 0, 0, 0), ReasonNone},
		{"802.1Q", LinkTypeEthernet, ethernet(etherTypeIPv4, ip4, etherTypeVLAN), ReasonNone},
		{"QinQ 88a8", LinkTypeEthernet, ethernet(etherTypeIPv4, ip4, etherTypeQinQ, etherTypeVLAN), ReasonNone},
		{"QinQ 9100", LinkTypeEthernet, ethernet(etherTypeIPv6, ip6, etherTypeQinQv1, etherTypeVLAN), ReasonNone},
		{"ethernet ipv6", LinkTypeEthernet, ethernet(etherTypeIPv6, ip6), ReasonNone},
		{"arp", LinkTypeEthernet, ethernet(0x0806, make([]byte, 28)), SkipNotIP},
		{"short ethernet", LinkTypeEthernet, make([]byte, 13), DropLinkTruncated},
		{"vlan tag cut", LinkTypeEthernet, ethernet(etherTypeVLAN, []byte{0, 1}), DropLinkTruncated},
		{"sll", LinkTypeLinuxSLL, sll(etherTypeIPv4, ip4), ReasonNone},
		{"sll short", LinkTypeLinuxSLL, make([]byte, 15), DropLinkTruncated},
		{"sll2", LinkTypeLinuxSLL2, sll2(etherTypeIPv4, ip4), ReasonNone},
		{"sll2 ipv6", LinkTypeLinuxSLL2, sll2(etherTypeIPv6, ip6), ReasonNone},
		{"sll2 short", LinkTypeLinuxSLL2, make([]byte, 19), DropLinkTruncated},
		{"raw v4", LinkTypeRaw, ip4, ReasonNone},
		{"raw v6", LinkTypeRaw, ip6, ReasonNone},
		{"raw neither", LinkTypeRaw, []byte{0x10}, SkipNotIP},
		{"raw empty", LinkTypeRaw, nil, DropLinkTruncated},
		{"ipv4 link type", LinkTypeIPv4, ip4, ReasonNone},
		{"ipv6 link type", LinkTypeIPv6, ip6, ReasonNone},
		{"null little-endian", LinkTypeNull, le(2, ip4), ReasonNone},
		{"null big-endian", LinkTypeNull, be(2, ip4), ReasonNone},
		{"null ipv6 darwin", LinkTypeNull, le(30, ip6), ReasonNone},
		{"loop", LinkTypeLoop, be(2, ip4), ReasonNone},
		{"loop ipv6 freebsd", LinkTypeLoop, be(28, ip6), ReasonNone},
		{"loop other family", LinkTypeLoop, be(7, ip4), SkipNotIP},
		{"mtp3", LinkTypeMTP3, mtp3ITU(0x85, 1, 2, 3, isupMessage(1, 0x10)), ReasonNone},
		{"mtp2", LinkTypeMTP2, append([]byte{1, 1, 8}, mtp3ITU(0x85, 1, 2, 3, isupMessage(1, 0x10))...), ReasonNone},
		{"mtp2 pseudo-header", LinkTypeMTP2WithPHdr, append([]byte{1, 0, 0, 3, 1, 1, 8}, mtp3ITU(0x85, 1, 2, 3, isupMessage(1, 0x10))...), ReasonNone},
		{"mtp2 pseudo-header cut", LinkTypeMTP2WithPHdr, []byte{1, 0, 0}, DropLinkTruncated},
		{"802.11", 105, ip4, DropLinkTypeUnsupported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, st := decodeOne(t, Config{}, Frame{LinkType: c.lt, Frame: 1, FCSLen: -1, Data: c.data})
			if c.reason == ReasonNone {
				if len(got) != 1 {
					t.Fatalf("no message: %s", st.Summary())
				}
				return
			}
			if len(got) != 0 || st.Reasons[c.reason] != 1 {
				t.Errorf("%d messages, %s; want %v", len(got), st.Summary(), c.reason)
			}
		})
	}
}

func TestLinkNumberFromPseudoHeader(t *testing.T) {
	msu := mtp3ITU(0x85, 1, 2, 3, isupMessage(1, 0x10))
	got, _ := decodeOne(t, Config{}, Frame{LinkType: LinkTypeMTP2WithPHdr, FCSLen: -1,
		Data: append([]byte{0, 0, 0x01, 0x02, 1, 1, byte(len(msu))}, msu...)})
	if len(got) != 1 || got[0].Link != 0x0102 || got[0].Transport != TransportMTP2 {
		t.Fatalf("got %+v", got)
	}
}
