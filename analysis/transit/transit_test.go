package transit_test

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/numplan"
	"github.com/gatewarden/gatewarden/analysis/transit"
)

const sec = int64(1e9)

func call(id string, dir analysis.Direction, start int64, called string, nai uint8) *analysis.Call {
	return &analysis.Call{ID: id, Direction: dir, Start: start, Partner: "p",
		Called: &analysis.PartyNumber{Digits: called, NAI: nai}}
}

func newCorrelator(t *testing.T, cfg transit.Config) (*transit.Correlator, *[][2]string) {
	t.Helper()
	plan, err := numplan.Builtin("cn")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Plan = plan
	var links [][2]string
	cfg.OnLink = func(in, out *analysis.Call) { links = append(links, [2]string{in.ID, out.ID}) }
	return transit.New(cfg), &links
}

func TestLinkBothWays(t *testing.T) {
	tc, links := newCorrelator(t, transit.Config{})
	in := call("in", analysis.DirectionIngress, 100*sec, "8613912345678", 4)
	in.OriginCountry = "HK"
	other := call("other", analysis.DirectionIngress, 100*sec, "13800000000", 3)
	out := call("out", analysis.DirectionEgress, 100*sec+sec/2, "13912345678", 3) // national form of the same number
	tc.Open(in)
	tc.Open(other)
	tc.Open(out)
	tc.Setup(out)
	if in.TransitTo != "out" || out.TransitOf != "in" || other.TransitTo != "" {
		t.Fatalf("in.TransitTo=%q out.TransitOf=%q other.TransitTo=%q", in.TransitTo, out.TransitOf, other.TransitTo)
	}
	if out.OriginCountry != "HK" {
		t.Fatalf("egress leg origin %q, want the ingress leg's HK", out.OriginCountry)
	}
	if len(*links) != 1 || tc.Stats().Linked != 1 || tc.Stats().Pending != 2 {
		t.Fatalf("links %v stats %+v", *links, tc.Stats())
	}
	tc.Close(in)
	tc.Close(other)
	if tc.Stats().Pending != 0 {
		t.Fatalf("pending after close: %+v", tc.Stats())
	}
}

func TestNoLink(t *testing.T) {
	for name, tt := range map[string]struct {
		in, out *analysis.Call
		cfg     transit.Config
	}{
		"outside the window": {call("in", analysis.DirectionIngress, 0, "13912345678", 3),
			call("out", analysis.DirectionEgress, 3*sec+1, "13912345678", 3), transit.Config{}},
		"outside a configured 4 s window": {call("in", analysis.DirectionIngress, 0, "13912345678", 3),
			call("out", analysis.DirectionEgress, 5*sec, "13912345678", 3), transit.Config{Window: 4 * sec}},
		"egress before ingress": {call("in", analysis.DirectionIngress, 2*sec, "13912345678", 3),
			call("out", analysis.DirectionEgress, sec, "13912345678", 3), transit.Config{}},
		"other number": {call("in", analysis.DirectionIngress, 0, "13912345678", 3),
			call("out", analysis.DirectionEgress, sec, "13912345679", 3), transit.Config{}},
		"partner kind not allowed": {call("in", analysis.DirectionIngress, 0, "13912345678", 3),
			call("out", analysis.DirectionEgress, sec, "13912345678", 3),
			transit.Config{Ingress: func(*analysis.Call) bool { return false }}},
		"two ingress legs": {call("in", analysis.DirectionIngress, 0, "13912345678", 3),
			call("out", analysis.DirectionIngress, sec, "13912345678", 3), transit.Config{}},
	} {
		tc, links := newCorrelator(t, tt.cfg)
		tc.Open(tt.in)
		tc.Open(tt.out)
		tc.Setup(tt.out)
		if len(*links) != 0 || tt.out.TransitOf != "" || tt.in.TransitTo != "" {
			t.Errorf("%s: linked %v", name, *links)
		}
	}
}

// A closed ingress leg is forgotten at once: its record is reused.
func TestClosedIngressNotLinked(t *testing.T) {
	tc, links := newCorrelator(t, transit.Config{})
	in := call("in", analysis.DirectionIngress, 0, "13912345678", 3)
	tc.Open(in)
	tc.Close(in)
	out := call("out", analysis.DirectionEgress, sec, "13912345678", 3)
	tc.Open(out)
	tc.Setup(out)
	if len(*links) != 0 {
		t.Fatalf("linked to a closed call: %v", *links)
	}
}

// Memory is bounded: beyond MaxPending the oldest ingress leg is dropped and
// counted; legs older than MaxAge are dropped as capture time advances.
func TestPendingBounded(t *testing.T) {
	tc, links := newCorrelator(t, transit.Config{MaxPending: 4, MaxAge: 10 * sec})
	var calls []*analysis.Call
	for i := 0; i < 6; i++ {
		c := call(string(rune('a'+i)), analysis.DirectionIngress, int64(i)*sec/10, "1391234567"+string(rune('0'+i)), 3)
		calls = append(calls, c)
		tc.Open(c)
	}
	if st := tc.Stats(); st.Pending != 4 || st.Overflow != 2 {
		t.Fatalf("stats %+v, want 4 pending and 2 overflow", st)
	}
	out := call("out", analysis.DirectionEgress, sec, "13912345670", 3) // the first, dropped
	tc.Open(out)
	tc.Setup(out)
	out2 := call("out2", analysis.DirectionEgress, sec, "13912345675", 3)
	tc.Setup(out2)
	if len(*links) != 1 || (*links)[0] != [2]string{"f", "out2"} {
		t.Fatalf("links %v", *links)
	}
	tc.Open(call("late", analysis.DirectionEgress, 20*sec, "1", 3))
	if st := tc.Stats(); st.Pending != 0 {
		t.Fatalf("after MaxAge: %+v", st)
	}
}

func TestDiff(t *testing.T) {
	in := &analysis.Call{Calling: &analysis.PartyNumber{Digits: "85291234567", NAI: 4},
		Generic: []analysis.PartyNumber{{Digits: "123"}}, Redirected: true, RedirCounter: 1}
	out := &analysis.Call{Calling: &analysis.PartyNumber{Digits: "91234567", NAI: 3, APRI: 1}}
	got := transit.Diff(in, out)
	want := []transit.Change{
		{"calling", "85291234567", "91234567"}, {"calling_nai", "4", "3"}, {"calling_apri", "0", "1"},
		{"generic", "123", ""}, {"redirection_counter", "1", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("diff %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("diff[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if d := transit.Diff(in, in); d != nil {
		t.Fatalf("diff of a leg with itself: %v", d)
	}
}

// TestPendingMemory backs the RUNBOOK's per-leg figure (about 120 bytes, at most 200).
func TestPendingMemory(t *testing.T) {
	const n = 1 << 16
	tc, _ := newCorrelator(t, transit.Config{MaxPending: n})
	calls := make([]*analysis.Call, n)
	for i := range calls {
		calls[i] = call("c", analysis.DirectionIngress, int64(i), "139"+strconv.Itoa(10_000_000+i), 3)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, c := range calls {
		tc.Open(c)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per pending ingress leg", per)
	if tc.Stats().Pending != n || per > 200 {
		t.Fatalf("%d pending, %.0f bytes each (want at most 200)", tc.Stats().Pending, per)
	}
	runtime.KeepAlive(calls)
}
