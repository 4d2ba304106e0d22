package retention

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// readManifestFile returns the whole file whatever the buffer's size,
// reuses the buffer, and reports a missing file as fs.ErrNotExist (refresh
// relies on that to skip a manifest removed meanwhile).
func TestReadManifestFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	big := filepath.Join(dir, "big")
	want := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB: several reads
	if err := os.WriteFile(small, []byte(`{"seq":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, want, 0o644); err != nil {
		t.Fatal(err)
	}
	buf, err := readManifestFile(big, make([]byte, 0, 10))
	if err != nil || !bytes.Equal(buf, want) {
		t.Fatalf("big: %d bytes, %v", len(buf), err)
	}
	buf, err = readManifestFile(small, buf)
	if err != nil || string(buf) != `{"seq":1}` {
		t.Fatalf("small after big: %q, %v", buf, err)
	}
	if cap(buf) < len(want) {
		t.Fatalf("buffer not reused: cap %d", cap(buf))
	}
	if _, err := readManifestFile(filepath.Join(dir, "gone"), buf); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := readManifestFile(dir, nil); err == nil {
		t.Fatal("reading a directory: no error")
	}
}
