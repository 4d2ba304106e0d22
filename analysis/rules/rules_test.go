package rules

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/numplan"
)

const s = second

type setBlocklist map[string]bool

func (b setBlocklist) Contains(e164 []byte) bool { return b[string(e164)] }

func testSettings(t testing.TB) Settings {
	plan, err := numplan.Builtin("cn")
	if err != nil {
		t.Fatal(err)
	}
	return Settings{
		Plan: plan,
		Partners: []Partner{
			{Name: "intl-hk", Kind: KindInternational},
			{Name: "intl-roam", Kind: KindInternational, RoamingMobileExempt: true},
			{Name: "ic-cm", Kind: KindInterconnect, Forwarding: true},
			{Name: "ll-bank", Kind: KindLeasedLine, AllowedCLI: []string{"2088880", "95588"}, ProtectedAllowed: []string{"95588"}},
			{Name: "core", Kind: KindInternal},
			{Name: "ic-ct", Kind: KindInterconnect},
		},
		Protected: []string{"110", "119", "120", "122", "12345", "12321", "95588"},
		Blocklist: setBlocklist{"8613912345678": true},
	}
}

type recorder struct{ alerts []analysis.Alert }

func (r *recorder) emit(a *analysis.Alert) { r.alerts = append(r.alerts, *a) }

func (r *recorder) rules() []string {
	var ids []string
	for _, a := range r.alerts {
		ids = append(ids, a.Rule)
	}
	sort.Strings(ids)
	return ids
}

func num(digits string, nai uint8) *analysis.PartyNumber {
	return &analysis.PartyNumber{Digits: digits, NAI: nai}
}

func ingress(partner string, calling *analysis.PartyNumber) *analysis.Call {
	return &analysis.Call{ID: "0:1:1", Start: 1000 * s, Partner: partner, Direction: analysis.DirectionIngress,
		OPC: 1, DPC: 2, CIC: 1, Calling: calling, Called: num("2088881234", 3)}
}

func TestPerCallRules(t *testing.T) {
	tests := []struct {
		name string
		call *analysis.Call
		want string // space-separated sorted rule IDs
	}{
		{"clean national mobile", ingress("ic-cm", num("13800138000", 3)), ""},
		{"clean foreign from international", ingress("intl-hk", num("85291234567", 4)), ""},
		{"clean 00-prefixed foreign unknown NAI", ingress("intl-hk", num("0085291234567", 2)), ""},
		{"missing", ingress("ic-cm", nil), CLIMissing},
		{"empty digits", ingress("ic-cm", num("", 3)), CLIMissing},
		{"address not available", ingress("ic-cm", &analysis.PartyNumber{Digits: "13800138000", NAI: 3, APRI: 2}), CLIMissing},
		{"restricted", ingress("ic-cm", &analysis.PartyNumber{Digits: "13800138000", NAI: 3, APRI: 1}), CLIRestricted},
		{"nonconforming wrong length", ingress("ic-cm", num("1380013800", 3)), CLINonconforming},
		{"nonconforming trunk prefix under national NAI", ingress("ic-cm", num("013800138000", 3)), CLINonconforming},
		{"nonconforming 400 as caller", ingress("ic-cm", num("4008123456", 3)), CLINonconforming},
		{"nonconforming sms port", ingress("ic-cm", num("10690000", 3)), CLINonconforming},
		{"nonconforming hex digit", ingress("ic-cm", num("138B0138000", 3)), CLINonconforming},
		{"+86 international NAI from abroad", ingress("intl-hk", num("8613800138000", 4)), CLIIntlSpoofedDomestic},
		{"+86 stripped to national from abroad", ingress("intl-hk", num("13800138000", 3)), CLIIntlSpoofedDomestic},
		{"+86 under unknown NAI with 00", ingress("intl-hk", num("008613800138000", 2)), CLIIntlSpoofedDomestic},
		{"local subscriber from abroad", ingress("intl-hk", num("62345678", 1)), CLIIntlSpoofedDomestic},
		{"roaming mobile exempt", ingress("intl-roam", num("8613800138000", 4)), ""},
		{"roaming exemption is for mobiles only", ingress("intl-roam", num("861087654321", 4)), CLIIntlSpoofedDomestic},
		{"protected from interconnect", ingress("ic-cm", num("110", 3)), CLIProtectedSpoofed},
		{"protected in international form", ingress("ic-cm", num("8612345", 4)), CLIProtectedSpoofed},
		{"protected from abroad", ingress("intl-hk", num("8612345", 4)), CLIIntlSpoofedDomestic + " " + CLIProtectedSpoofed},
		{"entitled protected", ingress("ll-bank", num("95588", 3)), ""},
		{"leased line in range", ingress("ll-bank", num("2088880123", 3)), ""},
		{"leased line out of range", ingress("ll-bank", num("2088881234", 3)), CLIUnauthorized},
		{"leased line foreign CLI", ingress("ll-bank", num("85291234567", 4)), CLIUnauthorized},
		{"blocklisted", ingress("ic-cm", num("13912345678", 3)), CLIBlocklisted},
		{"blocklisted other NAI", ingress("ic-cm", num("013912345678", 2)), CLIBlocklisted},
		{"internal partner not judged", ingress("core", nil), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r recorder
			e := New(testSettings(t), r.emit)
			e.Setup(tt.call)
			if got := strings.Join(r.rules(), " "); got != tt.want {
				t.Errorf("rules %q, want %q", got, tt.want)
				for _, a := range r.alerts {
					t.Log(a.Rule, a.Detail)
				}
			}
		})
	}
}

