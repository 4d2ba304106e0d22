package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/gatewarden/gatewarden/decode"
)

// sharedPcaps returns the real-capture directory beside the repository, or
// skips the test when it is absent.
func sharedPcaps(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "pcaps"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("shared captures not available (part of the test contract: lay shared/ beside the repository): %v", err)
	}
	return dir
}

// Expected values from `capinfos -c` and `tshark -T fields -e frame.time_epoch`.
var sharedFiles = []struct {
	name        string
	frames      uint64
	first, last int64
	format      Format
	linkType    uint16
	nInterfaces int
}{
	{"3gpp_mc.cap", 484, 1162351949000417000, 1162351979000839000, FormatPcap, decode.LinkTypeEthernet, 1},
	{"ansi_map_win.pcap", 9, 1103328552804650000, 1103328562110180000, FormatPcap, decode.LinkTypeEthernet, 1},
	{"bicc.pcap", 1, 1109142191079871000, 1109142191079871000, FormatPcap, decode.LinkTypeEthernet, 1},
	{"camel.pcap", 5, 1111154542000000000, 1111154617000000000, FormatPcap, decode.LinkTypeEthernet, 1},
	{"gsm-r.uus1.pcap", 9, 1523565810000000000, 1523565810000008000, FormatPcap, decode.LinkTypeMTP3, 1},
	{"isup_load_generator.pcap", 5265, 1415871528638000000, 1415872402896000000, FormatPcapNG, decode.LinkTypeMTP2, 2},
	{"japan_tcap_over_m2pa.pcap", 6, 1143706916046717000, 1143706952474153000, FormatPcap, decode.LinkTypeEthernet, 1},
	{"mod_isup_m3ua_mgcp.pcap", 81, 1781720382802609000, 1781720429525599000, FormatPcap, decode.LinkTypeLinuxSLL2, 1},
	{"mod_isup_validate.pcap", 141, 1781725098332545000, 1781725131820612000, FormatPcap, decode.LinkTypeLinuxSLL2, 1},
	{"sng_ss7mon_test1.pcap", 25, 1329396923306588000, 1329397186302876000, FormatPcap, decode.LinkTypeMTP2WithPHdr, 1},
	{"sng_ss7mon_test2.pcap", 7, 1329399796326167000, 1329399823564627000, FormatPcap, decode.LinkTypeMTP2WithPHdr, 1},
	{"sng_ss7mon_test3.pcap", 9, 1329399796353595000, 1329399823095345000, FormatPcap, decode.LinkTypeMTP2WithPHdr, 1},
	{"xdr_tester_m2pa.pcap", 6, 1408627385596000000, 1408627429243000000, FormatPcap, decode.LinkTypeEthernet, 1},
}

type fileSummary struct {
	frames      uint64
	first, last int64
	bytes       int
	ifaceCount  map[uint16]int
	linkTypes   map[uint16]bool
	fcs         map[int8]int
}

func readAll(t *testing.T, path string) (fileSummary, error) {
	t.Helper()
	f, err := OpenFile(path)
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	defer f.Close()
	s := fileSummary{ifaceCount: map[uint16]int{}, linkTypes: map[uint16]bool{}, fcs: map[int8]int{}}
	var fr decode.Frame
	for {
		err := f.Next(&fr)
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, err
		}
		s.frames++
		if fr.Frame != s.frames {
			t.Fatalf("frame number %d, want %d", fr.Frame, s.frames)
		}
		if s.frames == 1 {
			s.first = fr.TS
		}
		s.last = fr.TS
		s.bytes += len(fr.Data)
		s.ifaceCount[fr.Iface]++
		s.linkTypes[fr.LinkType] = true
		s.fcs[fr.FCSLen]++
	}
}

