package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/web/internal/fixture"
)

// scenarioMessages decodes pcaps/scenarios.pcap into owned copies.
func scenarioMessages(tb testing.TB) []decode.Message {
	tb.Helper()
	pcap, _ := fixture.Scenarios()
	r, err := capture.OpenFiles([]string{pcap})
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var out []decode.Message
	dec := decode.New(decode.Config{}, func(m *decode.Message) {
		cp := *m
		cp.MTP3 = bytes.Clone(m.MTP3)
		cp.ISUP.Raw = nil
		out = append(out, cp)
	})
	var f decode.Frame
	for r.Next(&f) != io.EOF {
		dec.Decode(&f)
	}
	if len(out) == 0 {
		tb.Fatal("no messages")
	}
	return out
}

// ingester re-adds the scenario messages, shifted forward in time each round
// so the store keeps growing like a live feed.
type ingester struct {
	e       *env
	msgs    []decode.Message
	added   atomic.Int64
	maxWait atomic.Int64 // longest single AddMessage, ns
	errs    atomic.Int64
}

func (in *ingester) run(stop <-chan struct{}) {
	span := in.msgs[len(in.msgs)-1].TS - in.msgs[0].TS + int64(time.Second)
	_, newest, _, _ := in.e.store.Span()
	shift := newest - in.msgs[0].TS + int64(time.Second)
	for {
		for i := range in.msgs {
			select {
			case <-stop:
				return
			default:
			}
			m := in.msgs[i]
			m.TS += shift
			t0 := time.Now()
			if err := in.e.store.AddMessage(&m, "load"); err != nil {
				in.errs.Add(1)
			}
			if d := time.Since(t0).Nanoseconds(); d > in.maxWait.Load() {
				in.maxWait.Store(d)
			}
			// Paced at about 20 000 messages/s so the test stays bounded
			// in disk and time; the benchmark below runs unpaced.
			if in.added.Add(1)%200 == 0 {
				time.Sleep(10 * time.Millisecond)
			}
		}
		shift += span
	}
}

