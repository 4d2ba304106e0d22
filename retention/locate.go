package retention

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// DataDirStore is the store's directory inside the daemon's data_dir.
const DataDirStore = "store"

// lockFile is created by every writer that opens a store, so even a store
// with nothing sealed yet is recognised.
const lockFile = "LOCK"

// ErrNoStore is returned by Locate for a directory that holds no store.
var ErrNoStore = errors.New("no gatewarden store here")

// IsStore reports whether dir holds a store: a writer's lock, the manifest
// chain, the removal log, or a partition (sealed or still a log).
func IsStore(dir string) bool {
	for _, name := range []string{lockFile, chainFile, removedFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	for _, suffix := range []string{".manifest", ".seg", ".wal"} {
		if seqs, err := listSeqs(dir, suffix); err == nil && len(seqs) > 0 {
			return true
		}
	}
	return false
}

// Locate returns the store directory for what a user gave as --data: the
// store itself, or the daemon's data_dir with the store in DataDirStore. A
// directory that holds neither is refused with a reason, so a wrong path is
// never read as an empty store.
func Locate(dir string) (string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return "", fmt.Errorf("%s is not a directory: give the daemon's data_dir or the store inside it", dir)
	}
	if IsStore(dir) {
		return dir, nil
	}
	if inner := filepath.Join(dir, DataDirStore); IsStore(inner) {
		return inner, nil
	}
	return "", fmt.Errorf("%s: %w (no CHAIN, partitions or LOCK, and no %s/ holding them): give the daemon's data_dir or the store inside it (replay --data DIR writes one)",
		dir, ErrNoStore, DataDirStore)
}
