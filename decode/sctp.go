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

	// dupSlots is the size of each association's duplicate table, indexed
	// by TSN: a retransmission is recognised while fewer than dupSlots newer
	// TSNs have been seen, however fast the association runs.
	dupSlots = 256
	// maxSCTPMessage bounds one reassembled user message.
	maxSCTPMessage = 65536
	// maxPendingBytes bounds the octets held for reassembly (per layer, IP
	// and SCTP), whatever the fragment count.
	maxPendingBytes = 16 << 20
	// maxKeptBuffer is the largest reassembly buffer kept for reuse; rarer
	// big messages do not pin memory after they complete.
	maxKeptBuffer = 8192
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

type assocKey struct {
	src, dst     netip.Addr
	sport, dport uint16
	vtag         uint32
}

type dupEntry struct {
	ts   int64
	tsn  uint32
	hash uint32 // of stream, SSN/MID, PPID, flags and payload; 0 = unused
}

// assoc is one direction of an SCTP association as the tap sees it.
type assoc struct {
	key        assocKey
	prev, next *assoc // LRU list, most recent first
	dup        [dupSlots]dupEntry
	reasm      *sctpReasm // pending reassemblies, linked by anext
}

// sctpReasm is one user message being reassembled from DATA fragments.
type sctpReasm struct {
	a         *assoc
	stream    uint16
	unordered bool
	idata     bool
	mid       uint32 // I-DATA message identifier
	next      uint32 // next TSN (DATA) or FSN (I-DATA) expected
	ppid      uint32
	buf       []byte
	n         int // fragments held
	start     int64
	source    uint16
	frame     uint64

	older, newer *sctpReasm // global age list
	anext        *sctpReasm // per-association list
}

type sctpState struct {
	cur sctpCur

	assocs           map[assocKey]*assoc
	lruHead, lruTail *assoc
	// recent holds associations by a cheap hash of their key, in front of
	// assocs: a tap interleaves the packets of a few busy associations, and
	// hashing the whole key for the map was most of a lookup.
	recent    [assocRecent]*assoc
	freeAssoc []*assoc

	oldest, newest *sctpReasm
	fragments      int // fragments held across all associations
	bytes          int // octets held
	freeReasm      []*sctpReasm

	early  []earlyFrag // fragments that came before their predecessors
	nEarly int         // entries of early in use
}

func (s *sctpState) init() { s.assocs = make(map[assocKey]*assoc) }

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

// appendFragment adds the next fragment to r; on the last one it delivers
// the message. It reports whether r is finished (delivered or dropped).
func (d *Decoder) appendFragment(r *sctpReasm, payload []byte, end bool) bool {
	s := &d.sctp
	// The last fragment completes the message at once: it needs no room.
	if len(r.buf)+len(payload) > maxSCTPMessage || (!end && !s.makeRoom(d, r, len(payload))) {
		s.drop(d, r, DropSCTPFragmentOverflow)
		return true
	}
	r.buf = append(r.buf, payload...)
	r.next++
	r.n++
	s.fragments++
	s.bytes += len(payload)
	if !end {
		return false
	}
	d.stats.SCTPReassembled++
	buf, ppid := r.buf, r.ppid
	// The buffer is reused only by a later reassembly, never during this call.
	s.release(r)
	d.sctp.cur.ppid = ppid // the first fragment's
	d.sigtran(ppid, buf)
	return true
}

// makeRoom drops the oldest reassemblies (other than keep) until one more
// fragment of n octets fits; it reports whether it does.
func (s *sctpState) makeRoom(d *Decoder, keep *sctpReasm, n int) bool {
	for s.fragments >= d.cfg.MaxPendingFragments || s.bytes+n > maxPendingBytes {
		victim := s.oldest
		if victim == keep {
			victim = keep.newer
		}
		if victim == nil {
			return false
		}
		s.drop(d, victim, DropSCTPFragmentOverflow)
	}
	return true
}

