// Package retention keeps every ISUP message gatewarden decodes, with its call
// and alerts, for as long as the regulator requires (BRIEF R6), and answers
// traceback queries: who delivered a call, over which link, what was signalled.
//
// Data lives in hourly partitions. The open partition is an append-only
// write-ahead log flushed at a fixed wall-clock interval; when capture time
// moves into the next hour it is sealed into a compressed, indexed segment file
// with a SHA-256 manifest chained to the previous one. See README.md for the
// format and why it was chosen.
package retention

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/klauspost/compress/zstd"
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// FlushInterval is how often (wall clock) buffered records are written and
	// fsynced; a crash loses at most this much. Default 1 s.
	FlushInterval time.Duration
	// Partition is the span of capture time per partition. Default 1 h.
	Partition time.Duration
	// RetentionDays removes partitions whose newest data is older than this
	// many days before Now. Zero keeps data forever.
	RetentionDays int
	// MaxBytes bounds the store's size on disk; the oldest partitions go first.
	// Zero means no budget.
	MaxBytes int64
	// MinFreeBytes is the free space kept on the file system: below it the
	// oldest partitions are removed, and when none is left new records are
	// dropped (and counted) rather than filling the disk. Default 256 MiB;
	// negative disables the check.
	MinFreeBytes int64
	// Now gives the reference time for RetentionDays. By default it is the
	// newest capture timestamp stored, so replaying old captures is
	// deterministic; a live daemon passes time.Now.
	Now func() time.Time
	// ReadOnly opens for queries only: no lock, no repair, no sealing. Open
	// write-ahead logs are read as they are.
	ReadOnly bool
	// NoSync skips fsync (tests and benchmarks on tmpfs).
	NoSync bool
	// Logf receives removals, recoveries and write errors. Default: discard.
	Logf func(format string, args ...any)
}

// Stats are the store's counters since Open.
type Stats struct {
	Messages, Calls, Alerts uint64 // records accepted
	Dropped                 uint64 // records refused because the disk is full or a write failed
	Sealed                  uint64 // partitions sealed
	Recovered               uint64 // write-ahead logs sealed on open (after a crash or stop)
	TornBytes               int64  // bytes cut from torn log tails on open
	Removed                 uint64 // partitions removed by retention
	RemovedBytes            int64
	RemovedByReason         map[string]uint64
}

type partInfo struct {
	Manifest
	hash string // SHA-256 of the manifest file
}

// Store is an open retention directory. Its methods are safe for concurrent use.
type Store struct {
	mu   sync.Mutex
	dir  string
	opt  Options
	lock *os.File

	parts []partInfo // sealed, by seq
	head  chainHead
	next  uint32 // next partition seq

	// Open partition.
	cur      bool
	curSeq   uint32
	curSlot  int64 // ts / Partition
	curOrd   uint32
	curFile  *os.File
	curBytes int64
	curSum   segSummary // capture-time range of the open partition, for queries
	dirty    bool

	// The open partition's log, kept in memory for queries and sealing:
	// closed chunks, and buf, the chunk being appended to, of which flushed
	// bytes have been handed to the OS. Bytes below a length a query has
	// seen are never modified; shared records that a query has taken a
	// view of this partition, so its chunks are not recycled.
	chunks   [][]byte
	chunkOrd []uint32 // ordinal of the first message of each closed chunk
	buf      []byte
	bufOrd   uint32
	flushed  int
	shared   bool
	spare    [][]byte // chunks of a sealed partition no query saw, for reuse

	mem     sync.Mutex // guards memc; taken by queries only, never by the writer
	memc    memCache
	segs    segmentCache // open sealed segments, shared by queries
	decoded decodedCache // their decoded blocks and index chunks

	commitMu sync.Mutex // serialises Commit
	commit   commitState
	newest   int64
	full     bool
	err      error
	closed   bool

	enc *zstd.Encoder
	dec *zstd.Decoder

	stats Stats

	stop chan struct{}
	done chan struct{}
}

// ErrReadOnly is returned by writes to a store opened with ReadOnly.
var ErrReadOnly = errors.New("retention: store is read-only")

// ErrDiskFull is returned (and the record counted as dropped) when the file
// system is below MinFreeBytes and retention has nothing left to remove.
var ErrDiskFull = errors.New("retention: disk full, record dropped")

