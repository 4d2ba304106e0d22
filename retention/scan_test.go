package retention

import (
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
)

// TestScanAfterCursor reads a store in small batches while it is written
// and sealed: every message exactly once in Ref order with its call's Ref,
// every call record and alert at least once (a partition read from the open
// log is read again once sealed), none missed.
func TestScanAfterCursor(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{Partition: 10 * time.Minute})
	g := newGenerator(7, t0, int64(time.Second))

	var cur Ref
	var cpos, apos RecordPos
	seen := map[Ref]Ref{}
	calls, alerts := map[string]int{}, map[string]int{}
	drain := func() {
		for {
			last := cur
			next, n, st, err := s.ScanMessages(cur, 97, func(m *Message) error {
				if _, dup := seen[m.Ref]; dup {
					t.Fatalf("message %x twice", m.Ref)
				}
				if m.Ref < last {
					t.Fatalf("message %x after %x", m.Ref, last)
				}
				last = m.Ref
				seen[m.Ref] = m.Call
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if st.Skipped != 0 {
				t.Fatalf("skipped %d partitions", st.Skipped)
			}
			cur = next
			var nc, na int
			cpos, nc, err = s.ScanCallRecords(cpos, 13, func(_ Ref, raw []byte, c *analysis.Call) error {
				if d, err := DecodeCallRecord(raw); err != nil || d.ID != c.ID {
					t.Fatalf("raw record: %v %v", d, err)
				}
				calls[c.ID+itoa(int(c.Start))]++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			apos, na, err = s.ScanAlertRecords(apos, 5, func(_ Ref, _ []byte, a *analysis.Alert) error {
				alerts[a.CallID+itoa(int(a.TS))]++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 && nc == 0 && na == 0 {
				if b, _, _, err := s.Backlog(cur); err != nil || b != 0 {
					t.Fatalf("caught up, backlog %d %v", b, err)
				}
				return
			}
		}
	}
	var gen []*genCall
	for round := 0; round < 6; round++ {
		gen = append(gen, fill(t, s, g, 300)...)
		if b, first, newest, err := s.Backlog(cur); err != nil || b != 300*5 || first >= newest {
			t.Fatalf("backlog %d messages (%d..%d), want %d: %v", b, first, newest, 300*5, err)
		}
		drain()
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir, Options{Partition: 10 * time.Minute, ReadOnly: true})
	drain()
	if len(s.Partitions()) < 3 {
		t.Fatalf("only %d sealed partitions: the test must cross seals", len(s.Partitions()))
	}

	msgs := 0
	for _, c := range gen {
		msgs += len(c.refs)
		if calls[c.id+itoa(int(c.start))] == 0 {
			t.Errorf("call %s never read", c.id)
		}
	}
	if len(seen) != msgs {
		t.Errorf("read %d messages, stored %d", len(seen), msgs)
	}
	if len(calls) != len(gen) || len(alerts) != len(gen)/5 {
		t.Errorf("read %d calls, %d alerts; stored %d, %d", len(calls), len(alerts), len(gen), len(gen)/5)
	}
	// Every message carries the Ref of its call's IAM, as QueryCalls' ladders do.
	res, err := s.QueryCalls(Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		for _, m := range r.Ladder {
			if seen[m.Ref] != r.Ref {
				t.Fatalf("message %x: call %x, want %x", m.Ref, seen[m.Ref], r.Ref)
			}
		}
	}
}

// TestScanSkipsRemovedPartitions: partitions retention removed before a
// reader got to them are skipped and counted; reading resumes at the oldest
// retained one.
func TestScanSkipsRemovedPartitions(t *testing.T) {
	opt := Options{RetentionDays: 1, Partition: 6 * time.Hour}
	dir, s := partitionsFor(t, opt, 24*3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	removed := s.Stats().Removed
	parts := s.Partitions()
	if removed < 2 || len(parts) == 0 {
		t.Fatalf("removed %d, kept %d: the test needs removals", removed, len(parts))
	}
	ro := openTest(t, dir, Options{ReadOnly: true})
	// A cursor in partition 1, which retention removed with the ones after it.
	next, n, st, err := ro.ScanMessages(MakeRef(1, 3), 10, func(*Message) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if st.Skipped != int(parts[0].Seq)-2 || n != 10 || next.Seq() != parts[0].Seq {
		t.Errorf("skipped %d partitions (want %d), read %d, next %x (want partition %d)", st.Skipped, parts[0].Seq-2, n, next, parts[0].Seq)
	}
	if b, _, _, err := ro.Backlog(MakeRef(1, 3)); err != nil || b == 0 {
		t.Errorf("backlog from a removed partition: %d %v", b, err)
	}
}
