package decode

import (
	"encoding/binary"
	"net/netip"
)

const (
	ipProtoSCTP = 132

	// maxFragRanges bounds the fragments of one datagram; real SIGTRAN
	// datagrams fragment into a handful at most.
	maxFragRanges = 32
	maxDatagram   = 65535
)

// decodeIPv4 checks the header, reassembles fragments and hands SCTP on.
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

// decodeIPv6 walks the extension headers to SCTP, reassembling fragments.
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

// fragTable holds IP datagrams under reassembly, oldest first.
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
