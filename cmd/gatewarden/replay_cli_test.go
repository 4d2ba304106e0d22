package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatewarden/gatewarden/retention"
)

// A capture damaged part-way is processed as far as it reads, and the exit
// status (3) tells a script the result is partial, as for decode; a file
// that cannot be read at all is still a failure (1).
func TestReplayDamagedCaptureExit(t *testing.T) {
	dir := sharedPcapDir(t)
	tmp := t.TempDir()
	raw, err := os.ReadFile(filepath.Join(dir, "xdr_tester_m2pa.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(tmp, "truncated.pcap")
	if err := os.WriteFile(truncated, raw[:len(raw)-150], 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "sng_ss7mon_test2.pcap")

	_, stderr, code := runReplayArgs(t, truncated, good)
	if code != exitDamaged {
		t.Errorf("truncated + good: exit %d, want %d\n%s", code, exitDamaged, stderr)
	}
	if !strings.Contains(stderr, truncated+": frame ") {
		t.Errorf("stderr does not name the damaged file and frame:\n%s", stderr)
	}
	if strings.Contains(stderr, " messages=0 ") {
		t.Errorf("nothing processed:\n%s", stderr)
	}
	if _, stderr, code := runReplayArgs(t, good); code != exitOK {
		t.Errorf("good only: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := runReplayArgs(t, filepath.Join(tmp, "missing.pcap"), truncated); code != exitFailed {
		t.Errorf("missing + truncated: exit %d, want %d\n%s", code, exitFailed, stderr)
	}
}

// replay --data takes the daemon's data_dir (finding the store inside it)
// or the store itself, creates a new store in a new or empty directory, and
// refuses a directory that holds other things.
func TestReplayDataDir(t *testing.T) {
	fx := writeScenarioFixture(t, 14)
	dataDir := filepath.Join(fx.dir, "data")
	storeDir := filepath.Join(dataDir, retention.DataDirStore)
	if _, stderr, code := runReplayArgs(t, "--config", fx.config, "--data", storeDir, fx.pcap); code != exitOK {
		t.Fatalf("new store: exit %d\n%s", code, stderr)
	}
	// Given the data_dir, replay finds the store inside and knows the capture.
	_, stderr, code := runReplayArgs(t, "--config", fx.config, "--data", dataDir, fx.pcap)
	if code != exitOK || !strings.Contains(stderr, "the store already holds this capture") {
		t.Errorf("--data data_dir: exit %d, want the store inside recognised\n%s", code, stderr)
	}
	if retention.IsStore(dataDir) {
		t.Error("a second store was created in the data_dir itself")
	}

	// An existing empty directory becomes a new store.
	empty := filepath.Join(fx.dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runReplayArgs(t, "--config", fx.config, "--data", empty, fx.pcap); code != exitOK || !retention.IsStore(empty) {
		t.Errorf("empty dir: exit %d, store %v\n%s", code, retention.IsStore(empty), stderr)
	}

	// A directory with other files and no store is refused, untouched.
	other := filepath.Join(fx.dir, "other")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runReplayArgs(t, "--config", fx.config, "--data", other, fx.pcap)
	if code != exitFailed || !strings.Contains(stderr, "new or empty directory") {
		t.Errorf("non-store dir: exit %d, want %d with the reason\n%s", code, exitFailed, stderr)
	}
	if retention.IsStore(other) {
		t.Error("a store was written into a directory with other files")
	}
}
