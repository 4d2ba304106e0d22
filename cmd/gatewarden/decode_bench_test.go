package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/internal/tsharkref"
	"github.com/gatewarden/gatewarden/pcaps/gen"
	"github.com/gatewarden/gatewarden/pipeline"
	"github.com/gatewarden/gatewarden/retention"
)

// loadCapture generates a capture of just over a million ISUP messages (M3UA
// and M2PA, bundles, fragments, retransmissions) into the benchmark's
// temporary directory; such files are never committed.
func loadCapture(b *testing.B) (string, uint64) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "load.pcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sum, err := gen.Write(f, nil, gen.Options{Seed: 1, Partners: gen.DefaultPartners(14),
		Source: gen.Merge(gen.NewCleanSource(1, 240000, gen.DefaultPartners(14), gen.DefaultStart, 0))})
	if err != nil {
		b.Fatal(err)
	}
	if sum.Messages < 1_000_000 {
		b.Fatalf("generated capture holds %d messages", sum.Messages)
	}
	return path, sum.Messages
}

// benchSetup is the scenario configuration (partners, blocklist, every rule)
// for the generated capture's partners.
func benchSetup(b *testing.B) *pipeline.Generation {
	b.Helper()
	dir := b.TempDir()
	block := filepath.Join(dir, "blocklist.txt")
	os.WriteFile(block, []byte(gen.ScenarioBlocklistFile()), 0o644)
	cfg := filepath.Join(dir, "gatewarden.yaml")
	os.WriteFile(cfg, []byte(gen.ScenarioConfigYAML(gen.DefaultPartners(14), 14, block)), 0o644)
	setup, err := pipeline.LoadGeneration(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return setup
}

// BenchmarkDecodeCapture decodes a generated capture of >= 1 M ISUP messages,
// file reading included, output discarded. One op is the whole file. Reports
// messages per CPU-second (the per-core rate; wall time suffers on a shared
// machine) and heap allocations per message.
//
//	go test ./cmd/gatewarden -run '^$' -bench DecodeCapture -benchtime 3x
//	GATEWARDEN_BENCH_TSHARK=1 ... also times tshark -T fields on the same file
func BenchmarkDecodeCapture(b *testing.B) {
	path, want := loadCapture(b)
	b.Run("decode", func(b *testing.B) {
		var msgs uint64
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		cpu0 := cpuSeconds()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r, err := capture.OpenFiles([]string{path})
			if err != nil {
				b.Fatal(err)
			}
			dec := decode.New(decode.Config{}, func(m *decode.Message) { msgs++ })
			var f decode.Frame
			for r.Next(&f) == nil {
				dec.Decode(&f)
			}
			dec.Flush()
			r.Close()
		}
		b.StopTimer()
		cpu := cpuSeconds() - cpu0
		runtime.ReadMemStats(&ms1)
		if msgs != want*uint64(b.N) {
			b.Fatalf("decoded %d messages, the generator wrote %d per pass", msgs, want)
		}
		b.ReportMetric(float64(msgs)/cpu, "msgs/cpu-s")
		b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
		b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(msgs), "allocs/msg")
	})
	var jsonCPU float64
	b.Run("json", func(b *testing.B) {
		cpu0 := cpuSeconds()
		for i := 0; i < b.N; i++ {
			if code := decodeMain([]string{path}, io.Discard, io.Discard); code != 0 {
				b.Fatalf("exit %d", code)
			}
		}
		jsonCPU = (cpuSeconds() - cpu0) / float64(b.N)
		b.ReportMetric(float64(want)/jsonCPU, "msgs/cpu-s")
		b.ReportMetric(float64(want)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	if os.Getenv("GATEWARDEN_BENCH_TSHARK") == "" || !tsharkref.Available() {
		return
	}
	b.Run("tshark-fields", func(b *testing.B) {
		c, err := tsharkref.LoadCapture(path)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < b.N; i++ {
			before := childCPUSeconds()
			cmd := exec.Command("tshark", tsharkref.FieldsArgs(c)...)
			cmd.Stdout = io.Discard
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
			tsharkCPU := childCPUSeconds() - before
			b.ReportMetric(tsharkCPU, "tshark-cpu-s")
			if jsonCPU > 0 {
				b.ReportMetric(tsharkCPU/jsonCPU, "x-gatewarden-json")
			}
		}
	})
}

// childCPUSeconds is the user and system CPU time of finished child processes.
func childCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// BenchmarkReplayIntoStore is sustained ingest while the rules run: the whole
// replay pipeline (read, decode, calls, every rule) writing every message,
// call and alert into a fresh store, on a generated capture of >= 1 M
// messages, sealing included. Run it with GOMAXPROCS=1 for the one-core
// figure: the store's background flusher then shares the core.
//
//	GOMAXPROCS=1 go test ./cmd/gatewarden -run '^$' -bench ReplayIntoStore -benchtime 1x
func BenchmarkReplayIntoStore(b *testing.B) {
	path, want := loadCapture(b)
	setup := benchSetup(b)
	dir := b.TempDir()
	var msgs, diskBytes uint64
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		data := filepath.Join(dir, fmt.Sprintf("store%d", i))
		st, err := retention.Open(data, retention.Options{MinFreeBytes: -1})
		if err != nil {
			b.Fatal(err)
		}
		r, err := capture.OpenFiles([]string{path})
		if err != nil {
			b.Fatal(err)
		}
		p := newReplayPipeline(setup, io.Discard, nil, st, r.SourceName)
		if err := p.run(r, func(error) {}); err != nil { // closes the store: seals the last partition
			b.Fatal(err)
		}
		r.Close()
		if got := p.p.Stats().Decode.Messages; got != want {
			b.Fatalf("decoded %d of %d", got, want)
		}
		msgs += want
		b.StopTimer()
		diskBytes += dirBytes(b, data)
		os.RemoveAll(data)
		b.StartTimer()
	}
	b.StopTimer()
	cpu := cpuSeconds() - cpu0
	b.ReportMetric(float64(msgs)/cpu, "msgs/cpu-s")
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(diskBytes)/float64(msgs), "disk-B/msg")
}

func dirBytes(b *testing.B, dir string) uint64 {
	var n uint64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += uint64(fi.Size())
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}
