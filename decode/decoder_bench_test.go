package decode

import (
	"encoding/binary"
	"syscall"
	"testing"
)

// Packet builders for the tests and benchmarks of the lower layers.

// bcd packs decimal digits as ISUP address signals (first digit in the low
// nibble) and reports whether their number is odd.
func bcd(digits string) ([]byte, bool) {
	out := make([]byte, 0, (len(digits)+1)/2)
	for i := 0; i < len(digits); i += 2 {
		b := digits[i] - '0'
		if i+1 < len(digits) {
			b |= (digits[i+1] - '0') << 4
		}
		out = append(out, b)
	}
	return out, len(digits)%2 == 1
}

func isupNumber(nai byte, second byte, digits string) []byte {
	sig, odd := bcd(digits)
	first := nai & 0x7f
	if odd {
		first |= 0x80
	}
	return append([]byte{first, second}, sig...)
}

// isupIAM builds an IAM with a called and (if not empty) a calling number.
func isupIAM(cic uint16, called, calling string) []byte {
	calledP := isupNumber(3, 0x10, called)
	b := []byte{byte(cic), byte(cic >> 8), 0x01,
		0x00,       // nature of connection
		0x20, 0x01, // forward call indicators
		0x0a, // calling party's category: ordinary
		0x03, // transmission medium requirement: 3.1 kHz
		0x02, // pointer to the called party number
		byte(2 + len(calledP)),
		byte(len(calledP))}
	b = append(b, calledP...)
	if calling != "" {
		p := isupNumber(3, 0x11, calling)
		b = append(b, 0x0a, byte(len(p)))
		b = append(b, p...)
	}
	return append(b, 0x00)
}

// isupMessage builds the other messages of a basic call.
func isupMessage(cic uint16, typ byte) []byte {
	b := []byte{byte(cic), byte(cic >> 8), typ}
	switch typ {
	case 0x06: // ACM: backward call indicators, no optional part
		return append(b, 0x16, 0x14, 0x00)
	case 0x0c: // REL: cause 16, normal clearing
		return append(b, 0x02, 0x00, 0x02, 0x80, 0x90)
	default: // ANM, RLC: only the optional-part pointer
		return append(b, 0x00)
	}
}

// mtp3ITU builds SIO + 14-bit routing label + payload.
func mtp3ITU(sio byte, opc, dpc uint32, sls uint8, payload []byte) []byte {
	b := []byte{sio}
	b = binary.LittleEndian.AppendUint32(b, dpc&0x3fff|(opc&0x3fff)<<14|uint32(sls&0x0f)<<28)
	return append(b, payload...)
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func tlv(tag uint16, v []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, tag)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(v)))
	return pad4(append(b, v...))
}

func sigtranHeader(class, typ byte, body []byte) []byte {
	b := []byte{1, 0, class, typ}
	b = binary.BigEndian.AppendUint32(b, uint32(8+len(body)))
	return append(b, body...)
}

// m3uaDATA builds an M3UA DATA message with a routing context (if rc != 0).
func m3uaDATA(rc, opc, dpc uint32, si, ni, mp, sls uint8, user []byte) []byte {
	var body []byte
	if rc != 0 {
		body = tlv(m3uaTagRoutingContext, binary.BigEndian.AppendUint32(nil, rc))
	}
	pd := binary.BigEndian.AppendUint32(nil, opc)
	pd = binary.BigEndian.AppendUint32(pd, dpc)
	pd = append(pd, si, ni, mp, sls)
	pd = append(pd, user...)
	body = append(body, tlv(m3uaTagProtocolData, pd)...)
	return sigtranHeader(m3uaClassTransfer, m3uaTypeData, body)
}

// m2paUserData builds an M2PA User Data message carrying mtp3 (SIO onward).
func m2paUserData(bsn, fsn uint32, mtp3 []byte) []byte {
	b := []byte{1, 0, m2paClass, m2paTypeUserData, 0, 0, 0, 0}
	b = binary.BigEndian.AppendUint32(b, bsn)
	b = binary.BigEndian.AppendUint32(b, fsn)
	if mtp3 != nil {
		b = append(b, 0) // priority
		b = append(b, mtp3...)
	}
	binary.BigEndian.PutUint32(b[4:], uint32(len(b)))
	return b
}

func dataChunk(flags byte, tsn uint32, stream, ssn uint16, ppid uint32, payload []byte) []byte {
	b := []byte{sctpChunkDATA, flags, 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(16+len(payload)))
	b = binary.BigEndian.AppendUint32(b, tsn)
	b = binary.BigEndian.AppendUint16(b, stream)
	b = binary.BigEndian.AppendUint16(b, ssn)
	b = binary.BigEndian.AppendUint32(b, ppid)
	return pad4(append(b, payload...))
}

// sctpPacket builds an SCTP packet with a correct CRC32c.
func sctpPacket(sport, dport uint16, vtag uint32, chunks ...[]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = binary.BigEndian.AppendUint32(b, vtag)
	b = append(b, 0, 0, 0, 0)
	for _, c := range chunks {
		b = append(b, c...)
	}
	binary.LittleEndian.PutUint32(b[8:], sctpChecksum(b))
	return b
}

