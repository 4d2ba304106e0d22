package retention

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/zstd"
)

func (s *Store) sealCurrent() error {
	// Logs left by a previous run go first: the chain stays in sequence order.
	if err := s.sealLeftovers(); err != nil {
		s.sealPending = true
		return err
	}
	if err := s.writeOut(); err != nil {
		s.sealPending = true
		return err
	}
	log := append(s.chunks, s.buf)
	if err := s.sealSeq(s.curSeq, false, log); err != nil {
		// The partition stays open, its log whole on disk; retry seals it.
		s.sealPending = true
		return err
	}
	s.curFile.Close()
	s.cur, s.curFile, s.sealPending = false, nil, false
	s.releaseLog()
	s.checkpoint("seal", s.curSeq)
	return nil
}

// walCounts sizes a log's contents by walking the frame headers only (the
// parsing pass checks CRCs).
func walCounts(log [][]byte) (msgs, calls, alerts int) {
	for _, data := range log {
		m, c, a := walChunkCounts(data)
		msgs, calls, alerts = msgs+m, calls+c, alerts+a
	}
	return
}

func walChunkCounts(data []byte) (msgs, calls, alerts int) {
	for off := 0; len(data)-off > walHeaderLen; {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		if n == 0 || n > len(data)-off-walHeaderLen {
			break
		}
		switch data[off+walHeaderLen] {
		case recMessage:
			msgs++
		case recCall:
			calls++
		case recAlert:
			alerts++
		}
		off += walHeaderLen + n
	}
	return
}

// walReader walks a log's records: messages one at a time (decoded into w,
// whose slices alias data), calls and alerts collected keyed by call Ref.
// remap renumbers references after damaged records (nil: none).
func walReader(log [][]byte, remap func(Ref) Ref, message func(w *walMessage) error) (calls, alerts []kv, err error) {
	if remap == nil {
		remap = func(r Ref) Ref { return r }
	}
	_, nc, na := walCounts(log)
	calls, alerts = make([]kv, 0, nc), make([]kv, 0, na)
	var w walMessage
	var lastSource string
	var ncall, nalert uint64
	for _, data := range log {
		if _, err = scanWAL(data, func(p []byte) error {
			switch p[0] {
			case recMessage:
				w = walMessage{numbers: w.numbers[:0]}
				if err := decodeMessageRecord(p[1:], &w, &lastSource); err != nil {
					return err
				}
				w.Call = remap(w.Call)
				return message(&w)
			case recCommit:
				return nil // the pipeline's position: not part of the partition's data
			case recCall, recAlert:
				r := reader{b: p[1:]}
				ref := r.uvarint()
				if r.err != nil {
					return r.err
				}
				key := appendUint64BE(make([]byte, 0, 16), uint64(remap(Ref(ref))))
				if p[0] == recCall {
					ncall++
					key = appendUint64BE(key, ncall)
					calls = append(calls, kv{key: key, val: r.b})
				} else {
					nalert++
					key = appendUint64BE(key, nalert)
					alerts = append(alerts, kv{key: key, val: r.b})
				}
			default:
				return errCorrupt
			}
			return nil
		}); err != nil {
			return
		}
	}
	return
}

// parseWAL decodes a whole log (tests and fuzzing; sealing streams).
func parseWAL(data []byte) (msgs []walMessage, calls, alerts []kv, err error) {
	calls, alerts, err = walReader([][]byte{data}, nil, func(w *walMessage) error {
		cp := *w
		cp.numbers = append([]number(nil), w.numbers...)
		msgs = append(msgs, cp)
		return nil
	})
	return
}

// segmentFromWAL encodes a log as a segment block by block.
func segmentFromWAL(enc *zstd.Encoder, seq uint32, log [][]byte, remap func(Ref) Ref) ([]byte, segSummary, error) {
	nm, nc, na := walCounts(log)
	b := newSegBuilder(enc, seq, nm, nc+na)
	rows := make([]walMessage, 0, blockRows)
	slab := make([]number, 0, 4*blockRows)
	calls, alerts, err := walReader(log, remap, func(w *walMessage) error {
		// Numbers go into the block's slab (their digits alias the log).
		start := len(slab)
		slab = append(slab, w.numbers...)
		rows = append(rows, *w)
		rows[len(rows)-1].numbers = slab[start:len(slab):len(slab)]
		if len(rows) == blockRows {
			b.addBlock(rows)
			rows, slab = rows[:0], slab[:0]
		}
		return nil
	})
	if err != nil {
		return nil, segSummary{}, err
	}
	if len(rows) > 0 {
		b.addBlock(rows)
	}
	seg, sum := b.finish(calls, alerts)
	return seg, sum, nil
}

