package tsharkref

import (
	"bytes"
	"encoding/binary"
	"flag"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// The crafted captures exercise what the public ones lack: every address
// parameter (ST, non-decimal signals, filler, empty numbers, two generic
// numbers), SCTP bundling, an SCTP retransmission, the same bytes on another
// association, and MTP2 retransmissions. They are built here, byte by byte,
// so the files in testdata can always be reproduced and checked.
var writeCrafted = flag.Bool("write-crafted", false, "rewrite testdata/crafted_*.pcap")

func TestCraftedCapturesReproducible(t *testing.T) {
	for name, data := range map[string][]byte{
		"crafted_m3ua.pcap":   craftedM3UA(),
		"crafted_mtp2.pcap":   craftedMTP2(),
		"crafted_edge.pcap":   craftedEdge(),
		"crafted_random.pcap": craftedRandom(),
		"crafted_ip.pcap":     craftedIP(),
		"crafted_m2ua.pcap":   craftedM2UA(),
	} {
		path := filepath.Join("testdata", name)
		if *writeCrafted {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		have, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestCraftedCapturesReproducible -write-crafted)", err)
		}
		if !bytes.Equal(have, data) {
			t.Errorf("%s differs from what the generator builds; rerun with -write-crafted", path)
		}
	}
}

// bcdDigits packs address signals given as hex characters, low nibble first;
// an odd count gets the filler in the last high nibble.
func bcdDigits(digits string, filler byte) (odd bool, out []byte) {
	var nib []byte
	for _, c := range []byte(digits) {
		switch {
		case c >= '0' && c <= '9':
			nib = append(nib, c-'0')
		default:
			nib = append(nib, c-'A'+10)
		}
	}
	if len(nib)%2 == 1 {
		odd = true
		nib = append(nib, filler)
	}
	for i := 0; i < len(nib); i += 2 {
		out = append(out, nib[i]|nib[i+1]<<4)
	}
	return odd, out
}

// number is an address parameter body: odd/even + NAI, the second octet
// as given, then the signals.
func number(nai, second byte, digits string, filler byte) []byte {
	odd, sig := bcdDigits(digits, filler)
	first := nai
	if odd {
		first |= 0x80
	}
	return append([]byte{first, second}, sig...)
}

func optParam(code byte, body []byte) []byte {
	return append([]byte{code, byte(len(body))}, body...)
}

// iam builds an IAM: fixed part, the called number, the optional parameters.
func iam(cic uint16, called []byte, opts ...[]byte) []byte {
	b := []byte{byte(cic), byte(cic >> 8), 0x01,
		0x00,       // nature of connection
		0x60, 0x01, // forward call indicators
		0x0a, // calling party's category: ordinary
		0x00, // transmission medium: speech
	}
	optPtr := byte(0)
	if len(opts) > 0 {
		optPtr = byte(1 + 1 + len(called))
	}
	b = append(b, 2, optPtr, byte(len(called)))
	b = append(b, called...)
	for _, o := range opts {
		b = append(b, o...)
	}
	if len(opts) > 0 {
		b = append(b, 0)
	}
	return b
}

// craftedISUP are the ISUP messages of the crafted captures.
func craftedISUP() (iamFull, acm, rel, iamEmpty, anm []byte) {
	iamFull = iam(1, number(3, 0x10, "12B4CE5F", 0),
		optParam(0x0a, number(4, 0x80|1<<4|1<<2|1, "8613800138000", 0)),
		optParam(0x0b, number(3, 1<<4, "1234567", 0)),
		optParam(0x28, number(4, 1<<4|1<<2, "8610123456", 0)),
		optParam(0x13, []byte{0x03 | 1<<4, 0x02 | 0x0c<<4}),
		optParam(0x3f, number(3, 0x80|1<<4|3, "2012345", 0)),
		optParam(0xc0, append([]byte{0x06}, number(3, 1<<4|1, "13912345678", 0)...)),
		optParam(0xc0, append([]byte{0x82}, number(4, 0x80|1<<4|1<<2|3, "8675512345678", 0x7)...)),
	)
	acm = []byte{0x01, 0x00, 0x06, 0x16, 0x14, 0x00}
	rel = []byte{0x03, 0x00, 0x0c, 0x02, 0x04, 0x02, 0x8a, 0x90}
	rel = append(rel, optParam(0x0c, number(3, 0x80|1<<4, "55512", 0))...)
	rel = append(rel, 0)
	iamEmpty = iam(4, []byte{0x83, 0x10, 0x31, 0xa9}, // called "139", filler 0xa
		optParam(0x0a, []byte{0x00, 0x0b}),       // calling: no digits, address not available
		optParam(0xc0, []byte{0x01, 0x03, 0x10}), // generic: no digits
	)
	anm = []byte{0x01, 0x00, 0x09, 0x00}
	return
}

