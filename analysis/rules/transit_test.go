package rules

import (
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/gatewarden/gatewarden/analysis"
)

func transitSettings(t *testing.T) Settings {
	st := testSettings(t)
	st.Partners = append(st.Partners,
		Partner{Name: "intl-sg", Kind: KindInternational, Country: "SG"},
		Partner{Name: "ic-rewrite", Kind: KindInterconnect, CLIChangeAllowed: true},
	)
	return st
}

// transitPair feeds an ingress leg and its egress leg through Open/Setup/Close
// as the assembler does, and returns the alerts.
func transitPair(t *testing.T, st Settings, in, out *analysis.Call) []analysis.Alert {
	t.Helper()
	var rec recorder
	feedPair(New(st, rec.emit), in, out)
	return rec.alerts
}

// feedPair runs both legs through the engine in the assembler's order.
func feedPair(e *Engine, in, out *analysis.Call) {
	e.Open(in)
	e.Open(out)
	e.Setup(out)
	e.Setup(in)
	e.Close(out)
	e.Close(in)
}

func leg(id string, dir analysis.Direction, partner string, start int64, calling *analysis.PartyNumber) *analysis.Call {
	return &analysis.Call{ID: id, Start: start, Partner: partner, Direction: dir, OPC: 1, DPC: 2, CIC: 7,
		Calling: calling, Called: num("13912345678", 3), Outcome: analysis.OutcomeAnswered}
}

func TestTransitRules(t *testing.T) {
	in := func(partner string, calling *analysis.PartyNumber) *analysis.Call {
		return leg("in", analysis.DirectionIngress, partner, 100*s, calling)
	}
	out := func(partner string, calling *analysis.PartyNumber) *analysis.Call {
		c := leg("out", analysis.DirectionEgress, partner, 100*s+s/2, calling)
		c.Called = num("8613912345678", 4)
		return c
	}
	for _, tt := range []struct {
		name    string
		in, out *analysis.Call
		want    string
	}{
		{"kept international", in("intl-hk", num("85291234567", 4)), out("ic-cm", num("85291234567", 4)), ""},
		{"kept with 00 under unknown NAI", in("intl-hk", num("85291234567", 4)), out("ic-cm", num("0085291234567", 2)), ""},
		{"stripped to national", in("intl-hk", num("85291234567", 4)), out("ic-cm", num("91234567", 3)), CLIIntlMarkingStripped},
		{"stripped with trunk prefix, unknown NAI", in("intl-hk", num("85291234567", 4)), out("ic-cm", num("091234567", 2)), CLIIntlMarkingStripped},
		{"international digits relabelled national", in("intl-hk", num("85291234567", 4)), out("ic-cm", num("85291234567", 3)), CLIIntlMarkingStripped},
		{"stripped to subscriber", in("intl-hk", num("85291234567", 4)), out("ic-cm", num("91234567", 1)), CLIIntlMarkingStripped},
		{"replaced", in("intl-hk", num("85291234567", 4)), out("ic-cm", num("13800138000", 3)), CLIAlteredInTransit},
		{"truncated", in("intl-hk", num("85291234567", 4)), out("ic-cm", num("8529123456", 4)), CLIAlteredInTransit},
		{"removed", in("intl-hk", num("85291234567", 4)), out("ic-cm", nil), CLIAlteredInTransit},
		{"replacement allowed for the egress partner", in("intl-hk", num("85291234567", 4)), out("ic-rewrite", num("13800138000", 3)), ""},
		{"domestic caller, national form kept", in("ic-cm", num("13800138000", 3)), out("ic-ct", num("8613800138000", 4)), ""},
		{"domestic caller replaced", in("ic-cm", num("13800138000", 3)), out("ic-ct", num("13800138001", 3)), CLIAlteredInTransit},
		{"ingress without CLI", in("ic-cm", nil), out("ic-ct", num("13800138001", 3)), ""},
	} {
		var got []string
		for _, a := range transitPair(t, transitSettings(t), tt.in, tt.out) {
			if a.Rule == CLIIntlMarkingStripped || a.Rule == CLIAlteredInTransit {
				got = append(got, a.Rule)
				if a.CallID != "out" || !strings.Contains(a.Detail, "ingress call in") {
					t.Errorf("%s: alert %+v: want it on the egress leg naming the ingress leg", tt.name, a)
				}
			}
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: alerts %v, want %q", tt.name, got, tt.want)
		}
		if tt.out.TransitOf != "in" || tt.in.TransitTo != "out" {
			t.Errorf("%s: not linked (%q, %q)", tt.name, tt.out.TransitOf, tt.in.TransitTo)
		}
	}
}

