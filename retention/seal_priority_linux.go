package retention

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// lowerSealPriority runs the calling goroutine, a background seal, on a
// thread of its own with a nice value sealNice above the process's, so that
// on a busy machine the kernel serves ingest (capture workers, the analysis
// stage) before compression: an early seal of a full open log is seconds of
// CPU at once, and it made the daemon drop frames at 120 k packets/s on two
// vCPUs (deploy/SIZING.md, Capture ceiling). The thread is never unlocked:
// it ends with the goroutine, so its nice value is never handed back to the
// runtime's pool (lowering it again would need privilege).
func lowerSealPriority() {
	runtime.LockOSThread()
	tid := unix.Gettid()
	if tid == unix.Getpid() {
		// The main thread outlives every goroutine: it keeps its priority.
		runtime.UnlockOSThread()
		return
	}
	// The raw system call answers 20 - nice.
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		return
	}
	nice := min(20-prio+sealNice, maxNice)
	unix.Setpriority(unix.PRIO_PROCESS, tid, nice)
}

// maxNice is the lowest scheduling priority.
const maxNice = 19