// Open opens or creates the store in dir. Unless ReadOnly, it takes an
// exclusive lock, repairs any torn write-ahead log and seals it.
func Open(dir string, opt Options) (*Store, error) {
	if opt.FlushInterval <= 0 {
		opt.FlushInterval = time.Second
	}
	if opt.Partition <= 0 {
		opt.Partition = time.Hour
	}
	if opt.MinFreeBytes == 0 {
		opt.MinFreeBytes = 256 << 20
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	s := &Store{dir: dir, opt: opt}
	s.stats.RemovedByReason = map[string]uint64{}
	if opt.ReadOnly {
		if _, err := os.Stat(dir); err != nil {
			return nil, err
		}
	} else {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		lock, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			lock.Close()
			return nil, fmt.Errorf("retention: %s is in use by another writer: %w", dir, err)
		}
		s.lock = lock
	}
	var err error
	s.enc, err = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return nil, err
	}
	// Blocks and chunks are tens of KB; the limit stops a damaged frame header
	// from asking for gigabytes.
	s.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20))
	if err != nil {
		return nil, err
	}
	if err := s.load(); err != nil {
		s.release()
		return nil, err
	}
	if !opt.ReadOnly {
		s.stop = make(chan struct{})
		s.done = make(chan struct{})
		go s.flusher()
	}
	return s, nil
}

func (s *Store) release() {
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}

func (s *Store) load() error {
	head, err := readChain(s.dir)
	if err != nil {
		return err
	}
	s.head = head
	mseqs, err := listSeqs(s.dir, ".manifest")
	if err != nil {
		return err
	}
	for _, seq := range mseqs {
		mb, err := os.ReadFile(manifestPath(s.dir, seq))
		if err != nil {
			return err
		}
		var p partInfo
		if err := json.Unmarshal(mb, &p.Manifest); err != nil {
			return fmt.Errorf("retention: manifest %d: %w", seq, err)
		}
		p.hash = sha256Hex(mb)
		p.Seq = seq
		s.parts = append(s.parts, p)
		s.newest = max(s.newest, p.MaxTS)
	}
	s.next = s.head.Seq + 1
	if n := len(s.parts); n > 0 {
		s.next = max(s.next, s.parts[n-1].Seq+1)
	}
	removals, err := readRemovals(s.dir)
	if err != nil {
		return err
	}
	for _, r := range removals {
		s.next = max(s.next, r.Seq+1)
	}
	wseqs, err := listSeqs(s.dir, ".wal")
	if err != nil {
		return err
	}
	for _, seq := range wseqs {
		s.next = max(s.next, seq+1)
	}
	if s.opt.ReadOnly {
		return nil
	}
	if wseqs, err = s.recoverCommits(wseqs); err != nil {
		return fmt.Errorf("retention: recovering commits: %w", err)
	}
	// Seal what a crashed or stopped writer left, oldest first, so the chain
	// stays in sequence order.
	for _, seq := range wseqs {
		if err := s.sealSeq(seq, true, nil); err != nil {
			return fmt.Errorf("retention: recovering partition %d: %w", seq, err)
		}
		s.stats.Recovered++
	}
	s.enforce()
	return nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Stats returns a copy of the counters.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.RemovedByReason = make(map[string]uint64, len(s.stats.RemovedByReason))
	for k, v := range s.stats.RemovedByReason {
		st.RemovedByReason[k] = v
	}
	return st
}

