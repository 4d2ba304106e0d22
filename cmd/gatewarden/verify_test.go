package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// verify --checkpoint: a copy of checkpoints.log taken off the box catches
// the newest partition deleted with CHAIN rewritten to the one before, which
// the manifest chain alone cannot show. The last line names head and
// checkpoint; - reads the copy from standard input.
func TestVerifyAgainstCheckpointCopy(t *testing.T) {
	dir, _, _ := retainedCapture(t)
	offBox := filepath.Join(t.TempDir(), "checkpoints.log")
	b, err := os.ReadFile(filepath.Join(dir, "checkpoints.log"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(offBox, b, 0o600)
	code, out, stderr := run(t, verifyRun, "--data", dir, "--checkpoint", offBox)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	if code != 0 || !strings.HasPrefix(last, "head: partition ") || !strings.Contains(last, `"sig":"`) ||
		!strings.Contains(out, "checkpoint signing key (Ed25519): ") {
		t.Fatalf("clean: exit %d\n%s%s", code, out, stderr)
	}

	// Delete the newest partition and every trace of it inside the store.
	mans, _ := filepath.Glob(filepath.Join(dir, "*.manifest"))
	if len(mans) < 1 {
		t.Fatal("no partitions")
	}
	newest := strings.TrimSuffix(mans[len(mans)-1], ".manifest")
	os.Remove(newest + ".seg")
	os.Remove(newest + ".manifest")
	os.Remove(filepath.Join(dir, "CHAIN"))
	cps := strings.SplitAfter(string(b), "\n")
	keep := ""
	for _, l := range cps {
		if !strings.Contains(l, `"event":"seal"`) {
			keep += l
		}
	}
	os.WriteFile(filepath.Join(dir, "checkpoints.log"), []byte(keep), 0o644)
	if len(mans) > 1 {
		t.Fatal("test assumes one partition") // CHAIN would be rewritten to the previous one
	}
	code, out, _ = run(t, verifyRun, "--data", dir)
	if code != 0 {
		t.Fatalf("the manifest chain alone sees a consistent (emptied) store: exit %d\n%s", code, out)
	}
	f, _ := os.Open(offBox)
	defer f.Close()
	stdin := os.Stdin
	os.Stdin = f
	code, out, _ = run(t, verifyRun, "--data", dir, "--checkpoint", "-")
	os.Stdin = stdin
	if code != 1 || !strings.Contains(out, "signed head partition 1 is gone") || !strings.Contains(out, "FAILED") {
		t.Fatalf("tampered: exit %d\n%s", code, out)
	}
}
