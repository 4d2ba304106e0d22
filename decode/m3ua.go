package decode

import "encoding/binary"

// M3UA (RFC 4666) message classes and parameter tags used here.
const (
	m3uaClassMGMT     = 0
	m3uaClassTransfer = 1
	m3uaClassSSNM     = 2
	m3uaClassASPSM    = 3
	m3uaClassASPTM    = 4
	m3uaClassRKM      = 9

	m3uaTypeData = 1

	m3uaTagRoutingContext     = 0x0006
	m3uaTagCorrelationID      = 0x0013
	m3uaTagNetworkAppearance  = 0x0200
	m3uaTagProtocolData       = 0x0210
	m3uaProtocolDataHeaderLen = 12 // OPC 4, DPC 4, SI, NI, MP, SLS
)

// m3uaData is what the zero-copy reader takes from a DATA message.
type m3uaData struct {
	na, rc       uint32
	hasNA, hasRC bool
	opc, dpc     uint32
	si, ni       uint8
	mp, sls      uint8
	user         []byte // aliases the input
}

// readM3UA parses one M3UA message. For DATA it fills out and returns
// ReasonNone; management messages return SkipM3UAManagement with their
// class and type.
func readM3UA(b []byte, out *m3uaData) (class, typ uint8, r Reason) {
	if len(b) < 8 {
		return 0, 0, DropM3UATruncated
	}
	class, typ = b[2], b[3]
	if b[0] != 1 {
		return class, typ, DropM3UABad
	}
	n := binary.BigEndian.Uint32(b[4:])
	if n < 8 {
		return class, typ, DropM3UABad
	}
	if n > uint32(len(b)) {
		return class, typ, DropM3UATruncated
	}
	b = b[8:n]
	switch class {
	case m3uaClassMGMT, m3uaClassSSNM, m3uaClassASPSM, m3uaClassASPTM, m3uaClassRKM:
		return class, typ, SkipM3UAManagement
	case m3uaClassTransfer:
		if typ != m3uaTypeData {
			return class, typ, DropM3UABad
		}
	default:
		return class, typ, DropM3UABad
	}
	*out = m3uaData{}
	havePD := false
	for len(b) > 0 {
		if len(b) < 4 {
			return class, typ, DropM3UABad
		}
		tag := binary.BigEndian.Uint16(b)
		pl := int(binary.BigEndian.Uint16(b[2:]))
		if pl < 4 || pl > len(b) {
			return class, typ, DropM3UABad
		}
		v := b[4:pl]
		switch tag {
		case m3uaTagNetworkAppearance:
			if len(v) != 4 {
				return class, typ, DropM3UABad
			}
			out.na, out.hasNA = binary.BigEndian.Uint32(v), true
		case m3uaTagRoutingContext:
			// DATA carries one context; a list would be malformed here.
			if len(v) != 4 {
				return class, typ, DropM3UABad
			}
			out.rc, out.hasRC = binary.BigEndian.Uint32(v), true
		case m3uaTagProtocolData:
			if len(v) < m3uaProtocolDataHeaderLen {
				return class, typ, DropM3UABad
			}
			out.opc = binary.BigEndian.Uint32(v)
			out.dpc = binary.BigEndian.Uint32(v[4:])
			out.si, out.ni, out.mp, out.sls = v[8], v[9], v[10], v[11]
			out.user = v[m3uaProtocolDataHeaderLen:]
			havePD = true
		}
		b = b[min((pl+3)&^3, len(b)):]
	}
	if !havePD {
		return class, typ, DropM3UABad
	}
	return class, typ, ReasonNone
}

// decodeM3UA decodes one M3UA message from an SCTP DATA chunk.
func (d *Decoder) decodeM3UA(b []byte) {
	var pd m3uaData
	class, typ, r := readM3UA(b, &pd)
	if r == SkipM3UAManagement {
		d.stats.M3UAManagement[min(class, 15)][min(typ, 15)]++
	}
	if r != ReasonNone {
		d.count(r)
		return
	}
	if pd.si != SIISUP && pd.si != SIBICC {
		d.count(SkipMTP3NotISUP) // SCCP (3), SNM, …
		return
	}
	m := d.beginMessage(TransportM3UA)
	m.RoutingContext, m.HasRC = pd.rc, pd.hasRC
	m.NetworkAppearance, m.HasNA = pd.na, pd.hasNA
	w := d.pcBits()
	var limit uint32
	switch w {
	case 14:
		limit = 1<<14 - 1
	case 24:
		limit = 1<<24 - 1
	default:
		d.count(DropMTP3PCWidthUnsupported)
		return
	}
	if pd.opc > limit || pd.dpc > limit {
		d.count(DropMTP3PCWidthUnsupported)
		return
	}
	m.Label = Label{NI: pd.ni & 3, SI: pd.si, MP: pd.mp & 3, OPC: pd.opc, DPC: pd.dpc, SLS: pd.sls, PCBits: w}
	// Label.SLS keeps the octet M3UA carries (as tshark shows it); the rebuilt
	// label has room for what the format allows.
	// Rebuild the MTP3 header the message would have on an MTP2 link.
	buf := append(d.mtp3Buf[:0], m.Label.NI<<6|m.Label.MP<<4|m.Label.SI)
	buf = appendLabel(buf, &m.Label)
	buf = append(buf, pd.user...)
	d.mtp3Buf = buf
	m.MTP3 = buf
	m.Protocol = ProtocolOfSI(pd.si)
	d.deliverISUP(m, pd.user)
}

// appendLabel encodes the routing label as MTP3 carries it.
func appendLabel(b []byte, l *Label) []byte {
	if l.PCBits == 24 {
		return append(b, byte(l.DPC), byte(l.DPC>>8), byte(l.DPC>>16),
			byte(l.OPC), byte(l.OPC>>8), byte(l.OPC>>16), l.SLS)
	}
	v := l.DPC&0x3fff | (l.OPC&0x3fff)<<14 | uint32(l.SLS&0x0f)<<28
	return binary.LittleEndian.AppendUint32(b, v)
}