// Partitions returns the manifests of the sealed partitions, oldest first.
func (s *Store) Partitions() []Manifest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Manifest, len(s.parts))
	for i, p := range s.parts {
		out[i] = p.Manifest
	}
	return out
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// writable prepares the open partition for a record with capture time ts
// (0: no time of its own, goes to the open partition).
func (s *Store) writable(ts int64) error {
	if s.opt.ReadOnly {
		return ErrReadOnly
	}
	if s.closed {
		return errors.New("retention: store is closed")
	}
	if s.err != nil {
		return s.err
	}
	if s.full {
		return ErrDiskFull
	}
	if ts != 0 {
		slot := floorDiv(ts, int64(s.opt.Partition))
		if s.cur && slot > s.curSlot {
			if err := s.sealCurrent(); err != nil {
				return err
			}
			s.enforce()
			if s.full {
				return ErrDiskFull
			}
		}
		if !s.cur {
			if err := s.openPartition(slot); err != nil {
				return err
			}
		}
		s.newest = max(s.newest, ts)
	} else if !s.cur {
		if err := s.openPartition(floorDiv(s.newest, int64(s.opt.Partition))); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) openPartition(slot int64) error {
	f, err := os.OpenFile(walPath(s.dir, s.next), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		s.err = err
		return err
	}
	s.cur, s.curSeq, s.curSlot, s.curOrd, s.curFile, s.curBytes = true, s.next, slot, 0, f, 0
	s.curSum = segSummary{}
	s.next++
	s.buf, s.bufOrd, s.flushed = s.newChunk(), 0, 0
	s.startLog()
	return nil
}

func (s *Store) newChunk() []byte {
	if n := len(s.spare); n > 0 {
		c := s.spare[n-1]
		s.spare = s.spare[:n-1]
		return c[:0]
	}
	return make([]byte, 0, arenaChunkCap)
}

// releaseLog drops the sealed partition's chunks, keeping them for reuse
// unless a query may still be reading them.
func (s *Store) releaseLog() {
	if !s.shared {
		s.spare = append(s.spare, s.chunks...)
		if s.buf != nil {
			s.spare = append(s.spare, s.buf)
		}
		s.chunks, s.chunkOrd = s.chunks[:0], s.chunkOrd[:0]
	} else {
		s.chunks, s.chunkOrd = nil, nil
	}
	s.buf, s.flushed, s.shared = nil, 0, false
}

// openLog is the open partition's log as a query may read it. Called with mu held.
func (s *Store) openLog() openLog {
	n := len(s.chunks)
	l := openLog{seq: s.curSeq, minTS: s.curSum.MinTS, maxTS: s.curSum.MaxTS}
	l.chunks = append(s.chunks[:n:n], s.buf[:len(s.buf):len(s.buf)])
	l.firstOrd = append(s.chunkOrd[:n:n], s.bufOrd)
	s.shared = true
	return l
}

// AddMessage stores one decoded ISUP message as a call of its own (see
// AddMessageRef). m is only read during the call.
func (s *Store) AddMessage(m *decode.Message, sourceName string) error {
	_, err := s.AddMessageRef(m, sourceName, 0)
	return err
}

// AddMessageRef stores one decoded ISUP message and returns its Ref. call
// is the Ref of the IAM of the call m belongs to (the assembler knows it:
// analysis.Call.Ref), 0 when m opens a call or belongs to none. sourceName
// is the capture file or interface m.Source refers to. m is only read
// during the call.
func (s *Store) AddMessageRef(m *decode.Message, sourceName string, call Ref) (Ref, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(m.TS); err != nil {
		s.stats.Dropped++
		return 0, err
	}
	ref := MakeRef(s.curSeq, s.curOrd)
	var start int
	s.buf, start = beginRecord(s.buf)
	s.buf = appendMessageRecord(s.buf, m, sourceName, call)
	finishRecord(s.buf, start)
	s.curOrd++
	s.curSum.see(m.TS)
	s.stats.Messages++
	return ref, s.afterAppend()
}

// Rotates reports whether a record with capture time ts would make the
// store seal its open partition and begin the next: the pipeline commits
// before such a record, so every sealed partition ends with a commit.
func (s *Store) Rotates(ts int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur && floorDiv(ts, int64(s.opt.Partition)) > s.curSlot
}

func (s *Store) afterAppend() error {
	s.dirty = true
	if len(s.buf)-s.flushed >= flushAt || len(s.buf) >= arenaChunk {
		if err := s.writeBuffer(false); err != nil {
			return err
		}
	}
	if len(s.buf) >= arenaChunk {
		s.chunks = append(s.chunks, s.buf)
		s.chunkOrd = append(s.chunkOrd, s.bufOrd)
		s.buf, s.bufOrd, s.flushed = s.newChunk(), s.curOrd, 0
	}
	return nil
}

// AddCall stores a closed call record, linked to the stored IAM that opened
// it (c.Ref; 0 when the IAM was not stored).
func (s *Store) AddCall(c *analysis.Call) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(0); err != nil {
		s.stats.Dropped++
		return err
	}
	ref := Ref(c.Ref)
	var start int
	s.buf, start = beginRecord(s.buf)
	s.buf = append(s.buf, recCall)
	s.buf = appendUvarint(s.buf, uint64(ref))
	s.buf = appendCall(s.buf, c)
	finishRecord(s.buf, start)
	s.curSum.see(c.Start)
	s.stats.Calls++
	return s.afterAppend()
}

