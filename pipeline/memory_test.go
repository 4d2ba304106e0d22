package pipeline

import (
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis/config"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/retention"
)

// rssBytes is the process's resident set size (Linux), 0 when unknown.
func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkUnreleasedIAMMemory: 3 million IAMs that are never released, within
// one hour of capture time, through the assembler, rules and the store (its
// open partition kept in memory). The assembler holds at most MaxOpenCalls
// (the oldest are closed and counted as evicted), the store's circuit table
// is gone: the Go heap and the resident set must stay under 1.3 GB. One op
// is the whole run (use -benchtime=1x):
//
//	go test ./pipeline -run '^$' -bench UnreleasedIAMMemory -benchtime=1x
func BenchmarkUnreleasedIAMMemory(b *testing.B) {
	for i := 0; i < b.N; i++ {
		unreleasedIAMs(b)
	}
}

func unreleasedIAMs(t *testing.B) {
	const iams = 3_000_000
	const limit = 1300 << 20
	g, err := NewGeneration(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	st, err := retention.Open(t.TempDir(), retention.Options{NoSync: true, MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := New(Config{Gen: g, Store: st})
	var m decode.Message
	m.Transport = decode.TransportM3UA
	m.Src = netip.MustParseAddrPort("10.0.0.1:2905")
	m.Dst = netip.MustParseAddrPort("10.0.0.2:2905")
	m.Label.NI, m.Label.OPC, m.Label.DPC = 2, 100, 200
	m.ISUP.Type = 0x01
	m.MTP3 = make([]byte, 40) // an IAM's size on the wire, about
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixNano()
	for i := 0; i < iams; i++ {
		m.TS = start + int64(i)*int64(time.Hour)/iams
		m.Frame = uint64(i + 1)
		m.ISUP.CIC = uint32(i) // each on a circuit of its own: nothing is superseded
		c := strconv.AppendInt(m.ISUP.Calling.Digits[:0], 13800000000+int64(i), 10)
		m.ISUP.Calling.Present, m.ISUP.Calling.NDigits, m.ISUP.Calling.NAI = true, uint8(len(c)), 3
		d := strconv.AppendInt(m.ISUP.Called.Digits[:0], 2080000000+int64(i), 10)
		m.ISUP.Called.Present, m.ISUP.Called.NDigits, m.ISUP.Called.NAI = true, uint8(len(d)), 3
		p.onMessage(&m)
	}
	if err := p.StoreErr(); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := rssBytes()
	s := p.Stats()
	t.ReportMetric(float64(ms.HeapInuse>>20), "heap-MiB")
	t.ReportMetric(float64(rss>>20), "rss-MiB")
	t.Logf("%d IAMs: %d calls open, %d evicted; Go heap in use %d MiB, heap from the OS %d MiB, RSS %d MiB",
		iams, s.OpenCalls, s.Calls.Evicted, ms.HeapInuse>>20, ms.HeapSys>>20, rss>>20)
	if s.OpenCalls+int(s.Calls.Evicted) != iams {
		t.Errorf("%d open + %d evicted, want %d", s.OpenCalls, s.Calls.Evicted, iams)
	}
	if ms.HeapInuse > limit || rss > limit {
		t.Errorf("heap in use %d MiB, RSS %d MiB: want under %d MiB", ms.HeapInuse>>20, rss>>20, limit>>20)
	}
}