// queryLoad runs workers that each issue n mixed API queries over loopback.
func queryLoad(tb testing.TB, e *env, workers, n int) (ok, failed int64) {
	var okc, failc atomic.Int64
	paths := []string{
		"/api/calls?" + url.Values{"number": {"13950000003"}}.Encode(),
		"/api/calls?rule=cli.missing",
		"/api/calls?limit=50",
		"/api/alerts?limit=50",
		"/api/partners",
		"/api/scorecard?partner=ic-telecom",
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < n; i++ {
				req, _ := http.NewRequest("GET", e.ts.URL+paths[(w+i)%len(paths)], nil)
				req.Header.Set("Authorization", "Bearer "+testToken)
				res, err := e.ts.Client().Do(req)
				if err != nil {
					failc.Add(1)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == 200 {
					okc.Add(1)
				} else {
					failc.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	return okc.Load(), failc.Load()
}

// TestQueriesDuringIngest runs concurrent API queries while messages are
// ingested into the same store: every query must succeed, and ingest must
// keep making progress (no writer starved behind queries).
func TestQueriesDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	e := newEnv(t, nil)
	in := &ingester{e: e, msgs: scenarioMessages(t)}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { in.run(stop); close(done) }()

	// Each round queries (30 at a time) until the writer has added
	// minProgress messages since the round began: progress is a count, not
	// a time slice, so fast hardware (queries done before the writer's next
	// batch) cannot fail it. A writer starved behind the queries never gets
	// there and the round fails at its deadline.
	const rounds, minProgress, roundDeadline = 5, 400, 60 * time.Second
	queries := 0
	for round := 0; round < rounds; round++ {
		before := in.added.Load()
		deadline := time.Now().Add(roundDeadline)
		for {
			ok, failed := queryLoad(t, e, 6, 5)
			queries += int(ok + failed)
			if failed > 0 || ok != 30 {
				t.Errorf("round %d: %d queries ok, %d failed", round, ok, failed)
			}
			if in.added.Load()-before >= minProgress {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("round %d: ingest added %d messages in %v of queries, want %d", round, in.added.Load()-before, roundDeadline, minProgress)
				break
			}
		}
	}
	close(stop)
	<-done
	if in.errs.Load() > 0 {
		t.Errorf("%d ingest errors", in.errs.Load())
	}
	// A lock held by a query for seconds would show here; generous bound
	// for a shared 2-core machine.
	if w := time.Duration(in.maxWait.Load()); w > 3*time.Second {
		t.Errorf("an ingest call waited %v behind queries", w)
	}
	t.Logf("ingested %d messages during %d queries; longest AddMessage %v", in.added.Load(), queries, time.Duration(in.maxWait.Load()))
	// The calls ingested meanwhile are found.
	if res := search(t, e, bearer(testToken), url.Values{"number": {"13950000003"}, "limit": {"1000"}}); res.Count < 2 {
		t.Errorf("after ingest, %d calls for 13950000003", res.Count)
	}
}

// threadCPU is the CPU time (user + system) of the calling OS thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(rusageThread, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rusageThread is Linux's RUSAGE_THREAD.
const rusageThread = 1

// BenchmarkIngestDuringQueries measures store ingest with 0 and 4 clients
// querying the API continuously over loopback. The machine is shared, so
// besides wall-clock msgs/s it reports the ingest goroutine's own CPU time
// (it is locked to its OS thread): msgs/ingest-cpu-s is the writer's cost,
// including any time it spends helping the garbage collector, and does not
// count the CPU the queries take from the other core.
//
// Clients query back to back, so cheaper queries mean more of them; the
// paced case holds the load at 16 queries/s in all (4 clients, one query
// each per 250 ms), to compare the writer's cost at a fixed query rate.
func BenchmarkIngestDuringQueries(b *testing.B) {
	for _, bc := range []struct {
		clients int
		every   time.Duration // per client; 0: back to back
	}{{0, 0}, {4, 0}, {4, 250 * time.Millisecond}} {
		clients := bc.clients
		name := fmt.Sprintf("clients=%d", clients)
		if bc.every > 0 {
			name += fmt.Sprintf(",qps=%d", int(time.Duration(clients)*time.Second/bc.every))
		}
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, nil)
			msgs := scenarioMessages(b)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var queries atomic.Int64
			for w := 0; w < clients; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var tick <-chan time.Time
					if bc.every > 0 {
						t := time.NewTicker(bc.every)
						defer t.Stop()
						tick = t.C
					}
					for {
						select {
						case <-stop:
							return
						default:
						}
						ok, _ := queryLoad(b, e, 1, 1)
						queries.Add(ok)
						if tick != nil {
							select {
							case <-stop:
								return
							case <-tick:
							}
						}
					}
				}()
			}
			span := msgs[len(msgs)-1].TS - msgs[0].TS + int64(time.Second)
			_, newest, _, _ := e.store.Span()
			shift := newest - msgs[0].TS + int64(time.Second)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ResetTimer()
			start, cpu0 := time.Now(), threadCPU()
			for i := 0; i < b.N; i++ {
				m := msgs[i%len(msgs)]
				if i%len(msgs) == 0 {
					shift += span
				}
				m.TS += shift
				if err := e.store.AddMessage(&m, "load"); err != nil {
					b.Fatal(err)
				}
			}
			el, cpu := time.Since(start), threadCPU()-cpu0
			b.StopTimer()
			close(stop)
			wg.Wait()
			b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "ingest-cpu-ns/msg")
			b.ReportMetric(float64(b.N)/cpu.Seconds(), "msgs/ingest-cpu-s")
			b.ReportMetric(float64(queries.Load())/el.Seconds(), "queries/s")
		})
	}
}

// BenchmarkAPI measures request latency (in-process, no network) of the
// investigator's most common requests on the scenario store.
func BenchmarkAPI(b *testing.B) {
	e := newEnv(b, nil)
	res := search(b, e, bearer(testToken), url.Values{"number": {"13950000003"}})
	if res.Count == 0 {
		b.Fatal("no call")
	}
	for _, bc := range []struct{ name, path string }{
		{"search_number", "/api/calls?number=13950000003"},
		{"call_page", "/api/calls/" + res.Calls[0].ID},
		{"alerts", "/api/alerts?limit=100"},
		{"scorecard", "/api/scorecard?partner=ic-telecom"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest("GET", bc.path, nil)
				req.Header.Set("Authorization", "Bearer "+testToken)
				rec := httptest.NewRecorder()
				e.srv.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%s: %d", bc.path, rec.Code)
				}
			}
		})
	}
}
