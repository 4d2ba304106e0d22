package retention

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
)

// answers runs the queries the CLI and the web API make and renders their
// results comparably (scan order aside).
func answers(t *testing.T, s *Store, calls []*genCall) map[string]any {
	t.Helper()
	out := map[string]any{}
	q := func(name string, qq Query) {
		res, err := s.QueryCalls(qq)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = res
	}
	for i := 0; i < len(calls); i += 97 {
		c := calls[i]
		q("calling "+c.calling, Query{Numbers: []string{c.calling}, Roles: 1 << RoleCalling})
		q("called "+c.called, Query{Numbers: []string{c.called}})
		q("calling as called "+c.calling, Query{Numbers: []string{c.calling}, Roles: 1 << RoleCalled})
		res, ok, err := s.CallByRef(MakeRef(1, c.refs[0].frameOrd(calls)))
		if err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprint("ref ", i)] = []any{res, ok}
	}
	q("unknown number", Query{Numbers: []string{"99999999999"}})
	q("rule", Query{Rule: "cli.generic_number"})
	q("all", Query{})
	q("range", Query{From: calls[100].start, To: calls[300].start, Limit: 40})
	rep, err := s.Report(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	out["report"] = rep
	var scanned []string
	err = s.ScanCalls(calls[50].start, 0, func(ref Ref, c *analysis.Call) error {
		scanned = append(scanned, fmt.Sprint(ref, c.ID, c.Start))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.ScanAlerts(0, calls[500].start, func(ref Ref, a *analysis.Alert) error {
		scanned = append(scanned, fmt.Sprint(ref, a.CallID, a.Rule, a.TS))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(scanned)
	out["scans"] = scanned
	oldest, newest, ok, err := s.Span()
	if err != nil {
		t.Fatal(err)
	}
	out["span"] = []any{oldest, newest, ok}
	return out
}

// frameOrd is the message's ordinal in a store that holds calls alone, in
// generation order (frames are numbered from 1 in that order).
func (c storedCopy) frameOrd([]*genCall) uint32 { return uint32(c.frame - 1) }

// The open partition, read from the writer's memory or from its log by a
// read-only store, answers every query exactly as the sealed segment does.
func TestOpenPartitionAnswersLikeSealed(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, Options{})
	// 4 000 calls in about 13 minutes: one partition, several chunks.
	calls := fill(t, w, newGenerator(21, t0, int64(200*time.Millisecond)), 4000)
	if got := len(w.chunks); got < 3 {
		t.Fatalf("open log in %d closed chunks, want several", got)
	}
	if len(w.Partitions()) != 0 {
		t.Fatal("partition sealed early")
	}
	fromWriter := answers(t, w, calls)
	if again := answers(t, w, calls); !reflect.DeepEqual(again, fromWriter) {
		t.Fatal("cached chunk indexes answer differently")
	}
	w.Flush()
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	fromLog := answers(t, ro, calls)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sealed := answers(t, ro, calls)
	for k, want := range sealed {
		if !reflect.DeepEqual(fromWriter[k], want) {
			t.Errorf("%s: writer's open partition answers\n%+v\nsealed\n%+v", k, fromWriter[k], want)
		}
		if !reflect.DeepEqual(fromLog[k], want) {
			t.Errorf("%s: read-only open log answers\n%+v\nsealed\n%+v", k, fromLog[k], want)
		}
	}
	if res := sealed["all"].([]CallResult); len(res) != len(calls) {
		t.Fatalf("%d calls listed, want %d", len(res), len(calls))
	}
}

// A read-only store reads only what the writer appended since its last
// query, and sees it.
func TestReadOnlyReadsOpenLogIncrementally(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, Options{})
	defer w.Close()
	g := newGenerator(22, t0, int64(200*time.Millisecond))
	first := fill(t, w, g, 300)
	w.Flush()
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	checkAll(t, ro, first)
	second := fill(t, w, g, 300)
	w.Flush()
	checkAll(t, ro, append(first, second...))
	l := ro.memc.roLogs[1]
	if l == nil || len(l.part.data) != 2 {
		t.Fatalf("read-only log read in %v pieces, want 2", l)
	}
}

// Queries run while the writer appends to the same open partition (.ci/run runs
// it under -race): every answer is consistent, nothing added before the query is
// missed, and the writer never waits for a query's work.
func TestQueriesDuringAppend(t *testing.T) {
	w := openTest(t, t.TempDir(), Options{})
	defer w.Close()
	g := newGenerator(23, t0, int64(50*time.Millisecond))
	var mu sync.Mutex
	var done []*genCall
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 20 && !stop.Load(); i++ {
			cs := fill(t, w, g, 100)
			mu.Lock()
			done = append(done, cs...)
			mu.Unlock()
		}
	}()
	for n := 0; n < 30; n++ {
		mu.Lock()
		known := slices.Clone(done)
		mu.Unlock()
		all, err := w.QueryCalls(Query{})
		if err != nil {
			stop.Store(true)
			t.Fatal(err)
		}
		if !slices.IsSortedFunc(all, func(a, b CallResult) int { return cmp.Compare(a.Ref, b.Ref) }) {
			t.Fatal("calls out of order")
		}
		if len(all) < len(known) {
			t.Fatalf("%d calls listed, %d were complete before the query", len(all), len(known))
		}
		if len(known) > 0 {
			c := known[len(known)-1]
			res, err := w.QueryCalls(Query{Numbers: []string{c.called}, Roles: 1 << RoleCalled})
			if err != nil || len(res) == 0 || len(res[len(res)-1].Ladder) != len(c.refs) || res[len(res)-1].Call == nil {
				t.Fatalf("newest complete call %s: %v %+v", c.called, err, res)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	wg.Wait()
}

// The flusher fsyncs outside the writer's lock while sealing closes logs
// (.ci/run runs it under -race): no error, nothing lost.
func TestFlusherSyncsWhileSealing(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, Options{FlushInterval: time.Millisecond, MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	// 600 calls a minute apart: ten hourly partitions sealed while the
	// flusher runs every millisecond.
	g := newGenerator(24, t0, int64(time.Minute))
	calls := fill(t, w, g, 600)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Sealed < 9 || st.Dropped != 0 {
		t.Fatalf("%+v", st)
	}
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	all, err := r.QueryCalls(Query{})
	if err != nil || len(all) != len(calls) {
		t.Fatalf("%d calls of %d: %v", len(all), len(calls), err)
	}
}
