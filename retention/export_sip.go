package retention

import (
	"encoding/binary"

	"github.com/gatewarden/gatewarden/decode"
)

// LinkTypeUpperPDU is the pcap link type of Wireshark's exported PDUs
// (LINKTYPE_WIRESHARK_UPPER_PDU): each record names the dissector for its
// bytes and may carry the addresses and ports the PDU travelled between.
const LinkTypeUpperPDU = 252

// Exported-PDU tags (Wireshark epan/exported_pdu.h) and port types
// (epan/address.h port_type).
const (
	expTagEnd       = 0
	expTagProtoName = 12
	expTagIPv4Src   = 20
	expTagIPv4Dst   = 21
	expTagIPv6Src   = 22
	expTagIPv6Dst   = 23
	expTagPortType  = 24
	expTagSrcPort   = 25
	expTagDstPort   = 26

	portTypeSCTP = 1
	portTypeTCP  = 2
	portTypeUDP  = 3
)

// appendUpperPDU appends one exported-PDU record body for m: an SS7 message
// as its MTP3 bytes for the "mtp3" dissector; a SIP message as itself for the
// "sip" dissector, with the addresses, transport and ports it was captured
// with. Nothing is invented: these are the stored values, as tags.
func appendUpperPDU(b []byte, m *Message) []byte {
	if !m.IsSIP() {
		b = appendExpString(b, expTagProtoName, "mtp3")
		b = binary.BigEndian.AppendUint16(b, expTagEnd)
		b = binary.BigEndian.AppendUint16(b, 0)
		return append(b, m.MTP3...)
	}
	b = appendExpString(b, expTagProtoName, "sip")
	if m.Src.Addr().Is4() {
		b = appendExpBytes(b, expTagIPv4Src, m.Src.Addr().AsSlice())
		b = appendExpBytes(b, expTagIPv4Dst, m.Dst.Addr().AsSlice())
	} else {
		b = appendExpBytes(b, expTagIPv6Src, m.Src.Addr().AsSlice())
		b = appendExpBytes(b, expTagIPv6Dst, m.Dst.Addr().AsSlice())
	}
	pt := uint32(portTypeUDP)
	switch m.Transport {
	case decode.TransportTCP:
		pt = portTypeTCP
	case decode.TransportSCTP:
		pt = portTypeSCTP
	}
	b = appendExpUint32(b, expTagPortType, pt)
	b = appendExpUint32(b, expTagSrcPort, uint32(m.Src.Port()))
	b = appendExpUint32(b, expTagDstPort, uint32(m.Dst.Port()))
	b = binary.BigEndian.AppendUint16(b, expTagEnd)
	b = binary.BigEndian.AppendUint16(b, 0)
	return append(b, m.MTP3...)
}

func appendExpBytes(b []byte, tag uint16, v []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, tag)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

func appendExpUint32(b []byte, tag uint16, v uint32) []byte {
	b = binary.BigEndian.AppendUint16(b, tag)
	b = binary.BigEndian.AppendUint16(b, 4)
	return binary.BigEndian.AppendUint32(b, v)
}

// appendExpString writes a string tag, NUL-padded to a multiple of four.
func appendExpString(b []byte, tag uint16, s string) []byte {
	n := (len(s) + 4) &^ 3
	b = binary.BigEndian.AppendUint16(b, tag)
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	b = append(b, s...)
	for i := len(s); i < n; i++ {
		b = append(b, 0)
	}
	return b
}
