package retention

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sort"

	"github.com/gatewarden/gatewarden/decode"
	"github.com/klauspost/compress/zstd"
)

// A segment is one sealed partition in one file:
//
//	magic | message blocks | section chunks | table of contents | footer
//
// Message blocks hold blockRows messages each, column by column (timestamps as
// scaled deltas, addresses and point codes in a per-block dictionary, the MTP3
// bytes last), each block zstd-compressed on its own so a lookup decompresses
// only the blocks it needs. Sections are sorted key/value tables (number index,
// call ladders, calls, alerts) cut into compressed chunks whose first keys are
// in the table of contents, so a lookup reads one or two chunks.

var segMagic = [8]byte{'G', 'W', 'S', 'E', 'G', 'v', '1', '\n'}

const (
	blockRows   = 4096
	chunkTarget = 32 << 10
	footerLen   = 8 + 4 + 8
)

// Section names.
const (
	secNumbers = "num"    // digits -> postings of (call ref, role)
	secLadders = "ladder" // call ref (8 bytes BE) -> ordinals of its messages in this partition
	secCalls   = "call"   // call ref + counter -> encoded analysis.Call
	secAlerts  = "alert"  // call ref + counter -> encoded analysis.Alert
)

type blockInfo struct {
	off, length  uint64
	first, count uint32
	minTS, maxTS int64
}

type chunkInfo struct {
	off, length uint64
	entries     uint32
	firstKey    []byte
}

type kv struct {
	key, val []byte
}

// assocKey is everything that is constant for a signalling association (or
// MTP2 link) and point-code pair; a block stores each distinct one once.
type assocKey struct {
	source         string
	transport      decode.Transport
	src, dst       netip.AddrPort
	vtag           uint32
	link           uint16
	rc, na         uint32
	flags          byte
	ni, si, pcbits uint8
	opc, dpc       uint32
}

func keyOf(m *Message) assocKey {
	var flags byte
	if m.HasRC {
		flags |= flagHasRC
	}
	if m.HasNA {
		flags |= flagHasNA
	}
	return assocKey{
		source: m.Source, transport: m.Transport, src: m.Src, dst: m.Dst, vtag: m.VTag, link: m.Link,
		rc: m.RoutingContext, na: m.NetworkAppearance, flags: flags,
		ni: m.Label.NI, si: m.Label.SI, pcbits: m.Label.PCBits, opc: m.Label.OPC, dpc: m.Label.DPC,
	}
}

type segSummary struct {
	Messages, Calls, Alerts int
	MinTS, MaxTS            int64
	// numKeys and numFilter are the partition's distinct numbers and their
	// filter for the store's number index (numindex.go).
	numKeys   int
	numFilter []byte
}

func (s *segSummary) see(ts int64) {
	if ts == 0 {
		return
	}
	if s.MinTS == 0 || ts < s.MinTS {
		s.MinTS = ts
	}
	if ts > s.MaxTS {
		s.MaxTS = ts
	}
}

type posting struct {
	digits []byte // aliases the log
	ref    Ref
	role   Role
}

type member struct {
	call Ref
	ord  uint32
}

// segBuilder encodes a partition block by block, so sealing holds the log and
// the index entries but never every decoded message at once.
type segBuilder struct {
	enc     *zstd.Encoder
	seq     uint32
	out     []byte
	raw     []byte
	blocks  []blockInfo
	posts   []posting
	members []member
	sum     segSummary
}

func newSegBuilder(enc *zstd.Encoder, seq uint32, msgs, records int) *segBuilder {
	b := &segBuilder{enc: enc, seq: seq}
	// Sealed data is about a third of the logged size: avoid regrowing.
	b.out = make([]byte, 0, 64*msgs+64*records+1024)
	b.out = append(b.out, segMagic[:]...)
	b.posts = make([]posting, 0, msgs)
	b.members = make([]member, 0, msgs)
	return b
}