// pcapFile writes a classic little-endian pcap with microsecond timestamps.
func pcapFile(linkType uint32, frames [][]byte) []byte {
	var b bytes.Buffer
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], linkType)
	b.Write(hdr)
	for i, f := range frames {
		rec := make([]byte, 16)
		binary.LittleEndian.PutUint32(rec[0:], 1700000000+uint32(i))
		binary.LittleEndian.PutUint32(rec[4:], uint32(i)*1000)
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(f)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(f)))
		b.Write(rec)
		b.Write(f)
	}
	return b.Bytes()
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// m3uaData is an M3UA DATA message with a routing context (RFC 4666 3.3.1).
func m3uaData(rc, opc, dpc uint32, sls byte, isup []byte) []byte {
	pd := make([]byte, 16, 16+len(isup))
	binary.BigEndian.PutUint16(pd[0:], 0x0210)
	binary.BigEndian.PutUint16(pd[2:], uint16(16+len(isup)))
	binary.BigEndian.PutUint32(pd[4:], opc)
	binary.BigEndian.PutUint32(pd[8:], dpc)
	pd[12], pd[13], pd[14], pd[15] = 5, 2, 0, sls
	pd = pad4(append(pd, isup...))
	msg := []byte{1, 0, 1, 1, 0, 0, 0, 0, 0x00, 0x06, 0x00, 0x08}
	msg = binary.BigEndian.AppendUint32(msg, rc)
	msg = append(msg, pd...)
	binary.BigEndian.PutUint32(msg[4:], uint32(len(msg)))
	return msg
}

type dataChunk struct {
	tsn     uint32
	ssn     uint16
	payload []byte
	ppid    uint32 // 0 means M3UA (3)
}

// sctpSegment is an SCTP packet of DATA chunks (PPID 3, stream 1) with a
// correct CRC32c.
func sctpSegment(sport, dport uint16, vtag uint32, chunks ...dataChunk) []byte {
	sc := make([]byte, 12)
	binary.BigEndian.PutUint16(sc[0:], sport)
	binary.BigEndian.PutUint16(sc[2:], dport)
	binary.BigEndian.PutUint32(sc[4:], vtag)
	for _, c := range chunks {
		ch := []byte{0, 0x03, 0, 0}
		binary.BigEndian.PutUint16(ch[2:], uint16(16+len(c.payload)))
		ch = binary.BigEndian.AppendUint32(ch, c.tsn)
		ch = binary.BigEndian.AppendUint16(ch, 1)
		ch = binary.BigEndian.AppendUint16(ch, c.ssn)
		ppid := c.ppid
		if ppid == 0 {
			ppid = 3
		}
		ch = binary.BigEndian.AppendUint32(ch, ppid)
		sc = append(sc, pad4(append(ch, c.payload...))...)
	}
	binary.LittleEndian.PutUint32(sc[8:], crc32.Checksum(sc, crc32.MakeTable(crc32.Castagnoli)))
	return sc
}

// ipv4Header is an IPv4 header for SCTP; flagsOffset holds the flags and
// fragment offset field as on the wire.
func ipv4Header(src, dst [4]byte, id, flagsOffset uint16, payloadLen int) []byte {
	ip := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, 132, 0, 0}
	binary.BigEndian.PutUint16(ip[2:], uint16(20+payloadLen))
	binary.BigEndian.PutUint16(ip[4:], id)
	binary.BigEndian.PutUint16(ip[6:], flagsOffset)
	ip = append(ip, src[:]...)
	ip = append(ip, dst[:]...)
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	return ip
}

