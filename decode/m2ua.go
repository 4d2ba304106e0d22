package decode

import "encoding/binary"

// M2UA (RFC 3331) values used here.
const (
	m2uaClassMGMT  = 0
	m2uaClassASPSM = 3
	m2uaClassASPTM = 4
	m2uaClassMAUP  = 6
	m2uaClassIIM   = 10

	m2uaTypeData = 1

	m2uaTagIIDInteger    = 0x0001
	m2uaTagIIDText       = 0x0003
	m2uaTagProtocolData1 = 0x0300
	m2uaTagProtocolData2 = 0x0301 // TTC: a priority octet precedes the SIO
)

// readM2UA returns the interface identifier and the MTP3 message (SIO
// onward) of an M2UA DATA message, or the reason there is none.
func readM2UA(b []byte) (iid uint32, mtp3 []byte, r Reason) {
	if len(b) < 8 {
		return 0, nil, DropM2UATruncated
	}
	if b[0] != 1 {
		return 0, nil, DropM2UABad
	}
	class, typ := b[2], b[3]
	n := binary.BigEndian.Uint32(b[4:])
	if n < 8 {
		return 0, nil, DropM2UABad
	}
	if n > uint32(len(b)) {
		return 0, nil, DropM2UATruncated
	}
	b = b[8:n]
	switch {
	case class == m2uaClassMAUP && typ == m2uaTypeData:
	case class == m2uaClassMGMT, class == m2uaClassASPSM, class == m2uaClassASPTM,
		class == m2uaClassMAUP, class == m2uaClassIIM:
		return 0, nil, SkipM2UAManagement
	default:
		return 0, nil, DropM2UABad
	}
	have := false
	for len(b) > 0 {
		if len(b) < 4 {
			return 0, nil, DropM2UABad
		}
		tag := binary.BigEndian.Uint16(b)
		pl := int(binary.BigEndian.Uint16(b[2:]))
		if pl < 4 || pl > len(b) {
			return 0, nil, DropM2UABad
		}
		v := b[4:pl]
		switch tag {
		case m2uaTagIIDInteger:
			if len(v) != 4 {
				return 0, nil, DropM2UABad
			}
			iid = binary.BigEndian.Uint32(v)
		case m2uaTagIIDText:
			// A text identifier has no number; Message.Link stays 0.
		case m2uaTagProtocolData1:
			mtp3, have = v, true
		case m2uaTagProtocolData2:
			if len(v) < 1 {
				return 0, nil, DropM2UABad
			}
			mtp3, have = v[1:], true
		}
		b = b[min((pl+3)&^3, len(b)):]
	}
	if !have {
		return 0, nil, DropM2UABad
	}
	return iid, mtp3, ReasonNone
}

// decodeM2UA decodes one M2UA message from an SCTP DATA chunk.
func (d *Decoder) decodeM2UA(b []byte) {
	iid, mtp3, r := readM2UA(b)
	if r != ReasonNone {
		d.count(r)
		return
	}
	m := d.beginMessage(TransportM2UA)
	m.Link = uint16(iid)
	d.decodeMTP3(m, mtp3)
}