// addBlock encodes up to blockRows messages; rows may be reused afterwards.
func (b *segBuilder) addBlock(rows []walMessage) {
	first := uint32(len(b.members))
	b.raw = encodeBlock(b.raw[:0], rows)
	bi := blockInfo{off: uint64(len(b.out)), first: first, count: uint32(len(rows))}
	bi.minTS, bi.maxTS = rows[0].TS, rows[0].TS
	for i := range rows {
		m := &rows[i]
		bi.minTS = min(bi.minTS, m.TS)
		bi.maxTS = max(bi.maxTS, m.TS)
		b.sum.see(m.TS)
		call := m.Call
		if call == 0 {
			call = MakeRef(b.seq, first+uint32(i))
		}
		b.members = append(b.members, member{call, first + uint32(i)})
		for _, n := range m.numbers {
			b.posts = append(b.posts, posting{digits: n.digits, ref: call, role: n.role})
		}
	}
	b.out = b.enc.EncodeAll(b.raw, b.out)
	bi.length = uint64(len(b.out)) - bi.off
	b.blocks = append(b.blocks, bi)
	b.sum.Messages += len(rows)
}

// buildSegment encodes one partition from decoded messages. Calls and alerts
// are keyed by the Ref of the call they belong to.
func buildSegment(enc *zstd.Encoder, seq uint32, msgs []walMessage, calls, alerts []kv) ([]byte, segSummary) {
	b := newSegBuilder(enc, seq, len(msgs), len(calls)+len(alerts))
	for first := 0; first < len(msgs); first += blockRows {
		b.addBlock(msgs[first:min(first+blockRows, len(msgs))])
	}
	return b.finish(calls, alerts)
}

