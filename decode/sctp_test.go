package decode

import (
	"encoding/binary"
	"testing"
)

// sctpFrame wraps SCTP chunks in Ethernet/IPv4 between fixed addresses.
func sctpFrame(n uint64, ts int64, sport, dport uint16, vtag uint32, chunks ...[]byte) Frame {
	pkt := sctpPacket(sport, dport, vtag, chunks...)
	return Frame{TS: ts, LinkType: LinkTypeEthernet, Frame: n, FCSLen: -1,
		Data: ethernet(etherTypeIPv4, ipv4Packet([4]byte{192, 0, 2, 1}, [4]byte{192, 0, 2, 2}, uint16(n), 0, ipProtoSCTP, pkt))}
}

func m3uaISUP(cic uint16, typ byte) []byte {
	if typ == 1 {
		return m3uaDATA(1, 1, 2, SIISUP, 2, 0, 1, isupIAM(cic, "123456", "654321"))
	}
	return m3uaDATA(1, 1, 2, SIISUP, 2, 0, 1, isupMessage(cic, typ))
}

func TestSCTPDuplicates(t *testing.T) {
	iam := m3uaISUP(1, 1)
	acm := m3uaISUP(1, 6)
	cases := []struct {
		name   string
		frames []Frame
		msgs   int
		dups   uint64
	}{
		{"retransmission", []Frame{
			sctpFrame(1, 0, 2905, 2905, 9, dataChunk(3, 10, 1, 0, ppidM3UA, iam)),
			sctpFrame(2, 1e9, 2905, 2905, 9, dataChunk(3, 10, 1, 0, ppidM3UA, iam)),
		}, 1, 1},
		{"same tsn, different payload (xdr_tester)", []Frame{
			sctpFrame(1, 0, 2905, 2905, 0, dataChunk(3, 0, 0, 0, ppidM3UA, iam)),
			sctpFrame(2, 1, 2905, 2905, 0, dataChunk(3, 0, 0, 0, ppidM3UA, acm)),
		}, 2, 0},
		{"other association", []Frame{
			sctpFrame(1, 0, 2905, 2905, 9, dataChunk(3, 10, 1, 0, ppidM3UA, iam)),
			sctpFrame(2, 1, 2905, 2905, 10, dataChunk(3, 10, 1, 0, ppidM3UA, iam)),
		}, 2, 0},
		{"outside the window", []Frame{
			sctpFrame(1, 0, 2905, 2905, 9, dataChunk(3, 10, 1, 0, ppidM3UA, iam)),
			sctpFrame(2, 31e9, 2905, 2905, 9, dataChunk(3, 10, 1, 0, ppidM3UA, iam)),
		}, 2, 0},
		{"bundled with new data", []Frame{
			sctpFrame(1, 0, 2905, 2905, 9, dataChunk(3, 10, 1, 0, ppidM3UA, iam)),
			sctpFrame(2, 1, 2905, 2905, 9, dataChunk(3, 10, 1, 0, ppidM3UA, iam), dataChunk(3, 11, 1, 1, ppidM3UA, acm)),
		}, 2, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, st := decodeOne(t, Config{}, c.frames...)
			if len(got) != c.msgs || st.Reasons[SkipSCTPDuplicate] != c.dups || st.Drops() != 0 {
				t.Errorf("%d messages, want %d; %s", len(got), c.msgs, st.Summary())
			}
		})
	}
}

// fragments splits p into n DATA chunks with consecutive TSNs from tsn.
func fragments(p []byte, n int, tsn uint32, stream uint16, unordered bool) [][]byte {
	var out [][]byte
	size := (len(p) + n - 1) / n
	for i := 0; i < n; i++ {
		lo, hi := i*size, min((i+1)*size, len(p))
		var flags byte
		if i == 0 {
			flags |= 2
		}
		if i == n-1 {
			flags |= 1
		}
		if unordered {
			flags |= 4
		}
		out = append(out, dataChunk(flags, tsn+uint32(i), stream, 0, ppidM3UA, p[lo:hi]))
	}
	return out
}

