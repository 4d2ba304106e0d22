// Package capture delivers captured frames to the decoder: from pcap and
// pcapng files (plain or gzip-compressed, several merged in timestamp order)
// and, on Linux, live from AF_PACKET sockets.
package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/gatewarden/gatewarden/decode"
)

// readBufferSize is the buffered reader size in front of each file (and of the
// gzip stream). A merge keeps every file open at once, so it stays modest.
const readBufferSize = 64 << 10

// Magic numbers that identify a capture file.
const (
	magicGzip0, magicGzip1 = 0x1f, 0x8b
	magicPcapNG            = 0x0A0D0D0A
	magicPcapMicro         = 0xA1B2C3D4
	magicPcapNano          = 0xA1B23C4D
	magicPcapModified      = 0xA1B2CD34 // Kuznetzov's patched libpcap
)

// Format is the container format of a capture file.
type Format uint8

const (
	FormatPcap Format = iota + 1
	FormatPcapNG
)

func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNG:
		return "pcapng"
	}
	return "unknown"
}

// Interface describes one capture interface of a file: the single implicit one
// of a classic pcap file, or a pcapng Interface Description Block.
type Interface struct {
	Name     string
	LinkType uint16
	// FCSLen is if_fcslen (pcapng) or the FCS length coded in the upper bits of
	// a classic pcap link type; -1 when the file does not say.
	FCSLen int8
	// TSResol is the raw if_tsresol octet (pcapng); 0 for classic pcap.
	TSResol uint8
}

// FrameError reports a frame that could not be read: the file is truncated or
// corrupt at that point. Frames before it were delivered.
type FrameError struct {
	File  string
	Frame uint64 // 1-based number of the record that failed
	Err   error
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("%s: frame %d: %v", e.File, e.Frame, e.Err)
}

func (e *FrameError) Unwrap() error { return e.Err }

// ErrNotCapture is wrapped in OpenFile's error when the file is neither pcap
// nor pcapng (nor gzip of one): the wrong file rather than a damaged one.
var ErrNotCapture = errors.New("not a pcap or pcapng file")

// ErrTruncated is wrapped in a FrameError when a file ends inside a record.
var ErrTruncated = errors.New("file ends inside a packet record (truncated capture)")

// File reads the frames of one capture file in file order.
type File struct {
	name     string
	format   Format
	osFile   *os.File
	gz       *gzip.Reader
	pcap     *pcapgo.Reader
	ng       *pcapgo.NgReader
	gzipped  bool
	linkType uint16 // classic pcap
	fcsLen   int8   // classic pcap
	// Classic pcap fast path: records are sliced straight out of br's
	// buffer (see nextPcap); pcapgo reads what the fast path declines.
	br        *bufio.Reader
	bigEndian bool   // the classic pcap file's, or the pcapng section's, byte order
	nanoMul   uint32 // 1 (nanosecond file) or 1000 (microsecond)
	snaplen   int
	// win is what br held at the last refill, records are sliced from it
	// and off of it are consumed but not yet discarded from br: one Peek per
	// buffer refill, not three bufio calls per record.
	win []byte
	off int
	// mapping is the whole file when it is read through a memory mapping
	// (OpenFileMapped), until Close. While mapped, records are sliced from
	// it, off being the next one's offset, and the kernel copies nothing;
	// after unmapped, pcapgo reads the rest of it.
	mapping []byte
	mapped  bool
	// pcapng over a mapping (nextMappedNg): the section's header and
	// interface blocks as read so far, to hand pcapgo a stream it can
	// resume; the interfaces they describe are the first section's in
	// sections.
	ngSHB  []byte
	ngIDBs [][]byte

	// pcapng sections and their interfaces, from a first pass over the block
	// structure: pcapgo does not expose if_fcslen, and interface indexes
	// restart with every section.
	sections     []ngSection
	section      int
	scanComplete bool

	frame  uint64 // records read so far
	lastTS int64
	err    error // sticky: set once the file failed or ended
}

type ngSection struct {
	firstFrame uint64 // number of the first packet record of the section
	ifaces     []Interface
}

// OpenFile opens a pcap or pcapng file, gzip-compressed or not (decided by the
// magic bytes, not the name).
//
// The path StdinName ("-") reads standard input. It is first copied to an
// unlinked temporary file, as a pcapng file is read twice (see prescan).
func OpenFile(path string) (*File, error) { return openFile(path, false) }

