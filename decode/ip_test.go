package decode

import (
	"encoding/binary"
	"testing"
)

// ipv4Fragments splits an SCTP packet into IPv4 fragments of at most size
// payload octets (a multiple of 8).
func ipv4Fragments(sctp []byte, size int, id uint16) [][]byte {
	var out [][]byte
	for off := 0; off < len(sctp); off += size {
		end := min(off+size, len(sctp))
		field := uint16(off / 8)
		if end < len(sctp) {
			field |= 0x2000
		}
		out = append(out, ipv4Packet([4]byte{10, 1, 1, 1}, [4]byte{10, 1, 1, 2}, id, field, ipProtoSCTP, sctp[off:end]))
	}
	return out
}

func rawFrames(ts int64, pkts ...[]byte) []Frame {
	var out []Frame
	for i, p := range pkts {
		out = append(out, Frame{TS: ts + int64(i), LinkType: LinkTypeRaw, Frame: uint64(i + 1), FCSLen: -1, Data: p})
	}
	return out
}

func TestIPv4(t *testing.T) {
	pkt := ipv4SCTP()
	withOptions := func() []byte {
		// IHL 6: one 4-octet option (NOPs).
		b := append([]byte(nil), pkt[:20]...)
		b[0] = 0x46
		binary.BigEndian.PutUint16(b[2:], uint16(len(pkt)+4))
		b = append(b, 1, 1, 1, 0)
		return append(b, pkt[20:]...)
	}
	set := func(i int, v byte) []byte { b := append([]byte(nil), pkt...); b[i] = v; return b }
	frags := ipv4Fragments(m3uaSCTP(), 24, 7)
	// Another SCTP packet (TSN 2), so it is not a duplicate of the first.
	other := ipv4Fragments(sctpPacket(2905, 2905, 1, dataChunk(3, 2, 0, 0, ppidM3UA, m3uaISUP(1, 1))), 24, 8)
	if len(frags) != 4 {
		t.Fatalf("%d fragments; the cases below need 4", len(frags))
	}
	cases := []struct {
		name   string
		pkts   [][]byte
		flush  bool
		msgs   int
		reason Reason
	}{
		{"plain", [][]byte{pkt}, false, 1, ReasonNone},
		{"options", [][]byte{withOptions()}, false, 1, ReasonNone},
		{"total length beyond capture", [][]byte{pkt[:len(pkt)-1]}, false, 0, DropIPTruncated},
		{"short header", [][]byte{pkt[:19]}, false, 0, DropIPTruncated},
		{"ihl 4", [][]byte{set(0, 0x44)}, false, 0, DropIPBadHeader},
		{"udp", [][]byte{set(9, 17)}, false, 0, SkipNotSCTP},
		{"fragments in order", frags, false, 1, ReasonNone},
		{"fragments reversed", [][]byte{frags[3], frags[2], frags[1], frags[0]}, false, 1, ReasonNone},
		{"fragment repeated", [][]byte{frags[0], frags[0], frags[1], frags[2], frags[3]}, false, 1, ReasonNone},
		{"two datagrams interleaved", [][]byte{frags[0], other[0], frags[1], other[1], frags[2], other[2], frags[3], other[3]}, false, 2, ReasonNone},
		{"fragment missing, flushed", [][]byte{frags[0], frags[2], frags[3]}, true, 0, DropIPFragmentExpired},
		{"overlap", [][]byte{frags[0], ipv4Packet([4]byte{10, 1, 1, 1}, [4]byte{10, 1, 1, 2}, 7, 0x2000|2, ipProtoSCTP, make([]byte, 24))}, false, 0, DropIPFragmentBad},
		{"non-final fragment not a multiple of 8", [][]byte{ipv4Packet([4]byte{10, 1, 1, 1}, [4]byte{10, 1, 1, 2}, 7, 0x2000, ipProtoSCTP, make([]byte, 13))}, false, 0, DropIPFragmentBad},
		{"two last fragments", [][]byte{frags[3], ipv4Packet([4]byte{10, 1, 1, 1}, [4]byte{10, 1, 1, 2}, 7, 1, ipProtoSCTP, make([]byte, 8))}, false, 0, DropIPFragmentBad},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := New(Config{}, nil)
			frames := rawFrames(0, c.pkts...)
			for i := range frames {
				d.Decode(&frames[i])
			}
			if c.flush {
				d.Flush()
			}
			st := d.Stats()
			if st.Messages != uint64(c.msgs) {
				t.Errorf("%d messages, want %d: %s", st.Messages, c.msgs, st.Summary())
			}
			if c.reason != ReasonNone && st.Reasons[c.reason] != 1 {
				t.Errorf("%v not counted once: %s", c.reason, st.Summary())
			}
			if c.reason == ReasonNone && st.Drops() != 0 {
				t.Errorf("drops: %s", st.Summary())
			}
		})
	}
}