func TestGenericAndForwarding(t *testing.T) {
	withGeneric := func(dir analysis.Direction) *analysis.Call {
		c := ingress("ic-cm", num("13800138000", 3))
		c.Direction = dir
		c.Generic = []analysis.PartyNumber{{Digits: "13911112222", NAI: 3}}
		return c
	}
	redirected := func(partner string, counter uint8, redirecting, orig *analysis.PartyNumber) *analysis.Call {
		c := ingress(partner, num("13800138000", 3))
		c.Redirected, c.RedirCounter, c.Redirecting, c.OriginalCalled = true, counter, redirecting, orig
		return c
	}
	tests := []struct {
		name string
		call *analysis.Call
		want string
	}{
		{"generic on ingress", withGeneric(analysis.DirectionIngress), CLIGenericNumber},
		{"generic on egress", withGeneric(analysis.DirectionEgress), CLIGenericNumber},
		{"generic on transit", withGeneric(analysis.DirectionUnknown), ""},
		{"registered forwarding", redirected("ic-cm", 1, num("13911112222", 3), nil), ""},
		{"unregistered forwarding", redirected("ic-ct", 1, num("13911112222", 3), nil), FwdUnregistered},
		{"counter 4", redirected("ic-cm", 4, num("13911112222", 3), nil), ""},
		{"counter 5", redirected("ic-cm", 5, num("13911112222", 3), nil), FwdLoop},
		{"redirecting equals called", redirected("ic-cm", 1, num("2088881234", 3), nil), FwdLoop},
		{"redirecting equals called across NAIs", redirected("ic-cm", 1, num("862088881234", 4), nil), FwdLoop},
		{"original called equals called", redirected("ic-cm", 1, nil, num("02088881234", 2)), FwdLoop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r recorder
			e := New(testSettings(t), r.emit)
			e.Setup(tt.call)
			if got := strings.Join(r.rules(), " "); got != tt.want {
				t.Errorf("rules %q, want %q", got, tt.want)
			}
		})
	}
}

// feedAttempts sends n ingress attempts, dt apart starting at t0, with the
// given calling and called numbers, and returns the behaviour alerts raised.
func feedAttempts(e *Engine, r *recorder, t0, dt int64, n int, calling, called func(i int) string) {
	for i := 0; i < n; i++ {
		c := ingress("ic-cm", num(calling(i), 3))
		c.Called = num(called(i), 3)
		c.Start = t0 + int64(i)*dt
		c.ID = fmt.Sprint("0:", i, ":1")
		e.Setup(c)
	}
}

func fixed(v string) func(int) string { return func(int) string { return v } }

func distinctMobile(base int) func(int) string {
	return func(i int) string { return fmt.Sprintf("139%08d", base+i) }
}

func countRule(r *recorder, rule string) int {
	n := 0
	for _, a := range r.alerts {
		if a.Rule == rule {
			n++
		}
	}
	return n
}

