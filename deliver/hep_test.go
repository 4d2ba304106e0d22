package deliver

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
)

func TestHEPRoundTrip(t *testing.T) {
	for _, p := range []HEPPacket{
		{Src: netip.MustParseAddrPort("10.0.0.1:2905"), Dst: netip.MustParseAddrPort("10.0.0.2:2906"), TS: 1_772_442_000_123_456_789,
			ProtoType: HEPProtoM3UA, IPProto: 132, AgentID: 2001, Password: "s3cret", Payload: []byte{1, 2, 3}},
		{Src: netip.MustParseAddrPort("[2001:db8::1]:3565"), Dst: netip.MustParseAddrPort("[2001:db8::2]:3565"), TS: 5e9,
			ProtoType: HEPProtoM2PA, IPProto: 132, AgentID: 7, Payload: bytes.Repeat([]byte{9}, 300)},
	} {
		b, err := AppendHEP(nil, &p)
		if err != nil {
			t.Fatal(err)
		}
		if string(b[:4]) != "HEP3" || int(binary.BigEndian.Uint16(b[4:])) != len(b) {
			t.Fatalf("header % x", b[:6])
		}
		got, err := ParseHEP(b)
		if err != nil {
			t.Fatal(err)
		}
		want := p
		want.TS = p.TS / 1000 * 1000 // microseconds on the wire
		if got.Src != want.Src || got.Dst != want.Dst || got.TS != want.TS || got.ProtoType != want.ProtoType ||
			got.IPProto != 132 || got.AgentID != want.AgentID || got.Password != want.Password || !bytes.Equal(got.Payload, want.Payload) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
		}
	}
	if _, err := AppendHEP(nil, &HEPPacket{Src: netip.MustParseAddrPort("10.0.0.1:1"), Dst: netip.MustParseAddrPort("[::1]:1")}); err == nil {
		t.Error("mixed families accepted")
	}
	if _, err := AppendHEP(nil, &HEPPacket{Src: netip.MustParseAddrPort("10.0.0.1:1"), Dst: netip.MustParseAddrPort("10.0.0.2:1"), Payload: make([]byte, 70000)}); err != ErrHEPTooLarge {
		t.Errorf("oversize: %v", err)
	}
	for _, bad := range [][]byte{nil, []byte("HEP2\x00\x06"), []byte("HEP3\x00\x07x"), []byte("HEP3\x00\x0a\x00\x00\x00\x01")} {
		if _, err := ParseHEP(bad); err == nil {
			t.Errorf("ParseHEP(% x) accepted", bad)
		}
	}
}

