package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/gatewarden/gatewarden/internal/tsharkref"
	"github.com/gatewarden/gatewarden/pcaps/gen"
)

// mixCalls gives every mix capture just over 50 000 ISUP messages (57 600);
// GATEWARDEN_BENCH_MIX_CALLS sets another count (e.g. 60000: 288 000
// messages, where start-up weighs less).
func mixCalls(b *testing.B) int {
	if v := os.Getenv("GATEWARDEN_BENCH_MIX_CALLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("GATEWARDEN_BENCH_MIX_CALLS=%q: want a positive count of calls", v)
		}
		return n
	}
	return 12000
}

// mixCapture generates the capture of a traffic mix (gen.Mixes) into dir;
// such files are never committed.
func mixCapture(b *testing.B, dir, mix string) (string, uint64) {
	b.Helper()
	opt, err := gen.MixOptions(mix, 1, mixCalls(b), 14)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, mix+".pcap")
	opt.File = path
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sum, err := gen.Write(f, nil, opt)
	if err != nil {
		b.Fatal(err)
	}
	if sum.Messages < 50_000 {
		b.Fatalf("%s: generated capture holds %d messages", mix, sum.Messages)
	}
	return path, sum.Messages
}

// pcapngMix names the extra benchmark capture: the default mix written as
// pcapng (Enhanced Packet Blocks, what dumpcap and Wireshark write), which
// gatewarden reads by another path than classic pcap.
const pcapngMix = "default-pcapng"

// benchCaptures generates every mix capture into dir, and the pcapng copy of
// the default one: name, path and message count of each, in order.
func benchCaptures(b *testing.B, dir string) (names, paths []string, msgs []uint64) {
	for _, mix := range gen.Mixes {
		path, want := mixCapture(b, dir, mix)
		names, paths, msgs = append(names, mix), append(paths, path), append(msgs, want)
		if mix == "default" {
			ng := filepath.Join(dir, pcapngMix+".pcapng")
			pcapToPcapng(b, path, ng)
			names, paths, msgs = append(names, pcapngMix), append(paths, ng), append(msgs, want)
		}
	}
	return names, paths, msgs
}

// pcapToPcapng copies an Ethernet classic pcap into a pcapng file.
func pcapToPcapng(b *testing.B, src, dst string) {
	b.Helper()
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	r, err := pcapgo.NewReader(in)
	if err != nil {
		b.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	w, err := pcapgo.NewNgWriter(out, r.LinkType())
	if err != nil {
		b.Fatal(err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if err := w.WritePacket(ci, data); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDecodeMix is `gatewarden decode` to JSON in this process, one op
// per whole capture of a traffic mix (>= 50 k messages), output discarded:
// the benchmark to profile (-cpuprofile) what a mix costs. Reports messages
// per CPU-second of the process and heap allocations per message.
//
//	go test ./cmd/gatewarden -run '^$' -bench DecodeMix/ -benchtime 20x -cpuprofile cpu.out
func BenchmarkDecodeMix(b *testing.B) {
	names, paths, msgs := benchCaptures(b, b.TempDir())
	for i, mix := range names {
		path, want := paths[i], msgs[i]
		b.Run(mix, func(b *testing.B) {
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cpu0 := cpuSeconds()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if code := decodeMain([]string{path}, io.Discard, io.Discard); code != 0 {
					b.Fatalf("exit %d", code)
				}
			}
			b.StopTimer()
			cpu := cpuSeconds() - cpu0
			runtime.ReadMemStats(&ms1)
			msgs := float64(want) * float64(b.N)
			b.ReportMetric(msgs/cpu, "msgs/cpu-s")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/msgs, "allocs/msg")
		})
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// gatewardenBinary builds the command once per test process, as it ships
// (CGO_ENABLED=0), for whole-process measurements.
func gatewardenBinary(b *testing.B) string {
	b.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gatewarden-bench")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "gatewarden")
		cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = &buildError{err: err, out: string(out)}
		}
	})
	if binErr != nil {
		b.Fatal(binErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + ": " + e.out }

// processCPU runs a command to completion, stdout to /dev/null, and returns
// its user+system CPU time (its own rusage, not this process's).
func processCPU(b *testing.B, name string, args ...string) time.Duration {
	b.Helper()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	cmd := exec.Command(name, args...)
	cmd.Stdout = null // as `> /dev/null`: no pipe for this process to drain
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// gwRunsPerOp is how many times the gatewarden process runs per op: its CPU
// time on one capture is a few tens of milliseconds, tshark's seconds.
const gwRunsPerOp = 5

// BenchmarkDecodeMixProcess is the whole `gatewarden decode FILE` process
// (JSON to stdout, discarded; start-up included) on each traffic mix (and
// the default one as pcapng), its CPU time from its own rusage. With GATEWARDEN_BENCH_TSHARK=1 every op also
// runs `tshark -T fields` (the reference extraction, internal/tsharkref) on
// the same file, interleaved, and reports tshark's CPU time over
// gatewarden's: on a shared machine the ratio is steadier than either time.
//
//	GATEWARDEN_BENCH_TSHARK=1 go test ./cmd/gatewarden -run '^$' -bench DecodeMixProcess -benchtime 3x
func BenchmarkDecodeMixProcess(b *testing.B) {
	exe := gatewardenBinary(b)
	withTshark := os.Getenv("GATEWARDEN_BENCH_TSHARK") != "" && tsharkref.Available()
	names, paths, msgs := benchCaptures(b, b.TempDir())
	for i, mix := range names {
		path, want := paths[i], msgs[i]
		var targs []string
		if withTshark {
			c, err := tsharkref.LoadCapture(path)
			if err != nil {
				b.Fatal(err)
			}
			targs = tsharkref.FieldsArgs(c)
		}
		b.Run(mix, func(b *testing.B) {
			var gw, ts time.Duration
			for i := 0; i < b.N; i++ {
				for k := 0; k < gwRunsPerOp; k++ {
					gw += processCPU(b, exe, "decode", path)
				}
				if withTshark {
					ts += processCPU(b, "tshark", targs...)
				}
			}
			gwRun := gw.Seconds() / float64(b.N*gwRunsPerOp)
			b.ReportMetric(gwRun, "gw-cpu-s")
			b.ReportMetric(float64(want)/gwRun, "msgs/cpu-s")
			if withTshark {
				tsRun := ts.Seconds() / float64(b.N)
				b.ReportMetric(tsRun, "tshark-cpu-s")
				b.ReportMetric(tsRun/gwRun, "x-tshark")
			}
		})
	}
}
