package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseBlocklist(t *testing.T) {
	b, err := ParseBlocklist([]byte(`# reported 2026-11-20
13800138000
  013900139000   # with trunk prefix
+447911123456
0085291234567
95588 # service number

`), "bl.txt", "86")
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 5 {
		t.Errorf("Len = %d, want 5", b.Len())
	}
	for _, n := range []string{"8613800138000", "8613900139000", "447911123456", "85291234567", "8695588"} {
		if !b.Contains([]byte(n)) {
			t.Errorf("%s not listed", n)
		}
	}
	for _, n := range []string{"13800138000", "86138001380", "", "8613800138001"} {
		if b.Contains([]byte(n)) {
			t.Errorf("%q listed", n)
		}
	}
	var nilList *Blocklist
	if nilList.Contains([]byte("8613800138000")) || nilList.Len() != 0 {
		t.Error("nil blocklist is not empty")
	}
}

func TestParseBlocklistErrors(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"13800138000\n138-0013-8000\n", `bl.txt:2: "138-0013-8000" is not a number`},
		{"+\n", `bl.txt:1: "+" is not a number`},
		{"00\n", `bl.txt:1: "00" is not a number`},
		{"\n\n+44 79\n", `bl.txt:3: "+44 79" is not a number`},
	} {
		_, err := ParseBlocklist([]byte(c.body), "bl.txt", "86")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.body, err, c.want)
		}
	}
}

func TestBlocklistContainsAllocatesNothing(t *testing.T) {
	b, err := ParseBlocklist([]byte("13800138000\n"), "bl.txt", "86")
	if err != nil {
		t.Fatal(err)
	}
	hit, miss := []byte("8613800138000"), []byte("8613800138001")
	allocs := testing.AllocsPerRun(100, func() {
		if !b.Contains(hit) || b.Contains(miss) {
			t.Fatal("wrong answer")
		}
	})
	if allocs != 0 {
		t.Errorf("Contains allocates %.1f times", allocs)
	}
}

func TestLoadBlocklistDefaultsToChina(t *testing.T) {
	path := writeFile(t, t.TempDir(), "bl.txt", "13800138000\n")
	b, err := LoadBlocklist(path)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Contains([]byte("8613800138000")) {
		t.Error("national entry not read as +86")
	}
	if _, err := LoadBlocklist(path + ".absent"); err == nil {
		t.Error("missing file loaded")
	}
}

// rewrite replaces the file and moves its mtime forward so a change is seen
// even on file systems with coarse timestamps.
func rewrite(t *testing.T, path, body string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestReloader(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bl.txt")
	base := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	rewrite(t, path, "13800138000\n", base)

	r, err := NewReloader(path, "86")
	if err != nil {
		t.Fatal(err)
	}
	a, b := []byte("8613800138000"), []byte("8613900139000")
	if !r.Contains(a) || r.Contains(b) {
		t.Fatal("initial list wrong")
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

	// Unchanged file: nothing to do.
	if reloaded, err := r.Check(now); reloaded || err != nil {
		t.Fatalf("unchanged: reloaded %v err %v", reloaded, err)
	}

	// Changed file, but checked again within a second: not looked at yet.
	rewrite(t, path, "13900139000\n", base.Add(time.Minute))
	if reloaded, _ := r.Check(now.Add(500 * time.Millisecond)); reloaded {
		t.Fatal("checked twice within a second")
	}
	if !r.Contains(a) {
		t.Fatal("list changed before the check")
	}
	// A second later the change is picked up.
	now = now.Add(time.Second)
	if reloaded, err := r.Check(now); !reloaded || err != nil {
		t.Fatalf("changed: reloaded %v err %v", reloaded, err)
	}
	if r.Contains(a) || !r.Contains(b) || r.Blocklist().Len() != 1 {
		t.Fatal("new list not in force")
	}

	// An invalid file keeps the old list; the error is reported once.
	rewrite(t, path, "13900139000\nbogus\n", base.Add(2*time.Minute))
	now = now.Add(time.Second)
	reloaded, err := r.Check(now)
	if reloaded || err == nil || !strings.Contains(err.Error(), `bl.txt:2: "bogus" is not a number`) ||
		!strings.Contains(err.Error(), "keeping the 1 numbers") {
		t.Fatalf("invalid: reloaded %v err %v", reloaded, err)
	}
	if !r.Contains(b) {
		t.Fatal("old list dropped after an invalid file")
	}
	now = now.Add(time.Second)
	if reloaded, err := r.Check(now); reloaded || err != nil {
		t.Fatalf("same invalid file again: reloaded %v err %v", reloaded, err)
	}

	// A removed file keeps the old list; the error is reported once.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	if _, err := r.Check(now); err == nil || !strings.Contains(err.Error(), "keeping the 1 numbers") {
		t.Fatalf("removed: err %v", err)
	}
	now = now.Add(time.Second)
	if _, err := r.Check(now); err != nil {
		t.Fatalf("removed, checked again: %v", err)
	}
	if !r.Contains(b) {
		t.Fatal("old list dropped after removal")
	}

	// Fixed: the corrected file is loaded.
	rewrite(t, path, "13900139000\n13800138000\n", base.Add(3*time.Minute))
	now = now.Add(time.Second)
	if reloaded, err := r.Check(now); !reloaded || err != nil {
		t.Fatalf("fixed: reloaded %v err %v", reloaded, err)
	}
	if !r.Contains(a) || !r.Contains(b) {
		t.Fatal("corrected list not in force")
	}
}

func TestNewReloaderErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := NewReloader(filepath.Join(dir, "none.txt"), "86"); err == nil {
		t.Error("missing file accepted")
	}
	bad := writeFile(t, dir, "bad.txt", "x\n")
	if _, err := NewReloader(bad, "86"); err == nil {
		t.Error("invalid file accepted")
	}
}

func TestConfigBlocklistReloader(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "bl.txt", "7911123456\n")
	c, err := Parse([]byte("home_country_code: \"44\"\nnumbering_plan: e164\nblocklist_file: bl.txt\n"), filepath.Join(dir, "gw.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.NewBlocklistReloader()
	if err != nil {
		t.Fatal(err)
	}
	if r.Path() != filepath.Join(dir, "bl.txt") || !r.Contains([]byte("447911123456")) {
		t.Errorf("reloader %s does not hold +447911123456", r.Path())
	}
	r, err = Default().NewBlocklistReloader()
	if r != nil || err != nil {
		t.Errorf("no blocklist_file: %v, %v", r, err)
	}
}
