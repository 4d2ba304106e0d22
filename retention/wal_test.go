package retention

import (
	"encoding/binary"
	"os"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/decode"
)

// openWAL fills a store with about 80 000 messages in one hour and leaves
// its log as a crashed writer would (flushed, not sealed).
func openWAL(t *testing.T) (dir string, calls []*genCall, data []byte) {
	t.Helper()
	dir = t.TempDir()
	s := openTest(t, dir, Options{})
	calls = fill(t, s, newGenerator(21, t0+int64(30*time.Minute), int64(time.Hour)/20000), 16000)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	close(s.stop)
	<-s.done
	s.release()
	data, err := os.ReadFile(walPath(dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	return dir, calls, data
}

// messageRecordAfter returns the offset of the first message record at or
// after off, and the message it holds.
func messageRecordAfter(t *testing.T, data []byte, at int) (int, walMessage) {
	off := 0
	for {
		n, ok := frameAt(data, off)
		if !ok {
			t.Fatalf("no message record after %d", at)
		}
		if off >= at && data[off+walHeaderLen] == recMessage {
			var w walMessage
			var src string
			if err := decodeMessageRecord(data[off+walHeaderLen+1:off+walHeaderLen+n], &w, &src); err != nil {
				t.Fatal(err)
			}
			return off, w
		}
		off += walHeaderLen + n
	}
}

func totalMessages(calls []*genCall) (n int) {
	for _, c := range calls {
		n += len(c.refs)
	}
	return
}

// without drops the call that holds the message with frame number frame.
func without(calls []*genCall, frame uint64) (rest []*genCall, dropped int) {
	for _, c := range calls {
		hit := false
		for _, r := range c.refs {
			hit = hit || r.frame == frame
		}
		if hit {
			dropped++
			continue
		}
		rest = append(rest, c)
	}
	return
}

func recoverDamaged(t *testing.T, dir string) (*Store, Stats) {
	t.Helper()
	s := openTest(t, dir, Options{})
	st := s.Stats()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := Verify(dir); err != nil || !v.OK() {
		t.Fatalf("verify after recovery: %+v %v", v, err)
	}
	return r, st
}

// A flipped bit in the middle of an open log costs the one record it hit:
// every message before and after it is kept and still linked to its call.
func TestDamagedLogRecordSkipped(t *testing.T) {
	dir, calls, data := openWAL(t)
	total := totalMessages(calls)
	off, lost := messageRecordAfter(t, data, len(data)/2)
	data[off+walHeaderLen+20] ^= 0x10 // inside the payload
	if err := os.WriteFile(walPath(dir, 1), data, 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p := v.Problems; v.OK() || len(p) != 2 || p[1].Seq != 1 || p[1].Kind != "damaged" || p[1].Offset != int64(off) {
		t.Fatalf("verify before recovery: %+v", v.Problems)
	}
	r, st := recoverDamaged(t, dir)
	if st.SkippedRecords != 1 || st.TornBytes != 0 {
		t.Fatalf("stats: %+v", st)
	}
	parts := r.Partitions()
	if len(parts) != 1 || parts[0].Messages != total-1 || parts[0].Skipped != 1 {
		t.Fatalf("partitions %+v, want one of %d messages", parts, total-1)
	}
	t.Logf("%d of %d messages kept after one flipped bit at offset %d of %d", parts[0].Messages, total, off, len(data))
	rest, dropped := without(calls, lost.Frame)
	if dropped != 1 {
		t.Fatalf("lost message in %d calls", dropped)
	}
	checkAll(t, r, rest)
}

// A flipped bit in a record's length field: the payload still matches its
// checksum, so nothing is lost.
func TestDamagedLogLengthRepaired(t *testing.T) {
	dir, calls, data := openWAL(t)
	off, _ := messageRecordAfter(t, data, len(data)/3)
	data[off+2] ^= 0x04
	if err := os.WriteFile(walPath(dir, 1), data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, st := recoverDamaged(t, dir)
	if st.SkippedRecords != 0 {
		t.Fatalf("stats: %+v", st)
	}
	if p := r.Partitions(); len(p) != 1 || p[0].Messages != totalMessages(calls) {
		t.Fatalf("partitions %+v", p)
	}
	checkAll(t, r, calls)
}

// A zeroed 4 KiB block: the records whose bounds it hides are lost; every
// record after it is kept, and calls wholly before it stay linked.
func TestDamagedLogBlockZeroed(t *testing.T) {
	dir, calls, data := openWAL(t)
	total := totalMessages(calls)
	at := len(data) / 2
	first, firstMsg := messageRecordAfter(t, data, at-8192)
	clear(data[at : at+4096])
	if err := os.WriteFile(walPath(dir, 1), data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, st := recoverDamaged(t, dir)
	p := r.Partitions()
	if len(p) != 1 || st.SkippedRecords == 0 || p[0].Messages < total-60 || p[0].Messages >= total {
		t.Fatalf("stats %+v partitions %+v (of %d)", st, p, total)
	}
	t.Logf("%d of %d messages kept after a zeroed 4 KiB block", p[0].Messages, total)
	// Calls that ended before the damage are intact.
	var before []*genCall
	for _, c := range calls {
		if c.refs[len(c.refs)-1].frame < firstMsg.Frame {
			before = append(before, c)
		}
	}
	if len(before) < 1000 {
		t.Fatalf("%d calls before offset %d", len(before), first)
	}
	checkAll(t, r, before)
	// The last message of the log is still there.
	last := calls[len(calls)-1]
	res, err := r.QueryCalls(Query{Numbers: []string{last.calling}})
	if err != nil || len(res) == 0 {
		t.Fatalf("last call after the damage: %v %v", res, err)
	}
}

func TestResyncTornTailOnly(t *testing.T) {
	var log []byte
	g := newGenerator(22, t0, int64(time.Second))
	g.run(10, func(m *decode.Message) {
		var start int
		log, start = beginRecord(log)
		log = appendMessageRecord(log, m, g.source, 0)
		finishRecord(log, start)
	}, func(*genCall, *analysis.Call) {})
	whole := len(log)
	log = binary.LittleEndian.AppendUint32(log, 200)
	log = append(log, 1, 2, 3, 4, recMessage)
	clean, rep := resyncWAL(log)
	if len(clean) != whole || rep.Tail != 9 || len(rep.Damage) != 0 {
		t.Fatalf("clean %d of %d, report %+v", len(clean), whole, rep)
	}
}

// A crash during a seal: after CHAIN named the new partition but before its
// log was removed, or before CHAIN was written. Either way the next Open
// ends with each partition sealed once and verify passes.
func TestInterruptedSealCompleted(t *testing.T) {
	for _, committed := range []bool{true, false} {
		dir := t.TempDir()
		s := openTest(t, dir, Options{})
		calls := fill(t, s, newGenerator(23, t0+int64(30*time.Minute), int64(time.Second)), 200)
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		wal, _ := os.ReadFile(walPath(dir, 1))
		cps, _ := os.ReadFile(dir + "/" + checkpointFile)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(walPath(dir, 1), wal, 0o644) // the log was not removed yet
		if !committed {                           // CHAIN (the first) and the seal's checkpoint were not written yet
			os.Remove(dir + "/" + chainFile)
			os.WriteFile(dir+"/"+checkpointFile, cps, 0o644)
		}
		s = openTest(t, dir, Options{})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if p := s.Partitions(); len(p) != 1 {
			t.Fatalf("committed=%v: %d partitions", committed, len(p))
		}
		if v, err := Verify(dir); err != nil || !v.OK() {
			t.Fatalf("committed=%v: verify %+v %v", committed, v, err)
		}
		r, _ := Open(dir, Options{ReadOnly: true})
		checkAll(t, r, calls)
	}
}