func ethernet(etherType uint16) []byte {
	return []byte{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0x66, 0x77, 0x88, 0x99, 0xaa, byte(etherType >> 8), byte(etherType)}
}

// sctpPacket wraps DATA chunks in Ethernet, IPv4 (don't fragment) and SCTP.
func sctpPacket(src, dst [4]byte, sport, dport uint16, vtag uint32, chunks ...dataChunk) []byte {
	sc := sctpSegment(sport, dport, vtag, chunks...)
	return append(append(ethernet(0x0800), ipv4Header(src, dst, 1, 0x4000, len(sc))...), sc...)
}

// ipv4Fragments splits an SCTP packet into two IPv4 fragments, the first
// carrying firstLen bytes (a multiple of 8) of it.
func ipv4Fragments(src, dst [4]byte, id uint16, sc []byte, firstLen int) [][]byte {
	a := append(append(ethernet(0x0800), ipv4Header(src, dst, id, 0x2000, firstLen)...), sc[:firstLen]...)
	b := append(append(ethernet(0x0800), ipv4Header(src, dst, id, uint16(firstLen/8), len(sc)-firstLen)...), sc[firstLen:]...)
	return [][]byte{a, b}
}

// ipv6Packet wraps an SCTP packet in Ethernet and IPv6.
func ipv6Packet(src, dst [16]byte, sc []byte) []byte {
	ip := []byte{0x60, 0, 0, 0, 0, 0, 132, 64}
	binary.BigEndian.PutUint16(ip[4:], uint16(len(sc)))
	ip = append(ip, src[:]...)
	ip = append(ip, dst[:]...)
	return append(append(ethernet(0x86dd), ip...), sc...)
}

// craftedIP carries ISUP over IPv6 and over fragmented IPv4, with one
// fragment pair arriving out of order.
func craftedIP() []byte {
	iamFull, acm, rel, iamEmpty, anm := craftedISUP()
	fwd := func(tsn uint32, ssn uint16, isup []byte) dataChunk {
		return dataChunk{tsn: tsn, ssn: ssn, payload: m3uaData(9, 700, 800, 2, isup)}
	}
	v6a := [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}
	v6b := [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 2}
	a, b := [4]byte{192, 0, 2, 1}, [4]byte{192, 0, 2, 2}
	frames := [][]byte{ipv6Packet(v6a, v6b, sctpSegment(2905, 2905, 0x33333333, fwd(1, 0, iamFull), fwd(2, 1, acm)))}
	frames = append(frames, ipv4Fragments(a, b, 77, sctpSegment(2905, 2905, 0x44444444, fwd(50, 0, iamFull), fwd(51, 1, rel)), 96)...)
	late := ipv4Fragments(a, b, 78, sctpSegment(2905, 2905, 0x44444444, fwd(52, 2, iamEmpty), fwd(53, 3, anm)), 64)
	return pcapFile(1, append(frames, late[1], late[0]))
}

func craftedM3UA() []byte {
	iamFull, acm, rel, iamEmpty, _ := craftedISUP()
	a, b := [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}
	fwd := func(tsn uint32, ssn uint16, isup []byte) dataChunk {
		return dataChunk{tsn: tsn, ssn: ssn, payload: m3uaData(7, 100, 200, 3, isup)}
	}
	return pcapFile(1, [][]byte{
		// IAM and ACM bundled in one packet.
		sctpPacket(a, b, 2905, 2905, 0x11111111, fwd(1000, 0, iamFull), fwd(1001, 1, acm)),
		// The IAM's chunk resent: same association, TSN and bytes.
		sctpPacket(a, b, 2905, 2905, 0x11111111, fwd(1000, 0, iamFull)),
		sctpPacket(a, b, 2905, 2905, 0x11111111, fwd(1002, 2, rel)),
		// Same TSN and bytes on another association: not a retransmission.
		sctpPacket(a, b, 2906, 2905, 0x22222222, fwd(1000, 0, iamFull)),
		sctpPacket(a, b, 2905, 2905, 0x11111111, fwd(1003, 3, iamEmpty)),
	})
}

