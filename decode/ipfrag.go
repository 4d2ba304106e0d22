package decode

import "net/netip"

const (
	// maxFragRanges bounds the fragments of one datagram; real SIGTRAN
	// datagrams fragment into a handful at most.
	maxFragRanges = 32
	maxDatagram   = 65535
)

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
	v6       bool
}

type fragRange struct{ off, end int }

// ipReasm is one datagram being reassembled. Buffers are recycled.
type ipReasm struct {
	key    fragKey
	start  int64
	source uint16
	frame  uint64
	buf    []byte
	total  int // payload length, -1 until the last fragment arrives
	have   int
	ranges [maxFragRanges]fragRange
	n      int

	older, newer *ipReasm
}

// fragTable holds IP datagrams under reassembly, oldest first. It is the
// only state of the IP layer: decodeIPv4 and decodeIPv6 are stateless and
// hand fragments here through ipFragment.
type fragTable struct {
	m              map[fragKey]*ipReasm
	oldest, newest *ipReasm
	fragments      int // fragments held across all datagrams
	bytes          int // buffer octets held
	free           []*ipReasm
}

func (t *fragTable) init() { t.m = make(map[fragKey]*ipReasm) }

func (t *fragTable) unlink(r *ipReasm) {
	if r.older != nil {
		r.older.newer = r.newer
	} else {
		t.oldest = r.newer
	}
	if r.newer != nil {
		r.newer.older = r.older
	} else {
		t.newest = r.older
	}
	r.older, r.newer = nil, nil
	delete(t.m, r.key)
	t.fragments -= r.n
	t.bytes -= len(r.buf)
	if cap(r.buf) > maxKeptBuffer {
		r.buf = nil
	}
	t.free = append(t.free, r)
}

// drop abandons r, counting reason against the frame that started it.
func (t *fragTable) drop(d *Decoder, r *ipReasm, reason Reason) {
	d.countAt(reason, r.source, r.frame)
	t.unlink(r)
}

func (t *fragTable) expire(d *Decoder, now int64) {
	for r := t.oldest; r != nil && now-r.start > d.cfg.FragmentTimeout; r = t.oldest {
		t.drop(d, r, DropIPFragmentExpired)
	}
}

func (t *fragTable) flush(d *Decoder) {
	for r := t.oldest; r != nil; r = t.oldest {
		t.drop(d, r, DropIPFragmentExpired)
	}
}

// ipFragment adds one fragment; a completed datagram goes on to SCTP.
func (d *Decoder) ipFragment(key fragKey, off int, more bool, p []byte) {
	t := &d.ipFrag
	end := off + len(p)
	if end > maxDatagram || (more && len(p)%8 != 0) || len(p) == 0 {
		d.count(DropIPFragmentBad)
		return
	}
	r := t.m[key]
	if r == nil {
		for (t.fragments >= d.cfg.MaxPendingFragments || t.bytes+end > maxPendingBytes) && t.oldest != nil {
			t.drop(d, t.oldest, DropIPFragmentOverflow)
		}
		if n := len(t.free); n > 0 {
			r = t.free[n-1]
			t.free = t.free[:n-1]
		} else {
			r = &ipReasm{}
		}
		r.key, r.start, r.total, r.have, r.n = key, d.frame.TS, -1, 0, 0
		r.source, r.frame = d.frame.Source, d.frame.Frame
		r.buf = r.buf[:0]
		r.older = t.newest
		if t.newest != nil {
			t.newest.newer = r
		} else {
			t.oldest = r
		}
		t.newest = r
		t.m[key] = r
	}
	for i := 0; i < r.n; i++ {
		x := r.ranges[i]
		if off < x.end && x.off < end {
			if x.off == off && x.end == end {
				return // the same fragment again: nothing new
			}
			t.drop(d, r, DropIPFragmentBad)
			return
		}
	}
	if !more {
		if r.total >= 0 || end < len(r.buf) {
			t.drop(d, r, DropIPFragmentBad)
			return
		}
		r.total = end
	}
	if (r.total >= 0 && end > r.total) || r.n == maxFragRanges {
		t.drop(d, r, DropIPFragmentBad)
		return
	}
	if len(r.buf) < end {
		t.bytes += end - len(r.buf)
		if cap(r.buf) < end {
			nb := make([]byte, end, max(end, 2*cap(r.buf)))
			copy(nb, r.buf)
			r.buf = nb
		}
		r.buf = r.buf[:end]
	}
	copy(r.buf[off:], p)
	r.ranges[r.n] = fragRange{off, end}
	r.n++
	t.fragments++
	r.have += len(p)
	if r.total < 0 || r.have != r.total {
		return
	}
	d.stats.IPReassembled++
	buf := r.buf[:r.total]
	// Unlink first: the buffer stays valid until the next reassembly reuses it,
	// which cannot happen while SCTP is decoding it.
	t.unlink(r)
	d.decodeTransport(key.proto, key.src, key.dst, buf)
}
