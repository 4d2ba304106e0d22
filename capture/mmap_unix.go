//go:build unix

package capture

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps a regular file read-only, or returns nil (not a regular file,
// empty, too big for the address space, or the mapping failed: the caller
// reads it instead).
func mapFile(f *os.File) []byte {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() <= pcapFileHeader || int64(int(st.Size())) != st.Size() {
		return nil
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil
	}
	// Read once, front to back: the kernel may read ahead and drop pages
	// behind.
	unix.Madvise(m, unix.MADV_SEQUENTIAL)
	registerMapping(m)
	return m
}

func unmapFile(m []byte) {
	unregisterMapping(m)
	unix.Munmap(m)
}
