package decode

// maxEarlyFragments bounds the DATA fragments held because they arrived
// before the fragments they follow, across all associations.
const maxEarlyFragments = 256

// earlyFrag is a DATA fragment waiting for its predecessors; this file owns
// the area that holds them (sctpState.early).
type earlyFrag struct {
	a                *assoc // nil: slot free
	stream           uint16
	unordered, idata bool
	end              bool
	mid, seq         uint32
	buf              []byte
	ts               int64
	source           uint16
	frame            uint64
}

// holdEarly keeps a copy of a fragment whose predecessors have not arrived;
// when the area is full the oldest held fragment goes, counted.
func (s *sctpState) holdEarly(d *Decoder, a *assoc, stream uint16, unordered, idata bool, mid, seq uint32, end bool, payload []byte) {
	var e *earlyFrag
	if s.nEarly < len(s.early) {
		for i := range s.early {
			if s.early[i].a == nil {
				e = &s.early[i]
				break
			}
		}
	} else if len(s.early) < maxEarlyFragments {
		s.early = append(s.early, earlyFrag{})
		e = &s.early[len(s.early)-1]
	} else {
		e = &s.early[0]
		for i := range s.early {
			if s.early[i].ts < e.ts {
				e = &s.early[i]
			}
		}
		s.dropEarly(d, e)
	}
	buf := append(e.buf[:0], payload...)
	*e = earlyFrag{a: a, stream: stream, unordered: unordered, idata: idata, end: end, mid: mid, seq: seq,
		buf: buf, ts: d.frame.TS, source: d.frame.Source, frame: d.frame.Frame}
	s.nEarly++
}

// pullEarly appends to r the held fragments that now follow it in order,
// delivering the message if the last one was among them.
func (d *Decoder) pullEarly(r *sctpReasm) {
	s := &d.sctp
	for s.nEarly > 0 {
		var e *earlyFrag
		for i := range s.early {
			x := &s.early[i]
			if x.a == r.a && x.stream == r.stream && x.unordered == r.unordered && x.idata == r.idata &&
				x.mid == r.mid && x.seq == r.next {
				e = x
				break
			}
		}
		if e == nil {
			return
		}
		e.a = nil
		s.nEarly--
		if d.appendFragment(r, e.buf, e.end) {
			return
		}
	}
}

// dropEarly frees a held fragment that will never be placed: its first
// fragment was lost, or never came in time.
func (s *sctpState) dropEarly(d *Decoder, e *earlyFrag) {
	d.countAt(DropSCTPFragmentBad, e.source, e.frame)
	e.a = nil
	if cap(e.buf) > maxKeptBuffer {
		e.buf = nil
	}
	s.nEarly--
}

// expireEarly drops held fragments older than the reassembly timeout (all of
// them when now < 0, at the end of input).
func (s *sctpState) expireEarly(d *Decoder, now int64) {
	for i := 0; s.nEarly > 0 && i < len(s.early); i++ {
		if e := &s.early[i]; e.a != nil && (now < 0 || now-e.ts > d.cfg.FragmentTimeout) {
			s.dropEarly(d, e)
		}
	}
}
