package retention

import (
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/decode"
)

// With a disk so slow that writing a segment takes a second, crossing into
// the next hour does not make AddMessage wait: the seal runs in the
// background while records go on into the new partition, and queries see
// the partition being sealed throughout.
func TestSealDoesNotBlockIngest(t *testing.T) {
	dir := t.TempDir()
	const segDelay = time.Second
	fs := &faultFS{dir: dir, delay: segDelay, slow: ".seg.tmp"}
	s, err := Open(dir, Options{NoSync: true, MinFreeBytes: -1, OpenFile: fs.open})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Hour one, then messages of hour two, timing each AddMessage.
	first := fill(t, s, newGenerator(61, t0+int64(30*time.Minute), int64(time.Hour)/4000), 3000)
	g := newGenerator(62, t0+int64(90*time.Minute), int64(time.Second))
	var worst time.Duration
	g.run(200, func(m *decode.Message) {
		start := time.Now()
		if err := s.AddMessage(m, g.source); err != nil {
			t.Fatal(err)
		}
		worst = max(worst, time.Since(start))
	}, func(*genCall, *analysis.Call) {})
	st := s.Stats()
	if st.Sealed != 0 {
		t.Fatalf("the seal finished before hour two's records were in (%+v): not a slow disk", st)
	}
	// Queries see the partition being sealed.
	checkAll(t, s, first[:50])
	if worst > segDelay/3 {
		t.Fatalf("an AddMessage took %v while the seal's segment write takes %v", worst, segDelay)
	}
	if err := s.Flush(); err != nil { // waits for the seal
		t.Fatal(err)
	}
	if st := s.Stats(); st.Sealed != 1 || time.Duration(st.SealNanos) < segDelay {
		t.Fatalf("after the seal: %+v", st)
	}
	checkAll(t, s, first[:50])
	t.Logf("slowest AddMessage across the hour boundary: %v; the seal took %v", worst, time.Duration(s.Stats().SealNanos))
}

// The open partition's memory is bounded: past MaxOpenBytes it is sealed
// early and the rest of the hour goes to a new partition; queries find
// calls on both sides. The query indexes of open logs are bounded too.
func TestOpenLogBounded(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{MaxOpenBytes: 2 << 20})
	calls := fill(t, s, newGenerator(63, t0+int64(30*time.Minute), int64(time.Hour)/40000), 20000) // ~13 MB in one hour
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.EarlySeals < 4 || st.Sealed < 4 || st.OpenLogBytes > 2<<20+arenaChunkCap {
		t.Fatalf("stats: %+v", st)
	}
	checkAll(t, s, calls[:20])
	checkAll(t, s, calls[len(calls)-20:])
	if st := s.Stats(); st.OpenIndexBytes <= 0 || st.OpenIndexBytes > openIndexBudget {
		t.Fatalf("open index bytes %d", st.OpenIndexBytes)
	}
	// A budget below one log's indexes: least recently used chunks go, and
	// are rebuilt when a query needs them again.
	s.mem.Lock()
	s.memc.budget = 64 << 10
	s.mem.Unlock()
	fill(t, s, newGenerator(64, t0+int64(50*time.Minute), int64(time.Hour)/400000), 3000)
	checkAll(t, s, calls[len(calls)-20:])
	if st := s.Stats(); st.OpenIndexEvictions == 0 || st.OpenIndexBytes > 64<<10+int64(arenaChunkCap) {
		t.Fatalf("index bytes %d, evictions %d", st.OpenIndexBytes, st.OpenIndexEvictions)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v, err := Verify(dir); err != nil || !v.OK() {
		t.Fatalf("verify: %+v %v", v, err)
	}
}
