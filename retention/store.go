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
	"crypto/ed25519"
	"errors"
	"fmt"
	"hash"
	"os"
	"sync"
	"sync/atomic"
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
	// RetentionDays removes partitions whose newest data is more than this
	// many days older than the newest data in the store (capture time, as
	// Prometheus' TSDB counts it, never the wall clock: a replayed capture of
	// last March is kept). Zero keeps data forever.
	RetentionDays int
	// MaxBytes bounds the store's size on disk; the oldest partitions go first.
	// Zero means no budget.
	MaxBytes int64
	// MinFreeBytes is the free space kept on the file system: below it the
	// oldest partitions are removed, and when none is left new records are
	// dropped (and counted) rather than filling the disk. Default 256 MiB;
	// negative disables the check.
	MinFreeBytes int64
	// ReadOnly opens for queries only: no lock, no repair, no sealing. Open
	// write-ahead logs are read as they are.
	ReadOnly bool
	// NoSync skips fsync (tests and benchmarks on tmpfs).
	NoSync bool
	// Committed says the writer commits (Store.Commit, package pipeline):
	// recovery keeps only what a commit covers, so an open log written
	// before the first commit is cut too.
	Committed bool
	// NoNumberIndex makes number lookups read every partition's segment
	// instead of skipping those the number index rules out (numindex.go);
	// for comparing the two. The index is still written.
	NoNumberIndex bool
	// Logf receives removals, recoveries and write errors. Default: discard.
	Logf func(format string, args ...any)
	// Errorf receives write failures and their end (writing resumed).
	// Default: Logf.
	Errorf func(format string, args ...any)
	// OpenFile opens the store's files for writing; tests inject faults
	// through it. Default: os.OpenFile.
	OpenFile OpenFileFunc
	// MaxOpenBytes bounds the open partition's log, which is kept in memory
	// for queries and sealing: beyond it the partition is sealed early (in
	// the background) and the rest of its hour goes to a new one. Default
	// 1 GiB; negative: no bound. Memory: up to twice this (the open log and
	// the one being sealed), plus the query indexes (openIndexBudget).
	MaxOpenBytes int64
	// OnCheckpoint receives every signed checkpoint (see checkpoint.go), to
	// be sent off the box. It is called with the store's lock held and must
	// not block.
	OnCheckpoint func(Checkpoint)
	// CheckpointInterval is the least wall-clock time between checkpoints of
	// the open log's growth. Default 1 min.
	CheckpointInterval time.Duration
	// Warnf receives warnings an operator should act on: records older than
	// the retention window on arrival (once per source file). Default: Logf.
	Warnf func(format string, args ...any)
}

// Stats are the store's counters since Open.
type Stats struct {
	Messages, Calls, Alerts uint64            // records accepted
	Dropped                 uint64            // records refused because the disk is full or a write failed
	DroppedByReason         map[string]uint64 // DropDiskFull, DropWriteError, DropClosed
	Sealed                  uint64            // partitions sealed
	SealNanos               int64             // wall time spent sealing in the background
	SealWaitNanos           int64             // time the writer (or Flush, Close) waited for a background seal
	EarlySeals              uint64            // partitions sealed before their hour ended (MaxOpenBytes)
	OpenLogBytes            int64             // in memory: the open log and the one being sealed
	OpenIndexBytes          int64             // in memory: query indexes of open logs (bounded)
	OpenIndexEvictions      int64             // of those, evicted for the bound
	Recovered               uint64            // write-ahead logs sealed on open (after a crash or stop)
	TornBytes               int64             // bytes cut from torn log tails on open
	SkippedRecords          uint64            // damaged log records skipped on recovery (checksum failed)
	SkippedBytes            int64
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
	curFile  File
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
	nix     numIndex     // the number index files (numindex.go)
	nixWG   sync.WaitGroup
	nixStop atomic.Bool

	commitMu sync.Mutex // serialises Commit
	commit   commitState
	gaps     map[uint32]walGaps // logs recovered with damaged records, for renumbering references
	expired  map[string]bool    // source files already warned about as older than the retention window
	newest   int64
	full     bool
	closed   bool

	// Write failures: while stall is set new records are refused; the
	// flusher retries and clears it. lastErr is kept for Close.
	stall, lastErr error
	stallDrops     uint64
	retryAt        time.Time // next retry (back-off)
	retryWait      time.Duration
	sealPending    bool      // the open partition's seal failed; it stays open until a retry succeeds
	leftover       []uint32  // logs a previous run left that Open could not seal (disk full)
	sealing        *sealJob  // the partition being sealed in the background
	unsealed       []openLog // logs whose background seal failed, for queries until retry seals them

	// Signed checkpoints, and the running hash of the open log's bytes
	// written so far (walHashedOrd: messages in them).
	key          ed25519.PrivateKey
	cpN          uint64
	cpAt         time.Time
	cpLogBytes   int64
	walHash      hash.Hash
	walHashed    int64
	walHashedOrd uint32

	enc *zstd.Encoder
	dec *zstd.Decoder

	stats Stats

	stop chan struct{}
	done chan struct{}
}