// finish writes the index sections, the table of contents and the footer.
func (b *segBuilder) finish(calls, alerts []kv) ([]byte, segSummary) {
	seq, out, blocks, posts, members, raw := b.seq, b.out, b.blocks, b.posts, b.members, b.raw
	sum := b.sum
	enc := b.enc

	// Number index and ladders. One slab holds every encoded value.
	slices.SortFunc(posts, func(a, b posting) int {
		if c := bytes.Compare(a.digits, b.digits); c != 0 {
			return c
		}
		if a.ref != b.ref {
			return cmp.Compare(a.ref, b.ref)
		}
		return cmp.Compare(a.role, b.role)
	})
	slab := make([]byte, 0, 16*len(posts)+12*len(members))
	numKV := make([]kv, 0, len(posts))
	for i := 0; i < len(posts); {
		j := i
		start := len(slab)
		var prev Ref
		for ; j < len(posts) && bytes.Equal(posts[j].digits, posts[i].digits); j++ {
			if j > i && posts[j].ref == posts[j-1].ref && posts[j].role == posts[j-1].role {
				continue
			}
			slab = appendUvarint(slab, uint64(posts[j].ref-prev))
			slab = append(slab, byte(posts[j].role))
			prev = posts[j].ref
		}
		numKV = append(numKV, kv{key: posts[i].digits, val: slab[start:len(slab):len(slab)]})
		i = j
	}
	slices.SortFunc(members, func(a, b member) int {
		if a.call != b.call {
			return cmp.Compare(a.call, b.call)
		}
		return cmp.Compare(a.ord, b.ord)
	})
	ladKV := make([]kv, 0, len(members)/3+1)
	for i := 0; i < len(members); {
		j := i
		for j < len(members) && members[j].call == members[i].call {
			j++
		}
		start := len(slab)
		slab = binary.BigEndian.AppendUint64(slab, uint64(members[i].call))
		keyEnd := len(slab)
		slab = appendUvarint(slab, uint64(j-i))
		prev := uint32(0)
		for _, m := range members[i:j] {
			slab = appendUvarint(slab, uint64(m.ord-prev))
			prev = m.ord
		}
		ladKV = append(ladKV, kv{key: slab[start:keyEnd:keyEnd], val: slab[keyEnd:len(slab):len(slab)]})
		i = j
	}
	sortKV(calls)
	sortKV(alerts)
	sum.Calls, sum.Alerts = len(calls), len(alerts)
	sum.numKeys, sum.numFilter = len(numKV), numberFilterOf(seq, numKV)
	for _, c := range calls {
		if len(c.val) > 0 {
			r := reader{b: c.val}
			r.string()
			sum.see(r.varint())
		}
	}
	for _, a := range alerts {
		r := reader{b: a.val}
		sum.see(r.varint())
	}

	type section struct {
		name   string
		chunks []chunkInfo
	}
	var secs []section
	for _, s := range []struct {
		name string
		kvs  []kv
	}{{secNumbers, numKV}, {secLadders, ladKV}, {secCalls, calls}, {secAlerts, alerts}, {secSummary, buildSummary(calls, alerts)}} {
		sec := section{name: s.name}
		for i := 0; i < len(s.kvs); {
			raw = raw[:0]
			ci := chunkInfo{off: uint64(len(out)), firstKey: s.kvs[i].key}
			for ; i < len(s.kvs) && len(raw) < chunkTarget; i++ {
				raw = appendBytes(raw, s.kvs[i].key)
				raw = appendBytes(raw, s.kvs[i].val)
				ci.entries++
			}
			out = enc.EncodeAll(raw, out)
			ci.length = uint64(len(out)) - ci.off
			sec.chunks = append(sec.chunks, ci)
		}
		secs = append(secs, sec)
	}

	tocOff := len(out)
	out = appendUvarint(out, uint64(seq))
	out = appendUvarint(out, uint64(len(blocks)))
	for _, b := range blocks {
		out = appendUvarint(out, b.off)
		out = appendUvarint(out, b.length)
		out = appendUvarint(out, uint64(b.count))
		out = appendVarint(out, b.minTS)
		out = appendVarint(out, b.maxTS)
	}
	out = appendUvarint(out, uint64(len(secs)))
	for _, s := range secs {
		out = appendString(out, s.name)
		out = appendUvarint(out, uint64(len(s.chunks)))
		for _, c := range s.chunks {
			out = appendUvarint(out, c.off)
			out = appendUvarint(out, c.length)
			out = appendUvarint(out, uint64(c.entries))
			out = appendBytes(out, c.firstKey)
		}
	}
	tocLen := len(out) - tocOff
	out = binary.LittleEndian.AppendUint64(out, uint64(tocOff))
	out = binary.LittleEndian.AppendUint32(out, uint32(tocLen))
	out = append(out, segMagic[:]...)
	return out, sum
}

func sortKV(s []kv) {
	sort.SliceStable(s, func(i, j int) bool { return bytes.Compare(s[i].key, s[j].key) < 0 })
}

