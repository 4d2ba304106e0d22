package retention

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// File is what the store writes through: the open log, segments, manifests,
// CHAIN and the append-only logs.
type File interface {
	io.Writer
	Sync() error
	Close() error
}

// OpenFileFunc opens a file for writing, as os.OpenFile does. Options.OpenFile
// replaces it to inject faults (a disk that fills, a slow disk).
type OpenFileFunc func(name string, flag int, perm os.FileMode) (File, error)

func osOpenFile(name string, flag int, perm os.FileMode) (File, error) {
	return os.OpenFile(name, flag, perm)
}

// Drop reasons of Stats.DroppedByReason.
const (
	DropDiskFull   = "disk_full"   // the file system is full (ENOSPC) or below MinFreeBytes
	DropWriteError = "write_error" // any other write failure
	DropClosed     = "closed"      // written after Close
)

// reserveFile is preallocated space that retention gives back when the disk
// is full, so that the record of a removal (and its signed checkpoint) can
// always be written before the partition is deleted.
const (
	reserveFile  = "RESERVE"
	reserveBytes = 256 << 10
)

// fail records a write failure: new records are refused (and counted by
// reason) until a retry succeeds. Called with mu held.
func (s *Store) fail(err error) error {
	if s.stall == nil {
		s.opt.Errorf("retention: %v: new records are dropped until it can write again", err)
		s.stallDrops = 0
	}
	s.stall, s.lastErr = err, err
	return err
}

// dropReason names why a record is refused.
func (s *Store) dropReason(err error) string {
	switch {
	case s.closed:
		return DropClosed
	case errors.Is(err, ErrDiskFull), errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return DropDiskFull
	}
	return DropWriteError
}

// refuse counts a refused record and returns the error for the caller.
func (s *Store) refuse(err error) error {
	s.stats.DroppedByReason[s.dropReason(err)]++
	s.stallDrops++
	return err
}

// retry is run by the flusher while writing has failed: it seals logs left
// over (oldest first), the open partition if its seal failed, and writes the
// buffered tail. When all of that succeeds, new records are accepted again.
// Called with mu held.
//
// A seal rebuilds its segment on each attempt, so attempts back off: every
// flush interval at first, doubling up to maxRetryInterval.
func (s *Store) retry() {
	if s.stall == nil || s.sealing != nil || time.Now().Before(s.retryAt) {
		return
	}
	if err := s.retryOnce(); err != nil {
		s.stall = err
		s.retryWait = min(max(2*s.retryWait, s.opt.FlushInterval), maxRetryInterval)
		s.retryAt = time.Now().Add(s.retryWait)
		return
	}
	s.opt.Errorf("retention: writing resumed; %d records were dropped meanwhile (last error: %v)", s.stallDrops, s.lastErr)
	s.stall, s.retryWait, s.retryAt = nil, 0, time.Time{}
}

// maxRetryInterval bounds the back-off of retries after a write failure.
const maxRetryInterval = 30 * time.Second

func (s *Store) retryOnce() error {
	if err := s.sealLeftovers(); err != nil {
		return err
	}
	if s.sealPending {
		return s.sealCurrent()
	}
	if s.cur {
		return s.writeOut()
	}
	return nil
}

// writeOut writes the buffered tail of the open log.
func (s *Store) writeOut() error {
	for len(s.buf) > s.flushed {
		n, err := s.curFile.Write(s.buf[s.flushed:])
		s.hashWritten(s.buf[s.flushed : s.flushed+n])
		s.curBytes += int64(n)
		s.flushed += n
		if err != nil {
			return fmt.Errorf("retention: writing log of partition %d: %w", s.curSeq, err)
		}
	}
	s.walHashedOrd = s.curOrd
	return nil
}

// sealLeftovers seals logs a previous run left that could not be sealed at
// Open (the disk was full), oldest first.
func (s *Store) sealLeftovers() error {
	for len(s.leftover) > 0 {
		seq := s.leftover[0]
		if err := s.sealSeq(seq, true, nil); err != nil {
			return fmt.Errorf("retention: recovering partition %d: %w", seq, err)
		}
		s.stats.Recovered++
		s.leftover = s.leftover[1:]
		for i, l := range s.unsealed {
			if l.seq == seq {
				s.unsealed = append(s.unsealed[:i], s.unsealed[i+1:]...)
				break
			}
		}
		s.checkpoint("seal", seq)
	}
	return nil
}

// keepReserve (re)creates the reserve file when there is room for it.
func (s *Store) keepReserve() {
	path := filepath.Join(s.dir, reserveFile)
	if st, err := os.Stat(path); err == nil && st.Size() == reserveBytes {
		return
	}
	f, err := s.opt.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return
	}
	_, err = f.Write(make([]byte, reserveBytes))
	if err == nil && !s.opt.NoSync {
		err = f.Sync()
	}
	f.Close()
	if err != nil {
		os.Remove(path)
	}
}

// appendWithReserve appends a line to an append-only log of the store; when
// the disk is full, the reserve is given back first.
func (s *Store) appendWithReserve(name string, line []byte) error {
	err := s.appendLine(name, line)
	if err != nil && s.dropReason(err) == DropDiskFull {
		os.Remove(filepath.Join(s.dir, reserveFile))
		s.opt.Errorf("retention: disk full: the reserve is given back to write %s (%v)", name, err)
		err = s.appendLine(name, line)
	}
	return err
}

// appendLine appends line to the store's file name; a failed write is cut
// off again, so the file never holds half a line.
func (s *Store) appendLine(name string, line []byte) error {
	path := filepath.Join(s.dir, name)
	var size int64
	if st, err := os.Stat(path); err == nil {
		size = st.Size()
	}
	f, err := s.opt.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		os.Truncate(path, size)
		return err
	}
	if !s.opt.NoSync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