// AddAlert stores an alert, linked to its call (a.CallRef; 0: none).
func (s *Store) AddAlert(a *analysis.Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(0); err != nil {
		s.stats.Dropped++
		return err
	}
	ref := Ref(a.CallRef)
	var start int
	s.buf, start = beginRecord(s.buf)
	s.buf = append(s.buf, recAlert)
	s.buf = appendUvarint(s.buf, uint64(ref))
	s.buf = appendAlert(s.buf, a)
	finishRecord(s.buf, start)
	s.curSum.see(a.TS)
	s.stats.Alerts++
	return s.afterAppend()
}

// writeBuffer hands buffered records to the OS (enough to survive the
// process being killed) and, with sync, to the disk.
func (s *Store) writeBuffer(sync bool) error {
	if !s.cur {
		return nil
	}
	if len(s.buf) > s.flushed {
		n, err := s.curFile.Write(s.buf[s.flushed:])
		s.curBytes += int64(n)
		s.flushed += n
		if err != nil {
			s.err = fmt.Errorf("retention: writing log: %w", err)
			s.opt.Logf("%v", s.err)
			return s.err
		}
	}
	if sync && s.dirty && !s.opt.NoSync {
		if err := s.curFile.Sync(); err != nil {
			s.err = fmt.Errorf("retention: syncing log: %w", err)
			s.opt.Logf("%v", s.err)
			return s.err
		}
	}
	if sync {
		s.dirty = false
	}
	return nil
}

// Flush writes and syncs everything added so far.
func (s *Store) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opt.ReadOnly {
		return nil
	}
	if err := s.writeBuffer(true); err != nil {
		return err
	}
	s.enforce()
	return nil
}

func (s *Store) flusher() {
	defer close(s.done)
	t := time.NewTicker(s.opt.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			var f *os.File
			if s.dirty && s.cur && s.writeBuffer(false) == nil {
				s.dirty = false
				f = s.curFile
			}
			s.enforce()
			s.mu.Unlock()
			if f != nil && !s.opt.NoSync {
				s.syncOutside(f)
			}
		}
	}
}

// syncOutside fsyncs the open log without holding the writer's lock: an
// fsync can take tens of milliseconds, and AddMessage must not wait for it.
// Sealing may close f meanwhile (the sync then finishes on the open
// descriptor, or reports a closed file, which sealing has made durable).
func (s *Store) syncOutside(f *os.File) {
	err := f.Sync()
	if err == nil || errors.Is(err, os.ErrClosed) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.curFile == f && s.err == nil {
		s.err = fmt.Errorf("retention: syncing log: %w", err)
		s.opt.Logf("%v", s.err)
	}
}

// Close flushes and seals the open partition and releases the directory.
func (s *Store) Close() error {
	if s.opt.ReadOnly {
		return nil
	}
	s.mu.Lock()
	closed := s.closed
	s.closed = true
	s.mu.Unlock()
	if closed {
		return errors.New("retention: store already closed")
	}
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.cur {
		err = s.sealCurrent()
	}
	s.enforce()
	s.release()
	s.spare = nil
	s.enc.Close()
	s.dec.Close()
	return err
}

func (s *Store) sealCurrent() error {
	if err := s.writeBuffer(false); err != nil {
		return err
	}
	if err := s.curFile.Close(); err != nil {
		s.err = err
		return err
	}
	s.cur = false
	s.curFile = nil
	log := append(s.chunks, s.buf)
	err := s.sealSeq(s.curSeq, false, log)
	s.releaseLog()
	return err
}

// walCounts sizes a log's contents by walking the frame headers only (the
// parsing pass checks CRCs).
func walCounts(log [][]byte) (msgs, calls, alerts int) {
	for _, data := range log {
		m, c, a := walChunkCounts(data)
		msgs, calls, alerts = msgs+m, calls+c, alerts+a
	}
	return
}

func walChunkCounts(data []byte) (msgs, calls, alerts int) {
	for off := 0; len(data)-off > walHeaderLen; {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		if n == 0 || n > len(data)-off-walHeaderLen {
			break
		}
		switch data[off+walHeaderLen] {
		case recMessage:
			msgs++
		case recCall:
			calls++
		case recAlert:
			alerts++
		}
		off += walHeaderLen + n
	}
	return
}

