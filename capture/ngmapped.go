package capture

import (
	"bytes"
	"encoding/binary"
	"io"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/gatewarden/gatewarden/decode"
)

// More pcapng block types and options (the pcapng specification,
// draft-ietf-opsawg-pcapng), for the mapped fast path.
const (
	ngBlockNameResolution = 0x00000004
	ngBlockIfStats        = 0x00000005
	ngOptIfTSOffset       = 14

	// Fixed parts of the blocks read here, in octets.
	ngBlockMin = 12 // type, total length, trailing total length
	ngSHBMin   = 28 // + byte-order magic, version, section length
	ngIDBMin   = 20 // + link type, reserved, snap length
	ngEPBMin   = 32 // + interface, timestamp (2), captured and original length

	// ngMaxSeconds bounds the timestamps converted here: nanoseconds since
	// 1970 stay within an int64 (to 2255); later ones go through pcapgo.
	ngMaxSeconds = 9e9
)

// memReader reads a mapped file for scanNgSections, without copying.
type memReader struct {
	b   []byte
	off int
}

func (m *memReader) Peek(n int) ([]byte, error) {
	if left := len(m.b) - m.off; n > left {
		return m.b[m.off:], io.EOF
	}
	return m.b[m.off : m.off+n], nil
}

func (m *memReader) Discard(n int) (int, error) {
	if left := len(m.b) - m.off; n > left {
		m.off = len(m.b)
		return left, io.EOF
	}
	m.off += n
	return n, nil
}

// u16 reads a pcapng field in the section's byte order.
func (f *File) u16(b []byte) uint16 {
	if f.bigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

// nextMappedNg reads the next Enhanced Packet Block of a mapped pcapng file
// straight out of the mapping. It takes only what pcapgo would read without
// error and to the same frame — the first section header, interface blocks
// with microsecond or nanosecond timestamps and no offset, packet blocks with
// well-formed options, blocks pcapgo skips — and declines the rest (a second
// section, statistics, name resolution, simple or obsolete packet blocks,
// anything malformed), which pcapgo then reads from that block on.
func (f *File) nextMappedNg(fr *decode.Frame) bool {
	for {
		rest := f.mapping[f.off:]
		if len(rest) < ngBlockMin {
			return false
		}
		if f.ngSHB == nil {
			if !f.mappedSHB(rest) {
				return false
			}
			continue
		}
		typ, total := f.u32(rest), int(f.u32(rest[4:]))
		if total < ngBlockMin || total%4 != 0 || total > len(rest) {
			return false
		}
		block := rest[:total]
		switch typ {
		case ngBlockEnhancedPacket:
			return f.mappedEPB(fr, block)
		case ngBlockIDB:
			if !f.mappedIDB(block) {
				return false
			}
		case magicPcapNG, ngBlockNameResolution, ngBlockIfStats, ngBlockSimplePacket, ngBlockPacket:
			return false
		}
		// Other block types pcapgo skips too.
		f.off += total
	}
}

// mappedSHB takes the file's first section header (pcapgo has read it once,
// at open) if it is version 1.0.
func (f *File) mappedSHB(b []byte) bool {
	if f.off != 0 || len(b) < ngSHBMin || binary.LittleEndian.Uint32(b) != magicPcapNG {
		return false
	}
	switch {
	case binary.LittleEndian.Uint32(b[8:]) == ngBOM:
		f.bigEndian = false
	case binary.BigEndian.Uint32(b[8:]) == ngBOM:
		f.bigEndian = true
	default:
		return false
	}
	total := int(f.u32(b[4:]))
	if total < ngSHBMin || total%4 != 0 || total > len(b) || f.u16(b[12:]) != 1 || f.u16(b[14:]) != 0 {
		return false
	}
	f.ngSHB = b[:total]
	f.off += total
	return true
}

// mappedIDB takes an interface description whose timestamps convert as
// plainly here as in pcapgo.
func (f *File) mappedIDB(b []byte) bool {
	if len(b) < ngIDBMin || !f.ngOptionsOK(b[16:len(b)-4], func(code uint16, v []byte) bool {
		switch code {
		case ngOptIfTSResol:
			return v[0] == 0 || v[0] == 6 || v[0] == 9
		case ngOptIfTSOffset:
			return len(v) < 8 || f.u32(v) == 0 && f.u32(v[4:]) == 0
		}
		return true
	}) {
		return false
	}
	// The first pass described it (unless damage ended that pass first).
	if len(f.sections) == 0 || len(f.ngIDBs) >= len(f.sections[0].ifaces) {
		return false
	}
	f.ngIDBs = append(f.ngIDBs, b)
	return true
}

// mappedEPB delivers an Enhanced Packet Block.
func (f *File) mappedEPB(fr *decode.Frame, b []byte) bool {
	if len(b) < ngEPBMin {
		return false
	}
	idx := f.u32(b[8:])
	capLen := int(f.u32(b[20:]))
	dataEnd := 28 + capLen
	if idx >= uint32(len(f.ngIDBs)) || capLen > len(b) || dataEnd+(-capLen&3) > len(b)-4 {
		return false
	}
	if !f.ngOptionsOK(b[dataEnd+(-capLen&3):len(b)-4], nil) {
		return false
	}
	iface := &f.sections[0].ifaces[idx]
	ts := uint64(f.u32(b[12:]))<<32 | uint64(f.u32(b[16:]))
	var ns int64
	if iface.TSResol == 9 {
		if ts/1e9 >= ngMaxSeconds {
			return false
		}
		ns = int64(ts)
	} else { // microseconds (6, or 0: the default)
		if ts/1e6 >= ngMaxSeconds {
			return false
		}
		ns = int64(ts) * 1000
	}
	f.off += len(b)
	f.frame++
	*fr = decode.Frame{TS: ns, LinkType: iface.LinkType, Frame: f.frame, FCSLen: iface.FCSLen,
		Iface: uint16(idx), Source: fr.Source, Data: b[28:dataEnd:dataEnd]}
	f.lastTS = ns
	return true
}

// ngOptionsOK walks an options area strictly — each option within it, an
// end-of-options of length zero, nothing but padding after — and asks ok (if
// not nil) about each option with a value. pcapgo reads such an area without
// error.
func (f *File) ngOptionsOK(b []byte, ok func(code uint16, v []byte) bool) bool {
	for len(b) > 0 {
		if len(b) < 4 {
			return false
		}
		code, n := f.u16(b), int(f.u16(b[2:]))
		if code == ngOptEnd {
			return n == 0
		}
		padded := 4 + (n+3)&^3
		if padded > len(b) {
			return false
		}
		if n > 0 && ok != nil && !ok(code, b[4:4+n]) {
			return false
		}
		b = b[padded:]
	}
	return true
}

// unmappedNg hands a mapped pcapng file over to pcapgo at the block where
// nextMappedNg declined: the section header and interface blocks read so
// far, then the rest of the mapping, so that pcapgo knows the interfaces.
func (f *File) unmappedNg() error {
	var rest io.Reader = bytes.NewReader(f.mapping[f.off:])
	if f.ngSHB != nil {
		parts := []io.Reader{bytes.NewReader(f.ngSHB)}
		for _, b := range f.ngIDBs {
			parts = append(parts, bytes.NewReader(b))
		}
		rest = io.MultiReader(append(parts, rest)...)
	}
	f.mapped = false
	r, err := pcapgo.NewNgReader(rest, f.ngReaderOptions())
	if err != nil {
		return err
	}
	f.ng = r
	return nil
}
