package retention

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/decode"
)

// faultFS is a file layer whose writes fail with ENOSPC: always while full
// is set, and once the files in dir would exceed capacity (a simulated disk
// of that size; deleting files frees space as on a real one).
type faultFS struct {
	dir      string
	full     atomic.Bool
	capacity atomic.Int64
	delay    time.Duration // added to every write (a slow disk)
	slow     string        // only to files whose name ends so ("": all)
}

type faultFile struct {
	*os.File
	fs *faultFS
}

func (fs *faultFS) open(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return faultFile{f, fs}, nil
}

func (fs *faultFS) used() int64 {
	var n int64
	ents, _ := os.ReadDir(fs.dir)
	for _, e := range ents {
		if info, err := e.Info(); err == nil {
			n += info.Size()
		}
	}
	return n
}

func (f faultFile) Write(p []byte) (int, error) {
	if f.fs.delay > 0 && strings.HasSuffix(f.Name(), f.fs.slow) {
		time.Sleep(f.fs.delay)
	}
	if f.fs.full.Load() {
		return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	if capacity := f.fs.capacity.Load(); capacity > 0 {
		if room := capacity - f.fs.used(); int64(len(p)) > room {
			n, _ := f.File.Write(p[:max(room, 0)])
			return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
		}
	}
	return f.File.Write(p)
}

type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logf(f string, a ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(f, a...))
	l.mu.Unlock()
}

func (l *logLines) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// feedCounting stores n generated calls and returns the calls whose every
// record the store accepted, and how many records it refused.
func feedCounting(s *Store, g *generator, n int) (kept []*genCall, refused int) {
	g.keep = true
	ok := true
	var l linker
	g.run(n, func(m *decode.Message) {
		if l.add(s, m, g.source) != nil {
			refused++
			ok = false
		}
	}, func(c *genCall, rec *analysis.Call) {
		rec.Ref = l.ref(c.opc, c.dpc, c.cic)
		if s.AddCall(rec) != nil {
			refused++
			ok = false
		}
		if ok {
			kept = append(kept, c)
		}
		ok = true
	})
	return
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// A disk that fills while the store is writing and sealing: records are
// refused and counted by reason, the failure is logged, queries keep
// working, writing resumes by itself when space returns, and Close reports
// the real error. Nothing accepted is lost.
func TestDiskFullInjectedResumes(t *testing.T) {
	dir := t.TempDir()
	fs := &faultFS{dir: dir}
	var log logLines
	opt := Options{NoSync: true, MinFreeBytes: -1, FlushInterval: 10 * time.Millisecond, OpenFile: fs.open, Errorf: log.logf}
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	g := newGenerator(41, t0, int64(time.Second))
	before, refused := feedCounting(s, g, 2000) // crosses the hour: one partition sealed
	if refused != 0 {
		t.Fatalf("%d refused before the fault", refused)
	}
	fs.full.Store(true)
	_, refused = feedCounting(s, g, 3000) // another hour change: the seal fails
	st := s.Stats()
	if refused == 0 || st.DroppedByReason[DropDiskFull] == 0 || !log.has("no space left on device") {
		t.Fatalf("refused %d, stats %+v, log %q", refused, st, log.lines)
	}
	// Queries are served meanwhile.
	if res, err := s.QueryCalls(Query{Numbers: []string{before[0].calling}}); err != nil || len(res) == 0 {
		t.Fatalf("query while full: %d results, %v", len(res), err)
	}
	fs.full.Store(false)
	waitFor(t, "writing to resume", func() bool { return log.has("writing resumed") })
	after, refused := feedCounting(s, newGenerator(42, t0+int64(4*time.Hour), int64(time.Second)), 500)
	if refused != 0 {
		t.Fatalf("%d refused after space returned", refused)
	}
	err = s.Close()
	if err == nil || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "dropped") {
		t.Fatalf("Close: %v, want the records dropped and the disk-full error", err)
	}
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	checkAll(t, r, before)
	checkAll(t, r, after)
	if v, err := Verify(dir); err != nil || !v.OK() {
		t.Fatalf("verify: %+v %v", v, err)
	}
}

