package retention

import (
	"encoding/binary"
	"hash/crc32"
	"io"
	"os"
)

// Write-ahead log of the open partition. Each record is framed as
// [u32 length][u32 CRC-32C of payload][payload], so a torn tail (a write cut by
// a crash) is recognised on open and cut off at the last whole record.

const (
	recMessage = 1
	recCall    = 2
	recAlert   = 3
)

const walHeaderLen = 8

// maxRecordLen bounds one record: an MTP3 message is at most 272 bytes on a
// classic link and a few KB over SIGTRAN; calls and alerts are smaller.
const maxRecordLen = 1 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// beginRecord reserves a frame header; finishRecord fills it in.
func beginRecord(b []byte) ([]byte, int) {
	start := len(b)
	return append(b, 0, 0, 0, 0, 0, 0, 0, 0), start
}

func finishRecord(b []byte, start int) {
	payload := b[start+walHeaderLen:]
	binary.LittleEndian.PutUint32(b[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(payload, castagnoli))
}

// scanWAL calls fn with each whole record's payload (valid only during the
// call) and returns the length of the valid prefix of data.
func scanWAL(data []byte, fn func(payload []byte) error) (int, error) {
	off := 0
	for len(data)-off >= walHeaderLen {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		sum := binary.LittleEndian.Uint32(data[off+4:])
		if n == 0 || n > maxRecordLen || len(data)-off-walHeaderLen < n {
			break
		}
		payload := data[off+walHeaderLen : off+walHeaderLen+n]
		if crc32.Checksum(payload, castagnoli) != sum {
			break
		}
		if err := fn(payload); err != nil {
			return off, err
		}
		off += walHeaderLen + n
	}
	return off, nil
}

// frameAt reports the payload length of a whole, checksummed record at off.
func frameAt(data []byte, off int) (int, bool) {
	if len(data)-off < walHeaderLen {
		return 0, false
	}
	n := int(binary.LittleEndian.Uint32(data[off:]))
	if n == 0 || n > maxRecordLen || len(data)-off-walHeaderLen < n {
		return 0, false
	}
	p := data[off+walHeaderLen : off+walHeaderLen+n]
	return n, crc32.Checksum(p, castagnoli) == binary.LittleEndian.Uint32(data[off+4:])
}

// nextFrame is the offset of the first whole, valid record after off, where
// recovery resynchronises past damage; -1 if none follows (a torn tail).
func nextFrame(data []byte, off int) int {
	for p := off + 1; p+walHeaderLen < len(data); p++ {
		if _, ok := frameAt(data, p); ok {
			return p
		}
	}
	return -1
}

// walDamage is one damaged stretch of a log that recovery skipped (or, when
// only the length field was hit, repaired).
type walDamage struct {
	Off   int64  // byte offset of the first damaged byte in the log file
	Bytes int    // length of the damaged stretch
	Ord   uint32 // ordinal the next message had when it was written
	Lost  int    // messages lost in it; -1 when it cannot be told
	Recs  int    // records lost in it (at least 1 unless repaired)
	Fixed bool   // the record's length was damaged, its payload matches its checksum: kept
}

// walReport is what reading a log found besides its records.
type walReport struct {
	Tail   int64 // bytes of a torn tail (no whole record after them)
	Damage []walDamage
}

// Skipped counts the records recovery could not keep.
func (r *walReport) Skipped() (recs, bytes int) {
	for _, d := range r.Damage {
		if !d.Fixed {
			recs += max(d.Recs, 1)
			bytes += d.Bytes
		}
	}
	return
}

// resyncWAL walks a log, and where a record fails its checksum, scans
// forward for the next whole record and continues from there. clean is the
// log's records without the damaged ones (data itself when nothing was
// damaged). Message ordinals are counted as written, so that references
// after a gap can be renumbered (see walGaps).
func resyncWAL(data []byte) (clean []byte, rep walReport) {
	off := 0
	var ord uint32
	good := 0 // start of the run of whole records being copied
	for off < len(data) {
		if n, ok := frameAt(data, off); ok {
			if data[off+walHeaderLen] == recMessage {
				ord++
			}
			off += walHeaderLen + n
			continue
		}
		next := nextFrame(data, off)
		if next < 0 {
			rep.Tail = int64(len(data) - off)
			break
		}
		clean = append(clean, data[good:off]...)
		d := walDamage{Off: int64(off), Bytes: next - off, Ord: ord}
		d.Lost, d.Recs = lostInSpan(data[off:next])
		if d.Recs == 1 && d.Lost < 0 {
			// One stretch that is exactly one payload under a damaged length
			// field: the payload still matches its checksum.
			if p := data[off+walHeaderLen : next]; len(p) > 0 && len(data)-off >= walHeaderLen &&
				crc32.Checksum(p, castagnoli) == binary.LittleEndian.Uint32(data[off+4:]) {
				d.Fixed, d.Lost, d.Recs = true, 0, 0
				var hdr [walHeaderLen]byte
				binary.LittleEndian.PutUint32(hdr[:], uint32(len(p)))
				copy(hdr[4:], data[off+4:off+8])
				clean = append(append(clean, hdr[:]...), p...)
				if p[0] == recMessage {
					ord++
				}
			}
		}
		if d.Lost > 0 {
			ord += uint32(d.Lost)
		}
		rep.Damage = append(rep.Damage, d)
		off, good = next, next
	}
	if rep.Damage == nil {
		return data[:len(data)-int(rep.Tail)], rep
	}
	return append(clean, data[good:len(data)-int(rep.Tail)]...), rep
}

// lostInSpan tells how many records, and of them messages, a damaged stretch
// held: when the length fields chain exactly across it, each record's kind
// byte (or, if that byte is damaged, whether the payload parses as a message)
// says. Otherwise it is one record of unknown kind (lost -1, recs 1).
func lostInSpan(span []byte) (lost, recs int) {
	off := 0
	for off+walHeaderLen < len(span) {
		n := int(binary.LittleEndian.Uint32(span[off:]))
		if n == 0 || n > len(span)-off-walHeaderLen {
			break
		}
		p := span[off+walHeaderLen : off+walHeaderLen+n]
		switch {
		case p[0] == recMessage:
			lost++
		case isRecordKind(p[0]):
		default:
			var w walMessage
			var src string
			if decodeMessageRecord(p[1:], &w, &src) != nil {
				return -1, recs + 1
			}
			lost++
		}
		recs++
		off += walHeaderLen + n
	}
	if off != len(span) {
		return -1, 1
	}
	return lost, recs
}

func isRecordKind(k byte) bool {
	return k == recMessage || k == recCall || k == recAlert || k == recCommit
}

// walGaps renumbers references into a partition whose log lost messages:
// a reference to a lost message becomes 0, one to a later message moves down
// by the number lost before it, and after a gap of unknown size every
// reference at or beyond it becomes 0 (unlinked rather than linked wrongly).
type walGaps []walDamage

func (g walGaps) remap(seq uint32, r Ref) Ref {
	if len(g) == 0 || r == 0 || r.Seq() != seq {
		return r
	}
	ord, shift := r.Ord(), uint32(0)
	for _, d := range g {
		if d.Fixed || d.Lost == 0 || ord < d.Ord {
			continue
		}
		if d.Lost < 0 || ord < d.Ord+uint32(d.Lost) {
			return 0
		}
		shift += uint32(d.Lost)
	}
	return MakeRef(seq, ord-shift)
}

// readWAL reads a log file. With repair, a torn tail is cut off the file;
// damaged records in the middle are skipped (see resyncWAL), and the file
// is left as it is (sealing replaces it).
func readWAL(path string, repair bool) ([]byte, walReport, error) {
	var rep walReport
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if !repair {
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, rep, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, rep, err
	}
	data := make([]byte, st.Size())
	n, err := io.ReadFull(f, data)
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil, rep, err
	}
	data = data[:n]
	clean, rep := resyncWAL(data)
	if rep.Tail > 0 && repair {
		if err := f.Truncate(int64(len(data)) - rep.Tail); err != nil {
			return nil, rep, err
		}
		if err := f.Sync(); err != nil {
			return nil, rep, err
		}
	}
	return clean, rep, nil
}
