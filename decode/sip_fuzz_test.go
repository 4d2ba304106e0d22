package decode

import (
	"encoding/binary"
	"encoding/json"
	"testing"
)

// FuzzSIP feeds arbitrary bytes to ParseSIP and SIPMessageLen: never a panic,
// only SIP reasons, every slice inside the input, framing consistent with
// parsing, and valid JSON.
func FuzzSIP(f *testing.F) {
	f.Add(sipINVITE(f))
	f.Add(sipBYE("1"))
	f.Add(crlf("SIP/2.0 180 Ringing\nCall-ID: x\nCSeq: 1 INVITE\nContent-Length: 0\n\n"))
	f.Add(crlf("INVITE sip:b@h SIP/2.0\nCall-ID: y\nCSeq: 1 INVITE\nContent-Type: multipart/mixed;boundary=b\nContent-Length: 60\n\n--b\nContent-Type: application/isup;version=itu-t92+\n\n\x01\x00--b--\n"))
	var m Message
	m.Transport = TransportUDP
	buf := make([]byte, 0, 8192)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, dgram := range []bool{true, false} {
			s := &m.SIP
			r := ParseSIP(b, dgram, s)
			switch r {
			case ReasonNone, DropSIPTruncated, DropSIPTooLong, DropSIPBadStartLine, DropSIPBadHeader, DropSIPMissingHeader, DropSIPBadBody:
			default:
				t.Fatalf("unexpected reason %v", r)
			}
			if r != ReasonNone {
				continue
			}
			for _, sl := range [][]byte{s.CallID, s.CSeqMethod, s.RequestURI, s.Body, s.ISUPBody, s.From.URI, s.To.URI, s.Privacy, s.Reason} {
				if len(sl) > 0 && !within(b, sl) {
					t.Fatalf("slice %q outside the input", sl)
				}
			}
			if s.NPAI > MaxSIPPAI || s.NDiversion > MaxSIPDiversion || s.NHistory > MaxSIPHistoryInfo {
				t.Fatalf("counts %d %d %d", s.NPAI, s.NDiversion, s.NHistory)
			}
			if s.HasISUP {
				m.HasISUP = DecodeISUPBody(s.ISUPBody, &m.ISUP) == ReasonNone
			} else {
				m.HasISUP = false
			}
			buf = AppendJSON(buf[:0], &m, "fuzz.pcap")
			if !json.Valid(buf) {
				t.Fatalf("invalid JSON: %s", buf)
			}
		}
		n, r := SIPMessageLen(b)
		if n < 0 || n > len(b) {
			t.Fatalf("SIPMessageLen %d of %d", n, len(b))
		}
		if r == ReasonNone && n > 0 {
			var s SIP
			if r := ParseSIP(b[:n], false, &s); r == DropSIPTruncated {
				t.Fatalf("framed %d bytes that parse as truncated", n)
			}
		}
	})
}

// within reports whether sub lies inside b's backing array range.
func within(b, sub []byte) bool {
	for i := range b {
		if &b[i] == &sub[0] {
			return i+len(sub) <= len(b)
		}
	}
	return false
}

// FuzzTCPReassembly feeds the stream reassembler a sequence of segments
// built from the input (each: 1 flags byte, 2 sequence-offset bytes, 1
// length byte, payload) cut from a stream of SIP messages: never a panic,
// bounded buffers, every delivered message parses.
func FuzzTCPReassembly(f *testing.F) {
	f.Add([]byte{0, 0, 0, 200, 0, 0, 200, 200, 0, 1, 144, 255})
	f.Add([]byte{0, 0, 100, 100, 0, 0, 0, 100, 1, 0, 200, 50, 4, 0, 0, 10})
	stream := append(append(sipINVITE(f), sipBYE("2")...), sipBYE("3")...)
	f.Fuzz(func(t *testing.T, in []byte) {
		d := New(Config{SIP: true, MaxTCPStreams: 4}, func(m *Message) {
			s := &m.SIP
			if m.Transport != TransportTCP || s.CallID == nil || s.CSeqMethod == nil ||
				(s.ContentLength >= 0 && len(s.Body) != s.ContentLength) {
				t.Fatalf("delivered %v message: call-id %q cseq %q body %d of %d", m.Transport, s.CallID, s.CSeqMethod, len(s.Body), s.ContentLength)
			}
		})
		ts := int64(0)
		for n := uint64(1); len(in) >= 4; n++ {
			flags, off, l := in[0], int(binary.BigEndian.Uint16(in[1:])), int(in[3])*8
			in = in[4:]
			off %= len(stream)
			end := min(off+l, len(stream))
			ts += int64(in0(flags)) * 5e9
			port := uint16(40000 + int(flags>>6))
			seg := tcpSegment(port, 5060, 1000+uint32(off), flags&(tcpFlagSYN|tcpFlagFIN|tcpFlagRST), stream[off:end])
			fr := Frame{TS: ts, LinkType: LinkTypeRaw, Frame: n, FCSLen: -1, Data: ipv4Packet(sipA, sipB, uint16(n), 0, ipProtoTCP, seg)}
			d.Decode(&fr)
			for st := d.tcp.head; st != nil; st = st.next {
				if len(st.buf) > MaxSIPMessage+len(stream) || st.nheld > maxTCPHeld {
					t.Fatalf("stream holds %d bytes, %d segments", len(st.buf), st.nheld)
				}
			}
			if len(d.tcp.m) > 4 {
				t.Fatalf("%d streams", len(d.tcp.m))
			}
		}
		d.Flush()
		if len(d.tcp.m) != 0 {
			t.Fatalf("%d streams after Flush", len(d.tcp.m))
		}
	})
}

// in0 is bit 3 of the flags byte: whether to jump 5 s of capture time.
func in0(flags byte) int { return int(flags>>3) & 1 }
