package capture

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/decode"
)

// openLoopback opens "lo", or skips when live capture is not possible here.
func openLoopback(t *testing.T, cfg LiveConfig) *Live {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (CAP_NET_RAW)")
	}
	cfg.Interfaces = []string{"lo"}
	l, err := OpenLive(cfg)
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EACCES) {
		t.Skipf("AF_PACKET unavailable: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// capturedFrame is a copy of a frame seen by a worker.
type capturedFrame struct {
	worker int
	frame  decode.Frame
}

// runLive runs l, sends with send every 50 ms until want reports a frame
// that matches, or 3 s pass, then stops it and returns every frame whose data
// contains one of the markers.
func runLive(t *testing.T, l *Live, markers [][]byte, send func(), done func([]capturedFrame) bool) []capturedFrame {
	t.Helper()
	var (
		mu  sync.Mutex
		got []capturedFrame
	)
	runErr := make(chan error, 1)
	go func() {
		runErr <- l.Run(func(w int, f *decode.Frame) {
			for _, m := range markers {
				if bytes.Contains(f.Data, m) {
					c := capturedFrame{worker: w, frame: *f}
					c.frame.Data = append([]byte(nil), f.Data...)
					mu.Lock()
					got = append(got, c)
					mu.Unlock()
					return
				}
			}
		})
	}()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		send()
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		ok := done(got)
		mu.Unlock()
		if ok {
			break
		}
	}
	// Let the last ring block retire so late frames are seen too.
	time.Sleep(3 * defaultBlockTimeout)
	l.Stop()
	select {
	case err := <-runErr:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return after Stop")
	}
	mu.Lock()
	defer mu.Unlock()
	return append([]capturedFrame(nil), got...)
}

func TestLiveLoopbackUDP(t *testing.T) {
	l := openLoopback(t, LiveConfig{Workers: 2})
	defer l.Close()
	if l.LinkType(0) != decode.LinkTypeEthernet || l.SourceName(0) != "lo" {
		t.Fatalf("lo: link type %d, name %q", l.LinkType(0), l.SourceName(0))
	}
	conn, err := net.Dial("udp", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	marker := []byte("gatewarden-live-udp-" + time.Now().Format(time.RFC3339Nano))
	start := time.Now()
	got := runLive(t, l, [][]byte{marker}, func() { conn.Write(marker) },
		func(c []capturedFrame) bool { return len(c) > 0 })
	if len(got) == 0 {
		t.Fatal("the UDP packet sent to 127.0.0.1 was not captured on lo")
	}
	lo, _ := net.InterfaceByName("lo")
	f := got[0].frame
	if f.Source != 0 || f.LinkType != decode.LinkTypeEthernet || int(f.Iface) != lo.Index || f.FCSLen != -1 || f.Frame == 0 {
		t.Errorf("frame fields: %+v", f)
	}
	if len(f.Data) < 14 || f.Data[12] != 0x08 || f.Data[13] != 0x00 {
		t.Errorf("not an Ethernet/IPv4 frame: % x", f.Data[:min(len(f.Data), 20)])
	}
	if ts := time.Unix(0, f.TS); ts.Before(start.Add(-time.Second)) || ts.After(time.Now().Add(time.Second)) {
		t.Errorf("timestamp %v outside the test's run", ts)
	}
	stats := l.Stats()
	if len(stats) != 1 || stats[0].Name != "lo" || stats[0].Index != lo.Index {
		t.Fatalf("stats %+v", stats)
	}
	s := stats[0]
	if s.Packets < uint64(len(got)) || s.Delivered < uint64(len(got)) {
		t.Errorf("stats %+v: fewer than the %d frames seen", s, len(got))
	}
	t.Logf("lo: %+v (%d marked frames)", s, len(got))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if after := l.Stats(); len(after) != 1 || after[0].Packets < s.Packets {
		t.Errorf("stats after Close %+v", after)
	}
}

// sctpFromCapture returns the SCTP packet of the first ISUP-bearing frame of
// mod_isup_validate.pcap (Linux SLL2 / IPv4 / SCTP / M3UA), and that message.
func sctpFromCapture(t *testing.T) ([]byte, decode.Message) {
	t.Helper()
	f, err := OpenFile(filepath.Join(sharedPcaps(t), "mod_isup_validate.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		msg   decode.Message
		found bool
	)
	dec := decode.New(decode.Config{}, func(m *decode.Message) {
		if !found {
			msg, found = *m, true
			msg.ISUP.Raw = append([]byte(nil), m.ISUP.Raw...)
		}
	})
	var fr decode.Frame
	for {
		if err := f.Next(&fr); err == io.EOF {
			t.Fatal("no ISUP message in the capture")
		} else if err != nil {
			t.Fatal(err)
		}
		dec.Decode(&fr)
		if found {
			const sll2 = 20
			ip := fr.Data[sll2:]
			return append([]byte(nil), ip[int(ip[0]&0x0F)*4:]...), msg
		}
	}
}

func TestLiveLoopbackSCTPFilter(t *testing.T) {
	sctpPacket, want := sctpFromCapture(t)
	l := openLoopback(t, LiveConfig{Workers: 1, Filter: "sctp port 2905"})
	defer l.Close()

	raw, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, ipProtoSCTP)
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EPROTONOSUPPORT) || errors.Is(err, syscall.EACCES) {
		t.Skipf("raw SCTP socket unavailable: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(raw)
	to := &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	udp, err := net.Dial("udp", "127.0.0.1:2905")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	udpMarker := []byte("gatewarden-live-filtered-udp")
	// The SCTP packet's own bytes are its marker: the ISUP part of it.
	isupMarker := want.ISUP.Raw
	if len(isupMarker) < 8 {
		t.Fatalf("ISUP message too short to recognise: % x", isupMarker)
	}

	var messages []decode.Message
	dec := decode.New(decode.Config{}, func(m *decode.Message) { messages = append(messages, *m) })
	got := runLive(t, l, [][]byte{isupMarker, udpMarker}, func() {
		udp.Write(udpMarker)
		if err := syscall.Sendto(raw, sctpPacket, 0, to); err != nil {
			t.Errorf("send SCTP: %v", err)
		}
	}, func(c []capturedFrame) bool { return len(c) >= 2 })
	var nSCTP int
	for _, c := range got {
		if bytes.Contains(c.frame.Data, udpMarker) {
			t.Fatal("the filter let a UDP packet through")
		}
		nSCTP++
		f := c.frame
		dec.Decode(&f)
	}
	if nSCTP == 0 {
		t.Fatal("the SCTP packet to port 2905 was not captured")
	}
	if len(messages) == 0 {
		t.Fatal("the captured SCTP packet did not decode to ISUP")
	}
	m := messages[0]
	if m.ISUP.CIC != want.ISUP.CIC || m.ISUP.Type != want.ISUP.Type || m.Label.OPC != want.Label.OPC || m.Label.DPC != want.Label.DPC {
		t.Errorf("decoded CIC %d type %d %d→%d, want CIC %d type %d %d→%d",
			m.ISUP.CIC, m.ISUP.Type, m.Label.OPC, m.Label.DPC, want.ISUP.CIC, want.ISUP.Type, want.Label.OPC, want.Label.DPC)
	}
	s := l.Stats()[0]
	t.Logf("lo with filter: %+v, %d SCTP frames, %d ISUP messages", s, nSCTP, len(messages))
	if s.Packets < uint64(nSCTP) {
		t.Errorf("kernel counted %d packets, %d delivered", s.Packets, nSCTP)
	}
}

func TestLiveErrors(t *testing.T) {
	if _, err := OpenLive(LiveConfig{}); err == nil {
		t.Error("no interfaces accepted")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to get past socket creation")
	}
	if _, err := OpenLive(LiveConfig{Interfaces: []string{"no-such-iface0"}}); err == nil {
		t.Error("unknown interface opened")
	}
	if _, err := OpenLive(LiveConfig{Interfaces: []string{"lo"}, Filter: "tcp port http"}); err == nil {
		t.Error("unsupported filter accepted")
	}
}

// TestLiveKernelDrops fills a one-page ring without reading it: the kernel
// must count the packets it could not store, and Stats must report them.
func TestLiveKernelDrops(t *testing.T) {
	l := openLoopback(t, LiveConfig{BlockSize: os.Getpagesize(), NumBlocks: 1})
	defer l.Close()
	conn, err := net.Dial("udp", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	payload := bytes.Repeat([]byte("x"), 512)
	const sent = 200
	for i := 0; i < sent; i++ {
		conn.Write(payload)
	}
	s := l.Stats()[0]
	t.Logf("lo, unread one-page ring: %+v", s)
	if s.Drops == 0 || s.Packets < sent || s.Delivered != 0 {
		t.Errorf("stats %+v: want drops > 0 and packets >= %d", s, sent)
	}
	// The counters accumulate across reads (the kernel resets its own).
	if again := l.Stats()[0]; again.Drops < s.Drops {
		t.Errorf("drops went down: %d then %d", s.Drops, again.Drops)
	}
}

// TestLiveSeveralInterfaces opens lo twice (two fanout groups, two sockets per
// worker): every worker must serve both, and frames must carry their source.
func TestLiveSeveralInterfaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (CAP_NET_RAW)")
	}
	l, err := OpenLive(LiveConfig{Interfaces: []string{"lo", "lo"}, Workers: 2, Filter: "@" + writeDDD(t)})
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EACCES) {
		t.Skipf("AF_PACKET unavailable: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	conn, err := net.Dial("udp", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	marker := []byte("gatewarden-live-two-sources")
	got := runLive(t, l, [][]byte{marker}, func() { conn.Write(marker) }, func(c []capturedFrame) bool {
		seen := map[uint16]bool{}
		for _, f := range c {
			seen[f.frame.Source] = true
		}
		return len(seen) == 2
	})
	perSource := map[uint16]int{}
	for _, c := range got {
		perSource[c.frame.Source]++
	}
	if perSource[0] == 0 || perSource[1] == 0 {
		t.Fatalf("frames per source %v, want both", perSource)
	}
	stats := l.Stats()
	if len(stats) != 2 || stats[0].Delivered == 0 || stats[1].Delivered == 0 {
		t.Errorf("stats %+v", stats)
	}
	if l.SourceName(1) != "lo" || l.Workers() != 2 {
		t.Errorf("source name %q, workers %d", l.SourceName(1), l.Workers())
	}
}

// writeDDD writes tcpdump's program for "udp" (tcpdump -ddd -y EN10MB udp),
// exercising the @FILE filter path on a live socket.
func writeDDD(t *testing.T) string {
	const udp = "12\n40 0 0 12\n21 0 2 2048\n48 0 0 23\n21 6 7 17\n21 0 6 34525\n48 0 0 20\n21 3 0 17\n21 0 3 44\n48 0 0 54\n21 0 1 17\n6 0 0 262144\n6 0 0 0\n"
	p := filepath.Join(t.TempDir(), "udp.ddd")
	if err := os.WriteFile(p, []byte(udp), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