func TestSCTPReassembly(t *testing.T) {
	iam := m3uaISUP(5, 1)
	f := fragments(iam, 3, 100, 2, false)
	g := fragments(m3uaISUP(6, 1), 2, 200, 3, true)
	fr := func(n uint64, ts int64, c ...[]byte) Frame { return sctpFrame(n, ts, 1000, 2905, 1, c...) }
	cases := []struct {
		name   string
		cfg    Config
		frames []Frame
		flush  bool
		msgs   int
		reason Reason
		count  uint64
	}{
		{"three fragments", Config{}, []Frame{fr(1, 0, f[0]), fr(2, 1, f[1]), fr(3, 2, f[2])}, false, 1, ReasonNone, 0},
		{"bundled fragments", Config{}, []Frame{fr(1, 0, f[0], f[1], f[2])}, false, 1, ReasonNone, 0},
		{"interleaved streams", Config{}, []Frame{fr(1, 0, f[0]), fr(2, 1, g[0]), fr(3, 2, f[1]), fr(4, 3, g[1]), fr(5, 4, f[2])}, false, 2, ReasonNone, 0},
		{"missing middle", Config{}, []Frame{fr(1, 0, f[0]), fr(2, 1, f[2])}, true, 0, DropSCTPFragmentBad, 1},
		{"end without begin", Config{}, []Frame{fr(1, 0, f[2])}, true, 0, DropSCTPFragmentBad, 1},
		{"end without begin, held until it expires", Config{}, []Frame{fr(1, 0, f[2]), fr(2, 31e9, g[0])}, false, 0, DropSCTPFragmentBad, 1},
		// A tap sees a retransmitted fragment after those that follow it:
		// reassembled all the same, as tshark does.
		{"middle late", Config{}, []Frame{fr(1, 0, f[0]), fr(2, 1, f[2]), fr(3, 2, f[1])}, false, 1, ReasonNone, 0},
		{"reverse order", Config{}, []Frame{fr(1, 0, f[2]), fr(2, 1, f[1]), fr(3, 2, f[0])}, false, 1, ReasonNone, 0},
		{"begin last", Config{}, []Frame{fr(1, 0, f[1]), fr(2, 1, f[2]), fr(3, 2, f[0])}, false, 1, ReasonNone, 0},
		{"two streams out of order", Config{}, []Frame{fr(1, 0, g[1]), fr(2, 1, f[2]), fr(3, 2, f[0]), fr(4, 3, g[0]), fr(5, 4, f[1])}, false, 2, ReasonNone, 0},
		{"expired", Config{}, []Frame{fr(1, 0, f[0]), fr(2, 31e9, f[1])}, false, 0, DropSCTPFragmentExpired, 1},
		{"flushed", Config{}, []Frame{fr(1, 0, f[0]), fr(2, 1, f[1])}, true, 0, DropSCTPFragmentExpired, 1},
		{"overflow", Config{MaxPendingFragments: 1}, []Frame{fr(1, 0, f[0]), fr(2, 1, g[0]), fr(3, 2, g[1])}, false, 1, DropSCTPFragmentOverflow, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got int
			d := New(c.cfg, func(m *Message) {
				got++
				if m.ISUP.Type != 1 {
					t.Errorf("reassembled type %d", m.ISUP.Type)
				}
			})
			for i := range c.frames {
				d.Decode(&c.frames[i])
			}
			if c.flush {
				d.Flush()
			}
			st := d.Stats()
			if got != c.msgs {
				t.Errorf("%d messages, want %d; %s", got, c.msgs, st.Summary())
			}
			if c.reason != ReasonNone && st.Reasons[c.reason] != c.count {
				t.Errorf("%v = %d, want %d; %s", c.reason, st.Reasons[c.reason], c.count, st.Summary())
			}
			if c.reason == ReasonNone && (st.Drops() != 0 || st.SCTPReassembled != uint64(c.msgs)) {
				t.Errorf("%s, reassembled %d", st.Summary(), st.SCTPReassembled)
			}
		})
	}
}

func TestSCTPAssociationLRU(t *testing.T) {
	iam := m3uaISUP(1, 1)
	d := New(Config{}, nil)
	d.maxAssoc = 2
	decode := func(vtag uint32, ts int64) {
		f := sctpFrame(1, ts, 2905, 2905, vtag, dataChunk(3, 1, 0, 0, ppidM3UA, iam))
		d.Decode(&f)
	}
	decode(1, 0)
	decode(2, 1)
	decode(1, 2) // duplicate; association 1 is now the most recent
	decode(3, 3) // evicts association 2
	decode(1, 4) // association 1 survived: duplicate, and most recent again
	decode(2, 5) // evicts association 3; 2 forgot its history: not a duplicate
	st := d.Stats()
	if st.Messages != 4 || st.Reasons[SkipSCTPDuplicate] != 2 || st.AssociationsEvicted != 2 || len(d.sctp.assocs) != 2 {
		t.Errorf("%s evicted=%d table=%d", st.Summary(), st.AssociationsEvicted, len(d.sctp.assocs))
	}
}

