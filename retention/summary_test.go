package retention

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
)

// refsOf lists the Refs of results in order.
func refsOf(res []CallResult) []Ref {
	out := make([]Ref, len(res))
	for i := range res {
		out[i] = res[i].Ref
	}
	return out
}

// TestSummaryQueries: partner and rule queries served from the sealed
// segments' summaries (and the open partition's scan) find exactly the
// calls a check of every call finds, newest first when asked, and stop at
// the limit.
func TestSummaryQueries(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	g := newGenerator(3, t0, int64(2*time.Second))
	fill(t, s, g, 3000) // ~100 minutes: sealed partitions and an open one
	if len(s.Partitions()) < 1 {
		t.Fatal("no sealed partition")
	}
	// Every sealed segment has a summary.
	sn, err := s.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sealedWithSummary := 0
	for _, v := range sn.views {
		pd, err := v.open(s, &sn.scratch)
		if err != nil {
			t.Fatal(err)
		}
		if v.mem == nil && summaryOf(pd) == nil {
			t.Errorf("sealed partition %d has no summary section", v.seq)
		} else if v.mem == nil {
			sealedWithSummary++
		}
	}
	sn.close()
	if sealedWithSummary == 0 {
		t.Fatal("no sealed partition to test")
	}

	all, err := s.QueryCalls(Query{})
	if err != nil {
		t.Fatal(err)
	}
	brute := func(keep func(*CallResult) bool) []Ref {
		var out []Ref
		for i := range all {
			if keep(&all[i]) {
				out = append(out, all[i].Ref)
			}
		}
		return out
	}
	for _, p := range []string{"partner0", "partner1", "partner2", "nobody"} {
		got, err := s.QueryCalls(Query{Partner: p})
		if err != nil {
			t.Fatal(err)
		}
		want := brute(func(c *CallResult) bool { return c.Call != nil && c.Call.Partner == p })
		if !slices.Equal(refsOf(got), want) {
			t.Errorf("partner %s: %d calls, want %d", p, len(got), len(want))
		}
	}
	got, err := s.QueryCalls(Query{Rule: "cli.generic_number"})
	if err != nil {
		t.Fatal(err)
	}
	want := brute(func(c *CallResult) bool { return len(c.Alerts) > 0 })
	if len(want) == 0 || !slices.Equal(refsOf(got), want) {
		t.Errorf("rule: %d calls, want %d", len(got), len(want))
	}
	if got, _ := s.QueryCalls(Query{Rule: "no.such.rule"}); len(got) != 0 {
		t.Errorf("unknown rule: %d calls", len(got))
	}
	// Newest first, limited.
	newest, err := s.QueryCalls(Query{Partner: "partner1", Newest: true, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	p1 := brute(func(c *CallResult) bool { return c.Call != nil && c.Call.Partner == "partner1" })
	slices.Reverse(p1)
	if !slices.Equal(refsOf(newest), p1[:5]) {
		t.Errorf("newest 5 of partner1: %v, want %v", refsOf(newest), p1[:5])
	}
	// After reopening (all sealed), the same answers.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r := openTest(t, dir, Options{ReadOnly: true})
	defer r.Close()
	got, err = r.QueryCalls(Query{Partner: "partner2"})
	if err != nil {
		t.Fatal(err)
	}
	want = brute(func(c *CallResult) bool { return c.Call != nil && c.Call.Partner == "partner2" })
	if !slices.Equal(refsOf(got), want) {
		t.Errorf("reopened, partner2: %d calls, want %d", len(got), len(want))
	}
}

// TestQueryCancelled: a cancelled or expired context stops every kind of
// query with its error.
func TestQueryCancelled(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	fill(t, s, newGenerator(4, t0, int64(2*time.Second)), 2000)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.QueryCallsContext(ctx, Query{Partner: "nobody"}); !errors.Is(err, context.Canceled) {
		t.Errorf("QueryCallsContext: %v", err)
	}
	if _, err := s.QueryCallsContext(ctx, Query{}); !errors.Is(err, context.Canceled) {
		t.Errorf("QueryCallsContext, time range: %v", err)
	}
	if _, err := s.ReportContext(ctx, 0, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("ReportContext: %v", err)
	}
	if err := s.ScanCallsContext(ctx, 0, 0, func(Ref, *analysis.Call) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("ScanCallsContext: %v", err)
	}
}

// FuzzSummaryPeek: the summary's readers of a record's partner and rule
// never panic on damaged bytes, and agree with the full decoders.
func FuzzSummaryPeek(f *testing.F) {
	f.Add(appendCall(nil, &analysis.Call{ID: "c1", Start: t0, Partner: "ic-telecom", Link: "a>b", Answer: t0 + 5}))
	f.Add(appendAlert(nil, &analysis.Alert{TS: t0, Rule: "cli.missing", Partner: "p", Detail: "x"}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := callPartner(b); err == nil {
			if c, err := decodeCall(b); err == nil && c.Partner != string(p) {
				t.Errorf("callPartner %q, decodeCall %q", p, c.Partner)
			}
		}
		if r, p, err := alertRulePartner(b); err == nil {
			if a, err := decodeAlert(b); err == nil && (a.Rule != string(r) || a.Partner != string(p)) {
				t.Errorf("alertRulePartner %q %q, decodeAlert %q %q", r, p, a.Rule, a.Partner)
			}
		}
		buildSummary([]kv{{key: make([]byte, 8), val: b}}, []kv{{key: make([]byte, 8), val: b}})
	})
}
