package decode

import (
	"encoding/binary"
	"testing"
)

func udpDatagram(sport, dport uint16, payload []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
	b = append(b, 0, 0)
	return append(b, payload...)
}

func tcpSegment(sport, dport uint16, seq uint32, flags byte, payload []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = binary.BigEndian.AppendUint32(b, seq)
	b = binary.BigEndian.AppendUint32(b, 0)
	b = append(b, 5<<4, flags|0x10, 0xff, 0xff, 0, 0, 0, 0)
	return append(b, payload...)
}

var (
	sipA = [4]byte{192, 0, 2, 10}
	sipB = [4]byte{10, 20, 0, 1}
)

func ipFrame(n uint64, proto byte, seg []byte) Frame {
	return Frame{TS: int64(n) * 1e6, LinkType: LinkTypeRaw, Frame: n, FCSLen: -1, Data: ipv4Packet(sipA, sipB, uint16(n), 0, proto, seg)}
}

func tcpFrame(n uint64, seq uint32, flags byte, payload []byte) Frame {
	return ipFrame(n, ipProtoTCP, tcpSegment(40000, 5060, seq, flags, payload))
}

// sipBYE is a short request for stream tests.
func sipBYE(cseq string) []byte {
	return crlf("BYE sip:+8613912345678@gw.example.cn SIP/2.0\nCall-ID: a84b4c76e66710@192.0.2.10\nCSeq: " + cseq +
		" BYE\nFrom: <sip:+85223456789@carrier.example.hk>;tag=1\nTo: <tel:+8613912345678>;tag=2\nContent-Length: 0\n\n")
}

func decodeSIP(t *testing.T, frames ...Frame) ([]Message, Stats) {
	t.Helper()
	var got []Message
	d := New(Config{SIP: true}, func(m *Message) {
		c := *m
		got = append(got, c)
	})
	for i := range frames {
		d.Decode(&frames[i])
	}
	d.Flush()
	return got, d.Stats()
}

func TestSIPOverUDPAndSCTP(t *testing.T) {
	inv := sipINVITE(t)
	v6 := ipv6Packet(ipProtoUDP, udpDatagram(5060, 5060, inv))
	frags := ipv4FragmentsProto(udpDatagram(5060, 5060, inv), 512, 77, ipProtoUDP)
	cases := []struct {
		name   string
		frames []Frame
		tr     Transport
	}{
		{"udp ipv4", []Frame{ipFrame(1, ipProtoUDP, udpDatagram(5060, 5060, inv))}, TransportUDP},
		{"udp ipv6", []Frame{{LinkType: LinkTypeEthernet, Frame: 1, FCSLen: -1, Data: ethernet(etherTypeIPv6, v6)}}, TransportUDP},
		{"udp ipv4 fragmented", rawFrames(1, frags...), TransportUDP},
		{"sctp port 5060 ppid 0", []Frame{ipFrame(1, ipProtoSCTP, sctpPacket(5060, 5060, 9, dataChunk(3, 1, 0, 0, 0, inv)))}, TransportSCTP},
		{"udp other port, by content", []Frame{ipFrame(1, ipProtoUDP, udpDatagram(15060, 5080, inv))}, TransportUDP},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, st := decodeSIP(t, c.frames...)
			if len(got) != 1 || st.SIPMessages != 1 || st.Drops() != 0 {
				t.Fatalf("%d messages: %s", len(got), st.Summary())
			}
			m := got[0]
			if m.Transport != c.tr || m.Protocol != ProtocolSIPI || !m.HasISUP || m.ISUP.Type != 1 || m.SIP.Method != SIPInvite {
				t.Errorf("transport %v protocol %v isup %v type %d method %v", m.Transport, m.Protocol, m.HasISUP, m.ISUP.Type, m.SIP.Method)
			}
			if m.Src.Port() != 5060 && m.Src.Port() != 15060 {
				t.Errorf("src %v", m.Src)
			}
		})
	}
	// Without Config.SIP the same frames are not decoded, as before.
	d := New(Config{}, nil)
	f := ipFrame(1, ipProtoUDP, udpDatagram(5060, 5060, inv))
	d.Decode(&f)
	if st := d.Stats(); st.Messages != 0 || st.Reasons[SkipNotSCTP] != 1 {
		t.Errorf("SIP off: %s", st.Summary())
	}
	// UDP that is not SIP is counted.
	_, st := decodeSIP(t, ipFrame(1, ipProtoUDP, udpDatagram(16000, 16002, []byte{0x80, 0x08, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9})))
	if st.Reasons[SkipUDPNotSIP] != 1 {
		t.Errorf("RTP: %s", st.Summary())
	}
}