func TestIPv4FragmentBounds(t *testing.T) {
	sctp := m3uaSCTP()
	t.Run("expiry by capture time", func(t *testing.T) {
		d := New(Config{FragmentTimeout: 1e9}, nil)
		a := ipv4Fragments(sctp, 24, 1)
		frames := rawFrames(0, a[0])
		frames = append(frames, rawFrames(2e9, a[1], a[2], a[3])...)
		for i := range frames {
			d.Decode(&frames[i])
		}
		st := d.Stats()
		if st.Messages != 0 || st.Reasons[DropIPFragmentExpired] != 1 {
			t.Errorf("%s", st.Summary())
		}
	})
	t.Run("overflow drops the oldest", func(t *testing.T) {
		d := New(Config{MaxPendingFragments: 3}, nil)
		a := ipv4Fragments(sctp, 24, 1)
		b := ipv4Fragments(sctp, 24, 2)
		frames := rawFrames(0, a[0], a[1], a[2], b[0], b[1], b[2], b[3], a[3])
		for i := range frames {
			d.Decode(&frames[i])
		}
		st := d.Stats()
		if st.Messages != 1 || st.Reasons[DropIPFragmentOverflow] != 1 || st.Reasons[DropIPFragmentExpired] != 0 {
			t.Errorf("%s", st.Summary())
		}
		if d.ipFrag.fragments != 1 {
			t.Errorf("%d fragments held", d.ipFrag.fragments)
		}
	})
}

func TestIPv6(t *testing.T) {
	sctp := m3uaSCTP()
	ext := func(next byte, n int) []byte { // an options header of n*8 octets
		b := make([]byte, n*8)
		b[0], b[1] = next, byte(n-1)
		b[2], b[3] = 1, byte(n*8-4) // PadN
		return b
	}
	frag := func(off int, more bool, id uint32, next byte, p []byte) []byte {
		b := []byte{next, 0, 0, 0}
		field := uint16(off)
		if more {
			field |= 1
		}
		binary.BigEndian.PutUint16(b[2:], field)
		b = binary.BigEndian.AppendUint32(b, id)
		return ipv6Packet(44, append(b, p...))
	}
	cases := []struct {
		name   string
		pkts   [][]byte
		msgs   int
		reason Reason
	}{
		{"plain", [][]byte{ipv6Packet(ipProtoSCTP, sctp)}, 1, ReasonNone},
		{"hop-by-hop and destination options", [][]byte{ipv6Packet(0, append(append(ext(60, 1), ext(ipProtoSCTP, 2)...), sctp...))}, 1, ReasonNone},
		{"atomic fragment", [][]byte{frag(0, false, 1, ipProtoSCTP, sctp)}, 1, ReasonNone},
		{"fragments", [][]byte{frag(0, true, 9, ipProtoSCTP, sctp[:40]), frag(40, false, 9, ipProtoSCTP, sctp[40:])}, 1, ReasonNone},
		{"fragmented udp", [][]byte{frag(0, true, 9, 17, sctp[:40])}, 0, SkipNotSCTP},
		{"esp", [][]byte{ipv6Packet(50, sctp)}, 0, SkipNotSCTP},
		{"extension header cut", [][]byte{ipv6Packet(0, []byte{ipProtoSCTP, 4, 0, 0, 0, 0, 0, 0})}, 0, DropIPTruncated},
		{"payload length beyond capture", [][]byte{ipv6Packet(ipProtoSCTP, sctp)[:60]}, 0, DropIPTruncated},
		{"version 4 in a v6 header", [][]byte{append([]byte{0x40}, ipv6Packet(ipProtoSCTP, sctp)[1:]...)}, 0, DropIPBadHeader},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var frames []Frame
			for i, p := range c.pkts {
				frames = append(frames, Frame{TS: int64(i), LinkType: LinkTypeIPv6, Frame: uint64(i + 1), FCSLen: -1, Data: p})
			}
			got, st := decodeOne(t, Config{}, frames...)
			if len(got) != c.msgs {
				t.Errorf("%d messages, want %d: %s", len(got), c.msgs, st.Summary())
			}
			if c.reason != ReasonNone && st.Reasons[c.reason] != 1 {
				t.Errorf("%v not counted: %s", c.reason, st.Summary())
			}
			if c.msgs == 1 && got[0].Src.Addr().String() != "2000::1" {
				t.Errorf("source %v", got[0].Src)
			}
		})
	}
}