func TestSharedCaptures(t *testing.T) {
	dir := sharedPcaps(t)
	for _, want := range sharedFiles {
		t.Run(want.name, func(t *testing.T) {
			path := filepath.Join(dir, want.name)
			f, err := OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if f.Format() != want.format {
				t.Errorf("format %v, want %v", f.Format(), want.format)
			}
			if n := len(f.Interfaces()); n != want.nInterfaces {
				t.Errorf("%d interfaces, want %d", n, want.nInterfaces)
			}
			f.Close()
			s, err := readAll(t, path)
			if err != nil {
				t.Fatal(err)
			}
			if s.frames != want.frames {
				t.Errorf("frames %d, want %d (capinfos -c)", s.frames, want.frames)
			}
			if s.first != want.first || s.last != want.last {
				t.Errorf("timestamps %d..%d, want %d..%d", s.first, s.last, want.first, want.last)
			}
			if len(s.linkTypes) != 1 || !s.linkTypes[want.linkType] {
				t.Errorf("link types %v, want only %d", s.linkTypes, want.linkType)
			}
			// None of the shared files states an FCS length.
			if s.fcs[-1] != int(want.frames) {
				t.Errorf("FCS lengths %v, want all -1", s.fcs)
			}
		})
	}
}

func TestPcapNGInterfaces(t *testing.T) {
	path := filepath.Join(sharedPcaps(t), "isup_load_generator.pcap")
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ifaces := f.Interfaces()
	f.Close()
	want := []Interface{
		{Name: "16A:16", LinkType: decode.LinkTypeMTP2, FCSLen: -1, TSResol: 3},
		{Name: "16B:16", LinkType: decode.LinkTypeMTP2, FCSLen: -1, TSResol: 3},
	}
	if len(ifaces) != len(want) {
		t.Fatalf("interfaces %+v, want %+v", ifaces, want)
	}
	for i := range want {
		if ifaces[i] != want[i] {
			t.Errorf("interface %d: %+v, want %+v", i, ifaces[i], want[i])
		}
	}
	s, err := readAll(t, path)
	if err != nil {
		t.Fatal(err)
	}
	// capinfos: "Number of packets = 2631" and "= 2634".
	if s.ifaceCount[0] != 2631 || s.ifaceCount[1] != 2634 {
		t.Errorf("packets per interface %v, want 0:2631 1:2634", s.ifaceCount)
	}
}

func TestGzipReadsIdentically(t *testing.T) {
	dir := sharedPcaps(t)
	for _, name := range []string{"isup_load_generator.pcap", "mod_isup_validate.pcap"} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(raw)
		zw.Close()
		// No .gz suffix: detection must go by magic bytes.
		gzPath := filepath.Join(t.TempDir(), name+".compressed")
		if err := os.WriteFile(gzPath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		want := frameDigests(t, filepath.Join(dir, name))
		got := frameDigests(t, gzPath)
		if len(got) != len(want) {
			t.Fatalf("%s: gzip copy has %d frames, plain %d", name, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: frame %d differs: %+v vs %+v", name, i+1, got[i], want[i])
			}
		}
		f, err := OpenFile(gzPath)
		if err != nil {
			t.Fatal(err)
		}
		if !f.Gzipped() {
			t.Errorf("%s: not reported as gzipped", name)
		}
		f.Close()
	}
}

type frameDigest struct {
	ts       int64
	frame    uint64
	iface    uint16
	linkType uint16
	fcs      int8
	data     string
}

func frameDigests(t *testing.T, path string) []frameDigest {
	t.Helper()
	read := readDigests(t, OpenFile, path)
	mapped := readDigests(t, OpenFileMapped, path)
	sameDigests(t, read, mapped)
	if n := len(read); n > 0 && read[n-1].data != io.EOF.Error() {
		t.Fatalf("%s: frame %d: %s", path, n, read[n-1].data)
	}
	return read[:len(read)-1]
}

