package deliver

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
)

// TestHEPMirrorSIP: SIP messages go to the collector as HEP type 1 with the
// transport that carried them, the SIP message as the payload, and decode to
// the same SIP (and SIP-I ISUP) the capture held.
func TestHEPMirrorSIP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	pc.(*net.UDPConn).SetReadBuffer(4 << 20)
	got := make(chan []byte, 1024)
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
	for _, c := range []struct {
		file    string
		ipProto uint8
	}{{"../pcaps/sipi-udp.pcap", 17}, {"../pcaps/sipi-tcp.pcap", 6}, {"../pcaps/sipi-sctp6.pcap", 132}} {
		mirror, err := NewHEPMirror(pc.LocalAddr().String(), 7, "", 1024)
		if err != nil {
			t.Fatal(err)
		}
		var want [][]byte
		var line []byte
		dec := decode.New(decode.Config{SIP: true}, func(m *decode.Message) {
			line = decode.AppendJSON(line[:0], m, "")
			want = append(want, bytes.Clone(line[bytes.Index(line, []byte(`,"transport"`)):]))
			mirror.Mirror(m)
		})
		r, err := capture.OpenFiles([]string{c.file})
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
		if st := mirror.Stats(); st.Sent != uint64(len(want)) || len(want) < 40 {
			t.Fatalf("%s: stats %+v for %d messages", c.file, st, len(want))
		}
		for i := range want {
			var pkt []byte
			select {
			case pkt = <-got:
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: received %d of %d HEP packets", c.file, i, len(want))
			}
			p, err := ParseHEP(pkt)
			if err != nil {
				t.Fatal(err)
			}
			if p.ProtoType != HEPProtoSIP || p.IPProto != c.ipProto || p.AgentID != 7 {
				t.Fatalf("%s packet %d: proto %d ip proto %d", c.file, i, p.ProtoType, p.IPProto)
			}
			// Decode the payload again as a SIP message on the same endpoints.
			var m decode.Message
			m.Transport, m.Src, m.Dst, m.Protocol = decode.TransportUDP, p.Src, p.Dst, decode.ProtocolSIP
			if r := decode.ParseSIP(p.Payload, true, &m.SIP); r != decode.ReasonNone {
				t.Fatalf("%s packet %d: %v", c.file, i, r)
			}
			if m.SIP.HasISUP && decode.DecodeISUPBody(m.SIP.ISUPBody, &m.ISUP) == decode.ReasonNone {
				m.HasISUP, m.Protocol = true, decode.ProtocolSIPI
			}
			line = decode.AppendJSON(line[:0], &m, "")
			back := line[bytes.Index(line, []byte(`,"protocol"`)):]
			w := want[i][bytes.Index(want[i], []byte(`,"protocol"`)):]
			if !bytes.Equal(back, w) {
				t.Fatalf("%s message %d:\n sent %s\n back %s", c.file, i, w, back)
			}
		}
	}
}
