package deliver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
)

// A delivery cursor is, for one sink, the sequence number (Event.Seq) of the
// last alert the sink acknowledged, kept in DIR/<sink>.cursor so that a
// restart re-sends exactly the alerts after it (see OpenDispatcher). It is
// one fixed-size record rewritten in place (pwrite: it survives the process
// being killed at once) and fsynced every Options.CursorSync.
//
// A sink that appends to a file (Positioned) gets two records per alert:
// before the write, "acked=seq if a complete line follows mark, else the
// previous seq" (mark = the file's size), and after it, the plain
// acknowledgement. A kill between the write and the second record is
// resolved at the restart by looking at the file, so a file sink receives
// each alert exactly once across kill -9.
type cursorRecord struct {
	Base    uint64 // acknowledged if no complete line follows Mark
	Written uint64 // acknowledged if one does
	Mark    int64  // the file's size before the write; 0 for other sinks
}

const cursorRecordLen = 8 + 8 + 8 + 4

var cursorCRC = crc32.MakeTable(crc32.Castagnoli)

func (c cursorRecord) encode(b *[cursorRecordLen]byte) {
	binary.LittleEndian.PutUint64(b[0:], c.Base)
	binary.LittleEndian.PutUint64(b[8:], c.Written)
	binary.LittleEndian.PutUint64(b[16:], uint64(c.Mark))
	binary.LittleEndian.PutUint32(b[24:], crc32.Checksum(b[:24], cursorCRC))
}

// Positioned is a sink that appends lines to a file; its cursor resolves a
// kill between a write and the cursor update by looking at the file.
type Positioned interface {
	// Size is where the next line goes in the current file.
	Size() int64
	// Recover reports whether a complete line follows mark in the current
	// file (a file smaller than mark was rotated since: from its start) and
	// cuts an incomplete last line.
	Recover(mark int64) (bool, error)
	// Sync makes the lines written so far durable.
	Sync() error
}

// cursor is one sink's delivery cursor. Only the sink's goroutine writes it
// once the dispatcher runs.
type cursor struct {
	f     *os.File
	rec   cursorRecord
	buf   [cursorRecordLen]byte
	dirty bool
	fresh bool // no record on disk at open: the sink has no history
}

// openCursor reads (or creates) the cursor of sink name in dir and, for a
// Positioned sink, resolves an interrupted write.
func openCursor(dir, name string, s Sink) (*cursor, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name+".cursor")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	c := &cursor{f: f}
	n, err := f.ReadAt(c.buf[:], 0)
	switch {
	case n == 0:
		c.fresh = true
	case n < cursorRecordLen || binary.LittleEndian.Uint32(c.buf[24:]) != crc32.Checksum(c.buf[:24], cursorCRC):
		f.Close()
		return nil, fmt.Errorf("alert cursor %s: damaged (%d bytes); remove it to start the sink afresh (no alerts are re-sent)", path, n)
	default:
		c.rec = cursorRecord{Base: binary.LittleEndian.Uint64(c.buf[0:]), Written: binary.LittleEndian.Uint64(c.buf[8:]),
			Mark: int64(binary.LittleEndian.Uint64(c.buf[16:]))}
	}
	_ = err // io.EOF on a short or empty file: handled by n
	acked := c.rec.Written
	if p, ok := s.(Positioned); ok && !c.fresh {
		written, err := p.Recover(c.rec.Mark)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("alert cursor %s: %w", path, err)
		}
		if !written {
			acked = c.rec.Base
		}
	}
	if err := c.set(acked, acked, 0); err != nil {
		f.Close()
		return nil, err
	}
	return c, c.sync()
}

// acked is the last acknowledged sequence.
func (c *cursor) acked() uint64 { return c.rec.Base }

func (c *cursor) set(base, written uint64, mark int64) error {
	c.rec = cursorRecord{Base: base, Written: written, Mark: mark}
	c.rec.encode(&c.buf)
	if _, err := c.f.WriteAt(c.buf[:], 0); err != nil {
		return fmt.Errorf("alert cursor: %w", err)
	}
	c.dirty = true
	return nil
}

func (c *cursor) sync() error {
	if !c.dirty {
		return nil
	}
	c.dirty = false
	return c.f.Sync()
}

func (c *cursor) close() error {
	return errors.Join(c.sync(), c.f.Close())
}
