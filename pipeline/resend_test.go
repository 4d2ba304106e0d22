package pipeline_test

import (
	"path/filepath"
	"testing"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/pipeline"
	"github.com/gatewarden/gatewarden/retention"
)

// TestUndeliveredAfterRestart commits the scenario capture's alerts while
// no sink acknowledges them, closes the store without a later commit (as a
// kill leaves it), and restores a new pipeline: it hands back every
// committed alert after a cursor, with the sequence it was delivered under,
// and keeps the numbering going. Once every sink acknowledged them, a commit
// keeps none.
func TestUndeliveredAfterRestart(t *testing.T) {
	frames := scenarioFrames(t)
	g, err := pipeline.LoadGeneration("../pcaps/scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "store")
	st, err := retention.Open(dir, retention.Options{NoSync: true, MinFreeBytes: -1, Committed: true})
	if err != nil {
		t.Fatal(err)
	}
	var sent []string
	var seqs []uint64
	acked := uint64(0)
	cfg := pipeline.Config{Gen: g, Store: st, Source: func(uint16) string { return "scenarios.pcap" },
		Acked: func() uint64 { return acked },
		OnAlertSeq: func(seq uint64, a *analysis.Alert) {
			sent = append(sent, string(analysis.AppendAlertJSON(nil, a)))
			seqs = append(seqs, seq)
		}}
	p := pipeline.New(cfg)
	for i := range frames[:len(frames)*3/4] {
		p.Frame(&frames[i])
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	if len(sent) < 4 {
		t.Fatalf("%d alerts committed: too few to prove anything", len(sent))
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("alert %d delivered with sequence %d", i, s)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	restore := func() *pipeline.Pipeline {
		t.Helper()
		st, err := retention.Open(dir, retention.Options{NoSync: true, MinFreeBytes: -1, Committed: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		c := cfg
		c.Store = st
		q := pipeline.New(c)
		if _, ok, err := q.Restore(nil); !ok || err != nil {
			t.Fatalf("restore: %v %v", ok, err)
		}
		return q
	}
	q := restore()
	if q.AlertSeq() != uint64(len(sent)) {
		t.Fatalf("restored sequence %d, want %d", q.AlertSeq(), len(sent))
	}
	cursor := uint64(len(sent) / 2)
	var again []string
	missing := q.Undelivered(cursor, func(seq uint64, a *analysis.Alert) {
		if want := cursor + 1 + uint64(len(again)); seq != want {
			t.Errorf("re-sent sequence %d, want %d", seq, want)
		}
		again = append(again, string(analysis.AppendAlertJSON(nil, a)))
	})
	if missing != 0 || len(again) != len(sent)-int(cursor) {
		t.Fatalf("re-sent %d (%d not kept) after cursor %d, want %d", len(again), missing, cursor, len(sent)-int(cursor))
	}
	for i, l := range again {
		if l != sent[int(cursor)+i] {
			t.Fatalf("re-sent alert %d differs:\n%s\nwant\n%s", i, l, sent[int(cursor)+i])
		}
	}
	// Every sink caught up: the next commit keeps nothing to re-send, and the
	// numbering continues.
	acked = q.AlertSeq()
	sent, seqs = nil, nil
	for i := len(frames) * 3 / 4; i < len(frames); i++ {
		q.Frame(&frames[i])
	}
	q.Finish()
	if err := q.Commit(); err != nil {
		t.Fatal(err)
	}
	if len(seqs) > 0 && seqs[0] != acked+1 {
		t.Fatalf("numbering restarted at %d, want %d", seqs[0], acked+1)
	}
	acked = q.AlertSeq()
	if err := q.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := q.Undelivered(0, func(uint64, *analysis.Alert) {}); n != q.AlertSeq() {
		t.Fatalf("after every sink acknowledged: %d of %d alerts still held", q.AlertSeq()-n, q.AlertSeq())
	}
}
