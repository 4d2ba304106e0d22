//go:build linux

package main

import (
	"bytes"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestGrowPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	before, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Skipf("F_GETPIPE_SZ: %v", err)
	}
	growPipe(w)
	after, _ := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0)
	if after < 1<<20 && after <= before {
		t.Errorf("pipe buffer %d after growPipe (was %d)", after, before)
	}
	// Not a pipe, not a file: left alone, no panic.
	growPipe(&bytes.Buffer{})
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	growPipe(f)
	f.Close()
}