func TestBombingBoundaries(t *testing.T) {
	// 19 attempts within 300 s: nothing; the 20th within the window fires.
	var r recorder
	e := New(testSettings(t), r.emit)
	feedAttempts(e, &r, 1000*s, 15*s, 19, distinctMobile(0), fixed("2088881234"))
	if n := countRule(&r, CallBombing); n != 0 {
		t.Fatalf("19 attempts: %d alerts", n)
	}
	// 19 attempts span 270 s; a 20th at exactly 300 s after the first is
	// outside (t-300, t]: the first has left the window.
	feedAttempts(e, &r, 1300*s, 0, 1, distinctMobile(100), fixed("2088881234"))
	if n := countRule(&r, CallBombing); n != 0 {
		t.Fatalf("20th attempt at the window edge: %d alerts", n)
	}
	feedAttempts(e, &r, 1300*s+1, 0, 1, distinctMobile(200), fixed("2088881234"))
	if n := countRule(&r, CallBombing); n != 1 {
		t.Fatalf("20 attempts inside the window: %d alerts", n)
	}
	a := r.alerts[len(r.alerts)-1]
	if a.Count != 20 || a.WindowS != 300 || a.Called != "2088881234" || a.TS != 1300*s+1 {
		t.Errorf("alert %+v", a)
	}
	// More attempts in the same window do not fire again...
	feedAttempts(e, &r, 1301*s, s, 50, distinctMobile(300), fixed("2088881234"))
	if n := countRule(&r, CallBombing); n != 1 {
		t.Fatalf("continued bombing inside one window: %d alerts", n)
	}
	// ...but one window later they do.
	feedAttempts(e, &r, 1600*s+1, 0, 1, distinctMobile(400), fixed("2088881234"))
	if n := countRule(&r, CallBombing); n != 2 {
		t.Fatalf("bombing in the next window: %d alerts", n)
	}
	if n := countRule(&r, CallerHighFrequency); n != 0 {
		t.Errorf("distinct callers raised %d high-frequency alerts", n)
	}
}

func TestHighFrequencyAcrossNAIs(t *testing.T) {
	// The same CLI in three presentations counts as one key.
	var r recorder
	e := New(testSettings(t), r.emit)
	forms := []string{"13800138000", "8613800138000", "013800138000"}
	nais := []uint8{3, 4, 2}
	for i := 0; i < 60; i++ {
		c := ingress("ic-cm", num(forms[i%3], nais[i%3]))
		c.Called = num(fmt.Sprintf("139%08d", i), 3)
		c.Start = 5000*s + int64(i)*9*s // 60 attempts over 531 s
		e.Setup(c)
		if want := 0; i == 58 && countRule(&r, CallerHighFrequency) != want {
			t.Fatalf("59 attempts raised an alert")
		}
	}
	if n := countRule(&r, CallerHighFrequency); n != 1 {
		t.Fatalf("60 attempts: %d alerts", n)
	}
}

func TestOneRing(t *testing.T) {
	var r recorder
	e := New(testSettings(t), r.emit)
	ring := func(i int, ringFor int64, by analysis.Side, answered bool) {
		c := ingress("intl-hk", num("85291234567", 4))
		c.Called = num(fmt.Sprintf("139%08d", i), 3)
		c.Start = 10000*s + int64(i)*30*s
		c.Alerting = c.Start + s
		c.Release = c.Alerting + ringFor
		c.ReleasedBy = by
		if answered {
			c.Answer = c.Alerting + ringFor/2
		}
		e.Close(c)
	}
	ring(0, 6*s, analysis.SideCalling, false) // rang too long
	ring(1, 2*s, analysis.SideCalled, false)  // rejected by the called party
	ring(2, 2*s, analysis.SideCalling, true)  // answered
	for i := 3; i < 12; i++ {                 // 9 one-ring calls
		ring(i, 5*s, analysis.SideCalling, false) // exactly 5 s counts
	}
	if n := countRule(&r, CallOneRing); n != 0 {
		t.Fatalf("9 one-ring calls: %d alerts", n)
	}
	ring(12, s, analysis.SideCalling, false)
	if n := countRule(&r, CallOneRing); n != 1 {
		t.Fatalf("10 one-ring calls: %d alerts", n)
	}
	if a := r.alerts[0]; a.Count != 10 || a.WindowS != 600 || a.Calling != "85291234567" {
		t.Errorf("alert %+v", a)
	}
}

func TestRelay(t *testing.T) {
	var r recorder
	e := New(testSettings(t), r.emit)
	for i := 0; i < 30; i++ {
		c := ingress("ic-cm", num(fmt.Sprintf("139%08d", i), 3))
		c.Called = num(fmt.Sprintf("138%08d", i), 3)
		c.Redirected, c.Redirecting = true, num("13911112222", 3)
		c.Start = int64(i+1) * 10 * s
		e.Setup(c)
	}
	if n := countRule(&r, FwdRelay); n != 1 {
		t.Fatalf("30 forwarded calls: %d relay alerts", n)
	}
	if len(r.alerts) != 1 {
		t.Errorf("other alerts: %v", r.rules())
	}
}