// seen reports whether the chunk (TSN, hash) was seen within window and
// records it. The same TSN with another payload is a new message: some
// generators (xdr_tester_m2pa.pcap) send TSN 0 every time.
func (a *assoc) seen(tsn uint32, h uint32, now, window int64) bool {
	h |= 1 // 0 marks an unused slot
	e := &a.dup[tsn%dupSlots]
	if e.hash == h && e.tsn == tsn && now-e.ts <= window && e.ts-now <= window {
		return true
	}
	*e = dupEntry{ts: now, tsn: tsn, hash: h}
	return false
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

// assocRecent is the number of slots of sctpState.recent.
const assocRecent = 1 << assocRecentBits

// recentSlot is key's slot in sctpState.recent: a hash of the verification
// tag, the ports and the low 32 bits of both addresses (generators, and some
// stacks, reuse one tag on every association, and signalling links share
// their ports), cheaper than hashing the whole key.
func recentSlot(key *assocKey) uint32 {
	s, d := key.src.As16(), key.dst.As16()
	h := (key.vtag ^ (uint32(key.sport)<<16 | uint32(key.dport))) * 0x9E3779B1
	h = (h ^ binary.LittleEndian.Uint32(s[12:])) * 0x85EBCA6B
	h = (h ^ binary.LittleEndian.Uint32(d[12:])) * 0xC2B2AE35
	return h >> (32 - assocRecentBits)
}

// assocRecentBits is log2(assocRecent).
const assocRecentBits = 6

// is reports whether a is the association of key, cheapest field first.
func (a *assoc) is(key *assocKey) bool {
	k := &a.key
	return k.vtag == key.vtag && k.sport == key.sport && k.dport == key.dport && k.src == key.src && k.dst == key.dst
}

// lookup finds or creates the association, keeping the table bounded (LRU).
func (s *sctpState) lookup(d *Decoder, key assocKey) *assoc {
	// Runs of chunks on one association are the common case: the most
	// recently used one is compared first, then the recent slot, before
	// the map is hashed.
	if h := s.lruHead; h != nil && h.is(&key) {
		return h
	}
	slot := &s.recent[recentSlot(&key)]
	a := *slot
	if a == nil || !a.is(&key) {
		a = s.assocs[key]
	}
	if a != nil {
		*slot = a
		if s.lruHead != a {
			s.lruRemove(a)
			s.lruPush(a)
		}
		return a
	}
	if len(s.assocs) >= d.maxAssoc && s.lruTail != nil {
		s.evict(d, s.lruTail)
	}
	if n := len(s.freeAssoc); n > 0 {
		a = s.freeAssoc[n-1]
		s.freeAssoc = s.freeAssoc[:n-1]
		*a = assoc{}
	} else {
		a = &assoc{}
	}
	a.key = key
	s.assocs[key] = a
	s.lruPush(a)
	*slot = a
	return a
}

func (s *sctpState) lruPush(a *assoc) {
	a.prev, a.next = nil, s.lruHead
	if s.lruHead != nil {
		s.lruHead.prev = a
	} else {
		s.lruTail = a
	}
	s.lruHead = a
}

func (s *sctpState) lruRemove(a *assoc) {
	if a.prev != nil {
		a.prev.next = a.next
	} else {
		s.lruHead = a.next
	}
	if a.next != nil {
		a.next.prev = a.prev
	} else {
		s.lruTail = a.prev
	}
	a.prev, a.next = nil, nil
}

// evict forgets the least recently used association and its fragments.
func (s *sctpState) evict(d *Decoder, a *assoc) {
	for a.reasm != nil {
		s.drop(d, a.reasm, DropSCTPFragmentOverflow)
	}
	s.lruRemove(a)
	delete(s.assocs, a.key)
	if slot := &s.recent[recentSlot(&a.key)]; *slot == a {
		*slot = nil // a free association must not be found by its old key
	}
	s.freeAssoc = append(s.freeAssoc, a)
	d.stats.AssociationsEvicted++
}

func (s *sctpState) newReasm(d *Decoder, a *assoc) *sctpReasm {
	var r *sctpReasm
	if n := len(s.freeReasm); n > 0 {
		r = s.freeReasm[n-1]
		s.freeReasm = s.freeReasm[:n-1]
	} else {
		r = &sctpReasm{}
	}
	r.a = a
	r.start, r.source, r.frame = d.frame.TS, d.frame.Source, d.frame.Frame
	r.n = 0
	r.anext = a.reasm
	a.reasm = r
	r.older = s.newest
	r.newer = nil
	if s.newest != nil {
		s.newest.newer = r
	} else {
		s.oldest = r
	}
	s.newest = r
	return r
}

// release unlinks r from both lists and recycles it.
func (s *sctpState) release(r *sctpReasm) {
	if r.older != nil {
		r.older.newer = r.newer
	} else {
		s.oldest = r.newer
	}
	if r.newer != nil {
		r.newer.older = r.older
	} else {
		s.newest = r.older
	}
	for p := &r.a.reasm; *p != nil; p = &(*p).anext {
		if *p == r {
			*p = r.anext
			break
		}
	}
	s.fragments -= r.n
	s.bytes -= len(r.buf)
	if cap(r.buf) > maxKeptBuffer {
		r.buf = nil
	}
	r.older, r.newer, r.anext, r.a = nil, nil, nil, nil
	s.freeReasm = append(s.freeReasm, r)
}

func (s *sctpState) drop(d *Decoder, r *sctpReasm, reason Reason) {
	d.countAt(reason, r.source, r.frame)
	s.release(r)
}

func (s *sctpState) expire(d *Decoder, now int64) {
	for r := s.oldest; r != nil && now-r.start > d.cfg.FragmentTimeout; r = s.oldest {
		s.drop(d, r, DropSCTPFragmentExpired)
	}
	s.expireEarly(d, now)
}

func (s *sctpState) flush(d *Decoder) {
	for r := s.oldest; r != nil; r = s.oldest {
		s.drop(d, r, DropSCTPFragmentExpired)
	}
	s.expireEarly(d, -1)
}