// mtp2MSU is an MTP2 signal unit without FCS (link type 140): BSN/BIB,
// FSN/FIB, LI, then SIO, ITU 14-bit routing label and ISUP.
func mtp2MSU(fib, fsn byte, opc, dpc uint32, sls byte, isup []byte) []byte {
	li := 5 + len(isup)
	if li > 63 {
		li = 63
	}
	label := dpc&0x3fff | (opc&0x3fff)<<14 | uint32(sls&0xf)<<28
	b := []byte{0x80 | 0x10, fib<<7 | fsn, byte(li), 0x85}
	b = binary.LittleEndian.AppendUint32(b, label)
	return append(b, isup...)
}

func craftedMTP2() []byte {
	iamFull, acm, rel, _, anm := craftedISUP()
	// Basic error correction (Q.703 5.3): the far end asks again from FSN 5
	// (BSN 4, BIB inverted, not captured here); this side inverts its FIB
	// and resends FSN 5 and 6 unchanged before going on with 7.
	fisu := []byte{0x80 | 0x10, 0x80 | 6, 0}
	return pcapFile(140, [][]byte{
		mtp2MSU(1, 5, 100, 200, 1, iamFull),
		mtp2MSU(1, 6, 100, 200, 1, acm),
		fisu,
		mtp2MSU(0, 5, 100, 200, 1, iamFull),
		mtp2MSU(0, 6, 100, 200, 1, acm),
		mtp2MSU(0, 7, 100, 200, 1, anm),
		// Identical bytes under a new FSN are a new message.
		mtp2MSU(0, 8, 100, 200, 1, rel),
		mtp2MSU(0, 9, 100, 200, 1, rel),
	})
}

// craftedEdgeISUP are messages at the edges of Q.763 and Q.850: a cause
// with the recommendation octet and one with diagnostics under the national
// coding standard, five generic numbers (more than decode.MaxGeneric), a
// called number of 40 signals (more than decode.MaxDigits), spare indicator
// values, an ST in the middle of a number, and CPG carrying redirection data.
func craftedEdgeISUP() [][]byte {
	var fortyDigits string
	for i := 0; i < 40; i++ {
		fortyDigits += string(rune('0' + i%10))
	}
	gen := func(q byte, digits string) []byte {
		return optParam(0xc0, append([]byte{q}, number(3, 1<<4|1, digits, 0)...))
	}
	return [][]byte{
		// REL, cause octet 1 without extension: recommendation octet 3a follows.
		{0x10, 0x00, 0x0c, 0x02, 0x00, 0x03, 0x0a, 0x80, 0x90},
		// REL, national coding standard, location 5, cause 31 with a diagnostic.
		{0x11, 0x00, 0x0c, 0x02, 0x00, 0x03, 0x80 | 3<<5 | 5, 0x80 | 31, 0x01},
		iam(0x12, number(3, 0x10, "1234", 0),
			gen(1, "111"), gen(2, "222"), gen(3, "333"), gen(6, "666"), gen(0xfe, "999")),
		iam(0x13, number(4, 0x10, fortyDigits, 0)),
		// Calling: NAI 0x7f, NPI 7, APRI 3 (spare), SI 2; an ST mid-number.
		iam(0x14, number(0x70, 0x10, "12F45", 0),
			optParam(0x0a, number(0x7f, 7<<4|3<<2|2, "86F1", 0)),
			optParam(0x28, number(0x7f, 7<<4|3<<2, "5", 0))),
		// CPG, event "call forwarded on busy", redirection number and information.
		append([]byte{0x15, 0x00, 0x2c, 0x03, 0x01},
			append(optParam(0x0c, number(4, 0x80|1<<4, "8613912345678", 0)),
				append(optParam(0x13, []byte{0x04 | 2<<4, 0x05 | 1<<4}), 0)...)...),
	}
}

