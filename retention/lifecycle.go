package retention

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/klauspost/compress/zstd"
)

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
	if opt.Warnf == nil {
		opt.Warnf = opt.Logf
	}
	if opt.Errorf == nil {
		opt.Errorf = opt.Logf
	}
	if opt.MaxOpenBytes == 0 {
		opt.MaxOpenBytes = 1 << 30
	}
	if opt.CheckpointInterval <= 0 {
		opt.CheckpointInterval = time.Minute
	}
	if opt.OpenFile == nil {
		opt.OpenFile = osOpenFile
	}
	s := &Store{dir: dir, opt: opt, gaps: map[uint32]walGaps{}, expired: map[string]bool{}}
	s.stats.RemovedByReason = map[string]uint64{}
	s.stats.DroppedByReason = map[string]uint64{}
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
	if !s.opt.ReadOnly {
		if err := s.finishInterruptedSeals(); err != nil {
			return err
		}
		// A line cut by a crash is cut off, so the next one starts on its own.
		for _, name := range []string{checkpointFile, removedFile} {
			if err := cutPartialLine(filepath.Join(s.dir, name)); err != nil {
				return err
			}
		}
	}
	mseqs, err := listSeqs(s.dir, ".manifest")
	if err != nil {
		return err
	}
	var mb []byte
	for _, seq := range mseqs {
		mb, err = readManifestFile(manifestPath(s.dir, seq), mb)
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
	if err := s.loadCheckpoints(); err != nil {
		return err
	}
	// Seal what a crashed or stopped writer left, oldest first, so the chain
	// stays in sequence order. When that fails (a full disk) the store still
	// opens for queries; new records are refused and the flusher retries
	// (see retry) once retention or the operator has freed space.
	if wseqs, err = s.recoverCommits(wseqs); err != nil {
		return fmt.Errorf("retention: recovering commits: %w", err)
	}
	s.leftover = wseqs
	s.enforce()
	if missing := s.missingNumberEntries(); len(missing) > 0 {
		s.nixWG.Add(1)
		go s.rebuildNumberIndex(missing)
	}
	if err := s.sealLeftovers(); err != nil {
		s.fail(err)
	}
	s.keepReserve()
	return nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Stats returns a copy of the counters.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	st := s.stats
	st.RemovedByReason = maps.Clone(s.stats.RemovedByReason)
	st.DroppedByReason = maps.Clone(s.stats.DroppedByReason)
	for _, l := range s.openLogsNoMark() {
		for _, c := range l.chunks {
			st.OpenLogBytes += int64(len(c))
		}
	}
	s.mu.Unlock()
	s.mem.Lock()
	st.OpenIndexBytes, st.OpenIndexEvictions = s.memc.bytes, s.memc.evicted
	s.mem.Unlock()
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

// Flush writes and syncs everything added so far, and waits for a
// background seal to finish.
func (s *Store) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opt.ReadOnly {
		return nil
	}
	s.waitSeal()
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
			s.enforce()
			s.retry()
			var f File
			if s.stall == nil && s.dirty && s.cur && s.writeBuffer(false) == nil {
				s.dirty = false
				f = s.curFile
			}
			// A committing writer's log is checkpointed at its commits (see
			// Commit): what follows a commit may be cut at recovery.
			if !s.opt.Committed && s.cur && s.stall == nil && s.walHashed > s.cpLogBytes && time.Since(s.cpAt) >= s.opt.CheckpointInterval {
				s.checkpoint("log", s.curSeq)
			}
			s.keepReserve()
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
func (s *Store) syncOutside(f File) {
	err := f.Sync()
	if err == nil || errors.Is(err, os.ErrClosed) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.curFile == f {
		s.fail(fmt.Errorf("retention: syncing log: %w", err))
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
	s.waitSeal()
	s.enforce()
	s.retryAt = time.Time{}
	s.retry() // a last try if writing had failed
	var errs []error
	switch {
	case s.cur && s.stall == nil:
		if err := s.sealCurrent(); err != nil {
			errs = append(errs, fmt.Errorf("%w (its log is kept and sealed at the next start)", err))
		}
	case s.cur:
		// The log holds what could be written; the next Open seals it.
		err := s.writeOut()
		if err == nil && !s.opt.NoSync {
			err = s.curFile.Sync()
		}
		s.curFile.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %d buffered bytes of partition %d could not be written", err, len(s.buf)-s.flushed, s.curSeq))
		}
	}
	var dropped uint64
	for _, n := range s.stats.DroppedByReason {
		dropped += n
	}
	if dropped > 0 {
		errs = append(errs, fmt.Errorf("retention: %d records dropped since start %v; last error: %w", dropped, s.stats.DroppedByReason, s.lastErr))
	} else if s.stall != nil {
		errs = append(errs, s.stall)
	}
	s.enforce()
	s.nixStop.Store(true)
	s.nixWG.Wait()
	s.release()
	s.segs.closeAll()
	s.spare = nil
	s.enc.Close()
	s.dec.Close()
	return errors.Join(errs...)
}

// finishInterruptedSeals completes seals a crash interrupted: a log whose
// partition CHAIN already names (sealed, the log not yet removed) is removed;
// a segment or manifest newer than CHAIN beside its log (the seal had not
// committed) is removed, so the log is sealed again.
func (s *Store) finishInterruptedSeals() error {
	wseqs, err := listSeqs(s.dir, ".wal")
	if err != nil {
		return err
	}
	for _, seq := range wseqs {
		switch {
		case seq <= s.head.Seq && fileExists(manifestPath(s.dir, seq)):
			s.opt.Logf("retention: partition %d was sealed before a crash; removing its log", seq)
			os.Remove(walPath(s.dir, seq))
		case seq > s.head.Seq:
			os.Remove(segPath(s.dir, seq))
			os.Remove(manifestPath(s.dir, seq))
		}
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