func TestOriginCountry(t *testing.T) {
	for _, tt := range []struct {
		partner string
		calling *analysis.PartyNumber
		want    string
	}{
		{"intl-hk", num("85291234567", 4), "HK"},
		{"intl-hk", num("0044201234567", 2), "GB"},
		{"intl-sg", num("13800138000", 3), "SG"}, // home caller: the partner's country
		{"intl-roam", num("8613800138000", 4), "CN"},
		{"intl-sg", nil, "SG"},
		{"ic-cm", num("85291234567", 4), "HK"}, // foreign caller through a domestic partner
		{"ic-cm", num("13800138000", 3), ""},
	} {
		var rec recorder
		e := New(transitSettings(t), rec.emit)
		c := ingress(tt.partner, tt.calling)
		e.Open(c)
		e.Setup(c)
		if c.OriginCountry != tt.want {
			t.Errorf("%s %+v: origin %q, want %q", tt.partner, tt.calling, c.OriginCountry, tt.want)
		}
		for _, a := range rec.alerts {
			if a.OriginCountry != tt.want {
				t.Errorf("%s: alert %s origin %q, want %q", tt.partner, a.Rule, a.OriginCountry, tt.want)
			}
		}
	}
}

func routeCall(start int64, answered bool, talk int64) *analysis.Call {
	c := &analysis.Call{ID: "r", Start: start, Partner: "ic-cm", Link: "a>b", Direction: analysis.DirectionIngress,
		Outcome: analysis.OutcomeFailed, Release: start + 2*s, End: start + 2*s}
	if answered {
		c.Outcome, c.Answer = analysis.OutcomeAnswered, start+s
		c.Release, c.End = c.Answer+talk, c.Answer+talk
	}
	return c
}

func TestRouteASRDrop(t *testing.T) {
	var rec recorder
	st := testSettings(t)
	st.Thresholds.ASRMinSeizures = 10
	e := New(st, rec.emit)
	day := 24 * hour
	// Seven days at 60% ASR in hour 9, then a day at 20% (not below the 20%
	// floor, but below half of 60%).
	base := 20000 * day
	for d := int64(0); d < 8; d++ {
		answered := 6
		if d == 7 {
			answered = 2
		}
		for i := 0; i < 10; i++ {
			e.Close(routeCall(base+d*day+9*hour+int64(i)*60*s, i < answered, 60*s))
		}
		// a call in hour 11 moves capture time past hour 9's settle time
		e.Close(routeCall(base+d*day+11*hour, true, 60*s))
	}
	var drops []analysis.Alert
	for _, a := range rec.alerts {
		if a.Rule == RouteASRDrop {
			drops = append(drops, a)
		}
	}
	if len(drops) != 1 || !strings.Contains(drops[0].Detail, "trailing 7-day ASR 60.0%") ||
		drops[0].Partner != "ic-cm" || drops[0].Link != "a>b" || drops[0].TS != base+7*day+10*hour {
		t.Fatalf("route.asr_drop alerts: %+v", drops)
	}
}

