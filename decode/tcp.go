package decode

import (
	"encoding/binary"
	"net/netip"
)

// TCP stream reassembly for SIP, kept apart from the stateless SIP parser (as
// gopacket keeps tcpassembly apart from its layers). Each direction of a
// connection is one stream: in-order bytes are framed into SIP messages by
// Content-Length (several messages per segment, a message across segments);
// retransmitted bytes are skipped; out-of-order segments are held, bounded,
// until the gap fills or times out. Memory is bounded per stream
// (MaxSIPMessage buffered, maxTCPHeld segments) and in streams
// (Config.MaxTCPStreams, least recently used evicted).

const (
	// DefaultMaxTCPStreams bounds the stream table.
	DefaultMaxTCPStreams = 4096
	// maxTCPHeld bounds the out-of-order segments held per stream.
	maxTCPHeld = 8
	// tcpIdleTimeout forgets a stream idle this long (capture time).
	tcpIdleTimeout = int64(600e9)
	// tcpProbeSegments is how many segments of a stream that does not start
	// like SIP are looked at before it is taken for another protocol.
	tcpProbeSegments = 4

	// tcpExpireEvery spaces the expiry walks over the stream table.
	tcpExpireEvery = int64(1e9)

	tcpMinHeader = 20
	tcpFlagFIN   = 0x01
	tcpFlagSYN   = 0x02
	tcpFlagRST   = 0x04
)

type tcpKey struct{ src, dst netip.AddrPort }

type tcpHeld struct {
	seq  uint32
	ts   int64
	data []byte
}

// tcpStream is one direction of a TCP connection.
type tcpStream struct {
	key        tcpKey
	prev, next *tcpStream // LRU list, most recent first
	lastSeen   int64
	// The last segment's frame, for messages completed after it (at the end
	// of the input, when the decoder has no current frame).
	lastSource uint16
	lastFrame  uint64
	nextSeq    uint32
	synced     bool
	notSIP     bool // another protocol: its segments are skipped
	sipSeen    bool
	afterGap   bool // bytes were lost: skip quietly to the next start line
	probes     int
	buf        []byte // in-order bytes not yet a whole message
	held       [maxTCPHeld]tcpHeld
	nheld      int
}

type tcpState struct {
	lastExpire int64 // capture time of the last expiry walk
	m          map[tcpKey]*tcpStream
	head, tail *tcpStream
	free       []*tcpStream
}

// decodeTCP reads a TCP segment and feeds its payload to the stream.
func (d *Decoder) decodeTCP(src, dst netip.Addr, b []byte) {
	if len(b) < tcpMinHeader {
		d.count(DropTCPTruncated)
		return
	}
	hl := int(b[12]>>4) * 4
	if hl < tcpMinHeader || hl > len(b) {
		d.count(DropTCPTruncated)
		return
	}
	key := tcpKey{netip.AddrPortFrom(src, binary.BigEndian.Uint16(b)), netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:]))}
	seq := binary.BigEndian.Uint32(b[4:])
	flags := b[13]
	payload := b[hl:]
	t := &d.tcp
	st := t.m[key]
	if flags&tcpFlagRST != 0 {
		if st != nil {
			d.closeStream(st)
		}
		d.count(SkipTCPControl)
		return
	}
	if st == nil {
		if len(payload) == 0 && flags&tcpFlagSYN == 0 {
			d.count(SkipTCPControl)
			return
		}
		st = d.newStream(key)
	}
	t.touch(st)
	st.lastSeen, st.lastSource, st.lastFrame = d.frame.TS, d.frame.Source, d.frame.Frame
	if flags&tcpFlagSYN != 0 {
		st.nextSeq, st.synced = seq+1, true
		st.buf, st.nheld = st.buf[:0], 0
		seq++
	}
	if len(payload) > 0 {
		d.streamData(st, seq, payload)
	} else {
		d.count(SkipTCPControl)
	}
	if flags&tcpFlagFIN != 0 {
		d.closeStream(st)
	}
}

// streamData places one segment's payload in the stream.
func (d *Decoder) streamData(st *tcpStream, seq uint32, p []byte) {
	if st.notSIP {
		d.count(SkipTCPNotSIP)
		return
	}
	if !st.synced {
		st.nextSeq, st.synced = seq, true
	}
	diff := int32(seq - st.nextSeq)
	if diff < 0 {
		if int(-diff) >= len(p) {
			d.count(SkipTCPDuplicate)
			return
		}
		p = p[-diff:]
		diff = 0
	}
	if diff > 0 {
		d.holdSegment(st, seq, p)
		return
	}
	d.appendInOrder(st, p)
	d.drainHeld(st)
}

