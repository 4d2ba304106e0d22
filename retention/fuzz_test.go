package retention

import (
	"bytes"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/klauspost/compress/zstd"
)

// sealedSample returns a small real segment and the log it was built from.
func sealedSample(f *testing.F) (seg, wal []byte) {
	var buf []byte
	g := newGenerator(7, t0, int64(time.Second))
	g.run(30, func(m *decode.Message) {
		var start int
		buf, start = beginRecord(buf)
		buf = appendMessageRecord(buf, m, g.source, 0)
		finishRecord(buf, start)
	}, func(*genCall, *analysis.Call) {})
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	msgs, calls, alerts, err := parseWAL(buf)
	if err != nil {
		f.Fatal(err)
	}
	seg, _ = buildSegment(enc, 1, msgs, calls, alerts)
	return seg, buf
}

// FuzzSegment feeds damaged segments to the reader: it must report errors,
// never panic or allocate without bound.
func FuzzSegment(f *testing.F) {
	seg, _ := sealedSample(f)
	f.Add(seg)
	f.Add(seg[:len(seg)/2])
	dec, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(64<<20))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := openSegment(bytes.NewReader(data), int64(len(data)), dec)
		if err != nil {
			return
		}
		for i := range s.blocks {
			s.block(i)
		}
		for name := range s.sections {
			s.scan(name, func(k, v []byte) error {
				switch name {
				case secCalls:
					decodeCall(v)
				case secAlerts:
					decodeAlert(v)
				}
				return nil
			})
		}
	})
}

// FuzzWAL feeds damaged logs to recovery's parser.
func FuzzWAL(f *testing.F) {
	_, wal := sealedSample(f)
	f.Add(wal)
	f.Add(wal[:len(wal)-3])
	f.Fuzz(func(t *testing.T, data []byte) {
		valid, _ := scanWAL(data, func([]byte) error { return nil })
		if valid > len(data) {
			t.Fatalf("valid prefix %d of %d bytes", valid, len(data))
		}
		parseWAL(data[:valid])
	})
}
