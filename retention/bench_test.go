package retention

import (
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/decode"
)

// Benchmarks use generated traffic (gen_test.go): interleaved 5-message calls,
// two or three numbers per IAM, a call record per call and an alert on every
// fifth. GATEWARDEN_BENCH_SCALE multiplies the data sizes for the report; the
// defaults keep CI short.

func benchScale() int {
	if v, err := strconv.Atoi(os.Getenv("GATEWARDEN_BENCH_SCALE")); err == nil && v > 0 {
		return v
	}
	return 1
}

// pregenerate records messages and calls so the benchmark times the store only.
type recorded struct {
	msgs  []decode.Message
	mtp3  [][]byte
	calls []*analysis.Call
	// after[i] is the number of calls finished when message i was generated.
	after []int
}

func pregenerate(n int, gap int64) *recorded {
	g := newGenerator(9, t0, gap)
	r := &recorded{msgs: make([]decode.Message, 0, 5*n)}
	g.run(n, func(m *decode.Message) {
		r.msgs = append(r.msgs, *m)
		r.mtp3 = append(r.mtp3, append([]byte(nil), m.MTP3...))
		r.after = append(r.after, len(r.calls))
	}, func(_ *genCall, c *analysis.Call) { r.calls = append(r.calls, c) })
	for i := range r.msgs {
		r.msgs[i].MTP3 = r.mtp3[i]
	}
	return r
}

