package decode

import (
	"os"
	"path/filepath"
	"testing"
)

// captureFrames returns the frames of every shared capture, or nil when the
// captures are absent (the hand-made seeds still run).
func captureFrames(f *testing.F) []Frame {
	if _, err := os.Stat(pcapDir); err != nil {
		return nil
	}
	names, _ := filepath.Glob(filepath.Join(pcapDir, "*.*cap"))
	var out []Frame
	for _, n := range names {
		frames := readCapture(f, n)
		if len(frames) > 100 { // isup_load_generator: a sample is plenty
			frames = frames[:100]
		}
		out = append(out, frames...)
	}
	return out
}

// sctpSeeds returns the SCTP packets of the shared captures (IPv4 only).
func sctpSeeds(f *testing.F) [][]byte {
	var out [][]byte
	for _, fr := range captureFrames(f) {
		var ip []byte
		switch {
		case fr.LinkType == LinkTypeEthernet && len(fr.Data) > 14+20 && fr.Data[12] == 8 && fr.Data[13] == 0:
			ip = fr.Data[14:]
		case fr.LinkType == LinkTypeLinuxSLL2 && len(fr.Data) > 20+20 && fr.Data[0] == 8 && fr.Data[1] == 0:
			ip = fr.Data[20:]
		default:
			continue
		}
		ihl := int(ip[0]&0x0f) * 4
		if ip[9] == ipProtoSCTP && ihl >= 20 && len(ip) > ihl {
			out = append(out, ip[ihl:])
		}
	}
	return out
}

// checkMessage holds for every message the decoder delivers: ISUP (SI 5)
// or BICC (SI 13), as the protocol says.
func checkMessage(t *testing.T, m *Message) {
	si := uint8(SIISUP)
	if m.Protocol == ProtocolBICC {
		si = SIBICC
	}
	if m.Label.SI != si || len(m.MTP3) == 0 || m.MTP3[0]&0x0f != si {
		t.Fatalf("delivered %v with SI %d, MTP3 % x", m.Protocol, m.Label.SI, m.MTP3)
	}
	if m.Label.PCBits != 14 && m.Label.PCBits != 24 {
		t.Fatalf("pc width %d", m.Label.PCBits)
	}
	if m.Transport == TransportNone || m.Frame == 0 {
		t.Fatalf("transport %v frame %d", m.Transport, m.Frame)
	}
}

// fuzzDecoder decodes frames with a fresh decoder, twice over (duplicates and
// reassembly state), then flushes; it checks the counters add up.
func fuzzDecoder(t *testing.T, cfg Config, frames ...Frame) {
	d := New(cfg, func(m *Message) { checkMessage(t, m) })
	for pass := 0; pass < 2; pass++ {
		for i := range frames {
			frames[i].Frame = uint64(i + 1)
			frames[i].TS = int64(pass) * 1e9
			d.Decode(&frames[i])
		}
	}
	d.Flush()
	st := d.Stats()
	if st.Frames != uint64(2*len(frames)) {
		t.Fatalf("frames %d", st.Frames)
	}
	if d.sctp.fragments != 0 || d.ipFrag.fragments != 0 || d.sctp.oldest != nil || d.ipFrag.oldest != nil {
		t.Fatalf("flush left fragments: sctp %d ip %d", d.sctp.fragments, d.ipFrag.fragments)
	}
}

