package gen

import (
	"encoding/binary"
	"hash/crc32"
	"net/netip"
)

// This file holds the generator's own link, IPv4 and SCTP encoders. They are
// deliberately independent of package decode so the generator can act as its
// test oracle.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CRC32c is the SCTP checksum (RFC 9260 appendix A) over b.
func CRC32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Ethernet type and VLAN tag protocol identifiers.
const (
	etherTypeIPv4  = 0x0800
	etherTypeVLAN  = 0x8100 // IEEE 802.1Q customer tag
	etherTypeQinQ  = 0x88a8 // IEEE 802.1ad service tag
	ipProtoSCTP    = 132
	minEtherFrame  = 60 // without FCS; shorter frames are padded on the wire
	ipv4HeaderLen  = 20
	sctpCommonLen  = 12
	sctpDataHdrLen = 16
)

// SCTP chunk types (RFC 9260 section 3.2).
const (
	chunkDATA             = 0
	chunkINIT             = 1
	chunkINITACK          = 2
	chunkSACK             = 3
	chunkHEARTBEAT        = 4
	chunkHEARTBEATACK     = 5
	chunkCOOKIEECHO       = 10
	chunkCOOKIEACK        = 11
	dataFlagEnd           = 0x01
	dataFlagBegin         = 0x02
	paramHeartbeatInfo    = 1
	paramStateCookie      = 7
	ppidM3UA              = 3
	ppidM2PA              = 5
	portM3UA              = 2905
	portM2PA              = 3565
	defaultReceiverWindow = 106496
)

// appendEthernet writes an Ethernet II header with zero, one (802.1Q) or two
// (802.1ad outer + 802.1Q inner) VLAN tags for an IPv4 payload.
func appendEthernet(b []byte, dst, src [6]byte, vlans []uint16) []byte {
	b = append(b, dst[:]...)
	b = append(b, src[:]...)
	for i, id := range vlans {
		tpid := uint16(etherTypeVLAN)
		if i == 0 && len(vlans) > 1 {
			tpid = etherTypeQinQ
		}
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, id&0x0fff)
	}
	return binary.BigEndian.AppendUint16(b, etherTypeIPv4)
}

// appendIPv4 writes an IPv4 header whose total length and checksum are filled
// in later by finishIPv4.
func appendIPv4(b []byte, id uint16, src, dst netip.Addr) []byte {
	b = append(b,
		0x45, 0x68, // version 4, IHL 5; DSCP AF31 as signalling usually is
		0, 0, // total length
		byte(id>>8), byte(id),
		0x40, 0, // don't fragment
		64, ipProtoSCTP,
		0, 0) // checksum
	s, d := src.As4(), dst.As4()
	b = append(b, s[:]...)
	return append(b, d[:]...)
}

// finishIPv4 sets the total length and header checksum of the header at h.
func finishIPv4(h []byte, totalLen int) {
	binary.BigEndian.PutUint16(h[2:], uint16(totalLen))
	h[10], h[11] = 0, 0
	binary.BigEndian.PutUint16(h[10:], IPv4Checksum(h[:ipv4HeaderLen]))
}

// IPv4Checksum is the ones' complement sum of the header (RFC 791/1071).
func IPv4Checksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	if len(h)%2 == 1 {
		sum += uint32(h[len(h)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// appendSCTPHeader writes the common header with a zero checksum.
func appendSCTPHeader(b []byte, srcPort, dstPort uint16, vtag uint32) []byte {
	b = binary.BigEndian.AppendUint16(b, srcPort)
	b = binary.BigEndian.AppendUint16(b, dstPort)
	b = binary.BigEndian.AppendUint32(b, vtag)
	return append(b, 0, 0, 0, 0)
}

// finishSCTP computes the CRC32c over the whole SCTP packet with the checksum
// field zeroed, and stores it as RFC 9260 appendix A requires (the CRC's
// low-order byte first on the wire).
func finishSCTP(p []byte) {
	p[8], p[9], p[10], p[11] = 0, 0, 0, 0
	binary.LittleEndian.PutUint32(p[8:], CRC32c(p))
}

// pad4 appends zero bytes up to a multiple of four from start.
func pad4(b []byte, start int) []byte {
	for (len(b)-start)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// appendChunk writes a chunk with the given value, padded.
func appendChunk(b []byte, typ, flags uint8, value []byte) []byte {
	start := len(b)
	b = append(b, typ, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(value)))
	b = append(b, value...)
	return pad4(b, start)
}

// appendDataChunk writes a DATA chunk (RFC 9260 3.3.1), padded.
func appendDataChunk(b []byte, flags uint8, tsn uint32, stream, ssn uint16, ppid uint32, payload []byte) []byte {
	start := len(b)
	b = append(b, chunkDATA, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(sctpDataHdrLen+len(payload)))
	b = binary.BigEndian.AppendUint32(b, tsn)
	b = binary.BigEndian.AppendUint16(b, stream)
	b = binary.BigEndian.AppendUint16(b, ssn)
	b = binary.BigEndian.AppendUint32(b, ppid)
	b = append(b, payload...)
	return pad4(b, start)
}

// appendInit writes INIT or INIT ACK; an INIT ACK carries the state cookie.
func appendInit(b []byte, typ uint8, tag, initialTSN uint32, streams uint16, cookie []byte) []byte {
	start := len(b)
	b = append(b, typ, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, tag)
	b = binary.BigEndian.AppendUint32(b, defaultReceiverWindow)
	b = binary.BigEndian.AppendUint16(b, streams) // outbound streams
	b = binary.BigEndian.AppendUint16(b, streams) // max inbound streams
	b = binary.BigEndian.AppendUint32(b, initialTSN)
	if cookie != nil {
		b = binary.BigEndian.AppendUint16(b, paramStateCookie)
		b = binary.BigEndian.AppendUint16(b, uint16(4+len(cookie)))
		b = append(b, cookie...)
		b = pad4(b, start)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}

// appendSACK writes a SACK with no gap blocks and the given duplicate TSNs.
func appendSACK(b []byte, cumTSN uint32, dups []uint32) []byte {
	b = append(b, chunkSACK, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(16+4*len(dups)))
	b = binary.BigEndian.AppendUint32(b, cumTSN)
	b = binary.BigEndian.AppendUint32(b, defaultReceiverWindow)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(dups)))
	for _, d := range dups {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return b
}

// appendHeartbeat writes HEARTBEAT or HEARTBEAT ACK with its info parameter.
func appendHeartbeat(b []byte, typ uint8, info []byte) []byte {
	start := len(b)
	b = append(b, typ, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(4+4+len(info)))
	b = binary.BigEndian.AppendUint16(b, paramHeartbeatInfo)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(info)))
	b = append(b, info...)
	return pad4(b, start)
}