// readDigests reads a capture with open to its end: a digest per frame, then
// one whose data is the error that ended it (io.EOF's text at a clean end).
func readDigests(t testing.TB, open func(string) (*File, error), path string) []frameDigest {
	t.Helper()
	f, err := open(path)
	if err != nil {
		return []frameDigest{{data: "open: " + err.Error()}}
	}
	defer f.Close()
	var out []frameDigest
	var fr decode.Frame
	for n := 0; n < 1_000_000; n++ {
		err := f.Next(&fr)
		if err != nil {
			if err != io.EOF && !errors.As(err, new(*FrameError)) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return append(out, frameDigest{data: err.Error()})
		}
		out = append(out, frameDigest{fr.TS, fr.Frame, fr.Iface, fr.LinkType, fr.FCSLen, string(fr.Data)})
	}
	return out
}

// sameDigests fails unless a file read and mapped gave the same frames and
// the same end.
func sameDigests(t testing.TB, read, mapped []frameDigest) {
	t.Helper()
	if len(read) != len(mapped) {
		t.Fatalf("read %d frames, mapped %d (read ends %q, mapped %q)", len(read), len(mapped), last(read), last(mapped))
	}
	for i := range read {
		if read[i] != mapped[i] {
			t.Fatalf("frame %d differs: read %+v, mapped %+v", i+1, read[i], mapped[i])
		}
	}
}

func last(d []frameDigest) string {
	if len(d) == 0 {
		return ""
	}
	return d[len(d)-1].data
}

func TestTruncatedFile(t *testing.T) {
	dir := sharedPcaps(t)
	for _, tc := range []struct {
		name string
		cut  int // bytes removed from the end
	}{
		{"mod_isup_validate.pcap", 10},     // inside the last packet's data
		{"isup_load_generator.pcap", 7},    // inside the last block
		{"sng_ss7mon_test2.pcap", 0},       // intact: control
		{"xdr_tester_m2pa.pcap", 100 + 16}, // mid-record, header intact
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, tc.name))
			if err != nil {
				t.Fatal(err)
			}
			full := frameDigests(t, filepath.Join(dir, tc.name))
			path := filepath.Join(t.TempDir(), tc.name)
			if err := os.WriteFile(path, raw[:len(raw)-tc.cut], 0o644); err != nil {
				t.Fatal(err)
			}
			for _, o := range openers {
				t.Run(o.name, func(t *testing.T) { checkTruncated(t, o.open, path, tc.cut, full) })
			}
		})
	}
}

// checkTruncated reads a capture cut short by cut bytes (0: intact) and
// expects the frames of the intact one up to the cut, then a sticky
// truncation error naming the file and frame.
func checkTruncated(t *testing.T, open func(string) (*File, error), path string, cut int, full []frameDigest) {
	f, err := open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var fr decode.Frame
	var n int
	for {
		err = f.Next(&fr)
		if err != nil {
			break
		}
		if fr.TS != full[n].ts || string(fr.Data) != full[n].data {
			t.Fatalf("frame %d differs from the intact file", n+1)
		}
		n++
	}
	if cut == 0 {
		if err != io.EOF || n != len(full) {
			t.Fatalf("intact file: %d frames, err %v", n, err)
		}
		return
	}
	var fe *FrameError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T), want *FrameError", err, err)
	}
	if !errors.Is(err, ErrTruncated) {
		t.Errorf("error %v does not wrap ErrTruncated", err)
	}
	if fe.File != path || fe.Frame != uint64(n+1) {
		t.Errorf("error names %s frame %d, want %s frame %d", fe.File, fe.Frame, path, n+1)
	}
	if n == 0 || n >= len(full) {
		t.Errorf("kept %d of %d frames", n, len(full))
	}
	// Sticky: the file stays failed.
	if err2 := f.Next(&fr); err2 != err {
		t.Errorf("second Next: %v", err2)
	}
	t.Logf("%v (kept %d frames)", err, n)
}

// openers are the two ways to open a capture file, which must read alike.
var openers = []struct {
	name string
	open func(string) (*File, error)
}{{"read", OpenFile}, {"mapped", OpenFileMapped}}