// ipv4Packet builds an IPv4 header (no options) around payload.
func ipv4Packet(src, dst [4]byte, id uint16, fragField uint16, proto byte, payload []byte) []byte {
	b := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], fragField)
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	return append(b, payload...)
}

// ethernet wraps payload in an Ethernet II header with optional 802.1Q tags.
func ethernet(etherType uint16, payload []byte, vlanTPIDs ...uint16) []byte {
	b := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	for i, tpid := range vlanTPIDs {
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, uint16(100+i))
	}
	b = binary.BigEndian.AppendUint16(b, etherType)
	return append(b, payload...)
}

// callMessages returns the ISUP messages of n basic calls on distinct CICs.
func callMessages(n int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		cic := uint16(1 + i%4000)
		out = append(out,
			isupIAM(cic, "1380013"+string(rune('0'+i%10))+"000", "2088"+string(rune('0'+i%7))+"1234"),
			isupMessage(cic, 0x06), isupMessage(cic, 0x09), isupMessage(cic, 0x0c), isupMessage(cic, 0x10))
	}
	return out
}

// sigtranFrames wraps ISUP messages in Ethernet/IPv4/SCTP frames over a few
// associations, one DATA chunk each, with TSNs counting up per association.
func sigtranFrames(msgs [][]byte, ppid uint32, wrap func(i int, isup []byte) []byte) []Frame {
	const assocs = 4
	var tsn [assocs]uint32
	frames := make([]Frame, len(msgs))
	for i, isup := range msgs {
		a := i % assocs
		tsn[a]++
		src := [4]byte{10, 0, 0, byte(1 + a)}
		dst := [4]byte{10, 0, 1, byte(1 + a)}
		payload := wrap(i, isup)
		pkt := sctpPacket(uint16(20000+a), 2905, uint32(0x1000+a), dataChunk(3, tsn[a], 1, uint16(tsn[a]), ppid, payload))
		frames[i] = Frame{
			TS: int64(i) * 1e6, LinkType: LinkTypeEthernet, Frame: uint64(i + 1), FCSLen: -1,
			Data: ethernet(etherTypeIPv4, ipv4Packet(src, dst, uint16(i), 0x4000, ipProtoSCTP, pkt)),
		}
	}
	return frames
}

func m3uaBenchFrames() []Frame {
	return sigtranFrames(callMessages(80), ppidM3UA, func(i int, isup []byte) []byte {
		return m3uaDATA(uint32(1+i%4), uint32(100+i%50), uint32(200+i%30), SIISUP, 2, 0, uint8(i%16), isup)
	})
}

func m2paBenchFrames() []Frame {
	return sigtranFrames(callMessages(80), ppidM2PA, func(i int, isup []byte) []byte {
		return m2paUserData(uint32(i), uint32(i+1), mtp3ITU(0x85, uint32(100+i%50), uint32(200+i%30), uint8(i%16), isup))
	})
}

func benchDecode(b *testing.B, frames []Frame) {
	var n uint64
	d := New(Config{}, func(m *Message) { n++ })
	d.SetErrorHandler(func(source uint16, frame uint64, r Reason) { b.Fatalf("frame %d: %v", frame, r) })
	// Warm up: pools, association table, scratch buffers.
	for i := range frames {
		d.Decode(&frames[i])
	}
	if n != uint64(len(frames)) {
		b.Fatalf("warm-up delivered %d of %d", n, len(frames))
	}
	// Each replay comes later than the duplicate window, so an identical
	// frame is a new message, not a retransmission.
	loop := DefaultFragmentTimeout + int64(len(frames))*1e6
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := &frames[i%len(frames)]
		f.TS += loop
		d.Decode(f)
	}
	b.StopTimer()
	// CPU time per message stays meaningful when other processes share
	// the cores (wall-clock ns/op does not).
	cpuPerMsg := float64(cpuTime()-cpu0) / float64(b.N)
	b.ReportMetric(cpuPerMsg, "cpu-ns/msg")
	b.ReportMetric(1e3/cpuPerMsg, "Mmsg/cpu-s")
	if st := d.Stats(); st.Messages != uint64(b.N+len(frames)) {
		b.Fatalf("delivered %d messages, want %d: %s", st.Messages, b.N+len(frames), st.Summary())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mmsg/s")
}

// BenchmarkDecodeM3UA decodes 400 distinct Ethernet/IPv4/SCTP/M3UA frames of
// IAM/ACM/ANM/REL/RLC, one ISUP message per frame.
func BenchmarkDecodeM3UA(b *testing.B) { benchDecode(b, m3uaBenchFrames()) }

// BenchmarkDecodeM2PA is the same over M2PA.
func BenchmarkDecodeM2PA(b *testing.B) { benchDecode(b, m2paBenchFrames()) }

// cpuTime is the process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