func TestWindowOutOfOrderAndOverflow(t *testing.T) {
	w := newWindow(100, 3, 4)
	w.add(1, 50)
	w.add(1, 40) // slightly late: inserted in order
	if fire, n := w.add(1, 139); !fire || n != 3 {
		t.Fatalf("3 events in (39, 139]: fire %v count %d", fire, n)
	}
	if fire, n := w.add(1, 145); fire || n != 3 {
		t.Fatalf("after 40 expired: fire %v count %d", fire, n)
	}
	for k := uint64(2); k < 6; k++ {
		w.add(k, 146)
	}
	if w.Overflow == 0 || w.n > 4 {
		t.Fatalf("queue of 4: overflow %d n %d", w.Overflow, w.n)
	}
	w.add(9, 1000)
	if w.Keys() != 1 || w.n != 1 {
		t.Fatalf("all but the newest expired: keys %d events %d", w.Keys(), w.n)
	}
}

// TestMillionDistinctCallers reports the memory the behaviour tables use for a
// million distinct calling numbers inside one window, and checks it is bounded.
func TestMillionDistinctCallers(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	st := testSettings(t)
	e := New(st, nil)
	c := ingress("ic-cm", num("", 3))
	calling, called := num("", 3), num("2088881234", 3)
	c.Calling, c.Called = calling, called
	buf := []byte("13900000000")
	for i := 0; i < 1_000_000; i++ {
		v := i
		for j := len(buf) - 1; j >= 3; j-- {
			buf[j] = byte('0' + v%10)
			v /= 10
		}
		calling.Digits = string(buf)
		c.Start = int64(i) * 100_000 // a million calls in 100 s
		e.Setup(c)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	keys := e.Stats().WindowKeys[CallerHighFrequency]
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	t.Logf("1e6 distinct callers: %d live keys, heap %.1f MB (%.0f B/key), heap from OS %.1f MB, peak RSS %.1f MB",
		keys, float64(heap)/1e6, float64(heap)/float64(keys), float64(after.HeapSys)/1e6, float64(ru.Maxrss)/1e3)
	if keys != 1_000_000 {
		t.Errorf("live keys %d", keys)
	}
	// README.md's figure is ~100 B per number: fail well before 2x that.
	const maxBytesPerKey = 128
	if heap > maxBytesPerKey*1_000_000 {
		t.Errorf("heap grew by %d bytes for a million keys, want at most %d B per key", heap, maxBytesPerKey)
	}
	runtime.KeepAlive(e)
}

func BenchmarkSetup(b *testing.B) {
	e := New(testSettings(b), nil)
	calls := make([]*analysis.Call, 4096)
	for i := range calls {
		c := ingress("ic-cm", num(fmt.Sprintf("139%08d", i), 3))
		c.Called = num(fmt.Sprintf("20%08d", i%977+20000000), 3)
		calls[i] = c
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := calls[i%len(calls)]
		c.Start = int64(i) * 1e6
		e.Setup(c)
	}
}

// TestReconfigureKeepsWindows: new settings mid-stream keep what the
// behaviour windows have counted, under the new threshold and length, and
// the emit callback and alert counters carry on.
func TestReconfigureKeepsWindows(t *testing.T) {
	var r recorder
	e := New(testSettings(t), r.emit)
	feedAttempts(e, &r, 1000*s, 10*s, 15, distinctMobile(0), fixed("2088881234"))
	if n := countRule(&r, CallBombing); n != 0 {
		t.Fatalf("15 attempts at the default threshold: %d alerts", n)
	}
	lower := testSettings(t)
	lower.Thresholds.BombingCalls = 17
	e.Reconfigure(lower)
	// Attempts 16 and 17: the 17th reaches the new threshold only if the
	// first 15 were kept.
	feedAttempts(e, &r, 1150*s, s, 2, distinctMobile(100), fixed("2088881234"))
	if n := countRule(&r, CallBombing); n != 1 {
		t.Fatalf("after lowering the threshold to 17: %d alerts, want 1 (windows kept)", n)
	}
	if a := r.alerts[len(r.alerts)-1]; a.Count != 17 {
		t.Errorf("alert count %d, want 17", a.Count)
	}
	// A shorter window drops what falls outside it at the next event.
	shorter := lower
	shorter.Thresholds.BombingWindow = 20 * s
	e.Reconfigure(shorter)
	feedAttempts(e, &r, 1160*s, s, 1, distinctMobile(200), fixed("2088881234"))
	if st := e.Stats(); st.Alerts[CallBombing] != 1 {
		t.Errorf("alert counter after reconfiguring: %v", st.Alerts)
	}
	if n := countRule(&r, CallBombing); n != 1 {
		t.Errorf("shortened window fired again: %d alerts", n)
	}
}
