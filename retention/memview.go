package retention

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"
	"sort"
)

// The open partition as queries see it, without rebuilding a segment.
//
// The writer appends log records into chunks (the arena) and never modifies a
// byte below a length it has published under Store.mu, nor reuses a chunk a
// query may hold. A query copies the chunk list and the tail's length under
// that lock (no I/O, no decoding) and then reads the records on its own. The
// per-chunk indexes a query needs (numbers, ladders, calls, alerts) are built
// by the readers themselves, outside the writer's lock, and cached for chunks
// that are full; only the growing tail chunk is indexed afresh per query.

const (
	// arenaChunk is the size at which the writer closes a chunk and starts
	// the next (about 2 000 messages); the headroom avoids regrowth when the
	// last record overshoots.
	arenaChunk    = 512 << 10
	arenaChunkCap = arenaChunk + 64<<10
	// flushAt is how much is buffered before it is handed to the OS.
	flushAt = 256 << 10
)

var numberSeed = maphash.MakeSeed()

func numberHash(digits []byte) uint64 { return maphash.Bytes(numberSeed, digits) }

// memPosting is one number of one message, indexed by the digits' hash (the
// digits themselves stay in the record and are compared on lookup).
type memPosting struct {
	hash uint64
	call Ref
	ord  uint32
	role Role
}

// memRecord locates a call or alert record's encoded value in its chunk.
type memRecord struct {
	ref      Ref
	pos      uint32 // record number within the chunk: keeps log order for equal refs
	off, len uint32
}

// chunkIndex indexes the whole records of one chunk of an open log. It is
// immutable once built.
type chunkIndex struct {
	length   int    // bytes of the chunk it covers
	firstOrd uint32 // ordinal of its first message
	msgOff   []uint32
	posts    []memPosting // by hash, ordinal
	members  []member     // by call, ordinal
	calls    []memRecord  // by ref, position
	alerts   []memRecord
	sum      segSummary
}

