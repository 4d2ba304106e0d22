package retention

import (
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/decode"
)

// BenchmarkIngestAcrossHourBoundary stores generated messages across hour
// boundaries, each sealing a partition in the background while the next
// hour's records go in, and reports the ingest rate (msgs/s, wall clock),
// the slowest single AddMessage (max_add_ms; at 100 000 messages/s a capture
// queue must absorb max_add_ms × 100 messages) and the slowest of the first
// 1 000 after each hour change (boundary_max_add_ms), the time a seal took
// (seal_ms) and the time the writer waited for one (seal_wait_ms: a seal
// must finish before the following boundary).
//
// rate=100k paces the writer at 100 000 messages/s with 1 000 000 messages
// per hour, as a live link would deliver them (an hour of capture time in
// ten seconds: still 360 times faster than live), so -benchtime 2500000x
// crosses two boundaries. rate=max replays as fast as the store takes
// records, 1 000 000 per hour.
//
//	go test ./retention -run '^$' -bench IngestAcrossHourBoundary -benchtime 2500000x
func BenchmarkIngestAcrossHourBoundary(b *testing.B) {
	b.Run("rate=100k", func(b *testing.B) { benchAcrossHour(b, 100000) })
	b.Run("rate=max", func(b *testing.B) { benchAcrossHour(b, 0) })
}

func benchAcrossHour(b *testing.B, rate int) {
	const pool = 40000
	rec := pregenerate(pool/5, int64(time.Hour)/200000) // 40 000 messages span 1/25 hour
	s, err := Open(b.TempDir(), Options{NoSync: true, MinFreeBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	span := rec.msgs[len(rec.msgs)-1].TS - rec.msgs[0].TS + int64(time.Second)
	var m decode.Message
	var worst, worstNear time.Duration
	var prevHour int64
	lastChange := -1 << 30
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if rate > 0 && i%1000 == 0 {
			if ahead := time.Duration(i)*time.Second/time.Duration(rate) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
		k := i % len(rec.msgs)
		lap := i / len(rec.msgs)
		m = rec.msgs[k]
		if lap > 0 {
			perturb(&m.ISUP.Calling, lap)
		}
		m.TS += int64(lap) * span
		if h := m.TS / int64(time.Hour); h != prevHour {
			prevHour, lastChange = h, i
		}
		t := time.Now()
		if err := s.AddMessage(&m, "gen.pcap"); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t)
		worst = max(worst, d)
		if i-lastChange < 1000 && i > 0 {
			worstNear = max(worstNear, d)
		}
	}
	elapsed := time.Since(start)
	st := s.Stats()
	b.StopTimer()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(worst.Microseconds())/1000, "max_add_ms")
	b.ReportMetric(float64(worstNear.Microseconds())/1000, "boundary_max_add_ms")
	b.ReportMetric(float64(st.Sealed), "seals")
	b.ReportMetric(float64(st.SealWaitNanos)/1e6, "seal_wait_ms")
	b.ReportMetric(float64(st.SealNanos)/1e6/float64(max(st.Sealed, 1)), "seal_ms")
}