func TestRouteASRFloorAndShortCalls(t *testing.T) {
	var rec recorder
	st := testSettings(t)
	st.Thresholds.ASRMinSeizures = 10
	st.Thresholds.ShortMinAnswered = 4
	e := New(st, rec.emit)
	start := 20000 * 24 * hour
	// 10 seizures in one hour, 1 answered: 10% < 20% floor.
	for i := 0; i < 10; i++ {
		e.Close(routeCall(start+int64(i)*60*s, i == 0, 60*s))
	}
	// 5 answered calls in the next hour, 3 of them under 10 s: 60% > 50%.
	for i, talk := range []int64{2 * s, 60 * s, 3 * s, 60 * s, 4 * s} {
		e.Close(routeCall(start+hour+int64(i)*60*s, true, talk))
	}
	e.Close(routeCall(start+3*hour, true, 60*s))
	got := map[string]int{}
	for _, a := range rec.alerts {
		got[a.Rule]++
		if a.Rule == RouteShortCalls && a.Count != 5 {
			t.Errorf("short calls alert %+v", a)
		}
	}
	if got[RouteASRDrop] != 1 || got[RouteShortCalls] != 1 {
		t.Fatalf("alerts %v", got)
	}
}

// A transit pair that keeps its caller costs no allocation once the tables
// are warm: Open, Setup and Close run on every call.
func TestTransitPairAllocatesNothing(t *testing.T) {
	e := New(transitSettings(t), func(*analysis.Alert) {})
	in := leg("in", analysis.DirectionIngress, "intl-hk", 0, num("85291234567", 4))
	out := leg("out", analysis.DirectionEgress, "ic-cm", 0, num("85291234567", 4))
	out.Called = num("8613912345678", 4)
	start := int64(100 * s)
	run := func() {
		start += s
		in.Start, out.Start = start, start+s/10
		in.TransitTo, out.TransitOf, in.OriginCountry, out.OriginCountry = "", "", "", ""
		feedPair(e, in, out)
	}
	for i := 0; i < 10; i++ {
		run()
	}
	if out.TransitOf != "in" {
		t.Fatal("not linked")
	}
	if n := testing.AllocsPerRun(200, run); n != 0 {
		t.Errorf("%v allocations per transit pair", n)
	}
}

// A reload between the two legs keeps the pending ingress leg and judges the
// pair under the new settings.
func TestTransitAcrossReconfigure(t *testing.T) {
	var rec recorder
	st := transitSettings(t)
	e := New(st, rec.emit)
	in := leg("in", analysis.DirectionIngress, "intl-hk", 100*s, num("85291234567", 4))
	out := leg("out", analysis.DirectionEgress, "ic-cm", 100*s+s/2, num("13800138000", 3))
	e.Open(in)
	e.Open(out)
	st2 := transitSettings(t)
	for i := range st2.Partners {
		if st2.Partners[i].Name == "ic-cm" {
			st2.Partners[i].CLIChangeAllowed = true
		}
	}
	e.Reconfigure(st2)
	e.Setup(out)
	if out.TransitOf != "in" || in.TransitTo != "out" {
		t.Fatalf("not linked across the reload: %q %q", out.TransitOf, in.TransitTo)
	}
	if len(rec.alerts) != 0 {
		t.Fatalf("alerts %+v: ic-cm may change CLIs after the reload", rec.alerts)
	}
	if e.Stats().Transit.Linked != 1 {
		t.Fatalf("stats %+v", e.Stats().Transit)
	}
}

// The route rules follow at most maxRoutes routes; calls of further routes
// are counted, not followed.
func TestRouteTableBounded(t *testing.T) {
	e := New(testSettings(t), nil)
	for i := 0; i <= maxRoutes; i++ {
		c := routeCall(20000*24*hour+int64(i)*s, true, 60*s)
		c.Link = "link" + strconv.Itoa(i)
		e.Close(c)
	}
	if st := e.Stats(); st.Routes != maxRoutes || st.RouteOverflow != 1 || e.RouteOverflow() != 1 {
		t.Fatalf("routes %d overflow %d", st.Routes, st.RouteOverflow)
	}
}

// deploy/SIZING.md: 168 hourly counters of 16 B per route.
func TestRouteStateSize(t *testing.T) {
	if n := unsafe.Sizeof(hourCount{}); n != 16 {
		t.Fatalf("hourCount is %d B", n)
	}
	if n := unsafe.Sizeof(routeState{}); n > 2800 {
		t.Fatalf("routeState is %d B", n)
	}
}
