package decode

import "encoding/binary"

// decodeMTP3 decodes the SIO and routing label of b (SIO onward) into m and
// delivers the ISUP or BICC message. Other service indicators are skipped before the
// label is read, so a label width we do not support only matters for ISUP.
func (d *Decoder) decodeMTP3(m *Message, b []byte) {
	if len(b) < 1 {
		d.count(DropMTP3Truncated)
		return
	}
	sio := b[0]
	si := sio & 0x0f // the spare bits may be set
	if si != SIISUP && si != SIBICC {
		d.count(SkipMTP3NotISUP)
		return
	}
	w := d.pcBits()
	l := Label{NI: sio >> 6, SI: si, MP: sio >> 4 & 3, PCBits: w}
	var isup []byte
	switch w {
	case 14:
		if len(b) < 5 {
			d.count(DropMTP3Truncated)
			return
		}
		v := binary.LittleEndian.Uint32(b[1:])
		l.DPC = v & 0x3fff
		l.OPC = v >> 14 & 0x3fff
		l.SLS = uint8(v >> 28)
		isup = b[5:]
	case 24:
		if len(b) < 8 {
			d.count(DropMTP3Truncated)
			return
		}
		l.DPC = uint32(b[1]) | uint32(b[2])<<8 | uint32(b[3])<<16
		l.OPC = uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16
		// China uses 4 SLS bits of the octet (as tshark's "Chinese ITU").
		l.SLS = b[7] & 0x0f
		isup = b[8:]
	default:
		d.count(DropMTP3PCWidthUnsupported)
		return
	}
	m.Label = l
	m.MTP3 = b
	m.Protocol = ProtocolOfSI(si)
	d.deliverISUP(m, isup)
}
