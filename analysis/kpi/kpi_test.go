package kpi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unsafe"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/kpi"
)

const sec = int64(1e9)

func TestFigures(t *testing.T) {
	tb := kpi.New(kpi.Options{})
	start := int64(1_772_442_000) * sec // 2026-03-02T09:00Z
	mk := func(alert, answer, release int64, by analysis.Side, cause uint8, out analysis.Outcome) *analysis.Call {
		c := &analysis.Call{Partner: "p", Link: "l", Direction: analysis.DirectionIngress, Start: start,
			ReleasedBy: by, Cause: cause, Outcome: out}
		if alert > 0 {
			c.Alerting = start + alert
		}
		if answer > 0 {
			c.Answer = start + answer
		}
		if release > 0 {
			c.Release = start + release
		}
		return c
	}
	calls := []*analysis.Call{
		mk(2*sec, 5*sec, 65*sec, analysis.SideCalled, 16, analysis.OutcomeAnswered),  // talk 60
		mk(4*sec, 6*sec, 26*sec, analysis.SideCalling, 16, analysis.OutcomeAnswered), // talk 20
		mk(1*sec, 0, 3*sec, analysis.SideCalled, 17, analysis.OutcomeBusy),           // user busy
		mk(3*sec, 0, 30*sec, analysis.SideCalling, 16, analysis.OutcomeNoAnswer),     // ring no answer
		mk(0, 0, 1*sec, analysis.SideCalled, 21, analysis.OutcomeFailed),             // call rejected
		mk(0, 0, 1*sec, analysis.SideCalled, 34, analysis.OutcomeFailed),             // network: no circuit
		mk(0, 0, 1*sec, analysis.SideCalling, 16, analysis.OutcomeAbandoned),         // gave up before alerting
		mk(0, 0, 0, analysis.SideReset, 0, analysis.OutcomeFailed),                   // reset
	}
	for _, c := range calls {
		tb.Add(c)
	}
	rows := tb.Rows()
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	if r.Seizures != 8 || r.Answered != 2 || r.UserOutcome != 5 || r.ASR != 0.25 || r.NER != 5.0/8 || r.ACD != 40 {
		t.Fatalf("row %+v", r)
	}
	// PDDs 1, 2, 3, 4 s: nearest-rank median is the 2nd, p95 the 4th.
	if r.PDDCalls != 4 || r.PDDMedian != 2 || r.PDDP95 != 4 {
		t.Fatalf("PDD %v %v over %d", r.PDDMedian, r.PDDP95, r.PDDCalls)
	}
	if r.Causes[0] != (kpi.CauseCount{Cause: 16, Name: "Normal call clearing", Calls: 4}) || len(r.Causes) != 4 {
		t.Fatalf("causes %+v", r.Causes)
	}
}

func TestEmptyFiguresAreNull(t *testing.T) {
	tb := kpi.New(kpi.Options{Hourly: true})
	tb.Add(&analysis.Call{Partner: "p", Start: 3599 * sec, Outcome: analysis.OutcomeFailed, ReleasedBy: analysis.SideReset})
	tb.Add(&analysis.Call{Partner: "p", Start: 3600 * sec, Outcome: analysis.OutcomeFailed, ReleasedBy: analysis.SideReset})
	rows := tb.Rows()
	if len(rows) != 2 || rows[0].Hour != "1970-01-01T00:00:00Z" || rows[1].Hour != "1970-01-01T01:00:00Z" {
		t.Fatalf("rows %+v", rows)
	}
	b, err := json.Marshal(rows[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"asr":0,"ner":0,"acd_s":null,"pdd_median_s":null`) {
		t.Fatalf("json %s", b)
	}
}

// Counters count what Table counts.
func TestCountersAgreeWithTable(t *testing.T) {
	var cs kpi.Counters
	tb := kpi.New(kpi.Options{})
	start := int64(1_772_442_000) * sec
	for i := 0; i < 50; i++ {
		c := &analysis.Call{Partner: "p", Link: "l", Direction: analysis.DirectionEgress, Start: start + int64(i)*sec,
			ReleasedBy: analysis.SideCalled, Cause: uint8(16 + i%6), Outcome: analysis.OutcomeFailed}
		c.Release = c.Start + 40*sec
		if i%3 == 0 {
			c.Alerting = c.Start + int64(i%7)*sec/2
		}
		if i%4 == 0 {
			c.Outcome, c.Answer = analysis.OutcomeAnswered, c.Start+5*sec
		}
		cs.Add(c)
		tb.Add(c)
	}
	snap := cs.Snapshot()
	r := tb.Rows()[0]
	got := snap[kpi.Key{Partner: "p", Link: "l", Direction: analysis.DirectionEgress}]
	if int(got.Seizures) != r.Seizures || int(got.Answered) != r.Answered || int(got.UserOutcome) != r.UserOutcome ||
		int(got.PDDCount) != r.PDDCalls || float64(got.TalkNanos)/float64(got.Answered)/1e9 != float64(r.ACD) {
		t.Fatalf("counters %+v, table %+v", got, r)
	}
	var buckets uint64
	for _, n := range got.PDDBuckets {
		buckets += n
	}
	if buckets != got.PDDCount || got.Causes[16] != 9 {
		t.Fatalf("buckets %d of %d, cause 16: %d", buckets, got.PDDCount, got.Causes[16])
	}
	if n := testing.AllocsPerRun(100, func() { cs.Add(&analysis.Call{Partner: "p", Link: "l", Direction: analysis.DirectionEgress}) }); n != 0 {
		t.Errorf("Add allocates %v times for a known route", n)
	}
}

func TestCountersBounded(t *testing.T) {
	cs := kpi.Counters{MaxRoutes: 2}
	for _, link := range []string{"a", "b", "c", "a"} {
		cs.Add(&analysis.Call{Partner: "p", Link: link, Direction: analysis.DirectionIngress})
	}
	if n := len(cs.Snapshot()); n != 2 || cs.Overflow != 1 {
		t.Fatalf("%d routes, overflow %d", n, cs.Overflow)
	}
	cs.Add(&analysis.Call{Link: "d"}) // no partner: not a route
	if cs.Overflow != 1 {
		t.Fatalf("overflow %d", cs.Overflow)
	}
}

// deploy/SIZING.md: about 2.1 KiB of counters per route.
func TestRouteCountersSize(t *testing.T) {
	if n := unsafe.Sizeof(kpi.RouteCounters{}); n > 2200 {
		t.Fatalf("RouteCounters is %d B", n)
	}
}