// TestCorruptRecord breaks the third record header of a pcap (a capture
// length beyond both snap length and packet length): frames 1-2 come out, then
// an error that names the file and frame 3 and is not a truncation.
func TestCorruptRecord(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(sharedPcaps(t), "xdr_tester_m2pa.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	off := 24
	for i := 0; i < 2; i++ {
		off += 16 + int(binary.LittleEndian.Uint32(raw[off+8:]))
	}
	binary.LittleEndian.PutUint32(raw[off+8:], 0xFFFFFF00)
	path := filepath.Join(t.TempDir(), "corrupt.pcap")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, o := range openers {
		t.Run(o.name, func(t *testing.T) { checkCorruptThird(t, o.open, path) })
	}
}

func checkCorruptThird(t *testing.T, open func(string) (*File, error), path string) {
	f, err := open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var fr decode.Frame
	for i := 0; i < 2; i++ {
		if err := f.Next(&fr); err != nil {
			t.Fatalf("frame %d: %v", i+1, err)
		}
	}
	err = f.Next(&fr)
	var fe *FrameError
	if !errors.As(err, &fe) || fe.Frame != 3 || fe.File != path || errors.Is(err, ErrTruncated) {
		t.Fatalf("error %v, want a non-truncation FrameError for frame 3", err)
	}
	t.Log(err)
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"text", []byte("hello, this is not a capture file at all\n")},
		{"short-pcap", []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0}},
		{"bad-gzip", []byte{0x1f, 0x8b, 0, 0}},
		{"modified", []byte{0x34, 0xcd, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0}},
	} {
		p := write(tc.name, tc.data)
		if f, err := OpenFile(p); err == nil {
			f.Close()
			t.Errorf("%s: opened", tc.name)
		} else if !bytes.Contains([]byte(err.Error()), []byte(p)) {
			t.Errorf("%s: error %q does not name the file", tc.name, err)
		}
	}
	if _, err := OpenFile(filepath.Join(dir, "text")); !errors.Is(err, ErrNotCapture) {
		t.Errorf("text file: %v, want ErrNotCapture", err)
	}
	if _, err := OpenFile(filepath.Join(dir, "short-pcap")); errors.Is(err, ErrNotCapture) {
		t.Errorf("truncated pcap header reported as not a capture: %v", err)
	}
	if _, err := OpenFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file opened")
	}
}

// ngBuilder writes pcapng blocks for tests (little-endian).
type ngBuilder struct{ bytes.Buffer }

func (b *ngBuilder) block(typ uint32, body []byte) {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	total := uint32(12 + len(body))
	binary.Write(&b.Buffer, binary.LittleEndian, typ)
	binary.Write(&b.Buffer, binary.LittleEndian, total)
	b.Write(body)
	binary.Write(&b.Buffer, binary.LittleEndian, total)
}

func (b *ngBuilder) shb() {
	body := binary.LittleEndian.AppendUint32(nil, ngBOM)
	body = binary.LittleEndian.AppendUint16(body, 1)
	body = binary.LittleEndian.AppendUint16(body, 0)
	body = binary.LittleEndian.AppendUint64(body, ^uint64(0))
	b.block(magicPcapNG, body)
}

func ngOption(code uint16, val []byte) []byte {
	o := binary.LittleEndian.AppendUint16(nil, code)
	o = binary.LittleEndian.AppendUint16(o, uint16(len(val)))
	o = append(o, val...)
	for len(o)%4 != 0 {
		o = append(o, 0)
	}
	return o
}

func (b *ngBuilder) idb(linkType uint16, tsresol uint8, fcslen int) {
	body := binary.LittleEndian.AppendUint16(nil, linkType)
	body = append(body, 0, 0)
	body = binary.LittleEndian.AppendUint32(body, 65535)
	if tsresol != 0 {
		body = append(body, ngOption(ngOptIfTSResol, []byte{tsresol})...)
	}
	if fcslen >= 0 {
		body = append(body, ngOption(ngOptIfFCSLen, []byte{byte(fcslen)})...)
	}
	body = append(body, 0, 0, 0, 0)
	b.block(ngBlockIDB, body)
}

