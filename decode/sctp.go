package decode

import (
	"encoding/binary"
	"hash/crc32"
	"hash/maphash"
	"net/netip"
)

// SCTP chunk types and payload protocol identifiers (IANA).
const (
	sctpChunkDATA  = 0
	sctpChunkIDATA = 64

	ppidM2UA = 2
	ppidM3UA = 3
	ppidM2PA = 5

	portM2UA = 2904
	portM3UA = 2905
	portM2PA = 3565
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// zeroChecksum stands in for the checksum field; a package variable so the
// slice of it does not escape per call.
var zeroChecksum [4]byte

// sctpCur describes the DATA chunk being decoded, for Message.
type sctpCur struct {
	src, dst netip.AddrPort
	vtag     uint32
	stream   uint16
	ssn      uint16 // stream sequence number (DATA; 0 for I-DATA)
	tsn      uint32
	ppid     uint32 // as sent, before any fallback by port
}

// decodeSCTP walks every chunk of one SCTP packet.
func (d *Decoder) decodeSCTP(src, dst netip.Addr, b []byte) {
	if len(b) < 12 {
		d.count(DropSCTPTruncated)
		return
	}
	sport := binary.BigEndian.Uint16(b)
	dport := binary.BigEndian.Uint16(b[2:])
	vtag := binary.BigEndian.Uint32(b[4:])
	if sum := binary.LittleEndian.Uint32(b[8:]); d.cfg.VerifySCTPChecksums && sum != 0 && sum != sctpChecksum(b) {
		d.stats.SCTPBadChecksum++
	}
	cur := &d.sctp.cur
	cur.src = netip.AddrPortFrom(src, sport)
	cur.dst = netip.AddrPortFrom(dst, dport)
	cur.vtag = vtag
	key := assocKey{src: src, dst: dst, sport: sport, dport: dport, vtag: vtag}
	var a *assoc
	b = b[12:]
	if len(b) == 0 {
		d.count(DropSCTPTruncated)
		return
	}
	for len(b) > 0 {
		if len(b) < 4 {
			d.count(DropSCTPTruncated)
			return
		}
		typ, flags := b[0], b[1]
		n := int(binary.BigEndian.Uint16(b[2:]))
		if n < 4 {
			d.count(DropSCTPBadChunk)
			return
		}
		if n > len(b) {
			d.count(DropSCTPTruncated)
			return
		}
		chunk := b[:n]
		// The last chunk's padding may be missing.
		b = b[min((n+3)&^3, len(b)):]
		switch typ {
		case sctpChunkDATA, sctpChunkIDATA:
			if a == nil {
				a = d.sctp.lookup(d, key)
			}
			d.sctpData(a, typ, flags, chunk)
		default:
			d.stats.SCTPChunks[typ]++
			d.count(SkipSCTPControl)
		}
	}
}

// sctpChecksum is CRC32c over the packet with the checksum field as zero.
func sctpChecksum(b []byte) uint32 {
	c := crc32.Update(0, castagnoli, b[:8])
	c = crc32.Update(c, castagnoli, zeroChecksum[:])
	c = crc32.Update(c, castagnoli, b[12:])
	return c
}

// sctpData handles one DATA or I-DATA chunk: duplicate check, reassembly,
// then the SIGTRAN layer named by the PPID.
func (d *Decoder) sctpData(a *assoc, typ, flags uint8, c []byte) {
	idata := typ == sctpChunkIDATA
	hdr := 16
	if idata {
		hdr = 20
	}
	if len(c) <= hdr {
		d.count(DropSCTPBadChunk) // a DATA chunk must carry user data
		return
	}
	tsn := binary.BigEndian.Uint32(c[4:])
	stream := binary.BigEndian.Uint16(c[8:])
	var mid, seq, ppid uint32
	if idata {
		mid = binary.BigEndian.Uint32(c[12:])
		if flags&2 != 0 {
			ppid = binary.BigEndian.Uint32(c[16:])
		} else {
			seq = binary.BigEndian.Uint32(c[16:])
		}
	} else {
		ppid = binary.BigEndian.Uint32(c[12:])
		seq = tsn
	}
	payload := c[hdr:]
	if flags&3 == 3 && notSIGTRAN(ppid) {
		// A whole message of another protocol sharing the association
		// (Diameter, H.248, …): nothing here will read it, so it is not
		// hashed for the duplicate check either.
		d.count(SkipSCTPUnknownPPID)
		return
	}

	h := maphash.Bytes(d.seed, c[8:]) ^ uint64(flags)<<56
	if a.seen(tsn, uint32(h^h>>32), d.frame.TS, d.cfg.FragmentTimeout) {
		d.count(SkipSCTPDuplicate)
		return
	}
	d.sctp.cur.stream = stream
	d.sctp.cur.tsn = tsn
	d.sctp.cur.ppid = ppid
	d.sctp.cur.ssn = 0
	if !idata {
		d.sctp.cur.ssn = binary.BigEndian.Uint16(c[10:])
	}

	begin, end := flags&2 != 0, flags&1 != 0
	if begin && end {
		d.sigtran(ppid, payload)
		return
	}
	unordered := flags&4 != 0
	s := &d.sctp
	if begin {
		s.makeRoom(d, nil, len(payload))
		r := s.newReasm(d, a)
		r.stream, r.unordered, r.idata, r.mid, r.ppid = stream, unordered, idata, mid, ppid
		r.next = seq + 1
		r.buf = append(r.buf[:0], payload...)
		r.n = 1
		s.fragments++
		s.bytes += len(payload)
		d.pullEarly(r)
		return
	}
	var r *sctpReasm
	for x := a.reasm; x != nil; x = x.anext {
		if x.stream == stream && x.unordered == unordered && x.idata == idata && x.mid == mid && x.next == seq {
			r = x
			break
		}
	}
	if r == nil {
		// Its predecessors are late (a tap sees a retransmitted fragment
		// after the ones that follow it) or lost: hold it until they come or
		// it expires, when it is counted as sctp_fragment_bad.
		s.holdEarly(d, a, stream, unordered, idata, mid, seq, end, payload)
		return
	}
	if !d.appendFragment(r, payload, end) {
		d.pullEarly(r)
	}
}

// maxAssignedPPID bounds the values IANA has assigned to payload protocols
// (under 100 today); a PPID above it names no protocol.
const maxAssignedPPID = 255

// notSIGTRAN reports whether ppid names a protocol other than the SIGTRAN
// adaptation layers decoded here; 0 and unassigned values do not (sigtran
// falls back to the port for them).
func notSIGTRAN(ppid uint32) bool {
	return ppid != 0 && ppid <= maxAssignedPPID && ppid != ppidM3UA && ppid != ppidM2PA && ppid != ppidM2UA
}

// sigtran dispatches a user message by payload protocol, or by well-known
// port when the PPID is unset or names no protocol: some implementations send
// it byte-swapped (0x03000000), and tshark falls back to the port for such
// values too. A PPID assigned to another protocol (H.248, Diameter, …) keeps
// that verdict whatever the port.
func (d *Decoder) sigtran(ppid uint32, p []byte) {
	if ppid == 0 || ppid > maxAssignedPPID {
		sp, dp := d.sctp.cur.src.Port(), d.sctp.cur.dst.Port()
		switch {
		case sp == portM3UA || dp == portM3UA:
			ppid = ppidM3UA
		case sp == portM2PA || dp == portM2PA:
			ppid = ppidM2PA
		case sp == portM2UA || dp == portM2UA:
			ppid = ppidM2UA
		}
	}
	switch ppid {
	case ppidM3UA:
		d.decodeM3UA(p)
	case ppidM2PA:
		d.decodeM2PA(p)
	case ppidM2UA:
		d.decodeM2UA(p)
	default:
		if (ppid == 0 || ppid > maxAssignedPPID) && d.sctpSIP(p) {
			d.deliverSIP(TransportSCTP, d.sctp.cur.src, d.sctp.cur.dst, p, true)
			return
		}
		d.count(SkipSCTPUnknownPPID)
	}
}
