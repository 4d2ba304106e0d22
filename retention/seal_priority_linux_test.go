package retention

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// The main goroutine keeps the main thread for itself, so that no test
// goroutine runs there: lowerSealPriority leaves the main thread alone, and
// TestLowerSealPriority must see a thread it does lower.
func init() { runtime.LockOSThread() }

// TestLowerSealPriority: the sealing goroutine's thread runs sealNice below
// the process (or at the lowest priority); another thread does not.
func TestLowerSealPriority(t *testing.T) {
	niceOf := func(tid int) int {
		prio, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
		if err != nil {
			t.Fatal(err)
		}
		return 20 - prio
	}
	base := niceOf(unix.Getpid())
	type thread struct{ tid, nice int }
	sealer, other := make(chan thread), make(chan thread)
	release := make(chan struct{})
	go func() {
		lowerSealPriority()
		tid := unix.Gettid()
		sealer <- thread{tid, niceOf(tid)}
		<-release // hold the thread while the other goroutine looks
	}()
	s := <-sealer
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid := unix.Gettid()
		other <- thread{tid, niceOf(tid)}
	}()
	o := <-other
	close(release)
	if s.tid == unix.Getpid() {
		t.Fatal("the sealing goroutine ran on the main thread, which init locked")
	}
	if want := min(base+sealNice, maxNice); s.nice != want {
		t.Errorf("sealing thread nice %d, want %d (process %d)", s.nice, want, base)
	}
	if o.tid == s.tid || o.nice != base {
		t.Errorf("another thread (%d, sealing %d) has nice %d, want %d", o.tid, s.tid, o.nice, base)
	}
}
