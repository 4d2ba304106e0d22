package capture

import (
	"encoding/binary"
	"io"
	"math"
)

// pcapng block types and interface options used by the first pass.
const (
	ngBlockIDB            = 0x00000001
	ngBlockPacket         = 0x00000002 // obsolete Packet Block
	ngBlockSimplePacket   = 0x00000003
	ngBlockEnhancedPacket = 0x00000006
	ngBOM                 = 0x1A2B3C4D

	ngOptEnd       = 0
	ngOptIfName    = 2
	ngOptIfTSResol = 9
	ngOptIfFCSLen  = 13
)

// prescan walks the pcapng block structure once (a second open of the same
// file) to learn each section's interfaces with what pcapgo does not expose:
// if_fcslen and the raw if_tsresol. It counts packet records so that a frame
// number tells its section. A damaged file just ends the scan; the real read
// reports the damage with its frame number.
func (f *File) prescan() error {
	// ReadAt leaves the main read's offset alone, and works for standard
	// input spooled to an unlinked file too.
	br, gz, err := openStream(io.NewSectionReader(f.osFile, 0, math.MaxInt64))
	if err != nil {
		return err
	}
	if gz != nil {
		defer gz.Close()
	}
	f.sections, f.scanComplete = scanNgSections(br)
	return nil
}

// blockReader is what scanNgSections reads from: a bufio.Reader over the
// file, or a memReader over its mapping. Peek's bytes stay valid until the
// next call.
type blockReader interface {
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
}

// maxScannedIDB bounds an Interface Description Block the first pass reads
// (no real one is this large; it fits the read buffer).
const maxScannedIDB = 1 << 16

// scanNgSections returns the sections found and whether the scan reached a
// clean end of file.
func scanNgSections(br blockReader) (sections []ngSection, complete bool) {
	var (
		order  binary.ByteOrder = binary.LittleEndian
		frames uint64
	)
	for {
		hdr, err := br.Peek(8)
		if len(hdr) < 8 {
			return sections, len(hdr) == 0 && err == io.EOF
		}
		typ := order.Uint32(hdr[0:4])
		if typ == magicPcapNG {
			if hdr, _ = br.Peek(12); len(hdr) < 12 {
				return sections, false
			}
			switch {
			case binary.LittleEndian.Uint32(hdr[8:12]) == ngBOM:
				order = binary.LittleEndian
			case binary.BigEndian.Uint32(hdr[8:12]) == ngBOM:
				order = binary.BigEndian
			default:
				return sections, false
			}
			total := order.Uint32(hdr[4:8])
			if total < 28 || total%4 != 0 {
				return sections, false
			}
			if _, err := br.Discard(int(total)); err != nil {
				return sections, false
			}
			sections = append(sections, ngSection{firstFrame: frames + 1})
			continue
		}
		total := int(order.Uint32(hdr[4:8]))
		if total < 12 || total%4 != 0 || len(sections) == 0 {
			return sections, false
		}
		switch typ {
		case ngBlockEnhancedPacket, ngBlockSimplePacket, ngBlockPacket:
			frames++
		case ngBlockIDB:
			if total-8 > maxScannedIDB {
				return sections, false
			}
			block, _ := br.Peek(total)
			if len(block) < total {
				return sections, false
			}
			s := &sections[len(sections)-1]
			s.ifaces = append(s.ifaces, parseIDB(block[8:total-4], order))
		}
		if _, err := br.Discard(total); err != nil {
			return sections, false
		}
	}
}

// parseIDB reads an Interface Description Block body (without the trailing
// length word).
func parseIDB(b []byte, order binary.ByteOrder) Interface {
	iface := Interface{FCSLen: -1}
	if len(b) < 8 {
		return iface
	}
	iface.LinkType = order.Uint16(b[0:2])
	opts := b[8:]
	for len(opts) >= 4 {
		code := order.Uint16(opts[0:2])
		n := int(order.Uint16(opts[2:4]))
		opts = opts[4:]
		if code == ngOptEnd || n > len(opts) {
			break
		}
		val := opts[:n]
		switch code {
		case ngOptIfName:
			iface.Name = string(val)
		case ngOptIfTSResol:
			if n >= 1 {
				iface.TSResol = val[0]
			}
		case ngOptIfFCSLen:
			if n >= 1 && val[0] <= 127 {
				iface.FCSLen = int8(val[0])
			}
		}
		padded := (n + 3) &^ 3
		if padded > len(opts) {
			break
		}
		opts = opts[padded:]
	}
	return iface
}