// sctpFrame wraps an adaptation-layer payload in IPv4 + SCTP DATA, so the
// project's own decoder can read what the mirror sent.
func sctpFrame(src, dst netip.AddrPort, ppid uint32, payload []byte) []byte {
	chunkLen := 16 + len(payload)
	sctpLen := 12 + (chunkLen+3)&^3
	b := make([]byte, 20+sctpLen)
	b[0], b[8], b[9] = 0x45, 64, 132
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	copy(b[12:], s4[:])
	copy(b[16:], d4[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(b[10:], ^uint16(sum))
	s := b[20:]
	binary.BigEndian.PutUint16(s[0:], src.Port())
	binary.BigEndian.PutUint16(s[2:], dst.Port())
	binary.BigEndian.PutUint32(s[4:], 1) // verification tag; checksum 0 is accepted (offload)
	c := s[12:]
	c[0], c[1] = 0, 3 // DATA, unfragmented
	binary.BigEndian.PutUint16(c[2:], uint16(chunkLen))
	binary.BigEndian.PutUint32(c[4:], 1)
	binary.BigEndian.PutUint32(c[12:], ppid)
	copy(c[16:], payload)
	return b
}

var hepPPID = map[uint8]uint32{HEPProtoM2UA: 2, HEPProtoM3UA: 3, HEPProtoM2PA: 5}

// TestHEPMirrorLoopback decodes a committed capture (M3UA and M2PA), mirrors
// every message to a UDP socket on 127.0.0.1, decodes each HEP packet
// received, and feeds its payload back through the decoder: every message
// must come back the same.
func TestHEPMirrorLoopback(t *testing.T) {
	const capFile = "../pcaps/interconnect.pcap"
	if _, err := os.Stat(capFile); err != nil {
		t.Fatalf("%s: %v", capFile, err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	pc.(*net.UDPConn).SetReadBuffer(8 << 20)
	got := make(chan []byte, 4096)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				close(got)
				return
			}
			got <- append([]byte(nil), buf[:n]...)
		}
	}()

	mirror, err := NewHEPMirror(pc.LocalAddr().String(), 2001, "pw", 4096)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	var transports []decode.Transport
	var line []byte
	dec := decode.New(decode.Config{}, func(m *decode.Message) {
		line = decode.AppendJSON(line[:0], m, "")
		want = append(want, string(line[bytes.Index(line, []byte(`,"transport"`)):]))
		transports = append(transports, m.Transport)
		mirror.Mirror(m)
	})
	r, err := capture.OpenFiles([]string{capFile})
	if err != nil {
		t.Fatal(err)
	}
	var f decode.Frame
	for r.Next(&f) != io.EOF {
		dec.Decode(&f)
	}
	r.Close()
	if err := mirror.Close(); err != nil {
		t.Fatal(err)
	}
	st := mirror.Stats()
	if st.Sent != uint64(len(want)) || st.Dropped != 0 || st.NotIP != 0 || len(want) < 900 {
		t.Fatalf("stats %+v for %d messages", st, len(want))
	}

	var back []string
	redec := decode.New(decode.Config{}, func(m *decode.Message) {
		line = decode.AppendJSON(line[:0], m, "")
		back = append(back, string(line[bytes.Index(line, []byte(`,"transport"`)):]))
	})
	timeout := time.After(10 * time.Second)
	for i := 0; i < len(want); i++ {
		var pkt []byte
		select {
		case pkt = <-got:
		case <-timeout:
			t.Fatalf("received %d of %d HEP packets", i, len(want))
		}
		p, err := ParseHEP(pkt)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		wantProto := map[decode.Transport]uint8{decode.TransportM3UA: HEPProtoM3UA, decode.TransportM2PA: HEPProtoM2PA}[transports[i]]
		if p.ProtoType != wantProto || p.IPProto != 132 || p.AgentID != 2001 || p.Password != "pw" {
			t.Fatalf("packet %d: %+v", i, p)
		}
		frame := sctpFrame(p.Src, p.Dst, hepPPID[p.ProtoType], p.Payload)
		redec.Decode(&decode.Frame{TS: p.TS, LinkType: decode.LinkTypeIPv4, Frame: uint64(i + 1), FCSLen: -1, Data: frame})
		if len(back) != i+1 {
			st := redec.Stats()
			t.Fatalf("packet %d (%s) did not decode: %s", i, transports[i], st.Summary())
		}
		if back[i] != want[i] {
			t.Fatalf("message %d:\n sent %s\n back %s", i, want[i], back[i])
		}
	}
}

func TestAppendSIGTRANM2UA(t *testing.T) {
	const capFile = "../pcaps/interconnect.pcap"
	r, err := capture.OpenFiles([]string{capFile})
	if err != nil {
		t.Fatalf("%s: %v", capFile, err)
	}
	defer r.Close()
	// Take the capture's first ISUP message and send it as if M2UA had carried it.
	var first []byte
	var payload []byte
	dec := decode.New(decode.Config{}, func(m *decode.Message) {
		if first != nil {
			return
		}
		first = decode.AppendJSON(nil, m, "")
		m.Transport, m.Link = decode.TransportM2UA, 7
		var proto uint8
		var ok bool
		payload, proto, ok = AppendSIGTRAN(nil, m)
		if !ok || proto != HEPProtoM2UA {
			t.Fatalf("proto %d ok %v", proto, ok)
		}
	})
	var f decode.Frame
	for first == nil && r.Next(&f) == nil {
		dec.Decode(&f)
	}
	if len(payload)%4 != 0 || int(binary.BigEndian.Uint32(payload[4:])) != len(payload) {
		t.Fatalf("M2UA length: % x", payload)
	}
	var back []byte
	redec := decode.New(decode.Config{}, func(m *decode.Message) {
		if m.Transport != decode.TransportM2UA || m.Link != 7 {
			t.Errorf("transport %s link %d", m.Transport, m.Link)
		}
		back = decode.AppendJSON(nil, m, "")
	})
	src, dst := netip.MustParseAddrPort("10.0.0.1:2904"), netip.MustParseAddrPort("10.0.0.2:2904")
	redec.Decode(&decode.Frame{LinkType: decode.LinkTypeIPv4, FCSLen: -1, Data: sctpFrame(src, dst, 2, payload)})
	// The routing context is M3UA's own; everything else must survive.
	cut := func(b []byte) string {
		return strings.Replace(string(b[bytes.Index(b, []byte(`,"opc"`)):]), `,"rc":201`, "", 1)
	}
	if back == nil || cut(back) != cut(first) {
		st := redec.Stats()
		t.Fatalf("M2UA round trip (%s):\n sent %s\n back %s", st.Summary(), first, back)
	}
	if _, _, ok := AppendSIGTRAN(nil, &decode.Message{Transport: decode.TransportMTP2}); ok {
		t.Error("MTP2 message mirrored")
	}
}

// BenchmarkHEPMirror: the pipeline's per-message cost of mirroring (encode
// into a pooled buffer, queue); the UDP send runs in the mirror's goroutine.
func BenchmarkHEPMirror(b *testing.B) {
	r, err := capture.OpenFiles([]string{"../pcaps/interconnect.pcap"})
	if err != nil {
		b.Fatal(err)
	}
	var msg decode.Message
	dec := decode.New(decode.Config{}, func(m *decode.Message) {
		if msg.Transport == decode.TransportNone && m.Transport == decode.TransportM3UA {
			msg = *m
			msg.MTP3 = append([]byte(nil), m.MTP3...)
		}
	})
	var f decode.Frame
	for msg.Transport == decode.TransportNone && r.Next(&f) == nil {
		dec.Decode(&f)
	}
	r.Close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	b.Run("encode", func(b *testing.B) {
		var payload, pkt []byte
		var proto uint8
		// CPU time of this goroutine's own thread: on a shared machine the
		// wall-clock ns/op counts time other processes took.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := threadCPUNanos()
		for i := 0; i < b.N; i++ {
			payload, proto, _ = AppendSIGTRAN(payload[:0], &msg)
			p := HEPPacket{Src: msg.Src, Dst: msg.Dst, TS: msg.TS, ProtoType: proto, IPProto: 132, AgentID: 1, Payload: payload}
			pkt, _ = AppendHEP(pkt[:0], &p)
		}
		b.ReportMetric(float64(threadCPUNanos()-cpu0)/float64(b.N), "cpu-ns/op")
		_ = pkt
	})
	// Mirror as the pipeline calls it, as fast as it can: the UDP sender
	// cannot keep up with that, so most calls take the counted-drop path.
	b.Run("mirror", func(b *testing.B) {
		h, err := NewHEPMirror(pc.LocalAddr().String(), 1, "", 4096)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			h.Mirror(&msg)
		}
		b.StopTimer()
		h.Close()
		st := h.Stats()
		b.ReportMetric(float64(st.Dropped)/float64(b.N), "dropped/op")
	})
}

// threadCPUNanos is the CPU time (user + system) of the calling OS thread.
func threadCPUNanos() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(rusageThread, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// rusageThread is Linux's RUSAGE_THREAD.
const rusageThread = 1
