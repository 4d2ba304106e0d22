package capture

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatewarden/gatewarden/decode"
)

// TestMappedPcapNGMatchesRead builds pcapng files that lead the mapped
// reader through each of its paths — plain packet blocks, blocks pcapgo
// skips, and every kind it declines mid-file and hands over to pcapgo (a
// second section, statistics, name resolution, simple and obsolete packet
// blocks, binary or offset timestamps, malformed options, an interface not
// yet described, damage) — and expects the frames and the end of a file that
// is read.
func TestMappedPcapNGMatchesRead(t *testing.T) {
	frame := []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}
	ts := uint64(1_700_000_000_123456)
	head := func(b *ngBuilder) {
		b.shb()
		b.idb(decode.LinkTypeEthernet, 0, -1)
		b.idb(decode.LinkTypeMTP2, 9, 2)
		b.epb(0, ts, frame)
		b.epb(1, ts*1000+1, frame[:3])
	}
	opt := func(code uint16, v []byte) []byte { return ngOption(code, v) }
	end := []byte{0, 0, 0, 0}
	cases := map[string]func(b *ngBuilder){
		"plain": func(b *ngBuilder) {},
		"skipped custom block": func(b *ngBuilder) {
			b.block(0x00000BAD, []byte{1, 2, 3, 4, 5})
			b.epb(0, ts+1, frame)
		},
		"good options": func(b *ngBuilder) {
			b.epbWithOptions(0, ts+2, frame, append(append(opt(1, []byte("a comment")), opt(2, []byte{1, 0, 0, 0})...), end...))
			b.epbWithOptions(1, ts+3, frame, nil)
		},
		"option past the block": func(b *ngBuilder) {
			b.epbWithOptions(0, ts+2, frame, []byte{1, 0, 200, 0, 'x', 'y', 'z', 0})
			b.epb(0, ts+3, frame)
		},
		"end of options with a length": func(b *ngBuilder) {
			b.epbWithOptions(0, ts+2, frame, []byte{0, 0, 4, 0, 1, 2, 3, 4})
			b.epb(0, ts+3, frame)
		},
		"second section": func(b *ngBuilder) {
			b.shb()
			b.idb(decode.LinkTypeMTP3, 3, -1)
			b.epb(0, 1_700_000_003_250, frame)
		},
		"statistics and name resolution": func(b *ngBuilder) {
			b.block(ngBlockNameResolution, []byte{0, 0, 0, 0})
			b.epb(0, ts+4, frame)
			b.block(ngBlockIfStats, make([]byte, 12))
			b.epb(1, ts*1000+5, frame)
		},
		"simple and obsolete packet blocks": func(b *ngBuilder) {
			b.spb(frame)
			b.block(ngBlockPacket, append(make([]byte, 12), append(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 3), 3), 9, 9, 9)...))
			b.epb(0, ts+6, frame)
		},
		"binary resolution interface": func(b *ngBuilder) {
			b.idb(decode.LinkTypeLinuxSLL2, 0x80|20, 4)
			b.epb(2, 1_700_000_002<<20|(1<<19), frame)
			b.epb(0, ts+7, frame)
		},
		"timestamp offset": func(b *ngBuilder) {
			body := binary.LittleEndian.AppendUint16(nil, decode.LinkTypeEthernet)
			body = append(body, 0, 0, 0xff, 0xff, 0, 0)
			body = append(body, opt(ngOptIfTSOffset, binary.LittleEndian.AppendUint64(nil, 3600))...)
			b.block(ngBlockIDB, append(body, end...))
			b.epb(2, ts+8, frame)
		},
		"interface not yet described": func(b *ngBuilder) {
			b.epb(5, ts+9, frame)
		},
		"timestamp beyond 2255": func(b *ngBuilder) {
			b.epb(0, 10_000_000_000_000_000, frame)
		},
		"captured length past the block": func(b *ngBuilder) {
			body := binary.LittleEndian.AppendUint32(nil, 0)
			body = append(body, make([]byte, 8)...)
			body = binary.LittleEndian.AppendUint32(body, 4000)
			body = binary.LittleEndian.AppendUint32(body, 4000)
			b.block(ngBlockEnhancedPacket, append(body, frame...))
		},
		"truncated last block": func(b *ngBuilder) {
			b.epb(0, ts+10, frame)
			b.Truncate(b.Len() - 6)
		},
		"odd block length": func(b *ngBuilder) {
			b.Write([]byte{6, 0, 0, 0, 33, 0, 0, 0})
			b.Write(make([]byte, 25))
		},
	}
	dir := t.TempDir()
	for name, tail := range cases {
		t.Run(name, func(t *testing.T) {
			var b ngBuilder
			head(&b)
			tail(&b)
			path := filepath.Join(dir, "f.pcapng")
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			read := readDigests(t, OpenFile, path)
			sameDigests(t, read, readDigests(t, OpenFileMapped, path))
			if len(read) < 3 {
				t.Errorf("only %d frames before %q", len(read)-1, last(read))
			}
			t.Logf("%d frames, then %q", len(read)-1, last(read))
		})
	}
}

// TestMappedPcapNGFastPath: a plain pcapng is read from the mapping to its
// last frame (pcapgo takes over only to say the file ended).
func TestMappedPcapNGFastPath(t *testing.T) {
	var b ngBuilder
	b.shb()
	b.idb(decode.LinkTypeEthernet, 0, -1)
	b.idb(decode.LinkTypeMTP2, 9, 2)
	for i := 0; i < 100; i++ {
		b.epbWithOptions(uint32(i%2), uint64(1_700_000_000_000_000+i), []byte{byte(i), 1, 2}, append(ngOption(1, []byte("c")), 0, 0, 0, 0))
	}
	path := filepath.Join(t.TempDir(), "plain.pcapng")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFileMapped(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !f.mapped {
		t.Skip("no memory mapping on this platform")
	}
	var fr decode.Frame
	for i := 0; i < 100; i++ {
		if err := f.Next(&fr); err != nil {
			t.Fatal(err)
		}
		if !f.mapped {
			t.Fatalf("frame %d: read by pcapgo", i+1)
		}
	}
	if fr.Frame != 100 || fr.Iface != 1 || fr.LinkType != decode.LinkTypeMTP2 || fr.FCSLen != 2 || fr.TS != 1_700_000_000_000_099 {
		t.Errorf("last frame %+v", fr)
	}
}
