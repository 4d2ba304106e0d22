package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/pcaps/gen"
)

// The capture ceiling: `gatewarden run` on one end of a veth pair, tcpreplay
// sending generated traffic from the other end, which lives in a network
// namespace of its own, at rising packet rates. Per worker count (AF_PACKET
// fanout members) the benchmark reports the highest rate that went through
// a settled interval with zero kernel drops (ring full) and zero queue drops
// (capture to analysis), every packet decoded, and the daemon's CPU time per
// packet at that rate (its own rusage, from /proc; every rule and the store
// are on, as in production).
//
// Settings (environment):
//
//	GATEWARDEN_CAPTURE_SECONDS  the interval each rate is held (default 5; 60 for the published figure)
//	GATEWARDEN_CAPTURE_RATES    comma-separated packets/s (default 5000,10000,20000,40000,80000,160000)
//	GATEWARDEN_CAPTURE_WORKERS  comma-separated worker counts (default 1,2)
//	GATEWARDEN_CAPTURE_DAEMON   extra YAML lines under daemon: (e.g. "  queue: {batches: 128}") to try settings
//
// Short:  go test ./cmd/gatewarden -run '^$' -bench CaptureCeiling -benchtime 1x
// Full:   GATEWARDEN_CAPTURE_SECONDS=60 go test ./cmd/gatewarden -run '^$' -bench CaptureCeiling -benchtime 1x -timeout 2h
func BenchmarkCaptureCeiling(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root (network namespace, veth pair, AF_PACKET)")
	}
	for _, tool := range []string{"tcpreplay", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("%s not installed", tool)
		}
	}
	seconds := envInts(b, "GATEWARDEN_CAPTURE_SECONDS", "5")[0]
	rates := envInts(b, "GATEWARDEN_CAPTURE_RATES", "5000,10000,20000,40000,80000,160000")
	workers := envInts(b, "GATEWARDEN_CAPTURE_WORKERS", "1,2")

	dir := b.TempDir()
	pcap := filepath.Join(dir, "replay.pcap")
	opt, err := gen.MixOptions("default", 3, 3000, 14)
	if err != nil {
		b.Fatal(err)
	}
	opt.File = pcap
	f, err := os.Create(pcap)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := gen.Write(f, nil, opt); err != nil {
		b.Fatal(err)
	}
	f.Close()
	capIf, sendIf, ns := netnsVeth(b)

	for _, w := range workers {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				best, cpuPerPkt := captureCeiling(b, dir, pcap, capIf, sendIf, ns, w, seconds, rates)
				b.ReportMetric(best, "max-pps")
				b.ReportMetric(cpuPerPkt, "cpu-us/pkt")
			}
		})
	}
}

func envInts(b *testing.B, name, def string) []int {
	v := os.Getenv(name)
	if v == "" {
		v = def
	}
	var out []int
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			b.Fatalf("%s=%q: want positive integers separated by commas", name, v)
		}
		out = append(out, n)
	}
	return out
}

// netnsVeth creates a network namespace holding the sending end of a veth
// pair; the capturing end stays here. Both go away with the benchmark.
func netnsVeth(b *testing.B) (capIf, sendIf, ns string) {
	b.Helper()
	id := os.Getpid() % 100000
	ns, capIf, sendIf = fmt.Sprintf("gwperf%d", id), fmt.Sprintf("gwc%d", id), fmt.Sprintf("gws%d", id)
	run := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run("netns", "add", ns); err != nil {
		b.Skipf("cannot create a network namespace (needs CAP_SYS_ADMIN): %v", err)
	}
	b.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	if err := run("link", "add", capIf, "type", "veth", "peer", "name", sendIf); err != nil {
		b.Skipf("cannot create a veth pair (needs CAP_NET_ADMIN and veth): %v", err)
	}
	b.Cleanup(func() { exec.Command("ip", "link", "del", capIf).Run() })
	os.WriteFile("/proc/sys/net/ipv6/conf/"+capIf+"/disable_ipv6", []byte("1"), 0o644)
	for _, args := range [][]string{
		{"link", "set", sendIf, "netns", ns},
		{"link", "set", capIf, "up"},
		{"-n", ns, "link", "set", sendIf, "up"},
	} {
		if err := run(args...); err != nil {
			b.Fatal(err)
		}
	}
	return capIf, sendIf, ns
}

// ceilingStep is one rate held for the interval.
type ceilingStep struct {
	want, sent, rated       float64 // packets/s asked; packets sent; packets/s tcpreplay achieved
	captured, decoded, msgs float64
	kernelDrops, queueDrops float64
	cpu                     time.Duration
}

func (s ceilingStep) clean() bool {
	return s.kernelDrops == 0 && s.queueDrops == 0 && s.captured >= s.sent && s.decoded >= s.sent
}

var ratedRE = regexp.MustCompile(`Rated: .*?([0-9.]+) pps`)
var sentRE = regexp.MustCompile(`Successful packets:\s+([0-9]+)`)

