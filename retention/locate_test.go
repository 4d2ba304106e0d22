package retention_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatewarden/gatewarden/retention"
)

func TestLocate(t *testing.T) {
	dataDir := t.TempDir()
	storeDir := filepath.Join(dataDir, retention.DataDirStore)
	st, err := retention.Open(storeDir, retention.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, given := range []string{dataDir, storeDir} {
		got, err := retention.Locate(given)
		if err != nil || got != storeDir {
			t.Errorf("Locate(%s) = %q, %v; want %s", given, got, err, storeDir)
		}
	}
	empty := t.TempDir()
	if _, err := retention.Locate(empty); !errors.Is(err, retention.ErrNoStore) {
		t.Errorf("empty directory: %v", err)
	}
	os.WriteFile(filepath.Join(empty, "notes.txt"), []byte("x"), 0o644)
	if _, err := retention.Locate(filepath.Join(empty, "notes.txt")); err == nil {
		t.Error("a file was accepted")
	}
	if _, err := retention.Locate(filepath.Join(empty, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}