func FuzzSCTP(f *testing.F) {
	for _, s := range sctpSeeds(f) {
		f.Add(s)
	}
	for _, c := range fragments(m3uaISUP(1, 1), 2, 5, 0, false) {
		f.Add(sctpPacket(2905, 2905, 1, c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 60000 {
			return
		}
		fuzzDecoder(t, Config{}, Frame{LinkType: LinkTypeIPv4, FCSLen: -1,
			Data: ipv4Packet([4]byte{1, 2, 3, 4}, [4]byte{5, 6, 7, 8}, 1, 0, ipProtoSCTP, b)})
	})
}

// fuzzSIGTRAN wraps b in one SCTP DATA chunk with ppid and decodes it.
func fuzzSIGTRAN(t *testing.T, ppid uint32, b []byte) {
	if len(b) > 60000 {
		return
	}
	fuzzDecoder(t, Config{}, Frame{LinkType: LinkTypeIPv4, FCSLen: -1,
		Data: ipv4Packet([4]byte{1, 2, 3, 4}, [4]byte{5, 6, 7, 8}, 1, 0, ipProtoSCTP,
			sctpPacket(1, 2, 3, dataChunk(3, 1, 0, 0, ppid, b)))})
}

func FuzzM3UA(f *testing.F) {
	f.Add(lowerHex(f, m3uaIAMHex))
	f.Add(m3uaISUP(1, 1))
	f.Add(m3uaDATA(0, 0x010203, 2, SIISUP, 2, 0, 0, isupMessage(1, 6)))
	f.Add(sigtranHeader(3, 1, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		var pd m3uaData
		if _, _, r := readM3UA(b, &pd); r == ReasonNone && len(pd.user) > len(b) {
			t.Fatal("user data longer than the message")
		}
		fuzzSIGTRAN(t, ppidM3UA, b)
	})
}

func FuzzM2PA(f *testing.F) {
	f.Add(lowerHex(f, m2paIAMHex))
	f.Add(lowerHex(f, m2paEmptyHex))
	f.Add(m2paUserData(1, 2, mtp3ITU(0x85, 1, 2, 3, isupMessage(1, 0x10))))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, _, r := readM2PA(b); r == ReasonNone && len(m) == 0 {
			t.Fatal("empty MTP3 accepted")
		}
		fuzzSIGTRAN(t, ppidM2PA, b)
	})
}

func FuzzM2UA(f *testing.F) {
	f.Add(lowerHex(f, m2uaCamelHex))
	f.Add(lowerHex(f, m2uaANSIHex))
	f.Add(sigtranHeader(6, 1, append(tlv(m2uaTagIIDInteger, []byte{0, 0, 0, 1}), tlv(m2uaTagProtocolData1, mtp3ITU(0x85, 1, 2, 3, isupMessage(1, 0x10)))...)))
	f.Fuzz(func(t *testing.T, b []byte) {
		readM2UA(b)
		fuzzSIGTRAN(t, ppidM2UA, b)
	})
}

func FuzzMTP2(f *testing.F) {
	f.Add(lowerHex(f, mtp2IAMWithFCS), int8(2))
	f.Add(lowerHex(f, mtp2ANMWithFCS), int8(-1))
	f.Add(lowerHex(f, phdrACM)[4:], int8(0))
	f.Add([]byte{0x80, 0x80, 1, 2}, int8(0))
	f.Fuzz(func(t *testing.T, b []byte, fcs int8) {
		fuzzDecoder(t, Config{MTP2FCSLen: 2}, Frame{LinkType: LinkTypeMTP2, FCSLen: fcs, Data: b})
	})
}

func FuzzMTP3(f *testing.F) {
	f.Add(mtp3ITU(0x85, 1, 2, 3, isupIAM(1, "123", "456")), uint8(14))
	f.Add(append([]byte{0x85, 1, 2, 3, 4, 5, 6, 0xff}, isupMessage(1, 0x10)...), uint8(24))
	f.Add(mtp3ITU(0x83, 1, 2, 3, nil), uint8(16))
	f.Fuzz(func(t *testing.T, b []byte, bits uint8) {
		fuzzDecoder(t, Config{PCBits: bits}, Frame{LinkType: LinkTypeMTP3, FCSLen: -1, Data: b})
	})
}

func FuzzDecodeFrame(f *testing.F) {
	for _, fr := range captureFrames(f) {
		f.Add(fr.LinkType, fr.FCSLen, fr.Data)
	}
	f.Add(uint16(LinkTypeEthernet), int8(-1), ethernet(etherTypeIPv4, ipv4SCTP(), etherTypeVLAN))
	f.Add(uint16(LinkTypeLinuxSLL), int8(-1), sll(etherTypeIPv4, ipv4SCTP()))
	f.Add(uint16(LinkTypeRaw), int8(-1), ipv6Packet(ipProtoSCTP, m3uaSCTP()))
	f.Add(uint16(LinkTypeNull), int8(-1), append([]byte{2, 0, 0, 0}, ipv4SCTP()...))
	f.Add(uint16(LinkTypeRaw), int8(-1), ipv4Fragments(m3uaSCTP(), 24, 3)[0])
	f.Add(uint16(LinkTypeMTP2WithPHdr), int8(-1), lowerHex(f, phdrACM))
	f.Fuzz(func(t *testing.T, lt uint16, fcs int8, b []byte) {
		fuzzDecoder(t, Config{}, Frame{LinkType: lt, FCSLen: fcs, Data: b})
	})
}
