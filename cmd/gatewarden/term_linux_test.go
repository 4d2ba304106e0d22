package main

import (
	"os"
	"testing"
)

// TestIsTerminal: a pseudo-terminal is one; /dev/null, a character device,
// is not (a progress line there cost clock reads for nothing), nor is a
// regular file.
func TestIsTerminal(t *testing.T) {
	ptm, pts := openPTY(t)
	defer ptm.Close()
	defer pts.Close()
	if !isTerminal(pts) {
		t.Error("pseudo-terminal not a terminal")
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if isTerminal(null) {
		t.Error("/dev/null taken for a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "plain")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("regular file taken for a terminal")
	}
}