// walReader walks a log's records: messages one at a time (decoded into w,
// whose slices alias data), calls and alerts collected keyed by call Ref.
func walReader(log [][]byte, message func(w *walMessage) error) (calls, alerts []kv, err error) {
	_, nc, na := walCounts(log)
	calls, alerts = make([]kv, 0, nc), make([]kv, 0, na)
	var w walMessage
	var lastSource string
	var ncall, nalert uint64
	for _, data := range log {
		if _, err = scanWAL(data, func(p []byte) error {
			switch p[0] {
			case recMessage:
				w = walMessage{numbers: w.numbers[:0]}
				if err := decodeMessageRecord(p[1:], &w, &lastSource); err != nil {
					return err
				}
				return message(&w)
			case recCommit:
				return nil // the pipeline's position: not part of the partition's data
			case recCall, recAlert:
				r := reader{b: p[1:]}
				ref := r.uvarint()
				if r.err != nil {
					return r.err
				}
				key := appendUint64BE(make([]byte, 0, 16), ref)
				if p[0] == recCall {
					ncall++
					key = appendUint64BE(key, ncall)
					calls = append(calls, kv{key: key, val: r.b})
				} else {
					nalert++
					key = appendUint64BE(key, nalert)
					alerts = append(alerts, kv{key: key, val: r.b})
				}
			default:
				return errCorrupt
			}
			return nil
		}); err != nil {
			return
		}
	}
	return
}

// parseWAL decodes a whole log (tests and fuzzing; sealing streams).
func parseWAL(data []byte) (msgs []walMessage, calls, alerts []kv, err error) {
	calls, alerts, err = walReader([][]byte{data}, func(w *walMessage) error {
		cp := *w
		cp.numbers = append([]number(nil), w.numbers...)
		msgs = append(msgs, cp)
		return nil
	})
	return
}

// segmentFromWAL encodes a log as a segment block by block.
func segmentFromWAL(enc *zstd.Encoder, seq uint32, log [][]byte) ([]byte, segSummary, error) {
	nm, nc, na := walCounts(log)
	b := newSegBuilder(enc, seq, nm, nc+na)
	rows := make([]walMessage, 0, blockRows)
	slab := make([]number, 0, 4*blockRows)
	calls, alerts, err := walReader(log, func(w *walMessage) error {
		// Numbers go into the block's slab (their digits alias the log).
		start := len(slab)
		slab = append(slab, w.numbers...)
		rows = append(rows, *w)
		rows[len(rows)-1].numbers = slab[start:len(slab):len(slab)]
		if len(rows) == blockRows {
			b.addBlock(rows)
			rows, slab = rows[:0], slab[:0]
		}
		return nil
	})
	if err != nil {
		return nil, segSummary{}, err
	}
	if len(rows) > 0 {
		b.addBlock(rows)
	}
	seg, sum := b.finish(calls, alerts)
	return seg, sum, nil
}

