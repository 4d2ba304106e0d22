package capture

import (
	"fmt"
	"sync"
	"unsafe"
)

// mappings are the address ranges of the capture files mapped now, so that
// a fault in one is told from any other memory fault (a nil dereference is
// one too, and must stay a crash with its stack).
var mappings struct {
	sync.Mutex
	ranges map[uintptr]uintptr // start -> end
}

func registerMapping(m []byte) {
	start := uintptr(unsafe.Pointer(unsafe.SliceData(m)))
	mappings.Lock()
	if mappings.ranges == nil {
		mappings.ranges = make(map[uintptr]uintptr)
	}
	mappings.ranges[start] = start + uintptr(len(m))
	mappings.Unlock()
}

func unregisterMapping(m []byte) {
	mappings.Lock()
	delete(mappings.ranges, uintptr(unsafe.Pointer(unsafe.SliceData(m))))
	mappings.Unlock()
}

func inMapping(addr uintptr) bool {
	mappings.Lock()
	defer mappings.Unlock()
	for start, end := range mappings.ranges {
		if addr >= start && addr < end {
			return true
		}
	}
	return false
}

// MappedFault returns v, recovered from a panic, as an error when it is a
// memory fault inside a mapped capture file — what touching it past its end
// raises once the file has shrunk (SIGBUS), made a panic by
// debug.SetPanicOnFault — and nil for any other panic value, which the caller
// re-raises.
func MappedFault(v any) error {
	f, ok := v.(interface {
		error
		Addr() uintptr
	})
	if !ok || !inMapping(f.Addr()) {
		return nil
	}
	return fmt.Errorf("a capture file shrank while it was read (memory fault at %#x: %v)", f.Addr(), f)
}