// buildChunkIndex indexes the whole records of data, a chunk of partition
// seq's log whose first message has ordinal firstOrd.
func buildChunkIndex(seq uint32, data []byte, firstOrd uint32) (*chunkIndex, error) {
	data = data[:len(data):len(data)] // offsets are derived from capacities
	ci := &chunkIndex{length: len(data), firstOrd: firstOrd}
	var w walMessage
	var lastSource string
	ord := firstOrd
	var pos uint32
	_, err := scanWAL(data, func(p []byte) error {
		off := uint32(cap(data) - cap(p))
		switch p[0] {
		case recMessage:
			if err := decodeMessageRecord(p[1:], &w, &lastSource); err != nil {
				return err
			}
			call := w.Call
			if call == 0 {
				call = MakeRef(seq, ord)
			}
			ci.msgOff = append(ci.msgOff, off)
			ci.members = append(ci.members, member{call: call, ord: ord})
			for _, n := range w.numbers {
				ci.posts = append(ci.posts, memPosting{hash: numberHash(n.digits), call: call, ord: ord, role: n.role})
			}
			ci.sum.see(w.TS)
			ci.sum.Messages++
			ord++
		case recCall, recAlert:
			r := reader{b: p[1:]}
			ref := Ref(r.uvarint())
			if r.err != nil {
				return r.err
			}
			rec := memRecord{ref: ref, pos: pos, off: off + uint32(len(p)-len(r.b)), len: uint32(len(r.b))}
			v := reader{b: r.b}
			if p[0] == recCall {
				v.string()
				ci.calls = append(ci.calls, rec)
				ci.sum.Calls++
			} else {
				ci.alerts = append(ci.alerts, rec)
				ci.sum.Alerts++
			}
			ci.sum.see(v.varint())
		case recCommit:
			return nil // the pipeline's position, not data
		default:
			return errCorrupt
		}
		pos++
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ci.posts, func(a, b memPosting) int {
		if a.hash != b.hash {
			return cmp.Compare(a.hash, b.hash)
		}
		return cmp.Compare(a.ord, b.ord)
	})
	slices.SortFunc(ci.members, func(a, b member) int {
		if a.call != b.call {
			return cmp.Compare(a.call, b.call)
		}
		return cmp.Compare(a.ord, b.ord)
	})
	byRef := func(a, b memRecord) int {
		if a.ref != b.ref {
			return cmp.Compare(a.ref, b.ref)
		}
		return cmp.Compare(a.pos, b.pos)
	}
	slices.SortFunc(ci.calls, byRef)
	slices.SortFunc(ci.alerts, byRef)
	return ci, nil
}

// memPart is an open partition read from memory: chunks of whole records and
// their indexes. It offers a segment's lookup, scan and message, with the
// same keys and values.
type memPart struct {
	seq  uint32
	data [][]byte
	idx  []*chunkIndex
	key  [16]byte // scratch key handed to callbacks
}

func (p *memPart) summary() segSummary {
	var s segSummary
	for _, ci := range p.idx {
		s.see(ci.sum.MinTS)
		s.see(ci.sum.MaxTS)
		s.Messages += ci.sum.Messages
		s.Calls += ci.sum.Calls
		s.Alerts += ci.sum.Alerts
	}
	return s
}

// payload returns the record payload that starts at off in chunk i.
func (p *memPart) payload(i int, off uint32) ([]byte, error) {
	d := p.data[i]
	if off < walHeaderLen || int(off) > len(d) {
		return nil, errCorrupt
	}
	n := binary.LittleEndian.Uint32(d[off-walHeaderLen:])
	if uint64(off)+uint64(n) > uint64(len(d)) {
		return nil, errCorrupt
	}
	return d[off : off+n], nil
}

func (p *memPart) locate(ord uint32) (int, uint32, bool) {
	i := sort.Search(len(p.idx), func(i int) bool {
		ci := p.idx[i]
		return ci.firstOrd+uint32(len(ci.msgOff)) > ord
	})
	if i == len(p.idx) || ord < p.idx[i].firstOrd {
		return 0, 0, false
	}
	return i, p.idx[i].msgOff[ord-p.idx[i].firstOrd], true
}

func (p *memPart) decodeAt(ord uint32, w *walMessage) error {
	i, off, ok := p.locate(ord)
	if !ok {
		return fmt.Errorf("retention: ordinal %d beyond open partition %d", ord, p.seq)
	}
	pl, err := p.payload(i, off)
	if err != nil {
		return err
	}
	var src string
	return decodeMessageRecord(pl[1:], w, &src)
}

func (p *memPart) message(ord uint32) (*Message, error) {
	var w walMessage
	if err := p.decodeAt(ord, &w); err != nil {
		return nil, err
	}
	m := w.Message
	m.Ref, m.Call = MakeRef(p.seq, ord), 0
	return &m, nil
}

// lookup serves exact keys: the number index (digits), and ladders, calls
// and alerts by the 8-byte Ref of a call.
func (p *memPart) lookup(name string, prefix []byte, fn func(key, val []byte) error) error {
	if name == secNumbers {
		return p.lookupNumber(prefix, fn)
	}
	if len(prefix) != 8 {
		return errors.New("retention: open partition lookups are by call Ref")
	}
	ref := Ref(binary.BigEndian.Uint64(prefix))
	switch name {
	case secLadders:
		var ords []uint32
		for _, ci := range p.idx {
			j, _ := slices.BinarySearchFunc(ci.members, ref, func(m member, r Ref) int { return cmp.Compare(m.call, r) })
			for ; j < len(ci.members) && ci.members[j].call == ref; j++ {
				ords = append(ords, ci.members[j].ord)
			}
		}
		if len(ords) == 0 {
			return nil
		}
		val := appendUvarint(nil, uint64(len(ords)))
		prev := uint32(0)
		for _, o := range ords {
			val = appendUvarint(val, uint64(o-prev))
			prev = o
		}
		return fn(prefix, val)
	case secCalls, secAlerts:
		for i, ci := range p.idx {
			recs := ci.records(name)
			j, _ := slices.BinarySearchFunc(recs, ref, func(m memRecord, r Ref) int { return cmp.Compare(m.ref, r) })
			for ; j < len(recs) && recs[j].ref == ref; j++ {
				if err := p.yield(i, recs[j], fn); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return fmt.Errorf("retention: no section %q", name)
}

func (ci *chunkIndex) records(name string) []memRecord {
	if name == secCalls {
		return ci.calls
	}
	return ci.alerts
}

// yield hands a call or alert record to fn keyed like a segment's: the call's
// Ref, then a counter that keeps log order.
func (p *memPart) yield(chunk int, r memRecord, fn func(key, val []byte) error) error {
	d := p.data[chunk]
	if uint64(r.off)+uint64(r.len) > uint64(len(d)) {
		return errCorrupt
	}
	binary.BigEndian.PutUint64(p.key[:8], uint64(r.ref))
	binary.BigEndian.PutUint64(p.key[8:], uint64(chunk)<<32|uint64(r.pos))
	return fn(p.key[:], d[r.off:r.off+r.len])
}

// lookupNumber finds the postings of exactly these digits; hash matches are
// confirmed against the digits in the message record.
func (p *memPart) lookupNumber(digits []byte, fn func(key, val []byte) error) error {
	h := numberHash(digits)
	type hit struct {
		ref  Ref
		role Role
	}
	var hits []hit
	var w walMessage
	for _, ci := range p.idx {
		j, _ := slices.BinarySearchFunc(ci.posts, h, func(m memPosting, h uint64) int { return cmp.Compare(m.hash, h) })
		for ; j < len(ci.posts) && ci.posts[j].hash == h; j++ {
			ps := ci.posts[j]
			if err := p.decodeAt(ps.ord, &w); err != nil {
				return err
			}
			for _, n := range w.numbers {
				if n.role == ps.role && bytes.Equal(n.digits, digits) {
					hits = append(hits, hit{ps.call, ps.role})
					break
				}
			}
		}
	}
	if len(hits) == 0 {
		return nil
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.ref != b.ref {
			return cmp.Compare(a.ref, b.ref)
		}
		return cmp.Compare(a.role, b.role)
	})
	hits = slices.Compact(hits)
	var val []byte
	var prev Ref
	for _, x := range hits {
		val = appendUvarint(val, uint64(x.ref-prev))
		val = append(val, byte(x.role))
		prev = x.ref
	}
	return fn(digits, val)
}

// scan serves calls and alerts (every record, log order within a call), and
// ladders: the key of every call opened in this partition (values empty).
func (p *memPart) scan(name string, fn func(key, val []byte) error) error {
	switch name {
	case secLadders:
		for _, ci := range p.idx {
			for _, m := range ci.members {
				if m.call == MakeRef(p.seq, m.ord) {
					binary.BigEndian.PutUint64(p.key[:8], uint64(m.call))
					if err := fn(p.key[:8], nil); err != nil {
						return err
					}
				}
			}
		}
		return nil
	case secCalls, secAlerts:
		for i, ci := range p.idx {
			for _, r := range ci.records(name) {
				if err := p.yield(i, r, fn); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return fmt.Errorf("retention: open partition cannot scan %q", name)
}

// openLog is what a query takes from the writer under its lock: the open
// partition's chunks at their current lengths.
type openLog struct {
	seq          uint32
	chunks       [][]byte
	firstOrd     []uint32
	minTS, maxTS int64
}

type chunkKey struct {
	seq   uint32
	chunk int
}

// memCache holds the indexes queries built for the open partition's chunks.
// Only readers use it; the writer never takes its lock.
type memCache struct {
	idx map[chunkKey]*chunkIndex
	// Bytes of the cached indexes, bounded by openIndexBudget: beyond it the
	// least recently used are evicted (and rebuilt by the next query that
	// needs them).
	bytes, evicted int64
	budget         int64 // 0: openIndexBudget
	tick           uint64
	used           map[chunkKey]uint64
	// roLogs are the open logs a read-only store has read so far, by seq.
	roLogs map[uint32]*roLog
}

// openIndexBudget bounds the memory of the open partitions' query indexes
// (about as large as the log they index).
const openIndexBudget = 256 << 20

func (ci *chunkIndex) size() int64 {
	return int64(len(ci.msgOff)*4 + len(ci.posts)*24 + len(ci.members)*16 + (len(ci.calls)+len(ci.alerts))*20 + 128)
}

// put caches a chunk's index, evicting the least recently used beyond the
// budget (never one the running query has just used: it holds them).
func (c *memCache) put(k chunkKey, ci *chunkIndex) {
	if c.used == nil {
		c.used = map[chunkKey]uint64{}
	}
	c.drop(k)
	c.idx[k] = ci
	c.bytes += ci.size()
	budget := c.budget
	if budget == 0 {
		budget = openIndexBudget
	}
	for c.bytes > budget && len(c.idx) > 1 {
		var oldest chunkKey
		tick := ^uint64(0)
		for k2, t := range c.used {
			if t < tick && k2 != k {
				oldest, tick = k2, t
			}
		}
		if tick == ^uint64(0) {
			break
		}
		c.drop(oldest)
		c.evicted++
	}
}

func (c *memCache) drop(k chunkKey) {
	if ci := c.idx[k]; ci != nil {
		c.bytes -= ci.size()
		delete(c.idx, k)
	}
	delete(c.used, k)
}

// prune drops the cached indexes of logs no longer open (sealed meanwhile).
func (c *memCache) prune(logs []openLog) {
	for k := range c.idx {
		keep := false
		for _, l := range logs {
			keep = keep || l.seq == k.seq
		}
		if !keep {
			c.drop(k)
		}
	}
}

// part indexes log (reusing the cached index of every chunk that has not grown).
func (c *memCache) part(log openLog) (*memPart, error) {
	if c.idx == nil {
		c.idx, c.used = map[chunkKey]*chunkIndex{}, map[chunkKey]uint64{}
	}
	p := &memPart{seq: log.seq, data: log.chunks, idx: make([]*chunkIndex, len(log.chunks))}
	for i, d := range log.chunks {
		k := chunkKey{log.seq, i}
		ci := c.idx[k]
		if ci == nil || ci.length != len(d) {
			var err error
			ci, err = buildChunkIndex(log.seq, d, log.firstOrd[i])
			if err != nil {
				return nil, fmt.Errorf("retention: open partition %d: %w", log.seq, err)
			}
			c.put(k, ci)
		}
		c.tick++
		c.used[k] = c.tick
		p.idx[i] = ci
	}
	return p, nil
}

// roLog is an open log as a read-only store has read it: the file is
// append-only, so each query reads only what was added since the last.
type roLog struct {
	valid int64 // bytes of whole records read
	part  memPart
	msgs  uint32
}

// readOnlyParts reads the open logs of seqs (another process is writing
// them) and returns them as in-memory partitions.
func (c *memCache) readOnlyParts(dir string, seqs []uint32) []*memPart {
	if c.roLogs == nil {
		c.roLogs = map[uint32]*roLog{}
	}
	live := map[uint32]bool{}
	var out []*memPart
	for _, seq := range seqs {
		live[seq] = true
		l := c.roLogs[seq]
		if l == nil {
			l = &roLog{part: memPart{seq: seq}}
			c.roLogs[seq] = l
		}
		if err := l.update(walPath(dir, seq)); err != nil {
			delete(c.roLogs, seq) // sealed and removed meanwhile, or cut: start again next time
			continue
		}
		p := l.part // the slices only grow: a copy is a stable view
		p.data, p.idx = p.data[:len(p.data):len(p.data)], p.idx[:len(p.idx):len(p.idx)]
		out = append(out, &p)
	}
	for seq := range c.roLogs {
		if !live[seq] {
			delete(c.roLogs, seq)
		}
	}
	return out
}

func (l *roLog) update(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() < l.valid {
		return errors.New("retention: log shrank")
	}
	if st.Size() == l.valid {
		return nil
	}
	data := make([]byte, st.Size()-l.valid)
	n, err := f.ReadAt(data, l.valid)
	if err != nil && err != io.EOF {
		return err
	}
	data = data[:n]
	valid, _ := scanWAL(data, func([]byte) error { return nil })
	if valid == 0 {
		return nil
	}
	data = data[:valid:valid]
	ci, err := buildChunkIndex(l.part.seq, data, l.msgs)
	if err != nil {
		return err
	}
	l.part.data = append(l.part.data, data)
	l.part.idx = append(l.part.idx, ci)
	l.msgs += uint32(len(ci.msgOff))
	l.valid += int64(valid)
	return nil
}