func TestSCTPChunks(t *testing.T) {
	iam := m3uaISUP(1, 1)
	sack := []byte{3, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0}
	heartbeat := []byte{4, 0, 0, 8, 0, 1, 0, 4}
	idata := func(flags byte, payload []byte) []byte { return idataChunk(flags, 7, 0, ppidM3UA, payload) }
	cases := []struct {
		name   string
		sport  uint16
		chunks [][]byte
		msgs   int
		reason Reason
		count  uint64
	}{
		{"sack and data", 2905, [][]byte{sack, dataChunk(3, 1, 0, 0, ppidM3UA, iam)}, 1, SkipSCTPControl, 1},
		{"control only", 2905, [][]byte{sack, heartbeat}, 0, SkipSCTPControl, 2},
		{"i-data", 2905, [][]byte{idata(3, iam)}, 1, ReasonNone, 0},
		{"i-data fragments", 2905, [][]byte{idataChunk(2, 7, 4, ppidM3UA, iam[:20]), idataChunk(0, 8, 4, 1, iam[20:30]), idataChunk(1, 9, 4, 2, iam[30:])}, 1, ReasonNone, 0},
		// The end fragment is held for its missing predecessor (counted when it expires).
		{"i-data fragment out of sequence", 2905, [][]byte{idataChunk(2, 7, 4, ppidM3UA, iam[:20]), idataChunk(1, 9, 4, 2, iam[20:])}, 0, DropSCTPFragmentBad, 0},
		{"i-data fragments out of order", 2905, [][]byte{idataChunk(1, 9, 4, 2, iam[30:]), idataChunk(2, 7, 4, ppidM3UA, iam[:20]), idataChunk(0, 8, 4, 1, iam[20:30])}, 1, ReasonNone, 0},
		{"ppid 0 on the m2pa port", 3565, [][]byte{dataChunk(3, 1, 0, 0, 0, m2paUserData(1, 1, mtp3ITU(0x85, 1, 2, 3, isupMessage(1, 0x10))))}, 1, ReasonNone, 0},
		{"ppid 0 on the m3ua port", 2905, [][]byte{dataChunk(3, 1, 0, 0, 0, iam)}, 1, ReasonNone, 0},
		{"ppid 0 elsewhere", 5000, [][]byte{dataChunk(3, 1, 0, 0, 0, iam)}, 0, SkipSCTPUnknownPPID, 1},
		{"megaco ppid", 2905, [][]byte{dataChunk(3, 1, 0, 0, 7, iam)}, 0, SkipSCTPUnknownPPID, 1},
		{"byte-swapped ppid on the m3ua port", 2905, [][]byte{dataChunk(3, 1, 0, 0, 0x03000000, iam)}, 1, ReasonNone, 0},
		{"byte-swapped ppid elsewhere", 5000, [][]byte{dataChunk(3, 1, 0, 0, 0x03000000, iam)}, 0, SkipSCTPUnknownPPID, 1},
		{"empty data chunk", 2905, [][]byte{dataChunk(3, 1, 0, 0, ppidM3UA, nil)}, 0, DropSCTPBadChunk, 1},
		{"chunk length 2", 2905, [][]byte{{3, 0, 0, 2}}, 0, DropSCTPBadChunk, 1},
		{"chunk past the packet", 2905, [][]byte{{3, 0, 0, 40, 0, 0, 0, 0}}, 0, DropSCTPTruncated, 1},
		{"no chunks", 2905, nil, 0, DropSCTPTruncated, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dport := c.sport
			if c.sport == 5000 {
				dport = 5001
			}
			got, st := decodeOne(t, Config{}, sctpFrame(1, 0, c.sport, dport, 1, c.chunks...))
			if len(got) != c.msgs {
				t.Errorf("%d messages, want %d: %s", len(got), c.msgs, st.Summary())
			}
			if c.reason != ReasonNone && st.Reasons[c.reason] != c.count {
				t.Errorf("%v = %d, want %d: %s", c.reason, st.Reasons[c.reason], c.count, st.Summary())
			}
		})
	}
	_, st := decodeOne(t, Config{}, sctpFrame(1, 0, 1, 2, 1, sack, sack, heartbeat))
	if st.SCTPChunks[3] != 2 || st.SCTPChunks[4] != 1 {
		t.Errorf("per-type counts: sack %d heartbeat %d", st.SCTPChunks[3], st.SCTPChunks[4])
	}
}

