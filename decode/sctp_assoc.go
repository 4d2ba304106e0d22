package decode

import (
	"encoding/binary"
	"net/netip"
)

const (
	// dupSlots is the size of each association's duplicate table, indexed
	// by TSN: a retransmission is recognised while fewer than dupSlots newer
	// TSNs have been seen, however fast the association runs.
	dupSlots = 256
)

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

// assoc is one direction of an SCTP association as the tap sees it; this file
// owns the association table (lookup, LRU, eviction) and its duplicate check.
type assoc struct {
	key        assocKey
	prev, next *assoc // LRU list, most recent first
	dup        [dupSlots]dupEntry
	reasm      *sctpReasm // pending reassemblies, linked by anext
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
