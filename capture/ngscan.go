package capture

import (
	"bufio"
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

// scanNgSections returns the sections found and whether the scan reached a
// clean end of file.
func scanNgSections(br *bufio.Reader) (sections []ngSection, complete bool) {
	var (
		order  binary.ByteOrder = binary.LittleEndian
		hdr    [12]byte
		body   []byte
		frames uint64
	)
	for {
		if n, err := io.ReadFull(br, hdr[:8]); err != nil {
			return sections, n == 0 && err == io.EOF
		}
		typ := order.Uint32(hdr[0:4])
		if typ == magicPcapNG {
			if _, err := io.ReadFull(br, hdr[8:12]); err != nil {
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
			if _, err := br.Discard(int(total) - 12); err != nil {
				return sections, false
			}
			sections = append(sections, ngSection{firstFrame: frames + 1})
			continue
		}
		total := order.Uint32(hdr[4:8])
		if total < 12 || total%4 != 0 || len(sections) == 0 {
			return sections, false
		}
		rest := int(total) - 8
		switch typ {
		case ngBlockEnhancedPacket, ngBlockSimplePacket, ngBlockPacket:
			frames++
			if _, err := br.Discard(rest); err != nil {
				return sections, false
			}
		case ngBlockIDB:
			if rest > 1<<16 {
				return sections, false // no real IDB is this large
			}
			if cap(body) < rest {
				body = make([]byte, rest)
			}
			body = body[:rest]
			if _, err := io.ReadFull(br, body); err != nil {
				return sections, false
			}
			s := &sections[len(sections)-1]
			s.ifaces = append(s.ifaces, parseIDB(body[:rest-4], order))
		default:
			if _, err := br.Discard(rest); err != nil {
				return sections, false
			}
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
