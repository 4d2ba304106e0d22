package decode

import (
	"encoding/binary"
	"net/netip"
)

// IP protocol numbers and the SIP ports the decoder knows.
const (
	ipProtoTCP = 6
	ipProtoUDP = 17

	portSIP    = 5060
	portSIPTLS = 5061 // SIP over TLS on TCP; over SCTP (RFC 4168) plain SIP uses both

	udpHeaderLen = 8
)

// transportWanted reports whether the IP payload protocol is one the decoder
// reads (SCTP always; UDP and TCP with Config.SIP).
func (d *Decoder) transportWanted(proto uint8) bool {
	return proto == ipProtoSCTP || d.cfg.SIP && (proto == ipProtoUDP || proto == ipProtoTCP)
}

// decodeTransport hands an IP payload (reassembled if it was fragmented) to
// SCTP, UDP or TCP.
func (d *Decoder) decodeTransport(proto uint8, src, dst netip.Addr, p []byte) {
	switch {
	case proto == ipProtoSCTP:
		d.decodeSCTP(src, dst, p)
	case proto == ipProtoUDP && d.cfg.SIP:
		d.decodeUDP(src, dst, p)
	case proto == ipProtoTCP && d.cfg.SIP:
		d.decodeTCP(src, dst, p)
	default:
		d.count(SkipNotSCTP)
	}
}

// decodeUDP delivers a datagram that is a SIP message. Anything else on UDP
// (RTP, DNS, MGCP, …) is counted and skipped.
func (d *Decoder) decodeUDP(src, dst netip.Addr, b []byte) {
	if len(b) < udpHeaderLen {
		d.count(DropUDPTruncated)
		return
	}
	sport, dport := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
	n := int(binary.BigEndian.Uint16(b[4:]))
	if n < udpHeaderLen || n > len(b) {
		if n != 0 { // 0: a jumbogram or offloaded checksum/length; trust the capture
			d.count(DropUDPTruncated)
			return
		}
		n = len(b)
	}
	p := b[udpHeaderLen:n]
	if !looksLikeSIP(p) {
		d.count(SkipUDPNotSIP)
		return
	}
	d.deliverSIP(TransportUDP, netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport), p, true)
}

// sctpSIP reports whether an SCTP user message with an unassigned PPID is SIP:
// on the SIP ports, or starting like a SIP message (RFC 4168 assigns no PPID).
func (d *Decoder) sctpSIP(p []byte) bool {
	if !d.cfg.SIP {
		return false
	}
	sp, dp := d.sctp.cur.src.Port(), d.sctp.cur.dst.Port()
	return sp == portSIP || dp == portSIP || sp == portSIPTLS || dp == portSIPTLS || looksLikeSIP(p)
}

// ITUISUPBody reports whether an application/ISUP body of this version (or
// base) parameter is ITU-T ISUP (itu-t*, national ITU variants such as the
// French "spirou", or no version), which the ISUP decoder reads, rather than
// ANSI ISUP (ansi*, gr317), which it does not. tshark decides the same way.
func ITUISUPBody(version []byte) bool {
	return !hasPrefixFold(version, "ansi") && !hasPrefixFold(version, "gr317")
}

// deliverSIP parses one SIP message, decodes an application/ISUP body, and
// hands the message to the handler.
func (d *Decoder) deliverSIP(t Transport, src, dst netip.AddrPort, p []byte, datagram bool) {
	m := d.beginMessage(t)
	m.Src, m.Dst = src, dst
	if t != TransportSCTP {
		m.VTag, m.Stream, m.TSN, m.PPID, m.SSN = 0, 0, 0, 0, 0
	}
	m.Protocol = ProtocolSIP
	s := &m.SIP
	if r := ParseSIP(p, datagram, s); r != ReasonNone {
		d.count(r)
		return
	}
	if m.ISUP.Raw != nil {
		m.ISUP = ISUP{} // no stale ISUP on a message without (a good) body
	}
	if s.HasISUP {
		d.sipISUP(m)
	}
	d.stats.Messages++
	d.stats.SIPMessages++
	if d.h != nil {
		d.h(m)
	}
}

// sipISUP decodes the application/ISUP body of m.SIP into m.ISUP. ITU-T ISUP
// (version itu-t*, and the national ITU variants such as the French
// "spirou") is SIP-I; ANSI ISUP is SIP-T and is not decoded (counted). A body
// that fails to decode leaves the SIP message delivered without ISUP, the
// failure counted like a faulty optional part.
func (d *Decoder) sipISUP(m *Message) {
	s := &m.SIP
	if !ITUISUPBody(s.ISUPVersion) {
		m.Protocol = ProtocolSIPT
		d.count(SkipSIPISUPVariant)
		return
	}
	m.Protocol = ProtocolSIPI
	r := DecodeISUPBody(s.ISUPBody, &m.ISUP)
	if r == ReasonNone && !KnownMessageType(m.ISUP.Type) {
		d.stats.UnknownISUPTypes++
		d.count(SkipISUPUnknownType)
	}
	if r != ReasonNone {
		d.count(r)
		return
	}
	d.noteISUP(&m.ISUP)
	m.HasISUP = true
}
