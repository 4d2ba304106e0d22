package decode

const (
	// maxSCTPMessage bounds one reassembled user message.
	maxSCTPMessage = 65536
	// maxPendingBytes bounds the octets held for reassembly (per layer, IP
	// and SCTP), whatever the fragment count; ipfrag.go uses it too.
	maxPendingBytes = 16 << 20
	// maxKeptBuffer is the largest reassembly buffer kept for reuse (IP,
	// SCTP and TCP); rarer big messages do not pin memory after they complete.
	maxKeptBuffer = 8192
)

// sctpReasm is one user message being reassembled from DATA fragments; this
// file owns the pending messages, oldest first, and their bounds.
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
