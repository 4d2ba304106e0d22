package decode

import (
	"encoding/binary"
	"net/netip"
)

const ipProtoSCTP = 132

// decodeIPv4 checks the header and hands SCTP on; a fragment goes to
// ipFragment (ipfrag.go), the IP layer's only state.
func (d *Decoder) decodeIPv4(b []byte) {
	if len(b) < 20 {
		d.count(DropIPTruncated)
		return
	}
	if b[0]>>4 != 4 {
		d.count(DropIPBadHeader)
		return
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 {
		d.count(DropIPBadHeader)
		return
	}
	if len(b) < ihl {
		d.count(DropIPTruncated)
		return
	}
	total := int(binary.BigEndian.Uint16(b[2:]))
	if total == 0 {
		// TSO: the NIC fills the length in later; trust the capture.
		total = len(b)
	}
	if total < ihl {
		d.count(DropIPBadHeader)
		return
	}
	if total > len(b) {
		d.count(DropIPTruncated)
		return
	}
	b = b[:total] // drop Ethernet padding and trailers
	proto := b[9]
	if !d.transportWanted(proto) {
		d.count(SkipNotSCTP)
		return
	}
	src := netip.AddrFrom4([4]byte(b[12:16]))
	dst := netip.AddrFrom4([4]byte(b[16:20]))
	fragField := binary.BigEndian.Uint16(b[6:])
	more := fragField&0x2000 != 0
	offset := int(fragField&0x1fff) * 8
	payload := b[ihl:]
	if more || offset != 0 {
		key := fragKey{src: src, dst: dst, id: uint32(binary.BigEndian.Uint16(b[4:])), proto: proto}
		d.ipFragment(key, offset, more, payload)
		return
	}
	d.decodeTransport(proto, src, dst, payload)
}

// decodeIPv6 walks the extension headers to SCTP; a fragment goes to
// ipFragment (ipfrag.go).
func (d *Decoder) decodeIPv6(b []byte) {
	if len(b) < 40 {
		d.count(DropIPTruncated)
		return
	}
	if b[0]>>4 != 6 {
		d.count(DropIPBadHeader)
		return
	}
	plen := int(binary.BigEndian.Uint16(b[4:]))
	if plen == 0 {
		// Jumbogram or TSO: trust the capture.
		plen = len(b) - 40
	}
	if 40+plen > len(b) {
		d.count(DropIPTruncated)
		return
	}
	src := netip.AddrFrom16([16]byte(b[8:24]))
	dst := netip.AddrFrom16([16]byte(b[24:40]))
	next := b[6]
	p := b[40 : 40+plen]
	for {
		switch next {
		case ipProtoSCTP, ipProtoUDP, ipProtoTCP:
			d.decodeTransport(next, src, dst, p)
			return
		case 0, 43, 60, 135: // hop-by-hop, routing, destination options, mobility
			if len(p) < 8 {
				d.count(DropIPTruncated)
				return
			}
			n := (int(p[1]) + 1) * 8
			if n > len(p) {
				d.count(DropIPTruncated)
				return
			}
			next, p = p[0], p[n:]
		case 51: // authentication header: length in 4-octet units minus 2
			if len(p) < 8 {
				d.count(DropIPTruncated)
				return
			}
			n := (int(p[1]) + 2) * 4
			if n > len(p) {
				d.count(DropIPTruncated)
				return
			}
			next, p = p[0], p[n:]
		case 44: // fragment
			if len(p) < 8 {
				d.count(DropIPTruncated)
				return
			}
			next = p[0]
			off := int(binary.BigEndian.Uint16(p[2:]) &^ 7)
			more := p[3]&1 != 0
			id := binary.BigEndian.Uint32(p[4:])
			p = p[8:]
			if !more && off == 0 {
				continue // atomic fragment
			}
			if !d.transportWanted(next) {
				// Every fragment names the protocol of the fragmentable part.
				d.count(SkipNotSCTP)
				return
			}
			d.ipFragment(fragKey{src: src, dst: dst, id: id, proto: next, v6: true}, off, more, p)
			return
		default:
			d.count(SkipNotSCTP)
			return
		}
	}
}
