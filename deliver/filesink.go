package deliver

import "context"

// FileSink writes each alert as one JSON line to a RotatingFile.
type FileSink struct {
	f    *RotatingFile
	line []byte
}

// NewFileSink opens path for appending; see RotatingFile for rotation.
func NewFileSink(path string, maxBytes int64, keep int) (*FileSink, error) {
	f, err := OpenRotatingFile(path, maxBytes, keep)
	if err != nil {
		return nil, err
	}
	return &FileSink{f: f}, nil
}

func (s *FileSink) Name() string { return "file" }

func (s *FileSink) Deliver(_ context.Context, e *Event) error {
	s.line = append(append(s.line[:0], e.JSON...), '\n')
	return s.f.Deliver(s.line)
}

func (s *FileSink) Close() error { return s.f.Close() }

// Size, Recover and Sync make the file sink Positioned: its delivery cursor
// is exact across kill -9 (see OpenDispatcher).
func (s *FileSink) Size() int64                      { return s.f.Size() }
func (s *FileSink) Recover(mark int64) (bool, error) { return s.f.Recover(mark) }
func (s *FileSink) Sync() error                      { return s.f.Sync() }
