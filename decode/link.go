package decode

import "encoding/binary"

// EtherTypes the link layer follows.
const (
	etherTypeIPv4   = 0x0800
	etherTypeIPv6   = 0x86dd
	etherTypeVLAN   = 0x8100
	etherTypeQinQ   = 0x88a8
	etherTypeQinQv1 = 0x9100 // pre-standard QinQ
)

// decodeLink strips the link-layer header of f and passes the payload on.
func (d *Decoder) decodeLink(f *Frame) {
	b := f.Data
	switch f.LinkType {
	case LinkTypeEthernet:
		d.decodeEthernet(b)
	case LinkTypeLinuxSLL:
		// packet type 2, ARPHRD 2, address length 2, address 8, protocol 2.
		if len(b) < 16 {
			d.count(DropLinkTruncated)
			return
		}
		d.decodeEtherType(binary.BigEndian.Uint16(b[14:]), b[16:])
	case LinkTypeLinuxSLL2:
		// protocol 2, reserved 2, ifindex 4, ARPHRD 2, packet type 1,
		// address length 1, address 8.
		if len(b) < 20 {
			d.count(DropLinkTruncated)
			return
		}
		d.decodeEtherType(binary.BigEndian.Uint16(b), b[20:])
	case LinkTypeRaw:
		if len(b) < 1 {
			d.count(DropLinkTruncated)
			return
		}
		switch b[0] >> 4 {
		case 4:
			d.decodeIPv4(b)
		case 6:
			d.decodeIPv6(b)
		default:
			d.count(SkipNotIP)
		}
	case LinkTypeIPv4:
		d.decodeIPv4(b)
	case LinkTypeIPv6:
		d.decodeIPv6(b)
	case LinkTypeNull, LinkTypeLoop:
		d.decodeLoopback(f.LinkType, b)
	case LinkTypeMTP2WithPHdr:
		// sent (1), annex A used (1), link number (2, big-endian).
		if len(b) < 4 {
			d.count(DropLinkTruncated)
			return
		}
		d.decodeMTP2(b[4:], f.Iface, binary.BigEndian.Uint16(b[2:]), b[0], f.FCSLen)
	case LinkTypeMTP2:
		d.decodeMTP2(b, f.Iface, 0, 0, f.FCSLen)
	case LinkTypeMTP3:
		m := d.beginMessage(TransportMTP3)
		d.decodeMTP3(m, b)
	default:
		d.count(DropLinkTypeUnsupported)
	}
}

func (d *Decoder) decodeEthernet(b []byte) {
	if len(b) < 14 {
		d.count(DropLinkTruncated)
		return
	}
	et := binary.BigEndian.Uint16(b[12:])
	b = b[14:]
	for et == etherTypeVLAN || et == etherTypeQinQ || et == etherTypeQinQv1 {
		if len(b) < 4 {
			d.count(DropLinkTruncated)
			return
		}
		et = binary.BigEndian.Uint16(b[2:])
		b = b[4:]
	}
	d.decodeEtherType(et, b)
}

func (d *Decoder) decodeEtherType(et uint16, b []byte) {
	switch et {
	case etherTypeIPv4:
		d.decodeIPv4(b)
	case etherTypeIPv6:
		d.decodeIPv6(b)
	default:
		d.count(SkipNotIP)
	}
}

// decodeLoopback handles the BSD loopback header: an address family in host
// byte order (Null) or network byte order (Loop). AF_INET6 differs by OS.
func (d *Decoder) decodeLoopback(lt uint16, b []byte) {
	if len(b) < 4 {
		d.count(DropLinkTruncated)
		return
	}
	af := binary.BigEndian.Uint32(b)
	if lt == LinkTypeNull && af > 0xffff {
		// Written by a little-endian host.
		af = binary.LittleEndian.Uint32(b)
	}
	switch af {
	case 2:
		d.decodeIPv4(b[4:])
	case 10, 24, 28, 30: // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, Darwin
		d.decodeIPv6(b[4:])
	default:
		d.count(SkipNotIP)
	}
}
