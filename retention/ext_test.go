package retention

import (
	"net/netip"
	"testing"

	"github.com/gatewarden/gatewarden/decode"
)

// The SCTP extension (PPID, SSN) round-trips through the write-ahead log
// record and the segment block, and records and blocks written before it
// existed read as before, with zero values.
func TestSCTPExtensionBackwardCompatible(t *testing.T) {
	m := decode.Message{TS: 1e18, Frame: 7, Transport: decode.TransportM3UA,
		Src: netip.MustParseAddrPort("192.0.2.1:2905"), Dst: netip.MustParseAddrPort("192.0.2.2:2905"),
		Stream: 3, SSN: 41, PPID: 0x03000000, TSN: 9, MTP3: []byte{0x85, 1, 2, 3, 4, 5, 6}}
	m.ISUP.CIC, m.ISUP.Type = 5, 1
	rec := appendMessageRecord(nil, &m, "a.pcap", 0)
	var w walMessage
	var src string
	if err := decodeMessageRecord(rec[1:], &w, &src); err != nil || w.PPID != m.PPID || w.SSN != m.SSN || w.Stream != 3 {
		t.Fatalf("with extension: %+v %v", w.Message, err)
	}
	// An older record is the same bytes without the extension.
	old := rec[:len(rec)-1-len(appendUvarint(nil, uint64(m.PPID)))-len(appendUvarint(nil, uint64(m.SSN)))]
	w = walMessage{}
	if err := decodeMessageRecord(old[1:], &w, &src); err != nil || w.PPID != 0 || w.SSN != 0 || w.CIC != 5 {
		t.Fatalf("old record: %+v %v", w.Message, err)
	}
	// SS7 link messages carry no extension at all.
	m2 := m
	m2.Transport, m2.PPID, m2.SSN, m2.Src, m2.Dst = decode.TransportMTP2, 0, 0, netip.AddrPort{}, netip.AddrPort{}
	m3 := m2
	m3.PPID = 1
	if a, b := len(appendMessageRecord(nil, &m2, "a.pcap", 0)), len(appendMessageRecord(nil, &m3, "a.pcap", 0)); a != b-3 {
		t.Errorf("MTP2 record is %d bytes, with a PPID %d: want no extension", a, b)
	}

	rows := []walMessage{{Message: w.Message}, {Message: w.Message}}
	rows[1].PPID, rows[1].SSN, rows[1].Frame = 5, 2, 8
	blk, err := decodeBlock(encodeBlock(nil, rows), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got Message
	blk.message(1, &got)
	if got.PPID != 5 || got.SSN != 2 || got.Frame != 8 {
		t.Errorf("block row: %+v", got)
	}
	blk.message(0, &got)
	if got.PPID != 0 || got.SSN != 0 {
		t.Errorf("block row 0: %+v", got)
	}
	// Streams interleave and SSNs wrap: each stream's step is its own.
	multi := make([]walMessage, 4)
	for i, x := range []struct{ stream, ssn uint16 }{{1, 65535}, {2, 7}, {1, 0}, {2, 8}} {
		multi[i] = walMessage{Message: w.Message}
		multi[i].Stream, multi[i].SSN, multi[i].PPID = x.stream, x.ssn, 3
	}
	if blk, err = decodeBlock(encodeBlock(nil, multi), 1, 0); err != nil {
		t.Fatal(err)
	}
	for i := range multi {
		blk.message(i, &got)
		if got.SSN != multi[i].SSN || got.Stream != multi[i].Stream || got.PPID != 3 {
			t.Errorf("row %d: stream %d SSN %d, want %d %d", i, got.Stream, got.SSN, multi[i].Stream, multi[i].SSN)
		}
	}
	// A block without the extension (as older stores wrote them).
	rows[1].PPID, rows[1].SSN = 0, 0
	plain := encodeBlock(nil, rows)
	if blk, err = decodeBlock(plain, 1, 0); err != nil {
		t.Fatal(err)
	}
	blk.message(1, &got)
	if got.PPID != 0 || got.SSN != 0 || got.Frame != 8 {
		t.Errorf("old block row: %+v", got)
	}
}
