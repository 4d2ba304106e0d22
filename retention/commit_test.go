package retention

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/decode"
)

// crashCopy copies a live store's directory as a kill -9 would leave it:
// what the writer handed the OS, without the lock or a final seal.
func crashCopy(t *testing.T, s *Store) string {
	t.Helper()
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	ents, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() == "LOCK" || e.IsDir() {
			continue
		}
		in, err := os.Open(filepath.Join(s.Dir(), e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		out.Close()
	}
	return dst
}

func storedMessages(t *testing.T, dir string) (n uint64) {
	t.Helper()
	s := openTest(t, dir, Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Partitions() {
		n += uint64(p.Messages)
	}
	return n
}

// A crash after a commit keeps exactly what the commit covers: the records
// after it are cut (and counted), the commit's position and state come back.
func TestCommitCutsWhatFollows(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	var l linker
	g := newGenerator(3, t0, int64(time.Second))
	var n uint64
	g.run(100, func(m *decode.Message) {
		n++
		if err := l.add(s, m, g.source); err != nil {
			t.Fatal(err)
		}
	}, nil2)
	committed := n
	if err := s.Commit([]byte("pos-A"), []byte("state-A")); err != nil {
		t.Fatal(err)
	}
	g.run(50, func(m *decode.Message) {
		n++
		if err := l.add(s, m, g.source); err != nil {
			t.Fatal(err)
		}
	}, nil2)
	dir := crashCopy(t, s)

	r := openTest(t, dir, Options{})
	c, ok := r.LastCommit()
	cs := r.CommitStats()
	st := string(r.RecoveredState())
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if !ok || c.Gen != 1 || string(c.Position) != "pos-A" || st != "state-A" {
		t.Fatalf("recovered commit %d %q state %q (ok=%v)", c.Gen, c.Position, st, ok)
	}
	if cs.CutMessages != n-committed {
		t.Errorf("cut %d messages, want %d", cs.CutMessages, n-committed)
	}
	if got := storedMessages(t, dir); got != committed {
		t.Errorf("store keeps %d messages, want the %d committed", got, committed)
	}
}

// A damaged state file for the newest commit: recovery resumes from the
// commit before it, and cuts after that one.
func TestCommitStateFallback(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	var l linker
	g := newGenerator(4, t0, int64(time.Second))
	var n, first uint64
	add := func(m *decode.Message) {
		n++
		if err := l.add(s, m, g.source); err != nil {
			t.Fatal(err)
		}
	}
	g.run(40, add, nil2)
	if err := s.Commit([]byte("one"), []byte("s1")); err != nil {
		t.Fatal(err)
	}
	first = n
	g.run(40, add, nil2)
	if err := s.Commit([]byte("two"), []byte("s2")); err != nil {
		t.Fatal(err)
	}
	dir := crashCopy(t, s)
	if err := os.WriteFile(filepath.Join(dir, "pipeline.state.0"), []byte("GWSTATE1 torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := openTest(t, dir, Options{})
	c, _ := r.LastCommit()
	cs := r.CommitStats()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if c.Gen != 1 || string(c.Position) != "one" || cs.StateFallbacks != 1 {
		t.Fatalf("resumed from %d %q, fallbacks %d", c.Gen, c.Position, cs.StateFallbacks)
	}
	if got := storedMessages(t, dir); got != first {
		t.Errorf("store keeps %d messages, want %d", got, first)
	}
}

// After a partition change the new log starts with a copy of the last
// commit, so a crash before the next commit cuts only the new log's records
// and resumes from the commit sealed with the previous partition.
func TestCommitSurvivesPartitionChange(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{Partition: time.Hour})
	defer s.Close()
	var l linker
	g := newGenerator(5, t0, int64(time.Minute))
	var n, committed uint64
	g.run(200, func(m *decode.Message) {
		if s.Rotates(m.TS) {
			if err := s.Commit([]byte("before-rotation"), []byte("st")); err != nil {
				t.Fatal(err)
			}
			committed = n
		}
		n++
		if err := l.add(s, m, g.source); err != nil {
			t.Fatal(err)
		}
	}, nil2)
	if committed == 0 || s.Stats().Sealed == 0 {
		t.Fatal("no partition change in the generated traffic")
	}
	dir := crashCopy(t, s)
	r := openTest(t, dir, Options{})
	c, ok := r.LastCommit()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if !ok || string(c.Position) != "before-rotation" {
		t.Fatalf("resumed from %q", c.Position)
	}
	if got := storedMessages(t, dir); got != committed {
		t.Errorf("store keeps %d messages, want %d", got, committed)
	}
}

func nil2(*genCall, *analysis.Call) {}