// mtp3Raw is an MTP3 message for link type 141: SIO, ITU label, ISUP.
func mtp3Raw(opc, dpc uint32, sls byte, isup []byte) []byte {
	label := dpc&0x3fff | (opc&0x3fff)<<14 | uint32(sls&0xf)<<28
	b := binary.LittleEndian.AppendUint32([]byte{0x85}, label)
	return append(b, isup...)
}

func craftedEdge() []byte {
	var frames [][]byte
	for i, m := range craftedEdgeISUP() {
		frames = append(frames, mtp3Raw(300, 400, byte(i), m))
	}
	return pcapFile(141, frames)
}

// craftedRandomISUP draws well-formed ISUP messages with every indicator
// value, digit code (including 10-15), filler and parameter order the address
// parameters allow, so decoder and tshark are compared far beyond what real
// traffic shows. The seed is fixed: the capture is reproducible.
func craftedRandomISUP(n int) [][]byte {
	rng := rand.New(rand.NewPCG(7, 11))
	digits := func(max int) string {
		const codes = "0123456789ABCDEF"
		k := rng.IntN(max + 1)
		b := make([]byte, k)
		for i := range b {
			if rng.IntN(6) == 0 {
				b[i] = codes[10+rng.IntN(6)]
			} else {
				b[i] = codes[rng.IntN(10)]
			}
		}
		return string(b)
	}
	nai := func() byte {
		if rng.IntN(4) == 0 {
			return byte(rng.IntN(128))
		}
		return byte(1 + rng.IntN(4))
	}
	filler := func() byte { return byte(rng.IntN(16)) }
	// second octets: INN/NI (bit 8), NPI (bits 7-5), APRI (4-3), SI (2-1)
	full := func() byte { return byte(rng.IntN(256)) }
	noScreen := func() byte { return byte(rng.IntN(256)) &^ 0x83 } // spare bits 8, 2-1
	innNPI := func() byte { return byte(rng.IntN(256)) &^ 0x0f }   // spare bits 4-1
	addr := func(second byte, max int) []byte { return number(nai(), second, digits(max), filler()) }

	optional := func() [][]byte {
		cands := []func() []byte{
			func() []byte { return optParam(0x0a, addr(full(), 16)) },
			func() []byte { return optParam(0x0b, addr(noScreen(), 16)) },
			func() []byte { return optParam(0x28, addr(noScreen(), 16)) },
			func() []byte { return optParam(0x13, []byte{full(), full()}) },
			func() []byte { return optParam(0x3f, addr(full(), 16)) },
			func() []byte { return optParam(0xc0, append([]byte{full()}, addr(full(), 16)...)) },
			func() []byte { return optParam(0xc0, append([]byte{0x06}, addr(full(), 16)...)) },
			func() []byte { return optParam(0x3d, []byte{byte(rng.IntN(32))}) },     // hop counter
			func() []byte { return optParam(0xf5, []byte{full(), full(), full()}) }, // unknown to both
		}
		var out [][]byte
		for _, i := range rng.Perm(len(cands))[:rng.IntN(len(cands)+1)] {
			out = append(out, cands[i]())
		}
		return out
	}
	cause := func() []byte {
		loc := byte(rng.IntN(16))
		if rng.IntN(5) == 0 {
			loc |= byte(rng.IntN(16)) << 4 &^ 0x80 // spare bit 5 and a coding standard
			loc &= 0x9f                            // keep ITU-T coding: tshark decodes only that
		}
		return []byte{0x80 | loc, 0x80 | byte(1+rng.IntN(127))}
	}
	withOptional := func(fixed []byte, mandVar [][]byte, opts [][]byte) []byte {
		// Pointers: one per mandatory variable parameter, then the optional one.
		nptr := len(mandVar) + 1
		b := append([]byte{}, fixed...)
		ptrAt := len(b)
		b = append(b, make([]byte, nptr)...)
		for i, p := range mandVar {
			b[ptrAt+i] = byte(len(b) - (ptrAt + i))
			b = append(b, byte(len(p)))
			b = append(b, p...)
		}
		if len(opts) > 0 {
			b[ptrAt+len(mandVar)] = byte(len(b) - (ptrAt + len(mandVar)))
			for _, o := range opts {
				b = append(b, o...)
			}
			b = append(b, 0)
		}
		return b
	}

	var msgs [][]byte
	for i := 0; i < n; i++ {
		cic := uint16(rng.IntN(4096))
		head := []byte{byte(cic), byte(cic >> 8)}
		switch k := rng.IntN(20); {
		case k < 11: // IAM
			fixed := append(head, 0x01, full(), full(), full(), full(), byte(rng.IntN(4)))
			called := number(nai(), innNPI(), digits(20), filler())
			msgs = append(msgs, withOptional(fixed, [][]byte{called}, optional()))
		case k < 14: // REL
			var opts [][]byte
			if rng.IntN(3) == 0 {
				opts = append(opts, optParam(0x0c, addr(innNPI(), 16)))
			}
			msgs = append(msgs, withOptional(append(head, 0x0c), [][]byte{cause()}, opts))
		case k < 16: // ACM
			var opts [][]byte
			if rng.IntN(2) == 0 {
				opts = append(opts, optParam(0x12, cause()))
			}
			msgs = append(msgs, withOptional(append(head, 0x06, full(), full()), nil, opts))
		case k < 18: // CPG
			opts := [][]byte{optParam(0x0c, addr(innNPI(), 16)), optParam(0x13, []byte{full(), full()})}
			if rng.IntN(2) == 0 {
				opts = append(opts, optParam(0xc0, append([]byte{full()}, addr(full(), 12)...)))
			}
			msgs = append(msgs, withOptional(append(head, 0x2c, byte(1+rng.IntN(6))), nil, opts))
		default: // ANM, RLC
			typ := byte(0x09)
			if rng.IntN(2) == 0 {
				typ = 0x10
			}
			msgs = append(msgs, withOptional(append(head, typ), nil, nil))
		}
	}
	return msgs
}

