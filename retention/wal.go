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

// readWAL reads a log file, cutting a torn tail off the file when repair is set.
// It returns the whole-record prefix and how many bytes were cut.
func readWAL(path string, repair bool) ([]byte, int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if !repair {
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	data := make([]byte, st.Size())
	n, err := io.ReadFull(f, data)
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil, 0, err
	}
	data = data[:n]
	valid, err := scanWAL(data, func([]byte) error { return nil })
	if err != nil {
		return nil, 0, err
	}
	cut := int64(len(data) - valid)
	if cut > 0 && repair {
		if err := f.Truncate(int64(valid)); err != nil {
			return nil, 0, err
		}
		if err := f.Sync(); err != nil {
			return nil, 0, err
		}
	}
	return data[:valid], cut, nil
}