func TestSCTPChecksum(t *testing.T) {
	f := sctpFrame(1, 0, 2905, 2905, 1, dataChunk(3, 1, 0, 0, ppidM3UA, m3uaISUP(1, 1)))
	if _, st := decodeOne(t, Config{VerifySCTPChecksums: true}, f); st.SCTPBadChecksum != 0 || st.Messages != 1 {
		t.Fatalf("good checksum: %s bad=%d", st.Summary(), st.SCTPBadChecksum)
	}
	// Offloaded (wrong) checksums are still decoded, and counted.
	f.Data[14+20+8] ^= 0xff // first checksum octet
	if _, st := decodeOne(t, Config{VerifySCTPChecksums: true}, f); st.SCTPBadChecksum != 1 || st.Messages != 1 {
		t.Fatalf("bad checksum: %s bad=%d", st.Summary(), st.SCTPBadChecksum)
	}
	if _, st := decodeOne(t, Config{}, f); st.SCTPBadChecksum != 0 || st.Messages != 1 {
		t.Fatalf("checksum verified although not asked: %s bad=%d", st.Summary(), st.SCTPBadChecksum)
	}
}

func TestSCTPDuplicateAfterManyNewer(t *testing.T) {
	// A retransmission behind 200 newer DATA chunks is still recognised (the
	// table is indexed by TSN, not by arrival).
	d := New(Config{}, nil)
	iam := m3uaISUP(1, 1)
	for tsn := uint32(1); tsn <= 201; tsn++ {
		f := sctpFrame(uint64(tsn), int64(tsn), 2905, 2905, 1, dataChunk(3, tsn, 0, 0, ppidM3UA, m3uaISUP(uint16(tsn), 6)))
		d.Decode(&f)
	}
	f := sctpFrame(300, 300, 2905, 2905, 1, dataChunk(3, 5, 0, 0, ppidM3UA, m3uaISUP(5, 6)))
	d.Decode(&f)
	g := sctpFrame(301, 301, 2905, 2905, 1, dataChunk(3, 5, 0, 0, ppidM3UA, iam)) // same TSN, other payload
	d.Decode(&g)
	st := d.Stats()
	if st.Messages != 202 || st.Reasons[SkipSCTPDuplicate] != 1 {
		t.Errorf("%s", st.Summary())
	}
}

// idataChunk builds an I-DATA chunk (RFC 8260) on stream 1; ppidOrFSN is the
// PPID in a first fragment and the fragment sequence number otherwise.
func idataChunk(flags byte, tsn, mid, ppidOrFSN uint32, payload []byte) []byte {
	b := []byte{sctpChunkIDATA, flags, 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(payload)))
	b = binary.BigEndian.AppendUint32(b, tsn)
	b = append(b, 0, 1, 0, 0) // stream 1, reserved
	b = binary.BigEndian.AppendUint32(b, mid)
	b = binary.BigEndian.AppendUint32(b, ppidOrFSN)
	return pad4(append(b, payload...))
}

// TestSCTPEarlyFragmentsBounded: fragments whose first part never comes are
// held in a bounded area; past maxEarlyFragments the oldest is dropped and
// counted at once, and the rest are counted when they expire.
func TestSCTPEarlyFragmentsBounded(t *testing.T) {
	iam := m3uaISUP(1, 1)
	d := New(Config{}, nil)
	const n = maxEarlyFragments + 10
	for i := 0; i < n; i++ {
		// the end fragments of messages whose other fragments were lost
		f := fragments(iam, 2, uint32(1000+2*i), 2, false)
		fr := sctpFrame(uint64(i+1), int64(i), 1000, 2905, 1, f[1])
		d.Decode(&fr)
	}
	if st := d.Stats(); st.Reasons[DropSCTPFragmentBad] != 10 || d.sctp.nEarly != maxEarlyFragments {
		t.Fatalf("after %d orphans: %d counted, %d held", n, st.Reasons[DropSCTPFragmentBad], d.sctp.nEarly)
	}
	d.Flush()
	if st := d.Stats(); st.Reasons[DropSCTPFragmentBad] != n || d.sctp.nEarly != 0 {
		t.Fatalf("after flush: %d counted, %d held", st.Reasons[DropSCTPFragmentBad], d.sctp.nEarly)
	}
}