// A restart on a full disk starts, serves queries, refuses new records with
// a reason, and seals the log the crashed run left once space returns.
func TestDiskFullInjectedRestart(t *testing.T) {
	dir, calls, _ := openWAL(t) // an unsealed log, as after kill -9
	fs := &faultFS{dir: dir}
	fs.full.Store(true)
	var log logLines
	s, err := Open(dir, Options{NoSync: true, MinFreeBytes: -1, FlushInterval: 10 * time.Millisecond, OpenFile: fs.open, Errorf: log.logf})
	if err != nil {
		t.Fatalf("open on a full disk: %v", err)
	}
	g := newGenerator(43, t0+int64(5*time.Hour), int64(time.Second))
	if _, refused := feedCounting(s, g, 10); refused == 0 {
		t.Fatal("records accepted on a full disk")
	}
	if st := s.Stats(); st.DroppedByReason[DropDiskFull] == 0 || st.Recovered != 0 {
		t.Fatalf("stats: %+v", st)
	}
	if _, err := os.Stat(walPath(dir, 1)); err != nil {
		t.Fatalf("the unsealed log is gone: %v", err)
	}
	fs.full.Store(false)
	waitFor(t, "the left-over log to be sealed", func() bool { return s.Stats().Recovered == 1 })
	if err := s.Close(); err == nil || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Close: %v", err)
	}
	r, _ := Open(dir, Options{ReadOnly: true})
	checkAll(t, r, calls[:2000])
	if v, err := Verify(dir); err != nil || !v.OK() {
		t.Fatalf("verify: %+v %v", v, err)
	}
}

// Retention can always free space: with the disk full, the removal record is
// written into the reserve given back for it, then the partition is deleted,
// and the seal that had failed succeeds.
func TestDiskFullRetentionFreesSpace(t *testing.T) {
	dir := t.TempDir()
	fs := &faultFS{dir: dir}
	var log logLines
	opt := Options{NoSync: true, MinFreeBytes: -1, FlushInterval: 10 * time.Millisecond, OpenFile: fs.open, Errorf: log.logf, Logf: log.logf}
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, reserveFile)); err != nil {
		t.Fatalf("no reserve: %v", err)
	}
	g := newGenerator(44, t0, int64(time.Hour)/1500)
	if _, refused := feedCounting(s, g, 3000); refused != 0 {
		t.Fatal("refused before the disk filled")
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	// The disk is exactly full now; the budget asks for the oldest partition to go.
	fs.capacity.Store(fs.used())
	s.mu.Lock()
	s.opt.MaxBytes = s.diskBytes() - 1
	s.mu.Unlock()
	waitFor(t, "a removal on the full disk", func() bool { return s.Stats().Removed > 0 })
	if !log.has("the reserve is given back to write removed.log") {
		t.Fatalf("the removal record did not need the reserve: %q", log.lines)
	}
	s.Close()
	rem, err := readRemovals(dir)
	if err != nil || len(rem) == 0 || rem[0].Seq != 1 {
		t.Fatalf("removed.log: %+v %v", rem, err)
	}
	if v, err := Verify(dir); err != nil || !v.OK() {
		t.Fatalf("verify: %+v %v", v, err)
	}
}

// The same on a real small file system (tmpfs): many hours into 8 MiB. The
// store never wedges — the oldest partitions go, records are refused only
// while nothing can be freed — and it restarts on a full disk.
func TestDiskFullTmpfs(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("mounting a tmpfs is not permitted here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	})
	dir := filepath.Join(mnt, "store")
	var log logLines
	opt := Options{NoSync: true, MinFreeBytes: 1 << 20, FlushInterval: 10 * time.Millisecond, Errorf: log.logf, Logf: log.logf}
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	g := newGenerator(45, t0, int64(time.Hour)/3000)
	var refused int
	var last []*genCall
	for h := 0; h < 24; h++ {
		var r int
		last, r = feedCounting(s, g, 3000)
		refused += r
	}
	st := s.Stats()
	t.Logf("tmpfs 8 MiB, 24 hours of 3 000 calls: %d messages kept, %d records refused %v, %d partitions removed %v",
		st.Messages, refused, st.DroppedByReason, st.Removed, st.RemovedByReason)
	if st.RemovedByReason["disk"] == 0 || st.Messages < 24*3000*5*3/4 {
		t.Fatalf("stats %+v", st)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	// kill -9 with the disk then filled by something else.
	close(s.stop)
	<-s.done
	s.curFile.Close()
	s.release()
	blocker, _ := os.Create(filepath.Join(mnt, "blocker"))
	blocker.Write(make([]byte, 16<<20)) // fills the file system
	blocker.Close()
	s2, err := Open(dir, opt)
	if err != nil {
		t.Fatalf("restart on a full disk: %v", err)
	}
	if res, err := s2.QueryCalls(Query{Numbers: []string{last[0].calling}}); err != nil {
		t.Fatalf("query after restart on a full disk: %d, %v", len(res), err)
	}
	os.Remove(filepath.Join(mnt, "blocker"))
	waitFor(t, "the left-over log to be sealed", func() bool { return s2.Stats().Recovered == 1 })
	if _, refused := feedCounting(s2, g, 100); refused != 0 {
		t.Fatalf("%d refused after space returned", refused)
	}
	s2.Close()
	if v, err := Verify(dir); err != nil || !v.OK() {
		t.Fatalf("verify: %+v %v", v, err)
	}
}