func appendUint64BE(b []byte, v uint64) []byte {
	return append(b, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// sealSeq turns the log of partition seq into a segment, manifest and chain
// link. log is the log as the writer kept it in memory; nil reads the file
// (recovery), cutting a torn tail.
func (s *Store) sealSeq(seq uint32, recovering bool, log [][]byte) error {
	if log == nil {
		data, cut, err := readWAL(walPath(s.dir, seq), true)
		if err != nil {
			s.err = err
			return err
		}
		if cut > 0 {
			s.stats.TornBytes += cut
			s.opt.Logf("retention: partition %d: cut %d bytes of torn log tail", seq, cut)
		}
		if recovering {
			s.opt.Logf("retention: recovering partition %d from its log (%d bytes)", seq, len(data))
		}
		log = [][]byte{data}
	}
	if nm, nc, na := walCounts(log); nm+nc+na == 0 {
		return os.Remove(walPath(s.dir, seq))
	}
	seg, sum, err := segmentFromWAL(s.enc, seq, log)
	if err != nil {
		s.err = fmt.Errorf("retention: partition %d log: %w", seq, err)
		return s.err
	}
	if err := s.writeFile(segPath(s.dir, seq), seg); err != nil {
		return err
	}
	m := Manifest{
		Seq: seq, MinTS: sum.MinTS, MaxTS: sum.MaxTS, Messages: sum.Messages, Calls: sum.Calls, Alerts: sum.Alerts,
		Bytes: int64(len(seg)), SHA256: sha256Hex(seg), Prev: s.head.Manifest,
		Sealed: time.Now().UTC().Format(time.RFC3339),
	}
	mb, _ := json.MarshalIndent(m, "", "  ")
	mb = append(mb, '\n')
	if err := s.writeFile(manifestPath(s.dir, seq), mb); err != nil {
		return err
	}
	head := chainHead{Seq: seq, Manifest: sha256Hex(mb)}
	hb, _ := json.Marshal(head)
	if err := s.writeFile(filepath.Join(s.dir, chainFile), hb); err != nil {
		return err
	}
	if err := os.Remove(walPath(s.dir, seq)); err != nil {
		s.err = err
		return err
	}
	if !s.opt.NoSync {
		_ = syncDir(s.dir)
	}
	s.head = head
	s.parts = append(s.parts, partInfo{Manifest: m, hash: head.Manifest})
	s.newest = max(s.newest, m.MaxTS)
	s.stats.Sealed++
	return nil
}

func (s *Store) writeFile(path string, data []byte) error {
	var err error
	if s.opt.NoSync {
		err = os.WriteFile(path+".tmp", data, 0o644)
		if err == nil {
			err = os.Rename(path+".tmp", path)
		}
	} else {
		err = writeFileSync(path, data)
	}
	if err != nil {
		s.err = err
	}
	return err
}

// enforce applies retention by age, by budget and by free disk space,
// removing the oldest sealed partitions first. Called with mu held.
func (s *Store) enforce() {
	if s.opt.ReadOnly {
		return
	}
	if s.opt.RetentionDays > 0 {
		now := s.newest
		if s.opt.Now != nil {
			now = s.opt.Now().UnixNano()
		}
		limit := now - int64(s.opt.RetentionDays)*24*int64(time.Hour)
		for len(s.parts) > 0 && s.parts[0].MaxTS < limit && s.removeOldest("age") {
		}
	}
	if s.opt.MaxBytes > 0 {
		for len(s.parts) > 0 && s.diskBytes() > s.opt.MaxBytes && s.removeOldest("budget") {
		}
	}
	if s.opt.MinFreeBytes > 0 {
		for len(s.parts) > 0 && freeBytes(s.dir) < s.opt.MinFreeBytes && s.removeOldest("disk") {
		}
		full := freeBytes(s.dir) < s.opt.MinFreeBytes
		if full && !s.full {
			s.opt.Logf("retention: %s has less than %d bytes free and nothing left to remove: dropping new records", s.dir, s.opt.MinFreeBytes)
		}
		s.full = full
	}
}

func (s *Store) diskBytes() int64 {
	n := s.curBytes + int64(len(s.buf)-s.flushed)
	for _, p := range s.parts {
		n += p.Bytes
	}
	return n
}

func freeBytes(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 1 << 62 // unknown: do not drop data on a failed probe
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

func (s *Store) removeOldest(reason string) bool {
	p := s.parts[0]
	r := Removal{
		RemovedAt: time.Now().UTC().Format(time.RFC3339), Seq: p.Seq, Reason: reason, Bytes: p.Bytes,
		MinTS: p.MinTS, MaxTS: p.MaxTS, Messages: p.Messages, Manifest: p.hash,
	}
	// Log first: a crash between the two leaves a logged removal of a partition
	// still present, which verify reports rather than a silent gap.
	if err := appendRemoval(s.dir, r); err != nil {
		s.opt.Logf("retention: cannot log removal of partition %d: %v", p.Seq, err)
		s.err = err
		return false
	}
	_ = os.Remove(segPath(s.dir, p.Seq))
	_ = os.Remove(manifestPath(s.dir, p.Seq))
	s.parts = s.parts[1:]
	s.stats.Removed++
	s.stats.RemovedBytes += p.Bytes
	s.stats.RemovedByReason[reason]++
	s.opt.Logf("retention: removed partition %d (%s, %d bytes, %d messages, %s .. %s)", p.Seq, reason, p.Bytes, p.Messages,
		time.Unix(0, p.MinTS).UTC().Format(time.RFC3339), time.Unix(0, p.MaxTS).UTC().Format(time.RFC3339))
	return true
}
