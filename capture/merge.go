package capture

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/gatewarden/gatewarden/decode"
)

// Reader delivers the frames of several capture files in timestamp order: a
// k-way merge over the files' next frames. Equal timestamps go by file order
// (the order of the paths), then frame number, so a run is deterministic.
//
// Source i is the i-th path. A file that cannot be opened, or that breaks
// midway, is reported in Errors and the others go on.
type Reader struct {
	paths []string
	files []*File // nil where the file could not be opened
	done  []bool  // file read to its end (or its error) and closed
	heads []decode.Frame

	// heap of indexes into files/heads whose head frame is loaded, earliest first.
	heap []uint16
	// last is the file whose frame was delivered by the previous Next: it is
	// advanced at the start of the following call, which keeps that frame's
	// Data valid until then.
	last    int
	errs    []error
	failed  int // files that could not be opened at all
	started bool
}

// OpenFiles opens every path. It fails only for an unusable argument list;
// files that cannot be opened are listed in Errors and counted by
// Unreadable, and the others are read.
func OpenFiles(paths []string) (*Reader, error) { return openFiles(paths, OpenFile) }

// OpenFilesMapped is OpenFiles with OpenFileMapped: see there for what a
// caller of Next must do about files that shrink while they are read.
func OpenFilesMapped(paths []string) (*Reader, error) { return openFiles(paths, OpenFileMapped) }

func openFiles(paths []string, open func(string) (*File, error)) (*Reader, error) {
	if len(paths) == 0 {
		return nil, errors.New("capture: no files")
	}
	if len(paths) > math.MaxUint16 {
		return nil, fmt.Errorf("capture: %d files, at most %d", len(paths), math.MaxUint16)
	}
	r := &Reader{
		paths: paths,
		files: make([]*File, len(paths)),
		done:  make([]bool, len(paths)),
		heads: make([]decode.Frame, len(paths)),
		heap:  make([]uint16, 0, len(paths)),
		last:  -1,
	}
	for i, p := range paths {
		f, err := open(p)
		if err != nil {
			r.errs = append(r.errs, err)
			r.failed++
			continue
		}
		r.files[i] = f
	}
	return r, nil
}

// NumSources is the number of paths given to OpenFiles.
func (r *Reader) NumSources() int { return len(r.paths) }

// SourceName is the path of source i.
func (r *Reader) SourceName(i uint16) string {
	if int(i) < len(r.paths) {
		return r.paths[i]
	}
	return fmt.Sprintf("source %d", i)
}

// File returns the file of source i (closed once read to its end), or nil if
// it could not be opened.
func (r *Reader) File(i uint16) *File {
	if int(i) < len(r.files) {
		return r.files[i]
	}
	return nil
}

// Errors lists files that could not be opened and files that broke midway
// (*FrameError), in the order they happened.
func (r *Reader) Errors() []error { return r.errs }

// Unreadable is the number of files that could not be opened at all.
func (r *Reader) Unreadable() int { return r.failed }

// Next stores the next frame in timestamp order in f. f.Data is valid until
// the next call. It returns io.EOF when every file is exhausted.
func (r *Reader) Next(f *decode.Frame) error {
	if len(r.files) == 1 {
		return r.nextOnly(f)
	}
	if !r.started {
		r.started = true
		for i := range r.files {
			r.advance(i)
		}
	} else if r.last >= 0 {
		r.advance(r.last)
	}
	if len(r.heap) == 0 {
		r.last = -1
		return io.EOF
	}
	i := r.pop()
	r.last = int(i)
	*f = r.heads[i]
	return nil
}

// nextOnly is Next for a single file: nothing to merge, so the frame goes
// straight to f.
func (r *Reader) nextOnly(f *decode.Frame) error {
	file := r.files[0]
	if file == nil || r.done[0] {
		return io.EOF
	}
	if err := file.Next(f); err != nil {
		if err != io.EOF {
			r.errs = append(r.errs, err)
		}
		file.Close()
		r.done[0] = true
		return io.EOF
	}
	f.Source = 0
	return nil
}

// advance loads file i's next frame and pushes it, or retires the file.
func (r *Reader) advance(i int) {
	file := r.files[i]
	if file == nil || r.done[i] {
		return
	}
	head := &r.heads[i]
	if err := file.Next(head); err != nil {
		if err != io.EOF {
			r.errs = append(r.errs, err)
		}
		file.Close()
		r.done[i] = true
		return
	}
	head.Source = uint16(i)
	r.push(uint16(i))
}

// Close closes every file still open.
func (r *Reader) Close() error {
	var first error
	for i, f := range r.files {
		if f != nil && !r.done[i] {
			if err := f.Close(); err != nil && first == nil {
				first = err
			}
			r.done[i] = true
		}
	}
	r.heap = r.heap[:0]
	return first
}

// less orders heads by timestamp, then source index. Within one source,
// frames come in file order anyway, so the frame number needs no compare.
func (r *Reader) less(a, b uint16) bool {
	ta, tb := r.heads[a].TS, r.heads[b].TS
	if ta != tb {
		return ta < tb
	}
	return a < b
}

// A hand-written binary heap: container/heap boxes every element in an
// interface, which would allocate per frame.
func (r *Reader) push(i uint16) {
	h := append(r.heap, i)
	j := len(h) - 1
	for j > 0 {
		parent := (j - 1) / 2
		if !r.less(h[j], h[parent]) {
			break
		}
		h[j], h[parent] = h[parent], h[j]
		j = parent
	}
	r.heap = h
}

func (r *Reader) pop() uint16 {
	h := r.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	j := 0
	for {
		left := 2*j + 1
		if left >= n {
			break
		}
		m := left
		if right := left + 1; right < n && r.less(h[right], h[left]) {
			m = right
		}
		if !r.less(h[m], h[j]) {
			break
		}
		h[j], h[m] = h[m], h[j]
		j = m
	}
	r.heap = h
	return top
}