func craftedRandom() []byte {
	var frames [][]byte
	for i, m := range craftedRandomISUP(400) {
		frames = append(frames, mtp3Raw(500+uint32(i%3), 600, byte(i), m))
	}
	return pcapFile(141, frames)
}

// m2uaData is an M2UA DATA message (RFC 3331 3.3.1.1): integer interface
// identifier, then Protocol Data 1 holding the MTP3 message.
func m2uaData(iid uint32, mtp3 []byte) []byte {
	msg := []byte{1, 0, 6, 1, 0, 0, 0, 0, 0x00, 0x01, 0x00, 0x08}
	msg = binary.BigEndian.AppendUint32(msg, iid)
	msg = append(msg, 0x03, 0x00, 0, 0)
	binary.BigEndian.PutUint16(msg[len(msg)-2:], uint16(4+len(mtp3)))
	msg = pad4(append(msg, mtp3...))
	binary.BigEndian.PutUint32(msg[4:], uint32(len(msg)))
	return msg
}

// craftedM2UA carries ISUP over M2UA (PPID 2) on the raw IPv4 link type.
func craftedM2UA() []byte {
	iamFull, acm, rel, _, anm := craftedISUP()
	a, b := [4]byte{198, 51, 100, 1}, [4]byte{198, 51, 100, 2}
	chunk := func(tsn uint32, iid uint32, isup []byte) dataChunk {
		return dataChunk{tsn: tsn, ssn: uint16(tsn), payload: m2uaData(iid, mtp3Raw(900, 901, 4, isup)), ppid: 2}
	}
	raw := func(chunks ...dataChunk) []byte {
		sc := sctpSegment(2904, 2904, 0x55555555, chunks...)
		return append(ipv4Header(a, b, 9, 0x4000, len(sc)), sc...)
	}
	return pcapFile(101, [][]byte{
		raw(chunk(10, 5, iamFull)),
		raw(chunk(11, 5, acm), chunk(12, 6, anm)),
		raw(chunk(13, 6, rel)),
	})
}