// ErrReadOnly is returned by writes to a store opened with ReadOnly.
var ErrReadOnly = errors.New("retention: store is read-only")

var errClosed = errors.New("retention: store is closed")

// ErrDiskFull is returned (and the record counted as dropped) when the file
// system is below MinFreeBytes and retention has nothing left to remove.
var ErrDiskFull = errors.New("retention: disk full, record dropped")

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
		return s.refuse(errClosed)
	}
	if s.stall != nil {
		return s.refuse(fmt.Errorf("%w (%v)", ErrDiskFull, s.stall))
	}
	if s.full {
		return s.refuse(ErrDiskFull)
	}
	if ts != 0 {
		slot := floorDiv(ts, int64(s.opt.Partition))
		if s.cur && slot > s.curSlot {
			if err := s.sealInBackground(); err != nil {
				return s.refuse(s.fail(err))
			}
			s.enforce()
			if s.full {
				return s.refuse(ErrDiskFull)
			}
		}
		if !s.cur {
			if err := s.openPartition(slot); err != nil {
				return s.refuse(s.fail(err))
			}
		}
		s.newest = max(s.newest, ts)
	} else if !s.cur {
		if err := s.openPartition(floorDiv(s.newest, int64(s.opt.Partition))); err != nil {
			return s.refuse(s.fail(err))
		}
	}
	return nil
}

func (s *Store) openPartition(slot int64) error {
	f, err := s.opt.OpenFile(walPath(s.dir, s.next), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	s.cur, s.curSeq, s.curSlot, s.curOrd, s.curFile, s.curBytes = true, s.next, slot, 0, f, 0
	s.curSum = segSummary{}
	s.walHash, s.walHashed, s.walHashedOrd, s.cpLogBytes = nil, 0, 0, 0
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
	s.warnExpired(m.TS, sourceName)
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

// A failed write does not refuse the record just appended: it stays in the
// buffer and is written when a retry succeeds (records after it are refused
// until then, see fail).
func (s *Store) afterAppend() error {
	s.dirty = true
	if len(s.buf)-s.flushed >= flushAt || len(s.buf) >= arenaChunk {
		if s.writeBuffer(false) != nil {
			return nil
		}
	}
	if len(s.buf) >= arenaChunk && s.flushed == len(s.buf) {
		s.chunks = append(s.chunks, s.buf)
		s.chunkOrd = append(s.chunkOrd, s.bufOrd)
		s.buf, s.bufOrd, s.flushed = s.newChunk(), s.curOrd, 0
		if s.opt.MaxOpenBytes > 0 && s.curBytes >= s.opt.MaxOpenBytes {
			s.stats.EarlySeals++
			if err := s.sealInBackground(); err != nil {
				s.fail(err)
			}
		}
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
	if err := s.writeOut(); err != nil {
		return s.fail(err)
	}
	if sync && s.dirty && !s.opt.NoSync {
		if err := s.curFile.Sync(); err != nil {
			return s.fail(fmt.Errorf("retention: syncing log: %w", err))
		}
	}
	if sync {
		s.dirty = false
	}
	return nil
}