func ipv4FragmentsProto(payload []byte, size int, id uint16, proto byte) [][]byte {
	var out [][]byte
	for off := 0; off < len(payload); off += size {
		end := min(off+size, len(payload))
		field := uint16(off / 8)
		if end < len(payload) {
			field |= 0x2000
		}
		out = append(out, ipv4Packet(sipA, sipB, id, field, proto, payload[off:end]))
	}
	return out
}

func TestSIPOverTCP(t *testing.T) {
	inv := sipINVITE(t)
	bye1, bye2 := sipBYE("2"), sipBYE("3")
	const isn = 1000
	syn := tcpFrame(1, isn, tcpFlagSYN, nil)
	seq := uint32(isn + 1)
	two := append(append([]byte(nil), bye1...), bye2...)
	type want struct {
		cseqs   []uint32
		reasons map[Reason]uint64
	}
	cases := []struct {
		name   string
		frames []Frame
		want   want
	}{
		{"two messages in one segment", []Frame{syn, tcpFrame(2, seq, 0, two)}, want{[]uint32{2, 3}, nil}},
		{"a message across three segments", []Frame{syn,
			tcpFrame(2, seq, 0, inv[:100]), tcpFrame(3, seq+100, 0, inv[100:700]), tcpFrame(4, seq+700, 0, inv[700:])},
			want{[]uint32{314159}, nil}},
		{"second message starts in the first segment", []Frame{syn,
			tcpFrame(2, seq, 0, two[:len(bye1)+10]), tcpFrame(3, seq+uint32(len(bye1))+10, 0, two[len(bye1)+10:])},
			want{[]uint32{2, 3}, nil}},
		{"retransmission delivered once", []Frame{syn,
			tcpFrame(2, seq, 0, bye1), tcpFrame(3, seq, 0, bye1), tcpFrame(4, seq+uint32(len(bye1)), 0, bye2)},
			want{[]uint32{2, 3}, map[Reason]uint64{SkipTCPDuplicate: 1}}},
		{"overlapping retransmission", []Frame{syn,
			tcpFrame(2, seq, 0, two[:50]), tcpFrame(3, seq, 0, two[:len(bye1)+5]), tcpFrame(4, seq+uint32(len(bye1))+5, 0, two[len(bye1)+5:])},
			want{[]uint32{2, 3}, nil}},
		{"out of order", []Frame{syn,
			tcpFrame(2, seq+uint32(len(bye1)), 0, bye2), tcpFrame(3, seq, 0, bye1)},
			want{[]uint32{2, 3}, nil}},
		{"no SYN seen: joined mid-stream at a message", []Frame{tcpFrame(2, 555, 0, bye1)}, want{[]uint32{2}, nil}},
		{"joined mid-message", []Frame{tcpFrame(2, 555, 0, two[20:])},
			want{[]uint32{3}, map[Reason]uint64{SkipTCPNotSIP: 1}}},
		{"lost segment: the stream resynchronises", []Frame{syn,
			tcpFrame(2, seq, 0, inv[:100]) /* inv[100:700] lost */, tcpFrame(4, seq+700, 0, inv[700:]),
			tcpFrame(5, seq+uint32(len(inv)), 0, bye2)},
			want{[]uint32{3}, map[Reason]uint64{DropTCPGap: 1}}},
		{"lost segment: given up after FragmentTimeout", []Frame{syn,
			tcpFrame(2, seq, 0, bye1[:30]) /* bye1[30:] lost */, tcpFrame(4, seq+uint32(len(bye1)), 0, bye2),
			{TS: 40e9, LinkType: LinkTypeRaw, Frame: 5, FCSLen: -1, Data: ipv4Packet(sipA, sipB, 5, 0, ipProtoTCP,
				tcpSegment(40000, 5060, seq+uint32(len(two)), 0, bye1))}},
			want{[]uint32{3, 2}, map[Reason]uint64{DropTCPGap: 1}}},
		{"FIN with a partial message", []Frame{syn, tcpFrame(2, seq, tcpFlagFIN, bye1[:30])},
			want{nil, map[Reason]uint64{DropSIPTruncated: 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, st := decodeSIP(t, c.frames...)
			var cseqs []uint32
			for _, m := range got {
				if m.Transport != TransportTCP || m.Src.Port() != 40000 {
					t.Errorf("transport %v src %v", m.Transport, m.Src)
				}
				cseqs = append(cseqs, m.SIP.CSeq)
			}
			if len(cseqs) != len(c.want.cseqs) {
				t.Fatalf("CSeqs %v, want %v (%s)", cseqs, c.want.cseqs, st.Summary())
			}
			for i := range cseqs {
				if cseqs[i] != c.want.cseqs[i] {
					t.Fatalf("CSeqs %v, want %v", cseqs, c.want.cseqs)
				}
			}
			for _, r := range []Reason{SkipTCPDuplicate, DropTCPGap, SkipTCPNotSIP, DropSIPTruncated, DropTCPOverflow} {
				if st.Reasons[r] != c.want.reasons[r] {
					t.Errorf("%v = %d, want %d (%s)", r, st.Reasons[r], c.want.reasons[r], st.Summary())
				}
			}
		})
	}
}

// TestTCPStreamsBounded: more streams than the table holds evict the least
// recently used, counted; a stream never buffers more than MaxSIPMessage.
func TestTCPStreamsBounded(t *testing.T) {
	d := New(Config{SIP: true, MaxTCPStreams: 8}, nil)
	partial := sipBYE("1")[:40]
	for i := 0; i < 20; i++ {
		f := ipFrame(uint64(i+1), ipProtoTCP, tcpSegment(uint16(30000+i), 5060, 1, 0, partial))
		d.Decode(&f)
	}
	st := d.Stats()
	if st.TCPStreamsEvicted != 12 || len(d.tcp.m) != 8 {
		t.Errorf("evicted %d, %d streams left", st.TCPStreamsEvicted, len(d.tcp.m))
	}
	// Headers that never end: dropped once the stream holds MaxSIPMessage.
	d = New(Config{SIP: true}, nil)
	seq := uint32(1)
	chunk := append(crlf("INVITE sip:a@b SIP/2.0\n"), make([]byte, 1400)...)
	for i := range chunk[30:] {
		chunk[30+i] = 'a'
	}
	for i := 0; i < 60; i++ {
		f := tcpFrame(uint64(i+1), seq, 0, chunk)
		d.Decode(&f)
		seq += uint32(len(chunk))
		if n := len(d.tcp.head.buf); n > MaxSIPMessage+len(chunk) {
			t.Fatalf("stream buffers %d bytes", n)
		}
	}
	if st := d.Stats(); st.Reasons[DropSIPTooLong] == 0 {
		t.Errorf("no sip_too_long: %s", st.Summary())
	}
}

// TestSIPDecodeAllocatesNothing: SIP over UDP and over TCP (a message split
// across two segments) allocate nothing per message in steady state.
func TestSIPDecodeAllocatesNothing(t *testing.T) {
	inv := sipINVITE(t)
	udp := ipFrame(1, ipProtoUDP, udpDatagram(5060, 5060, inv))
	n := 0
	d := New(Config{SIP: true}, func(m *Message) { n++ })
	seq := uint32(1)
	next := func() (Frame, Frame) {
		a := tcpFrame(2, seq, 0, inv[:300])
		b := tcpFrame(3, seq+300, 0, inv[300:])
		seq += uint32(len(inv))
		return a, b
	}
	for i := 0; i < 10; i++ { // warm up buffers and tables
		d.Decode(&udp)
		a, b := next()
		d.Decode(&a)
		d.Decode(&b)
	}
	frames := make([][2]Frame, 200)
	for i := range frames {
		frames[i][0], frames[i][1] = next()
	}
	i := 0
	allocs := testing.AllocsPerRun(100, func() {
		d.Decode(&udp)
		d.Decode(&frames[i][0])
		d.Decode(&frames[i][1])
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per UDP + TCP message pair, want 0", allocs)
	}
	if st := d.Stats(); st.Drops() != 0 || n < 200 {
		t.Errorf("%d messages: %s", n, st.Summary())
	}
}
