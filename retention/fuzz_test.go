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

// FuzzOpenLog feeds damaged records, correctly framed (as a writer with a bug
// or a crafted log would leave them), to the open partition's index and
// reader: errors, never a panic. The input is a sequence of [u16 length][payload].
func FuzzOpenLog(f *testing.F) {
	_, wal := sealedSample(f)
	var seed []byte
	scanWAL(wal, func(p []byte) error {
		seed = append(seed, byte(len(p)), byte(len(p)>>8))
		seed = append(seed, p...)
		return nil
	})
	f.Add(seed)
	call := append([]byte{recCall}, appendUvarint(nil, uint64(MakeRef(1, 0)))...)
	f.Add(append(append([]byte{byte(len(call)), 0}, call...), seed...))
	f.Fuzz(func(t *testing.T, data []byte) {
		var log []byte
		for len(data) >= 2 {
			n := min(int(data[0])|int(data[1])<<8, len(data)-2)
			var start int
			log, start = beginRecord(log)
			log = append(log, data[2:2+n]...)
			finishRecord(log, start)
			data = data[2+n:]
		}
		ci, err := buildChunkIndex(1, log, 0)
		if err != nil {
			return
		}
		p := &memPart{seq: 1, data: [][]byte{log}, idx: []*chunkIndex{ci}}
		keep := func(k, v []byte) error { return nil }
		for i := range ci.msgOff {
			if m, err := p.message(uint32(i)); err == nil {
				p.lookup(secLadders, refKey(m.Ref), keep)
			}
		}
		for _, ps := range ci.posts {
			p.lookup(secCalls, refKey(ps.call), keep)
		}
		p.lookup(secNumbers, []byte("13800138000"), keep)
		for _, sec := range []string{secLadders, secCalls, secAlerts} {
			p.scan(sec, keep)
		}
	})
}