func appendUint64BE(b []byte, v uint64) []byte {
	return append(b, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// sealSeq turns the log of partition seq into a segment, manifest and chain
// link. log is the log as the writer kept it in memory; nil reads the file
// (recovery), cutting a torn tail.
func (s *Store) sealSeq(seq uint32, recovering bool, log [][]byte) error {
	var skipped int
	if log == nil {
		data, rep, err := readWAL(walPath(s.dir, seq), true)
		if err != nil {
			return err
		}
		if rep.Tail > 0 {
			s.stats.TornBytes += rep.Tail
			s.opt.Logf("retention: partition %d: cut %d bytes of torn log tail", seq, rep.Tail)
		}
		for _, d := range rep.Damage {
			if d.Fixed {
				s.opt.Logf("retention: partition %d: log record at offset %d had a damaged length; its payload matches its checksum and is kept", seq, d.Off)
				continue
			}
			lost := "an unknown number of"
			if d.Lost >= 0 {
				lost = fmt.Sprint(d.Lost)
			}
			s.opt.Logf("retention: partition %d: damaged log records at offset %d (%d bytes) fail their checksum: skipped (%s messages lost); reading resumes at offset %d",
				seq, d.Off, d.Bytes, lost, d.Off+int64(d.Bytes))
		}
		recs, bytes := rep.Skipped()
		skipped = recs
		s.stats.SkippedRecords += uint64(recs)
		s.stats.SkippedBytes += int64(bytes)
		if len(rep.Damage) > 0 {
			s.gaps[seq] = walGaps(rep.Damage)
		}
		if recovering {
			s.opt.Logf("retention: recovering partition %d from its log (%d bytes)", seq, len(data))
		}
		log = [][]byte{data}
	}
	p, head, err := s.sealFiles(seq, log, s.head.Manifest, skipped)
	if err != nil || p == nil {
		return err
	}
	s.sealCommit(p, head)
	return nil
}

// sealFiles writes partition seq's segment, manifest (linked to prev) and
// CHAIN from its log, and removes the log file. It changes no Store state,
// so a background seal runs it without the writer's lock. A nil partition
// means the log held no records (its file is removed).
func (s *Store) sealFiles(seq uint32, log [][]byte, prev string, skipped int) (*partInfo, chainHead, error) {
	var head chainHead
	if nm, nc, na := walCounts(log); nm+nc+na == 0 {
		return nil, head, os.Remove(walPath(s.dir, seq))
	}
	seg, sum, err := segmentFromWAL(s.enc, seq, log, s.remapRef)
	if err != nil {
		return nil, head, fmt.Errorf("retention: partition %d log: %w", seq, err)
	}
	// Until CHAIN names it, a half-written partition is taken back, so a
	// retry (or the next Open) starts from the log again.
	sealed := false
	defer func() {
		if !sealed {
			os.Remove(segPath(s.dir, seq))
			os.Remove(manifestPath(s.dir, seq))
		}
	}()
	if err := s.writeFile(segPath(s.dir, seq), seg); err != nil {
		return nil, head, fmt.Errorf("retention: sealing partition %d: %w", seq, err)
	}
	m := Manifest{
		Seq: seq, MinTS: sum.MinTS, MaxTS: sum.MaxTS, Messages: sum.Messages, Calls: sum.Calls, Alerts: sum.Alerts,
		Bytes: int64(len(seg)), SHA256: sha256Hex(seg), Prev: prev, Skipped: skipped,
		Sealed: time.Now().UTC().Format(time.RFC3339),
	}
	mb, _ := json.MarshalIndent(m, "", "  ")
	mb = append(mb, '\n')
	if err := s.writeFile(manifestPath(s.dir, seq), mb); err != nil {
		return nil, head, fmt.Errorf("retention: sealing partition %d: %w", seq, err)
	}
	head = chainHead{Seq: seq, Manifest: sha256Hex(mb)}
	hb, _ := json.Marshal(head)
	if err := s.writeFile(filepath.Join(s.dir, chainFile), hb); err != nil {
		return nil, head, fmt.Errorf("retention: sealing partition %d: %w", seq, err)
	}
	sealed = true
	os.Remove(walPath(s.dir, seq))
	if !s.opt.NoSync {
		_ = syncDir(s.dir)
	}
	if err := s.addNumberEntry(seq, m.SHA256, sum.numKeys, sum.numFilter); err != nil {
		s.opt.Logf("retention: number index of partition %d not written (lookups read its segment; rebuilt at the next start): %v", seq, err)
	}
	return &partInfo{Manifest: m, hash: head.Manifest}, head, nil
}

// sealCommit makes a sealed partition the chain head. Called with mu held.
func (s *Store) sealCommit(p *partInfo, head chainHead) {
	s.head = head
	s.parts = append(s.parts, *p)
	s.newest = max(s.newest, p.MaxTS)
	s.stats.Sealed++
}

// writeFile writes a file atomically: temporary file, fsync, rename; a
// failed attempt leaves nothing behind.
func (s *Store) writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := s.opt.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && !s.opt.NoSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// remapRef renumbers a reference into a partition whose log lost records on
// recovery (see walGaps). Recovery seals logs oldest first, so a later log's
// references into an earlier damaged one are renumbered too.
func (s *Store) remapRef(r Ref) Ref {
	if g, ok := s.gaps[r.Seq()]; ok {
		return g.remap(r.Seq(), r)
	}
	return r
}