// appendInOrder frames the stream's next bytes into SIP messages. With
// nothing buffered, messages are parsed straight from the segment and only
// a trailing partial message is copied.
func (d *Decoder) appendInOrder(st *tcpStream, p []byte) {
	st.nextSeq += uint32(len(p))
	if len(st.buf) == 0 {
		rest := d.frameMessages(st, p)
		st.buf = append(st.buf[:0], rest...)
		return
	}
	st.buf = append(st.buf, p...)
	rest := d.frameMessages(st, st.buf)
	n := copy(st.buf, rest)
	st.buf = st.buf[:n]
	if cap(st.buf) > maxKeptBuffer && n == 0 {
		st.buf = nil
	}
}

// frameMessages delivers every whole SIP message at the start of b and
// returns the bytes left over (a message still incomplete).
func (d *Decoder) frameMessages(st *tcpStream, b []byte) []byte {
	for len(b) > 0 {
		// Keep-alives (RFC 5626 3.5.1) between messages.
		for len(b) > 0 && (b[0] == '\r' || b[0] == '\n') {
			b = b[1:]
		}
		if len(b) == 0 {
			return nil
		}
		if !looksLikeSIPPrefix(b) {
			i := sipStart(b)
			if i < 0 {
				d.notSIPData(st)
				return nil
			}
			// Joined mid-message, or bytes after a gap: skip to the next
			// start line.
			d.notSIPData(st)
			b = b[i:]
		}
		n, r := SIPMessageLen(b)
		if r != ReasonNone {
			d.count(r)
			if i := sipStart(b[1:]); i >= 0 {
				b = b[1+i:]
				continue
			}
			return nil
		}
		if n == 0 {
			return b
		}
		st.sipSeen, st.afterGap = true, false
		d.deliverSIP(TransportTCP, st.key.src, st.key.dst, b[:n], false)
		b = b[n:]
	}
	return nil
}

// notSIPData counts stream bytes that are not (part of) a SIP message: lost
// framing on a SIP stream, or another protocol, which after a few segments is
// skipped without looking.
func (d *Decoder) notSIPData(st *tcpStream) {
	if st.afterGap {
		return // counted once, as the gap
	}
	if st.sipSeen {
		d.count(DropTCPGap)
		return
	}
	d.count(SkipTCPNotSIP)
	if st.probes++; st.probes >= tcpProbeSegments {
		st.notSIP = true
	}
}

