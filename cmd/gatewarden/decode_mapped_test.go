package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
)

// TestRunMappedShrunkCapture: decode's loop over a mapped capture that is cut
// to one page while it is read ends with runMapped's error, not a crash.
func TestRunMappedShrunkCapture(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "pcaps", "interconnect.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "shrinking.pcap")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := capture.OpenFilesMapped([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	msgs := 0
	dec := decode.New(decode.Config{}, func(*decode.Message) { msgs++ })
	var f decode.Frame
	frames := 0
	fault := runMapped(func() {
		for r.Next(&f) == nil {
			if frames++; frames == 1 {
				if err := os.Truncate(path, int64(os.Getpagesize())); err != nil {
					t.Error(err)
					return
				}
			}
			dec.Decode(&f)
		}
	})
	if fault == nil {
		t.Fatalf("%d frames, %d messages and no fault from a capture cut to one page", frames, msgs)
	}
	t.Logf("after %d frames: %v", frames, fault)
}

// TestRunMappedOtherPanic: a panic that is not a fault in a mapped file
// goes on.
func TestRunMappedOtherPanic(t *testing.T) {
	defer func() {
		if v := recover(); v != "boom" {
			t.Errorf("recovered %v, want boom", v)
		}
	}()
	runMapped(func() { panic("boom") })
	t.Error("runMapped returned")
}