func (b *ngBuilder) epb(iface uint32, ticks uint64, data []byte) {
	b.epbWithOptions(iface, ticks, data, nil)
}

// epbWithOptions is an Enhanced Packet Block with opts (raw option bytes)
// after the data.
func (b *ngBuilder) epbWithOptions(iface uint32, ticks uint64, data, opts []byte) {
	body := binary.LittleEndian.AppendUint32(nil, iface)
	body = binary.LittleEndian.AppendUint32(body, uint32(ticks>>32))
	body = binary.LittleEndian.AppendUint32(body, uint32(ticks))
	body = binary.LittleEndian.AppendUint32(body, uint32(len(data)))
	body = binary.LittleEndian.AppendUint32(body, uint32(len(data)))
	body = append(body, data...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	body = append(body, opts...)
	b.block(ngBlockEnhancedPacket, body)
}

func (b *ngBuilder) spb(data []byte) {
	body := binary.LittleEndian.AppendUint32(nil, uint32(len(data)))
	body = append(body, data...)
	b.block(ngBlockSimplePacket, body)
}

// TestPcapNGMixed crafts a two-section pcapng with mixed link types,
// if_fcslen, nanosecond and binary resolutions and a Simple Packet Block.
func TestPcapNGMixed(t *testing.T) {
	var b ngBuilder
	b.shb()
	b.idb(decode.LinkTypeEthernet, 9, -1)       // iface 0: ns
	b.idb(decode.LinkTypeMTP2, 0, 2)            // iface 1: µs (default), FCS 2
	b.idb(decode.LinkTypeLinuxSLL2, 0x80|20, 4) // iface 2: 2^-20 s, FCS 4
	b.epb(0, 1_700_000_000_123456789, []byte{1, 2, 3})
	b.epb(1, 1_700_000_001_000001, []byte{4, 5})
	b.epb(2, 1_700_000_002<<20|(1<<19), []byte{6}) // .5 s exactly
	b.spb([]byte{7, 7})
	b.shb()
	b.idb(decode.LinkTypeMTP3, 3, -1) // new section: iface 0 is now MTP3 in ms
	b.epb(0, 1_700_000_003_250, []byte{8})
	path := filepath.Join(t.TempDir(), "mixed.pcapng")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got := frameDigests(t, path)
	want := []frameDigest{
		{1_700_000_000_123456789, 1, 0, decode.LinkTypeEthernet, -1, "\x01\x02\x03"},
		{1_700_000_001_000001000, 2, 1, decode.LinkTypeMTP2, 2, "\x04\x05"},
		{1_700_000_002_500000000, 3, 2, decode.LinkTypeLinuxSLL2, 4, "\x06"},
		{1_700_000_002_500000000, 4, 0, decode.LinkTypeEthernet, -1, "\x07\x07"}, // SPB: previous ts
		{1_700_000_003_250000000, 5, 0, decode.LinkTypeMTP3, -1, "\x08"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d frames %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("frame %d: %+v, want %+v", i+1, got[i], want[i])
		}
	}
}

// TestPcapNGDamagedMixed cuts a mixed-link-type pcapng inside its last
// block: the first pass cannot see the whole file, and every readable frame
// must still come out with its own link type and number.
func TestPcapNGDamagedMixed(t *testing.T) {
	var b ngBuilder
	b.shb()
	b.idb(decode.LinkTypeEthernet, 0, -1)
	b.epb(0, 1, []byte{1})
	b.idb(decode.LinkTypeMTP2, 0, -1) // a late interface with another link type
	b.epb(1, 2, []byte{2})
	b.epb(0, 3, []byte{3})
	data := b.Bytes()
	path := filepath.Join(t.TempDir(), "damaged.pcapng")
	if err := os.WriteFile(path, data[:len(data)-6], 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var fr decode.Frame
	wantLT := []uint16{decode.LinkTypeEthernet, decode.LinkTypeMTP2}
	for i, lt := range wantLT {
		if err := f.Next(&fr); err != nil {
			t.Fatalf("frame %d: %v", i+1, err)
		}
		if fr.Frame != uint64(i+1) || fr.LinkType != lt || fr.Data[0] != byte(i+1) {
			t.Errorf("frame %d: %+v", i+1, fr)
		}
	}
	var fe *FrameError
	if err := f.Next(&fr); !errors.As(err, &fe) || fe.Frame != 3 {
		t.Errorf("third frame: %v, want a FrameError for frame 3", err)
	}
}

func TestFixBinaryResolution(t *testing.T) {
	// 2^-20: pcapgo scales by 953 ns per tick instead of 953.67 (0.7 ms short
	// near the end of a second).
	ticks := int64(1<<20 - 1)
	pcapgoNs := int64(5e9) + ticks*953
	if got, want := fixBinaryResolution(pcapgoNs, 0x80|20), int64(5e9)+ticks*1e9>>20; got != want {
		t.Errorf("got %d, want %d", got, want)
	}
	if got := fixBinaryResolution(123, 6); got != 123 {
		t.Errorf("decimal resolution changed: %d", got)
	}
}

func FuzzOpenFile(f *testing.F) {
	if dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "pcaps")); err == nil {
		for _, name := range []string{"sng_ss7mon_test2.pcap", "bicc.pcap", "gsm-r.uus1.pcap"} {
			if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
				f.Add(b)
			}
		}
		if b, err := os.ReadFile(filepath.Join(dir, "isup_load_generator.pcap")); err == nil {
			f.Add(b[:1024])
		}
	}
	var b ngBuilder
	b.shb()
	b.idb(decode.LinkTypeMTP2, 0x80|20, 2)
	b.epb(0, 12345, []byte{1, 2, 3})
	f.Add(b.Bytes())
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.cap")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		sameDigests(t, readDigests(t, OpenFile, path), readDigests(t, OpenFileMapped, path))
	})
}

