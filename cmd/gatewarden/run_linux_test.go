package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/retention"
)

// vethPair creates a veth pair and returns its ends, or skips where that is
// not possible (not root, no veth support, a container without NET_ADMIN).
func vethPair(t *testing.T) (string, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a veth pair needs root")
	}
	a, b := fmt.Sprintf("gwa%d", os.Getpid()%100000), fmt.Sprintf("gwb%d", os.Getpid()%100000)
	if out, err := exec.Command("ip", "link", "add", a, "mtu", "9000", "type", "veth", "peer", "name", b, "mtu", "9000").CombinedOutput(); err != nil {
		// Root without CAP_NET_ADMIN (a container) or a kernel without
		// veth: a missing capability.
		t.Skipf("cannot create a veth pair (needs CAP_NET_ADMIN and veth): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", a).Run() })
	for _, n := range []string{a, b} {
		// No IPv6 autoconfiguration chatter on the test link.
		os.WriteFile("/proc/sys/net/ipv6/conf/"+n+"/disable_ipv6", []byte("1"), 0o644)
		if out, err := exec.Command("ip", "link", "set", n, "up").CombinedOutput(); err != nil {
			t.Fatalf("cannot bring %s up: %v: %s", n, err, out)
		}
	}
	return a, b
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// replayOnto writes every frame of a capture, read with the project's reader,
// to an AF_PACKET socket on iface: the far end of the veth sees them as
// traffic from a SPAN port.
func replayOnto(t *testing.T, iface, pcap string) uint64 {
	t.Helper()
	ni, err := net.InterfaceByName(iface)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(syscall.ETH_P_ALL)))
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EACCES) {
		t.Skipf("AF_PACKET socket unavailable: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	to := &syscall.SockaddrLinklayer{Ifindex: ni.Index, Protocol: htons(syscall.ETH_P_ALL)}
	f, err := capture.OpenFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var fr decode.Frame
	var n uint64
	for f.Next(&fr) == nil {
		if err := syscall.Sendto(fd, fr.Data, 0, to); err != nil {
			t.Fatalf("frame %d: %v", fr.Frame, err)
		}
		n++
		if n%256 == 0 {
			time.Sleep(2 * time.Millisecond) // a span port's pace, not a burst into the ring
		}
	}
	return n
}

// TestDaemonLiveVeth runs the daemon on one end of a veth pair and replays
// the scenario capture into the other: every ISUP message and call of the
// replay must reach the store through AF_PACKET.
func TestDaemonLiveVeth(t *testing.T) {
	if _, err := os.Stat(scenarioPcap); err != nil {
		t.Fatalf("%s: %v", scenarioPcap, err)
	}
	// Reset the peak resident set so it covers this test only (proc(5),
	// clear_refs "5").
	runtime.GC()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatalf("reset VmHWM: %v", err)
	}
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) { liveVeth(t, workers) })
	}
	// SIZING.md's observed resident set: the peak of this test process, in
	// which the daemon ran (default queues, one interface, its AF_PACKET
	// rings included).
	hwm := peakRSS(t)
	t.Logf("peak RSS of the test process (daemon in-process): %d MB", hwm>>20)
	const maxRSS = 256 << 20
	if hwm > maxRSS && !raceEnabled {
		t.Errorf("peak RSS %d MB, want at most %d MB", hwm>>20, maxRSS>>20)
	}
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

func liveVeth(t *testing.T, workers int) {
	a, b := vethPair(t)
	dir := t.TempDir()
	metricsAddr := freePort(t)
	cfgPath := scenarioConfig(t, dir, fmt.Sprintf(`daemon:
  capture: {interfaces: [%s], workers: %d, bpf: ""}
  data_dir: data
  retention: {min_free_mib: -1}
  listen: {metrics: %q}
`, b, workers, metricsAddr))
	wantMsgs, wantCalls, _ := reference(t, cfgPath, scenarioPcap)
	gen, err := loadGeneration(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	d, err := startDaemon(cfgPath, gen, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("live capture on %s: %v", b, err)
	}
	stopped := false
	defer func() {
		if !stopped {
			d.stop(context.Background())
		}
	}()
	sent := replayOnto(t, a, scenarioPcap)
	m := waitMetric(t, metricsAddr, "every message", func(m map[string]float64) bool {
		return m["gatewarden_decode_messages_total"] >= float64(wantMsgs)
	})
	if got := m[fmt.Sprintf(`gatewarden_capture_packets_total{interface=%q}`, b)]; got < float64(sent) {
		t.Errorf("captured %v frames of %d sent", got, sent)
	}
	if m[fmt.Sprintf(`gatewarden_capture_kernel_drops_total{interface=%q}`, b)] != 0 || sumMetric(m, "gatewarden_pipeline_dropped_frames_total") != 0 {
		t.Errorf("drops: kernel %v pipeline %v", m[fmt.Sprintf(`gatewarden_capture_kernel_drops_total{interface=%q}`, b)],
			sumMetric(m, "gatewarden_pipeline_dropped_frames_total"))
	}
	for _, name := range []string{"gatewarden_capture_kernel_packets_total", "gatewarden_capture_kernel_drops_total"} {
		if sumMetric(m, name) == 0 && name != "gatewarden_capture_kernel_drops_total" {
			t.Errorf("%s missing", name)
		}
		if _, ok := m[fmt.Sprintf(`%s{interface=%q}`, name, b)]; !ok {
			t.Errorf("%s{interface=%q} not exported", name, b)
		}
	}
	if err := d.stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped = true
	st, err := retention.Open(filepath.Join(dir, "data", "store"), retention.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var msgs, calls int
	for _, p := range st.Partitions() {
		msgs += p.Messages
		calls += p.Calls
	}
	if uint64(msgs) != wantMsgs || uint64(calls) != wantCalls {
		t.Errorf("store: %d messages, %d calls; replay %d, %d", msgs, calls, wantMsgs, wantCalls)
	}
}