// captureCeiling starts the daemon with the given workers and raises the
// rate until a step is not clean; it returns the highest clean rate
// tcpreplay achieved and the daemon's CPU microseconds per packet there.
// When tcpreplay falls short of the rate asked (one sending core on a shared
// machine), the figure is a lower bound of the daemon's ceiling; the log says so.
func captureCeiling(b *testing.B, dir, pcap, capIf, sendIf, ns string, workers, seconds int, rates []int) (float64, float64) {
	b.Helper()
	run := filepath.Join(dir, fmt.Sprintf("run-w%d-%d", workers, time.Now().UnixNano()))
	os.MkdirAll(run, 0o755)
	block := filepath.Join(run, "blocklist.txt")
	os.WriteFile(block, []byte(gen.ScenarioBlocklistFile()), 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	cfg := filepath.Join(run, "gatewarden.yaml")
	yaml := gen.ScenarioConfigYAML(gen.DefaultPartners(14), 14, block) + fmt.Sprintf(`daemon:
  capture: {interfaces: [%s], workers: %d, bpf: ""}
  data_dir: %q
  retention: {min_free_mib: -1}
  listen: {metrics: %q}
%s
`, capIf, workers, filepath.Join(run, "data"), metricsAddr, os.Getenv("GATEWARDEN_CAPTURE_DAEMON"))
	os.WriteFile(cfg, []byte(yaml), 0o644)

	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(exe, "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), daemonChildEnv+"="+cfg)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if b.Failed() {
			b.Logf("daemon log:\n%s", stderr.String())
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := scrape(metricsAddr); err == nil {
			break
		}
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			b.Fatalf("daemon did not start: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	lbl := fmt.Sprintf("{interface=%q}", capIf)
	counters := func() (captured, kernelDrops, queueDrops, decoded, msgs float64) {
		m, err := scrape(metricsAddr)
		if err != nil {
			b.Fatal(err)
		}
		return m["gatewarden_capture_packets_total"+lbl], m["gatewarden_capture_kernel_drops_total"+lbl],
			sumMetric(m, "gatewarden_pipeline_dropped_frames_total"), m["gatewarden_decode_frames_total"],
			m["gatewarden_decode_messages_total"]
	}
	var best, bestCPU float64
	for _, rate := range rates {
		c0, k0, q0, d0, m0 := counters()
		cpu0 := procCPU(b, cmd.Process.Pid)
		out, err := exec.Command("ip", "netns", "exec", ns, "tcpreplay", "-q", "-K", "-i", sendIf,
			"--pps="+strconv.Itoa(rate), "--loop=0", "--duration="+strconv.Itoa(seconds), pcap).CombinedOutput()
		if err != nil {
			b.Fatalf("tcpreplay: %v: %s", err, out)
		}
		st := ceilingStep{want: float64(rate)}
		if m := sentRE.FindSubmatch(out); m != nil {
			st.sent, _ = strconv.ParseFloat(string(m[1]), 64)
		}
		if m := ratedRE.FindSubmatch(out); m != nil {
			st.rated, _ = strconv.ParseFloat(string(m[1]), 64)
		}
		if st.sent == 0 || st.rated == 0 {
			b.Fatalf("tcpreplay output not understood: %s", out)
		}
		// Let the queue drain: every sent packet decoded, or no progress for 2 s.
		var c1, k1, q1, d1, m1 float64
		last, stalled := -1.0, time.Now()
		for {
			c1, k1, q1, d1, m1 = counters()
			if d1-d0 >= st.sent && c1-c0 >= st.sent || k1 > k0 || q1 > q0 {
				break
			}
			if d1 != last {
				last, stalled = d1, time.Now()
			} else if time.Since(stalled) > 2*time.Second {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		st.captured, st.kernelDrops, st.queueDrops, st.decoded, st.msgs = c1-c0, k1-k0, q1-q0, d1-d0, m1-m0
		st.cpu = procCPU(b, cmd.Process.Pid) - cpu0
		perPkt := float64(st.cpu.Microseconds()) / st.sent
		b.Logf("workers=%d asked %d pps: tcpreplay %.0f pps, sent %.0f, captured %.0f, decoded %.0f (%.0f ISUP messages), kernel drops %.0f, queue drops %.0f, daemon CPU %.2f s (%.2f µs/packet, %.0f%% of a core)",
			workers, rate, st.rated, st.sent, st.captured, st.decoded, st.msgs, st.kernelDrops, st.queueDrops, st.cpu.Seconds(), perPkt,
			100*st.cpu.Seconds()/(st.sent/st.rated))
		if !st.clean() {
			break
		}
		if st.rated > best {
			best, bestCPU = st.rated, perPkt
		}
		if st.rated < 0.9*st.want {
			b.Logf("tcpreplay reached only %.0f of %d pps: the sender, not the daemon, is the limit here", st.rated, rate)
		}
	}
	return best, bestCPU
}

// procCPU is the user+system CPU time of a process so far (/proc/PID/stat).
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the parenthesised command name; utime and stime are the
	// 14th and 15th fields of the line, in clock ticks (USER_HZ, 100).
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