// OpenFileMapped is OpenFile, but a plain (not compressed) classic pcap file
// is read through a read-only memory mapping, which spares the copy from the
// page cache (about a tenth of `gatewarden decode`'s CPU time); other files
// are read as OpenFile reads them.
//
// The catch of a mapping: if the file shrinks while it is read, touching a
// page past its new end raises SIGBUS wherever that happens — in the decoder
// too. A caller must run its read-and-decode loop with
// debug.SetPanicOnFault(true) and turn the panic into an error with
// MappedFault; the daemon, whose capture files may be rotated under it,
// uses OpenFile.
func OpenFileMapped(path string) (*File, error) { return openFile(path, true) }

func openFile(path string, mapped bool) (*File, error) {
	var osf *os.File
	var err error
	if path == StdinName {
		osf, err = spoolStdin()
	} else {
		osf, err = os.Open(path)
	}
	if err != nil {
		return nil, err
	}
	f := &File{name: path, osFile: osf, fcsLen: -1}
	br, gz, err := openStream(osf)
	if err != nil {
		osf.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.gz = gz
	f.gzipped = gz != nil
	head, err := br.Peek(24)
	if len(head) < 4 {
		osf.Close()
		if err == nil || err == io.EOF {
			return nil, fmt.Errorf("%s: too short for a capture file (%d bytes)", path, len(head))
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	le := binary.LittleEndian.Uint32(head)
	be := binary.BigEndian.Uint32(head)
	switch {
	case le == magicPcapNG:
		f.format = FormatPcapNG
		if mapped && !f.gzipped && path != StdinName {
			f.mapping = mapFile(osf)
			f.mapped = f.mapping != nil
		}
		if f.mapped {
			f.sections, f.scanComplete = scanNgSections(&memReader{b: f.mapping})
		} else if err := f.prescan(); err != nil {
			osf.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		// pcapgo reads the section header: its verdict on it stands.
		f.ng, err = pcapgo.NewNgReader(br, f.ngReaderOptions())
		if err != nil && f.mapped {
			unmapFile(f.mapping)
			f.mapping, f.mapped = nil, false
		}
	case le == magicPcapMicro || le == magicPcapNano || be == magicPcapMicro || be == magicPcapNano:
		f.format = FormatPcap
		if len(head) < 24 {
			osf.Close()
			return nil, fmt.Errorf("%s: %w: pcap file header", path, ErrTruncated)
		}
		var order binary.ByteOrder = binary.LittleEndian
		if be == magicPcapMicro || be == magicPcapNano {
			order = binary.BigEndian
		}
		// The link type word also carries the FCS length in its upper bits
		// (pcap-linktype(7)); pcapgo keeps only the low 16 bits.
		lt := order.Uint32(head[20:24])
		f.linkType = uint16(lt & 0xFFFF)
		if lt&0x04000000 != 0 {
			f.fcsLen = int8((lt>>28)&0xF) * 2
		}
		f.pcap, err = pcapgo.NewReader(br)
		f.br, f.bigEndian, f.nanoMul, f.snaplen = br, order == binary.BigEndian, 1000, int(order.Uint32(head[16:20]))
		if le == magicPcapNano || be == magicPcapNano {
			f.nanoMul = 1
		}
		if mapped && !f.gzipped && path != StdinName {
			if f.mapping = mapFile(osf); f.mapping != nil {
				f.mapped, f.off = true, pcapFileHeader
			}
		}
	case le == magicPcapModified || be == magicPcapModified:
		err = errors.New("modified (Kuznetzov) pcap format is not supported")
	default:
		err = fmt.Errorf("%w (magic %08x)", ErrNotCapture, be)
	}
	if err != nil {
		osf.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// StdinName is the capture path that means standard input.
const StdinName = "-"

// spoolStdin copies standard input to a temporary file that is unlinked at
// once (it lives until closed) and returns it at offset 0.
func spoolStdin() (*os.File, error) {
	tmp, err := os.CreateTemp("", "gatewarden-stdin-*.pcap")
	if err != nil {
		return nil, fmt.Errorf("standard input: %w", err)
	}
	os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, os.Stdin); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("standard input: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("standard input: %w", err)
	}
	return tmp, nil
}

// openStream returns a buffered reader over the file's content, transparently
// decompressing gzip.
func openStream(osf io.Reader) (*bufio.Reader, *gzip.Reader, error) {
	br := bufio.NewReaderSize(osf, readBufferSize)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == magicGzip0 && magic[1] == magicGzip1 {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return bufio.NewReaderSize(gz, readBufferSize), gz, nil
	}
	return br, nil, nil
}

// Name is the path the file was opened with.
func (f *File) Name() string { return f.name }

// Format is pcap or pcapng.
func (f *File) Format() Format { return f.format }

// Gzipped reports whether the file was gzip-compressed.
func (f *File) Gzipped() bool { return f.gzipped }

// Frames is the number of packet records read so far.
func (f *File) Frames() uint64 { return f.frame }

// Interfaces lists the capture interfaces: one for classic pcap, the
// interfaces of the first section for pcapng.
func (f *File) Interfaces() []Interface {
	if f.format == FormatPcap {
		return []Interface{{LinkType: f.linkType, FCSLen: f.fcsLen}}
	}
	if len(f.sections) == 0 {
		return nil
	}
	return f.sections[0].ifaces
}

// Next reads the next frame into fr (Source is left to the caller). fr.Data
// aliases the reader's buffer and is valid until the next call. At the end it
// returns io.EOF; a truncated or corrupt file yields a *FrameError, after which
// Next keeps returning it.
func (f *File) Next(fr *decode.Frame) error {
	if f.err != nil {
		return f.err
	}
	var (
		data []byte
		ci   gopacket.CaptureInfo
		err  error
	)
	if f.mapped {
		if f.nextMapped(fr) {
			return nil
		}
		if err := f.unmapped(); err != nil {
			return f.fail(err)
		}
	} else if f.pcap != nil && f.br != nil && f.nextPcap(fr) {
		return nil
	}
	if f.pcap != nil {
		data, ci, err = f.pcap.ZeroCopyReadPacketData()
		if err == io.EOF && ci.CaptureLength > 0 {
			err = io.ErrUnexpectedEOF // header read, no data at all
		}
	} else {
		data, ci, err = f.ng.ZeroCopyReadPacketData()
	}
	if err != nil {
		return f.fail(err)
	}
	f.frame++
	fr.Frame = f.frame
	fr.Data = data
	if f.pcap != nil {
		fr.LinkType = f.linkType
		fr.FCSLen = f.fcsLen
		fr.Iface = 0
		fr.TS = ci.Timestamp.UnixNano()
	} else {
		f.ngFrame(fr, &ci)
	}
	f.lastTS = fr.TS
	return nil
}

// Sizes of the classic pcap file and record headers.
const (
	pcapFileHeader   = 24
	pcapRecordHeader = 16
)

// nextPcap reads the next classic pcap record without copying it: the
// record is sliced out of the buffered reader, valid until its next read.
// It declines (false, nothing consumed) whatever is not a plain, complete
// record within the snap length that fits the buffer — the end of the file,
// damage, an oversized record — and pcapgo then reads it and reports it.
func (f *File) nextPcap(fr *decode.Frame) bool {
	rest := f.win[f.off:]
	if len(rest) < pcapRecordHeader || len(rest) < pcapRecordHeader+int(f.u32(rest[8:])) {
		if !f.refill() {
			return false
		}
		rest = f.win
	}
	n := f.sliceRecord(rest, fr)
	if n == 0 {
		f.sync()
		return false
	}
	f.off += n
	return true
}

// sliceRecord takes the classic pcap record at the start of rest into fr
// (Data aliasing rest) and returns its length; 0, with nothing taken, when
// it is not a plain, complete record within the snap length.
func (f *File) sliceRecord(rest []byte, fr *decode.Frame) int {
	if len(rest) < pcapRecordHeader {
		return 0
	}
	capLen := int(f.u32(rest[8:]))
	origLen := int(f.u32(rest[12:]))
	n := pcapRecordHeader + capLen
	if capLen > f.snaplen || capLen > origLen || n > len(rest) {
		return 0
	}
	f.frame++
	sec, frac := f.u32(rest), f.u32(rest[4:])
	*fr = decode.Frame{TS: int64(sec)*1e9 + int64(frac*f.nanoMul), LinkType: f.linkType, Frame: f.frame,
		FCSLen: f.fcsLen, Source: fr.Source, Data: rest[pcapRecordHeader:n:n]}
	f.lastTS = fr.TS
	return n
}

// nextMapped reads the next frame of a mapped file, sliced out of the
// mapping; it declines as nextPcap does, and the rest of the file is then
// read by pcapgo (unmapped).
func (f *File) nextMapped(fr *decode.Frame) bool {
	if f.format == FormatPcapNG {
		return f.nextMappedNg(fr)
	}
	n := f.sliceRecord(f.mapping[f.off:], fr)
	f.off += n
	return n > 0
}

// unmapped hands a mapped file over to pcapgo where nextMapped declined: the
// rest of the mapping, behind the file header, is what pcapgo reads and
// reports on (the end, a truncated or damaged record). The mapping stays
// until Close, as the last frame's Data points into it.
func (f *File) unmapped() error {
	if f.format == FormatPcapNG {
		return f.unmappedNg()
	}
	rest := io.MultiReader(bytes.NewReader(f.mapping[:pcapFileHeader]), bytes.NewReader(f.mapping[f.off:]))
	// pcapgo alone reads on: nextPcap's buffered reader is still at the
	// file header.
	f.mapped, f.br, f.off = false, nil, 0
	r, err := pcapgo.NewReader(rest)
	if err != nil {
		return err // the header was read once already: not expected
	}
	f.pcap = r
	return nil
}

// refill discards the records consumed from the window and peeks at what br
// holds, reading more so that the next whole record is in it when it fits
// the buffer. It reports whether a record header is there.
func (f *File) refill() bool {
	f.sync()
	h, _ := f.br.Peek(pcapRecordHeader)
	if len(h) < pcapRecordHeader {
		return false
	}
	if n := pcapRecordHeader + int(f.u32(h[8:])); n <= f.br.Size() {
		f.br.Peek(n) // short at the end of the file: nextPcap declines
	}
	f.win, _ = f.br.Peek(f.br.Buffered())
	return true
}

// sync discards the consumed part of the window from br, which pcapgo reads
// when nextPcap declines.
func (f *File) sync() {
	f.br.Discard(f.off)
	f.win, f.off = nil, 0
}

// u32 reads a header field in the file's (pcapng: the section's) byte order.
func (f *File) u32(b []byte) uint32 {
	if f.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (f *File) ngFrame(fr *decode.Frame, ci *gopacket.CaptureInfo) {
	for f.section+1 < len(f.sections) && f.frame >= f.sections[f.section+1].firstFrame {
		f.section++
	}
	idx := ci.InterfaceIndex
	fr.Iface = uint16(idx)
	var iface Interface
	if f.section < len(f.sections) && idx < len(f.sections[f.section].ifaces) {
		iface = f.sections[f.section].ifaces[idx]
	} else if ngi, err := f.ng.Interface(idx); err == nil {
		// Not seen by the first pass (cannot happen for a well-formed file).
		iface = Interface{LinkType: uint16(ngi.LinkType), FCSLen: -1}
	} else {
		iface = Interface{LinkType: uint16(f.ng.LinkType()), FCSLen: -1}
	}
	fr.LinkType = iface.LinkType
	fr.FCSLen = iface.FCSLen
	if ci.Timestamp.IsZero() {
		// A Simple Packet Block has no timestamp: keep capture order.
		fr.TS = f.lastTS
		return
	}
	fr.TS = fixBinaryResolution(ci.Timestamp.UnixNano(), iface.TSResol)
}

// fixBinaryResolution undoes pcapgo's rounding for if_tsresol 2^-n: it scales
// the fraction by the truncated integer 1e9/2^n. The tick count is still
// exact, so rescale it properly.
func fixBinaryResolution(ns int64, tsresol uint8) int64 {
	if tsresol&0x80 == 0 {
		return ns
	}
	n := tsresol & 0x7F
	if n == 0 || n >= 30 { // 2^-30 and finer: pcapgo divides, nothing to recover
		return ns
	}
	scaleUp := int64(1e9) / (int64(1) << n)
	sec := ns / 1e9
	frac := ns % 1e9
	if frac < 0 {
		sec--
		frac += 1e9
	}
	ticks := frac / scaleUp
	return sec*1e9 + ticks*1e9>>n
}

func (f *File) fail(err error) error {
	switch {
	case err == io.EOF:
		f.err = io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		f.err = &FrameError{File: f.name, Frame: f.frame + 1, Err: ErrTruncated}
	default:
		f.err = &FrameError{File: f.name, Frame: f.frame + 1, Err: err}
	}
	return f.err
}

// Close releases the file.
func (f *File) Close() error {
	if f.gz != nil {
		f.gz.Close()
	}
	if f.mapping != nil {
		unmapFile(f.mapping)
		f.mapping, f.mapped = nil, false
	}
	if f.err == nil {
		f.err = io.EOF
	}
	return f.osFile.Close()
}

// ngReaderOptions are pcapgo's options for this file, from the first pass.
func (f *File) ngReaderOptions() pcapgo.NgReaderOptions {
	opts := pcapgo.NgReaderOptions{SkipUnknownVersion: true}
	// Mixed link types must be asked for, or pcapgo silently skips the
	// packets of the other interfaces. It costs an interface conversion
	// per packet (an allocation for link types above 255), so only when
	// needed, or when damage hid part of the file from the first pass.
	opts.WantMixedLinkType = f.mixedLinkTypes() || !f.scanComplete
	return opts
}

func (f *File) mixedLinkTypes() bool {
	var first uint16
	seen := false
	for _, s := range f.sections {
		for _, i := range s.ifaces {
			if !seen {
				first, seen = i.LinkType, true
			} else if i.LinkType != first {
				return true
			}
		}
	}
	return false
}