// encodeBlock writes the rows column by column.
func encodeBlock(b []byte, rows []walMessage) []byte {
	n := len(rows)
	b = appendUvarint(b, uint64(n))
	// Timestamps: first value, then deltas divided by their common divisor
	// (captures are usually in µs, so deltas are multiples of 1000 ns).
	var g uint64
	for i := 1; i < n; i++ {
		d := rows[i].TS - rows[i-1].TS
		if d < 0 {
			d = -d
		}
		g = gcd(g, uint64(d))
	}
	if g == 0 {
		g = 1
	}
	b = appendVarint(b, rows[0].TS)
	b = appendUvarint(b, g)
	for i := 1; i < n; i++ {
		b = appendVarint(b, (rows[i].TS-rows[i-1].TS)/int64(g))
	}
	// Association dictionary.
	dict := map[assocKey]uint32{}
	var order []assocKey
	idx := make([]uint32, n)
	for i := range rows {
		k := keyOf(&rows[i].Message)
		v, ok := dict[k]
		if !ok {
			v = uint32(len(order))
			dict[k] = v
			order = append(order, k)
		}
		idx[i] = v
	}
	b = appendUvarint(b, uint64(len(order)))
	for _, k := range order {
		b = appendString(b, k.source)
		b = append(b, byte(k.transport))
		b = appendAddrPort(b, k.src)
		b = appendAddrPort(b, k.dst)
		b = appendUvarint(b, uint64(k.vtag))
		b = appendUvarint(b, uint64(k.link))
		b = appendUvarint(b, uint64(k.rc))
		b = appendUvarint(b, uint64(k.na))
		b = append(b, k.flags, k.ni, k.si, k.pcbits)
		b = appendUvarint(b, uint64(k.opc))
		b = appendUvarint(b, uint64(k.dpc))
	}
	for _, v := range idx {
		b = appendUvarint(b, uint64(v))
	}
	var prevFrame uint64
	for i := range rows {
		b = appendVarint(b, int64(rows[i].Frame-prevFrame))
		prevFrame = rows[i].Frame
	}
	for i := range rows {
		b = appendUvarint(b, uint64(rows[i].Stream))
	}
	// TSNs advance per association: store the step from the previous one.
	lastTSN := make([]uint32, len(order))
	for i := range rows {
		b = appendVarint(b, int64(int32(rows[i].TSN-lastTSN[idx[i]])))
		lastTSN[idx[i]] = rows[i].TSN
	}
	for i := range rows {
		b = append(b, rows[i].Label.SLS)
	}
	for i := range rows {
		b = append(b, rows[i].Label.MP)
	}
	for i := range rows {
		b = append(b, rows[i].Type)
	}
	for i := range rows {
		b = appendUvarint(b, uint64(rows[i].CIC))
	}
	for i := range rows {
		b = appendUvarint(b, uint64(len(rows[i].MTP3)))
	}
	for i := range rows {
		b = append(b, rows[i].MTP3...)
	}
	for i := range rows {
		if rows[i].PPID != 0 || rows[i].SSN != 0 {
			b = append(b, extSCTP)
			for i := range rows {
				b = appendUvarint(b, uint64(rows[i].PPID))
			}
			// SSNs count up per stream of an association: store the step.
			last := map[uint64]uint16{}
			for i := range rows {
				k := uint64(idx[i])<<16 | uint64(rows[i].Stream)
				b = appendVarint(b, int64(int16(rows[i].SSN-last[k])))
				last[k] = rows[i].SSN
			}
			break
		}
	}
	return b
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// block is a decoded message block. Rows hold no pointers (the association
// dictionary and the MTP3 bytes are shared), so a query that reads a few
// messages of many blocks leaves little for the garbage collector to scan
// while the writer runs; Messages are built per row on demand.
type block struct {
	seq, first uint32
	assocs     []assocKey
	rows       []blockRow
	mtp3       []byte
}

type blockRow struct {
	ts               int64
	frame            uint64
	tsn, cic         uint32
	assoc            uint32
	mtp3End          uint32
	stream, ssn      uint16
	ppid             uint32
	sls, mp, msgType uint8
}

func (b *block) count() int { return len(b.rows) }

// message fills m with row i.
func (b *block) message(i int, m *Message) {
	r := &b.rows[i]
	k := &b.assocs[r.assoc]
	start := uint32(0)
	if i > 0 {
		start = b.rows[i-1].mtp3End
	}
	*m = Message{
		Ref: MakeRef(b.seq, b.first+uint32(i)), TS: r.ts, Source: k.source, Frame: r.frame, Transport: k.transport,
		Src: k.src, Dst: k.dst, VTag: k.vtag, Stream: r.stream, SSN: r.ssn, PPID: r.ppid, TSN: r.tsn, Link: k.link,
		RoutingContext: k.rc, NetworkAppearance: k.na, HasRC: k.flags&flagHasRC != 0, HasNA: k.flags&flagHasNA != 0,
		Label: decode.Label{NI: k.ni, SI: k.si, PCBits: k.pcbits, OPC: k.opc, DPC: k.dpc, SLS: r.sls, MP: r.mp},
		CIC:   r.cic, Type: r.msgType, MTP3: b.mtp3[start:r.mtp3End:r.mtp3End],
	}
}

func decodeBlock(raw []byte, seq, first uint32) (*block, error) {
	r := reader{b: raw}
	n := int(r.uvarint())
	if n <= 0 || n > blockRows || r.err != nil {
		return nil, errCorrupt
	}
	rows := make([]blockRow, n)
	ts := r.varint()
	g := int64(r.uvarint())
	rows[0].ts = ts
	for i := 1; i < n; i++ {
		ts += r.varint() * g
		rows[i].ts = ts
	}
	na := int(r.uvarint())
	if na > n || r.err != nil {
		return nil, errCorrupt
	}
	assocs := make([]assocKey, na)
	for i := range assocs {
		k := &assocs[i]
		k.source = r.string()
		k.transport = decode.Transport(r.byte1())
		k.src = r.addrPort()
		k.dst = r.addrPort()
		k.vtag = uint32(r.uvarint())
		k.link = uint16(r.uvarint())
		k.rc = uint32(r.uvarint())
		k.na = uint32(r.uvarint())
		k.flags, k.ni, k.si, k.pcbits = r.byte1(), r.byte1(), r.byte1(), r.byte1()
		k.opc = uint32(r.uvarint())
		k.dpc = uint32(r.uvarint())
	}
	for i := range rows {
		v := r.uvarint()
		if v >= uint64(na) {
			return nil, errCorrupt
		}
		rows[i].assoc = uint32(v)
	}
	var frame uint64
	for i := range rows {
		frame += uint64(r.varint())
		rows[i].frame = frame
	}
	for i := range rows {
		rows[i].stream = uint16(r.uvarint())
	}
	lastTSN := make([]uint32, na)
	for i := range rows {
		a := rows[i].assoc
		t := lastTSN[a] + uint32(int32(r.varint()))
		rows[i].tsn = t
		lastTSN[a] = t
	}
	for i := range rows {
		rows[i].sls = r.byte1()
	}
	for i := range rows {
		rows[i].mp = r.byte1()
	}
	for i := range rows {
		rows[i].msgType = r.byte1()
	}
	for i := range rows {
		rows[i].cic = uint32(r.uvarint())
	}
	total := uint64(0)
	for i := range rows {
		l := r.uvarint()
		if l > maxRecordLen {
			return nil, errCorrupt
		}
		total += l
		if total > uint64(len(raw)) {
			return nil, errCorrupt
		}
		rows[i].mtp3End = uint32(total)
	}
	data := r.bytesN(int(total))
	if r.err == nil && len(r.b) > 0 && r.b[0] == extSCTP {
		r.byte1()
		for i := range rows {
			rows[i].ppid = uint32(r.uvarint())
		}
		last := map[uint64]uint16{}
		for i := range rows {
			k := uint64(rows[i].assoc)<<16 | uint64(rows[i].stream)
			rows[i].ssn = last[k] + uint16(int16(r.varint()))
			last[k] = rows[i].ssn
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return &block{seq: seq, first: first, assocs: assocs, rows: rows, mtp3: data}, nil
}

// segment reads a sealed (or in-memory) partition.
type segment struct {
	ra       io.ReaderAt
	size     int64
	seq      uint32
	blocks   []blockInfo
	sections map[string][]chunkInfo
	dec      *zstd.Decoder
	cache    map[int]*block
	scratch  *scratch
	// shared, when set, keeps decoded blocks and chunks across queries;
	// id is the segment's SHA-256.
	shared *decodedCache
	id     string
}

// scratch holds buffers reused across the segments one query reads.
type scratch struct {
	compressed, chunk []byte
}

func openSegment(ra io.ReaderAt, size int64, dec *zstd.Decoder) (*segment, error) {
	if size < int64(len(segMagic)+footerLen) {
		return nil, fmt.Errorf("retention: segment too short (%d bytes)", size)
	}
	foot := make([]byte, footerLen)
	if _, err := ra.ReadAt(foot, size-footerLen); err != nil {
		return nil, err
	}
	if !bytes.Equal(foot[12:], segMagic[:]) {
		return nil, errors.New("retention: segment footer damaged")
	}
	tocOff := int64(binary.LittleEndian.Uint64(foot))
	tocLen := int64(binary.LittleEndian.Uint32(foot[8:]))
	if tocOff < int64(len(segMagic)) || tocOff+tocLen != size-footerLen {
		return nil, errors.New("retention: segment table of contents out of range")
	}
	toc := make([]byte, tocLen)
	if _, err := ra.ReadAt(toc, tocOff); err != nil {
		return nil, err
	}
	s := &segment{ra: ra, size: size, dec: dec, sections: map[string][]chunkInfo{}, cache: map[int]*block{}}
	r := reader{b: toc}
	s.seq = uint32(r.uvarint())
	nb := r.uvarint()
	if nb > uint64(tocLen) {
		return nil, errCorrupt
	}
	var first uint32
	for i := uint64(0); i < nb && r.err == nil; i++ {
		b := blockInfo{off: r.uvarint(), length: r.uvarint(), count: uint32(r.uvarint()), first: first}
		b.minTS, b.maxTS = r.varint(), r.varint()
		first += b.count
		s.blocks = append(s.blocks, b)
	}
	ns := r.uvarint()
	for i := uint64(0); i < ns && r.err == nil; i++ {
		name := r.string()
		nc := r.uvarint()
		if nc > uint64(tocLen) {
			return nil, errCorrupt
		}
		chunks := make([]chunkInfo, 0, nc)
		for j := uint64(0); j < nc && r.err == nil; j++ {
			c := chunkInfo{off: r.uvarint(), length: r.uvarint(), entries: uint32(r.uvarint())}
			c.firstKey = r.bytes()
			chunks = append(chunks, c)
		}
		s.sections[name] = chunks
	}
	if r.err != nil {
		return nil, r.err
	}
	for _, b := range s.blocks {
		if b.off+b.length > uint64(tocOff) {
			return nil, errCorrupt
		}
	}
	return s, nil
}

func (s *segment) messageCount() uint32 {
	if len(s.blocks) == 0 {
		return 0
	}
	b := s.blocks[len(s.blocks)-1]
	return b.first + b.count
}

// readCompressed reads and decompresses one block or chunk into dst (nil: a
// new slice, for blocks whose messages outlive the call).
func (s *segment) readCompressed(off, length uint64, dst []byte) ([]byte, error) {
	if off > uint64(s.size) || length > uint64(s.size)-off {
		return nil, s.corrupt(errCorrupt)
	}
	if s.scratch == nil {
		s.scratch = &scratch{}
	}
	if cap(s.scratch.compressed) < int(length) {
		s.scratch.compressed = make([]byte, length)
	}
	buf := s.scratch.compressed[:length]
	if _, err := s.ra.ReadAt(buf, int64(off)); err != nil {
		return nil, err
	}
	out, err := s.dec.DecodeAll(buf, dst)
	if err != nil {
		return nil, s.corrupt(err)
	}
	return out, nil
}

// CorruptError is a read of a damaged partition: it names the partition so
// the operator knows which file, and `gatewarden verify` says the rest.
type CorruptError struct {
	Seq uint32
	Err error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("retention: partition %d (%08d.seg) is damaged: %v", e.Seq, e.Seq, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

func (s *segment) corrupt(err error) error { return &CorruptError{Seq: s.seq, Err: err} }

func (s *segment) block(i int) (*block, error) {
	if b, ok := s.cache[i]; ok {
		return b, nil
	}
	bi := s.blocks[i]
	if s.shared != nil {
		if b, ok := s.shared.get(decodedID{s.id, true, uint64(i)}).(*block); ok && b.first == bi.first && b.count() == int(bi.count) {
			s.keep(i, b)
			return b, nil
		}
	}
	raw, err := s.readCompressed(bi.off, bi.length, nil)
	if err != nil {
		return nil, err
	}
	b, err := decodeBlock(raw, s.seq, bi.first)
	if err != nil {
		return nil, s.corrupt(err)
	}
	if b.count() != int(bi.count) {
		return nil, s.corrupt(errCorrupt)
	}
	if s.shared != nil {
		s.shared.put(decodedID{s.id, true, uint64(i)}, b, b.size())
	}
	s.keep(i, b)
	return b, nil
}

func (s *segment) keep(i int, b *block) {
	if len(s.cache) > 64 {
		clear(s.cache)
	}
	s.cache[i] = b
}

// message returns the message with the given ordinal.
func (s *segment) message(ord uint32) (*Message, error) {
	i := sort.Search(len(s.blocks), func(i int) bool { return s.blocks[i].first+s.blocks[i].count > ord })
	if i == len(s.blocks) {
		return nil, fmt.Errorf("retention: ordinal %d beyond partition %d", ord, s.seq)
	}
	b, err := s.block(i)
	if err != nil {
		return nil, err
	}
	m := new(Message)
	b.message(int(ord-b.first), m)
	return m, nil
}

// chunk calls fn for each entry of a chunk; keys and values are valid only
// during the call.
func (s *segment) chunk(c chunkInfo, fn func(key, val []byte) (bool, error)) (bool, error) {
	if s.scratch == nil {
		s.scratch = &scratch{}
	}
	var raw []byte
	id := decodedID{s.id, false, c.off}
	if s.shared != nil {
		raw, _ = s.shared.get(id).([]byte)
	}
	if raw == nil {
		var err error
		if s.shared != nil {
			// Kept for other queries: a slice of its own, never reused.
			if raw, err = s.readCompressed(c.off, c.length, nil); err != nil {
				return false, err
			}
			s.shared.put(id, raw, cap(raw))
		} else {
			if raw, err = s.readCompressed(c.off, c.length, s.scratch.chunk[:0]); err != nil {
				return false, err
			}
			s.scratch.chunk = raw[:0]
		}
	}
	r := reader{b: raw}
	for len(r.b) > 0 {
		k, v := r.bytes(), r.bytes()
		if r.err != nil {
			return false, s.corrupt(r.err)
		}
		more, err := fn(k, v)
		if err != nil || !more {
			return more, err
		}
	}
	return true, nil
}

// lookup calls fn for every entry of a section whose key starts with prefix.
func (s *segment) lookup(name string, prefix []byte, fn func(key, val []byte) error) error {
	chunks := s.sections[name]
	start := sort.Search(len(chunks), func(i int) bool { return bytes.Compare(chunks[i].firstKey, prefix) >= 0 })
	if start > 0 {
		start--
	}
	for i := start; i < len(chunks); i++ {
		if bytes.Compare(chunks[i].firstKey, prefix) > 0 && !bytes.HasPrefix(chunks[i].firstKey, prefix) {
			break
		}
		more, err := s.chunk(chunks[i], func(k, v []byte) (bool, error) {
			if bytes.HasPrefix(k, prefix) {
				return true, fn(k, v)
			}
			return bytes.Compare(k, prefix) < 0, nil
		})
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// scan calls fn for every entry of a section.
func (s *segment) scan(name string, fn func(key, val []byte) error) error {
	for _, c := range s.sections[name] {
		if _, err := s.chunk(c, func(k, v []byte) (bool, error) { return true, fn(k, v) }); err != nil {
			return err
		}
	}
	return nil
}
