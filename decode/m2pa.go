package decode

import "encoding/binary"

// M2PA (RFC 4165) header values.
const (
	m2paVersion        = 1
	m2paClass          = 11
	m2paTypeUserData   = 1
	m2paTypeLinkStatus = 2
	m2paUserDataHeader = 16 // common header 8, BSN 4, FSN 4
)

// readM2PA returns the MTP3 message (SIO onward) of an M2PA User Data
// message, or the reason there is none. keepAlive reports a User Data message
// without payload.
func readM2PA(b []byte) (mtp3 []byte, keepAlive bool, r Reason) {
	if len(b) < 8 {
		return nil, false, DropM2PATruncated
	}
	if b[0] != m2paVersion || b[2] != m2paClass {
		return nil, false, DropM2PABad
	}
	n := binary.BigEndian.Uint32(b[4:])
	if n < 8 {
		return nil, false, DropM2PABad
	}
	if n > uint32(len(b)) {
		return nil, false, DropM2PATruncated
	}
	b = b[:n]
	switch b[3] {
	case m2paTypeLinkStatus:
		return nil, false, SkipM2PALinkStatus
	case m2paTypeUserData:
	default:
		return nil, false, DropM2PABad
	}
	if len(b) < m2paUserDataHeader {
		return nil, false, DropM2PATruncated
	}
	data := b[m2paUserDataHeader:]
	switch len(data) {
	case 0:
		return nil, true, SkipM2PALinkStatus
	case 1: // a priority octet and no message
		return nil, false, DropM2PATruncated
	}
	return data[1:], false, ReasonNone
}

// decodeM2PA decodes one M2PA message from an SCTP DATA chunk.
func (d *Decoder) decodeM2PA(b []byte) {
	mtp3, keepAlive, r := readM2PA(b)
	if keepAlive {
		d.stats.M2PAKeepAlives++
	}
	if r != ReasonNone {
		d.count(r)
		return
	}
	m := d.beginMessage(TransportM2PA)
	d.decodeMTP3(m, mtp3)
}
