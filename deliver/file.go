package deliver

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// RotatingFile appends lines to a file and rotates it by size: path becomes
// path.1, path.1 becomes path.2, … and files beyond keep are removed. It is
// not safe for concurrent use (the dispatcher gives each sink one goroutine).
type RotatingFile struct {
	path     string
	maxBytes int64
	keep     int
	f        *os.File
	size     int64
}

// OpenRotatingFile opens (appending to) path, creating its directory.
func OpenRotatingFile(path string, maxBytes int64, keep int) (*RotatingFile, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("alert file %s: max size must be > 0", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	r := &RotatingFile{path: path, maxBytes: maxBytes, keep: keep}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *RotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	r.f, r.size = f, fi.Size()
	return nil
}

// Deliver writes one line (line must end in '\n'); a line never straddles
// two files.
func (r *RotatingFile) Deliver(line []byte) error {
	if r.f == nil {
		if err := r.open(); err != nil {
			return err
		}
	}
	if r.size > 0 && r.size+int64(len(line)) > r.maxBytes {
		if err := r.rotate(); err != nil {
			return err
		}
	}
	n, err := r.f.Write(line)
	r.size += int64(n)
	return err
}

func (r *RotatingFile) rotate() error {
	if err := r.f.Close(); err != nil {
		return err
	}
	r.f = nil
	if r.keep == 0 {
		if err := os.Remove(r.path); err != nil && !os.IsNotExist(err) {
			return err
		}
		return r.open()
	}
	os.Remove(fmt.Sprintf("%s.%d", r.path, r.keep))
	for i := r.keep - 1; i >= 1; i-- {
		from := fmt.Sprintf("%s.%d", r.path, i)
		if _, err := os.Stat(from); err == nil {
			if err := os.Rename(from, fmt.Sprintf("%s.%d", r.path, i+1)); err != nil {
				return err
			}
		}
	}
	if err := os.Rename(r.path, r.path+".1"); err != nil {
		return err
	}
	return r.open()
}

// Close closes the current file.
func (r *RotatingFile) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// Size is the current file's size: where the next line goes.
func (r *RotatingFile) Size() int64 { return r.size }

// Sync makes the lines written so far durable.
func (r *RotatingFile) Sync() error {
	if r.f == nil {
		return nil
	}
	return r.f.Sync()
}

// Recover reports whether a complete line follows offset mark in the current
// file (a file smaller than mark was rotated since: from its start), and
// cuts an incomplete last line (a write the process did not finish).
func (r *RotatingFile) Recover(mark int64) (bool, error) {
	if r.f == nil {
		if err := r.open(); err != nil {
			return false, err
		}
	}
	if r.size < mark {
		mark = 0
	}
	if r.size == mark {
		return false, nil
	}
	rf, err := os.Open(r.path)
	if err != nil {
		return false, err
	}
	defer rf.Close()
	tail := make([]byte, r.size-mark)
	if _, err := rf.ReadAt(tail, mark); err != nil {
		return false, err
	}
	end := bytes.LastIndexByte(tail, '\n') + 1
	if int64(end) < int64(len(tail)) {
		if err := r.f.Truncate(mark + int64(end)); err != nil {
			return false, err
		}
		r.size = mark + int64(end)
	}
	return end > 0, nil
}