// TestPcapFastPathMatchesPcapgo reads classic pcap files (nanosecond and
// microsecond, the generator's and real ones) through File, whose records
// come from the zero-copy fast path, and through pcapgo alone: every frame
// has the same bytes and timestamp.
func TestPcapFastPathMatchesPcapgo(t *testing.T) {
	paths := []string{filepath.Join("..", "pcaps", "interconnect.pcap"), filepath.Join("..", "pcaps", "scenarios.pcap")}
	if dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "pcaps")); err == nil {
		for _, name := range []string{"sng_ss7mon_test2.pcap", "bicc.pcap", "isup_load_generator.pcap"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				paths = append(paths, filepath.Join(dir, name))
			}
		}
	}
	for _, o := range openers {
		for _, path := range paths {
			checkAgainstPcapgo(t, o.open, path)
		}
	}
}

func checkAgainstPcapgo(t *testing.T, open func(string) (*File, error), path string) {
	f, err := open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Format() != FormatPcap {
		return
	}
	raw, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ref, err := pcapgo.NewReader(raw)
	if err != nil {
		t.Fatal(err)
	}
	var fr decode.Frame
	n := 0
	for {
		err := f.Next(&fr)
		data, ci, rerr := ref.ReadPacketData()
		if err == io.EOF || rerr == io.EOF {
			if err != rerr {
				t.Errorf("%s: frame %d: File %v, pcapgo %v", path, n+1, err, rerr)
			}
			break
		}
		if err != nil || rerr != nil {
			t.Fatalf("%s: frame %d: File %v, pcapgo %v", path, n+1, err, rerr)
		}
		n++
		if !bytes.Equal(fr.Data, data) || fr.TS != ci.Timestamp.UnixNano() || fr.Frame != uint64(n) {
			t.Fatalf("%s: frame %d differs: %d bytes at %d, pcapgo %d bytes at %d", path, n, len(fr.Data), fr.TS, len(data), ci.Timestamp.UnixNano())
		}
	}
	if n == 0 {
		t.Errorf("%s: no frames", path)
	}
}