// looksLikeSIPPrefix is looksLikeSIP for a buffer that may end before the
// end of its first line: a prefix of a start line is accepted.
func looksLikeSIPPrefix(b []byte) bool {
	if indexByte(b, '\n') >= 0 || len(b) > 64 {
		return looksLikeSIP(b)
	}
	if hasPrefixFold(b, "SIP/2.0 ") || (len(b) < 8 && hasPrefixFold([]byte("SIP/2.0 ")[:len(b)], string(b))) {
		return true
	}
	for _, c := range b {
		if c == ' ' {
			return true
		}
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// sipStart finds the first line of b that starts a SIP message, or -1. A
// line still incomplete at the end of b counts when it could be one.
func sipStart(b []byte) int {
	for i := 0; i < len(b); {
		if looksLikeSIPPrefix(b[i:]) {
			return i
		}
		j := indexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
	}
	return -1
}

// holdSegment keeps an out-of-order segment until the gap before it fills.
func (d *Decoder) holdSegment(st *tcpStream, seq uint32, p []byte) {
	for i := 0; i < st.nheld; i++ {
		if st.held[i].seq == seq && len(st.held[i].data) >= len(p) {
			d.count(SkipTCPDuplicate)
			return
		}
	}
	if st.nheld == maxTCPHeld {
		// No room: the oldest gap is declared lost.
		d.skipGap(st)
		if int32(seq-st.nextSeq) <= 0 {
			d.streamData(st, seq, p)
			return
		}
	}
	h := &st.held[st.nheld]
	h.seq, h.ts = seq, d.frame.TS
	h.data = append(h.data[:0], p...)
	st.nheld++
}

// drainHeld appends held segments that have become in order.
func (d *Decoder) drainHeld(st *tcpStream) {
	for progress := true; progress && st.nheld > 0; {
		progress = false
		for i := 0; i < st.nheld; i++ {
			h := &st.held[i]
			diff := int32(h.seq - st.nextSeq)
			if diff > 0 {
				continue
			}
			data := h.data
			if int(-diff) < len(data) {
				d.appendInOrder(st, data[-diff:])
			} else {
				d.count(SkipTCPDuplicate)
			}
			st.removeHeld(i)
			progress = true
			break
		}
	}
}

func (st *tcpStream) removeHeld(i int) {
	last := st.nheld - 1
	st.held[i], st.held[last] = st.held[last], st.held[i]
	st.nheld--
}

// skipGap gives up on the missing bytes before the earliest held segment:
// the partial message buffered is lost, and the stream continues from there.
func (d *Decoder) skipGap(st *tcpStream) {
	if st.nheld == 0 {
		return
	}
	first := 0
	for i := 1; i < st.nheld; i++ {
		if int32(st.held[i].seq-st.held[first].seq) < 0 {
			first = i
		}
	}
	d.count(DropTCPGap)
	st.buf = st.buf[:0]
	st.nextSeq = st.held[first].seq
	st.afterGap = true
	d.drainHeld(st)
}

// expireTCP gives up gaps older than FragmentTimeout and forgets idle streams.
func (d *Decoder) expireTCP(now int64) {
	t := &d.tcp
	for st := t.tail; st != nil; {
		prev := st.prev
		if now-st.lastSeen > tcpIdleTimeout {
			d.closeStream(st)
		} else if st.nheld > 0 {
			oldest := now
			for i := 0; i < st.nheld; i++ {
				oldest = min(oldest, st.held[i].ts)
			}
			if now-oldest > d.cfg.FragmentTimeout {
				d.skipGap(st)
			}
		}
		st = prev
	}
}

// flushTCP ends every stream: gaps are given up (what follows them is
// still delivered), partial messages are lost.
func (d *Decoder) flushTCP() {
	for d.tcp.head != nil {
		st := d.tcp.head
		if st.nheld > 0 {
			f := Frame{TS: st.lastSeen, Source: st.lastSource, Frame: st.lastFrame}
			d.frame = &f
			for st.nheld > 0 {
				d.skipGap(st)
			}
			d.frame = nil
		}
		d.closeStream(st)
	}
}

func (d *Decoder) newStream(key tcpKey) *tcpStream {
	t := &d.tcp
	if t.m == nil {
		t.m = make(map[tcpKey]*tcpStream)
	}
	max := d.cfg.MaxTCPStreams
	if max <= 0 {
		max = DefaultMaxTCPStreams
	}
	for len(t.m) >= max && t.tail != nil {
		d.stats.TCPStreamsEvicted++
		d.closeStream(t.tail)
	}
	var st *tcpStream
	if n := len(t.free); n > 0 {
		st = t.free[n-1]
		t.free = t.free[:n-1]
		buf, held := st.buf[:0], st.held
		*st = tcpStream{buf: buf, held: held}
	} else {
		st = &tcpStream{}
	}
	st.key = key
	t.m[key] = st
	t.pushFront(st)
	return st
}

// closeStream forgets a stream; bytes still buffered or held are counted lost.
func (d *Decoder) closeStream(st *tcpStream) {
	t := &d.tcp
	if len(st.buf) > 0 && !st.notSIP {
		d.count(DropSIPTruncated)
	}
	if st.nheld > 0 {
		d.count(DropTCPGap)
	}
	t.unlink(st)
	delete(t.m, st.key)
	st.nheld = 0
	if cap(st.buf) > maxKeptBuffer {
		st.buf = nil
	}
	for i := range st.held {
		if cap(st.held[i].data) > maxKeptBuffer {
			st.held[i].data = nil
		}
	}
	t.free = append(t.free, st)
}

func (t *tcpState) unlink(st *tcpStream) {
	if st.prev != nil {
		st.prev.next = st.next
	} else {
		t.head = st.next
	}
	if st.next != nil {
		st.next.prev = st.prev
	} else {
		t.tail = st.prev
	}
	st.prev, st.next = nil, nil
}

// touch moves st to the front of the LRU list.
func (t *tcpState) touch(st *tcpStream) {
	if t.head == st {
		return
	}
	t.unlink(st)
	t.pushFront(st)
}

func (t *tcpState) pushFront(st *tcpStream) {
	st.next = t.head
	if t.head != nil {
		t.head.prev = st
	} else {
		t.tail = st
	}
	t.head = st
}
