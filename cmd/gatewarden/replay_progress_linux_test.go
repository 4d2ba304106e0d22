package main

import (
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY opens a pseudo-terminal pair: the controlling side (read what is
// written to the terminal) and the terminal itself.
func openPTY(t *testing.T) (ptm, pts *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals (/dev/ptmx): %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptm.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		ptm.Close()
		t.Fatalf("unlockpt: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptm.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		ptm.Close()
		t.Fatalf("ptsname: %v", e)
	}
	pts, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		ptm.Close()
		t.Fatalf("open pts: %v", err)
	}
	return ptm, pts
}

// With stderr a terminal, replay draws a progress line (frames, messages,
// the file) and clears it before the summary; on a pipe or file it does not
// (TestReplayDamagedCaptureExit and the other replay tests read a buffer).
func TestReplayProgressOnTerminal(t *testing.T) {
	ptm, pts := openPTY(t)
	defer ptm.Close()
	old := progressEvery
	progressEvery = 0 // redraw whenever the clock is read (the first frame, then every progressClockEvery)
	defer func() { progressEvery = old }()

	read := make(chan string)
	go func() {
		b, _ := io.ReadAll(ptm) // ends with EIO once pts is closed
		read <- string(b)
	}()
	good := sharedPcapDir(t) + "/sng_ss7mon_test2.pcap"
	var out strings.Builder
	code := replayMain([]string{good}, &out, pts)
	pts.Close()
	got := <-read
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, got)
	}
	if !strings.Contains(got, "\r\033[Kgatewarden replay: 1 frames, 0 messages, "+good) {
		t.Errorf("no progress line on the terminal:\n%q", got)
	}
	last := strings.LastIndex(got, "\r\033[K")
	if !strings.HasPrefix(got[last+len("\r\033[K"):], "gatewarden replay: calls=") {
		t.Errorf("the progress line is not cleared before the summary:\n%q", got)
	}
}