// cpuNanos is the CPU time (user + system, all threads) this process has used:
// the machine is shared, so wall-clock ns/op overstates the store's cost.
func cpuNanos() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func dirBytes(b *testing.B, dir string) int64 {
	ents, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// BenchmarkIngest stores messages with their call records (and an alert on
// every fifth call) and seals the partitions. ns/op is per message, sealing
// included; B/msg is the store's size on disk (segments, indexes, calls,
// alerts, manifests) per message.
//
// fsync=off opens the store with Options.NoSync (no fsync at all: the cost of
// the store's own work); fsync=on keeps the default flusher, which writes and
// fsyncs the log every FlushInterval, as the daemon runs it.
func BenchmarkIngest(b *testing.B) {
	b.Run("fsync=off", func(b *testing.B) { benchIngest(b, true) })
	b.Run("fsync=on", func(b *testing.B) { benchIngest(b, false) })
}

func benchIngest(b *testing.B, noSync bool) {
	// 10 million calls a day is ~115 calls/s: 8.6 ms between call starts.
	// The pool is kept small (decode.Message is large and full of pointers,
	// which the garbage collector would otherwise scan at the store's expense);
	// each lap shifts time and changes the numbers so the index sees new ones.
	const pool = 40000
	rec := pregenerate(pool/5, int64(8600*time.Microsecond))
	dir := b.TempDir()
	s, err := Open(dir, Options{NoSync: noSync, MinFreeBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	span := rec.msgs[len(rec.msgs)-1].TS - rec.msgs[0].TS + int64(time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuNanos()
	var m decode.Message
	var c analysis.Call
	var a analysis.Alert
	done := 0
	for i := 0; i < b.N; i++ {
		k := i % len(rec.msgs)
		lap := i / len(rec.msgs)
		shift := int64(lap) * span
		m = rec.msgs[k]
		if lap > 0 {
			perturb(&m.ISUP.Calling, lap)
			perturb(&m.ISUP.Called, lap)
		}
		m.TS += shift
		m.Frame += uint64(lap) * uint64(len(rec.msgs))
		if err := s.AddMessage(&m, "gen.pcap"); err != nil {
			b.Fatal(err)
		}
		for ; done < lap*len(rec.calls)+rec.after[k]; done++ {
			c = *rec.calls[done%len(rec.calls)]
			c.Start += shift
			c.Alerting += shift
			c.Answer += shift
			c.Release += shift
			c.End += shift
			if done%5 == 0 {
				a = analysis.Alert{TS: c.Start, Rule: "cli.generic_number", Partner: c.Partner, OPC: c.OPC, DPC: c.DPC, CIC: c.CIC, CallID: c.ID}
				if err := s.AddAlert(&a); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.AddCall(&c); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu := float64(cpuNanos() - cpu0)
	b.ReportMetric(float64(dirBytes(b, dir))/float64(b.N), "B/msg")
	b.ReportMetric(cpu/float64(b.N), "cpu-ns/msg")
	b.ReportMetric(float64(b.N)/(cpu/1e9), "msgs/cpu-s")
}

// perturb changes the last three digits of a number for lap.
func perturb(n *decode.Number, lap int) {
	if n.NDigits < 3 {
		return
	}
	d := n.Digits[n.NDigits-3 : n.NDigits]
	v := (int(d[0]-'0')*100 + int(d[1]-'0')*10 + int(d[2]-'0') + lap*37) % 1000
	d[0], d[1], d[2] = byte('0'+v/100), byte('0'+v/10%10), byte('0'+v%10)
}

// lookupStore builds (once per shape) a sealed store of n calls at the given
// spacing and returns it read-only with the calling numbers stored.
var lookupStores = map[string]*lookupFixture{}

type lookupFixture struct {
	dir     string
	s       *Store
	numbers []string
	parts   int
	bytes   int64
	msgs    int
}

// The store is written with fsync off (Options.NoSync): only the lookups
// are timed.
func lookupStore(b *testing.B, n int, gap time.Duration) *lookupFixture {
	key := strconv.Itoa(n) + "/" + gap.String()
	if f := lookupStores[key]; f != nil {
		return f
	}
	dir, err := os.MkdirTemp("", "gatewarden-lookup-bench")
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(dir, Options{NoSync: true, MinFreeBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	f := &lookupFixture{dir: dir}
	g := newGenerator(11, t0, int64(gap))
	var l linker
	g.run(n, func(m *decode.Message) {
		f.msgs++
		if err := l.add(s, m, g.source); err != nil {
			b.Fatal(err)
		}
	}, func(c *genCall, rec *analysis.Call) {
		if len(f.numbers) < 4096 {
			f.numbers = append(f.numbers, c.calling)
		}
		rec.Ref = l.ref(c.opc, c.dpc, c.cic)
		s.AddCall(rec)
	})
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	f.parts = len(s.Partitions())
	f.bytes = dirBytes(b, dir)
	f.s, err = Open(dir, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	lookupStores[key] = f
	return f
}

// BenchmarkLookup times trace's query: one number in any role and in all its
// national and international forms, across the whole store, ladders, call
// records and alerts assembled. Sizes are calls at 10 million calls a day
// (hourly partitions fill as in production), then the same call counts spread
// over 30 days (720 partitions: the cost of the partition count).
func BenchmarkLookup(b *testing.B) {
	b.Cleanup(func() {
		for key, f := range lookupStores {
			f.s.Close()
			os.RemoveAll(f.dir)
			delete(lookupStores, key)
		}
	})
	scale := benchScale()
	day := 8600 * time.Microsecond // 10 million calls a day
	for _, shape := range []struct {
		name string
		n    int
		gap  time.Duration
	}{
		{"calls", 10000 * scale, day},
		{"calls", 40000 * scale, day},
		{"calls", 160000 * scale, day},
		{"30days/calls", 20000 * scale, 30 * 24 * time.Hour / time.Duration(20000*scale)},
		{"30days/calls", 80000 * scale, 30 * 24 * time.Hour / time.Duration(80000*scale)},
		// Six months of hourly partitions (4 320), each small: the cost of
		// the partition count at the retention the brief asks for.
		{"180days/calls", 43200 * scale, 180 * 24 * time.Hour / time.Duration(43200*scale)},
		// One full hourly partition at 10 million calls a day (~420 k
		// calls, 2.1 M messages) and the start of the next: the per-
		// partition costs the projection to six months uses (SIZING).
		{"fullhour/calls", 420000, day},
	} {
		shape.name += "=" + strconv.Itoa(shape.n)
		b.Run(shape.name, func(b *testing.B) {
			f := lookupStore(b, shape.n, shape.gap)
			b.Run("filter", func(b *testing.B) { benchFilter(b, f) })
			// Without the prefix the number index skips the partitions that
			// cannot hold the number; noindex/ reads every partition's
			// segment (Options.NoNumberIndex), as before the index.
			for _, noIndex := range []bool{false, true} {
				prefix := ""
				if noIndex {
					prefix = "noindex/"
				}
				// warm: one read-only store answers every query, so repeated
				// lookups are served from its segment and block caches.
				b.Run(prefix+"warm", func(b *testing.B) {
					ws, err := Open(f.dir, Options{ReadOnly: true, NoNumberIndex: noIndex})
					if err != nil {
						b.Fatal(err)
					}
					defer ws.Close()
					b.ReportAllocs()
					b.ResetTimer()
					cpu0 := cpuNanos()
					for i := 0; i < b.N; i++ {
						lookupOnce(b, ws, f.numbers[i%len(f.numbers)])
					}
					b.StopTimer()
					b.ReportMetric(float64(cpuNanos()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
					f.report(b)
				})
				// cold: each lookup opens the store read-only (as `gatewarden
				// trace` does), queries once and closes it; the OS page cache is
				// warm, the store's caches are empty.
				b.Run(prefix+"cold", func(b *testing.B) {
					b.ReportAllocs()
					b.ResetTimer()
					cpu0 := cpuNanos()
					for i := 0; i < b.N; i++ {
						s, err := Open(f.dir, Options{ReadOnly: true, NoNumberIndex: noIndex})
						if err != nil {
							b.Fatal(err)
						}
						lookupOnce(b, s, f.numbers[i%len(f.numbers)])
						if err := s.Close(); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					b.ReportMetric(float64(cpuNanos()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
					f.report(b)
				})
			}
		})
	}
}

func lookupOnce(b *testing.B, s *Store, num string) {
	res, err := s.QueryCalls(Query{Numbers: NumberForms(num, "86")})
	if err != nil {
		b.Fatal(err)
	}
	if len(res) == 0 {
		b.Fatalf("%s not found", num)
	}
}

func (f *lookupFixture) report(b *testing.B) {
	b.ReportMetric(float64(f.parts), "partitions")
	b.ReportMetric(float64(f.bytes)/float64(f.msgs), "B/msg")
}

// benchFilter times the number index's answer for one sealed partition
// (the largest) and a number it does not hold, in all its forms: what each
// partition that cannot hold the number costs a lookup. false-maybe-% is
// the share of such numbers for which the filter says "maybe" (the
// partition's segment is then read for nothing).
func benchFilter(b *testing.B, f *lookupFixture) {
	s, err := Open(f.dir, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	sn, err := s.snapshot()
	if err != nil {
		b.Fatal(err)
	}
	defer sn.close()
	var big Manifest
	for _, p := range s.Partitions() {
		if p.Messages > big.Messages {
			big = p
		}
	}
	v := sn.views[sn.bySeq[big.Seq]]
	var blocks uint32
	if fh, err := os.Open(numIndexPath(f.dir, v.seq)); err == nil {
		e, _ := s.nix.entry(f.dir, v.seq, v.sha, fh)
		blocks = e.blocks
		fh.Close()
	}
	if blocks == 0 {
		b.Fatalf("partition %d has no number index entry", v.seq)
	}
	// The group file is opened once, as a query opens it once for its
	// partitions; the entry's header is read once, as a query reads it.
	nf := newNumberFilter(s, nil)
	defer nf.close()
	maybes := 0
	b.ResetTimer()
	cpu0 := cpuNanos()
	for i := 0; i < b.N; i++ {
		// 12x xxxx xxxx: never generated (gen_test.go's mobiles are 1[3-9]...).
		nf.hashes = nf.hashes[:0]
		for _, n := range NumberForms("12"+strconv.Itoa(100000000+i), "86") {
			nf.hashes = append(nf.hashes, stableNumberHash([]byte(n)))
		}
		if nf.maybe(v) {
			maybes++
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuNanos()-cpu0)/1e3/float64(b.N), "cpu-us/op")
	b.ReportMetric(100*float64(maybes)/float64(b.N), "false-maybe-%")
	b.ReportMetric(float64(blocks), "filter-blocks")
	b.ReportMetric(float64(big.Messages), "msgs/partition")
}
