package rules

import (
	"fmt"
	"sort"

	"github.com/gatewarden/gatewarden/analysis"
)

// Route rules follow each route — a partner, a link and a direction — in
// capture time, from closed calls:
//
//   - route.asr_drop: each hour of IAM time is judged ASRSettle after it
//     ends (when capture time, the latest call close, passes it). With at
//     least ASRMinSeizures seizures in the hour, it fires when the hour's
//     ASR (ITU-T E.411: answered seizures / seizures) is below ASRFloor, or
//     below ASRFraction of the ASR of the same hour over the trailing 7 days
//     (when those hold at least ASRMinSeizures seizures). Calls of the hour
//     that close after it was judged count only in later baselines.
//   - route.short_calls: per window of release time (ShortWindow, aligned to
//     the epoch), once at least ShortMinAnswered answered calls released in
//     it and more than ShortShare of them talked for less than ShortMaxTalk;
//     at most once per route and window.
//
// Memory: 168 hourly counters per route; at most maxRoutes routes.
const (
	hour          = 3600 * second
	baselineHours = 7 * 24
	maxRoutes     = 4096
)

type routeKey struct {
	partner, link string
	dir           analysis.Direction
}

type hourCount struct {
	hour               int64 // hour number (Unix ns / hour) the counts belong to
	seizures, answered uint32
}

type routeState struct {
	key   routeKey
	hours [baselineHours]hourCount

	shortWindow     int64 // window number of the counts below
	answered, short int
	shortFired      bool
}

type routeTable struct {
	byKey    map[routeKey]*routeState
	sorted   []*routeState // by key, for a deterministic alert order
	judged   int64         // last hour judged by route.asr_drop
	started  bool
	overflow uint64
}

func (t *routeTable) init() { t.byKey = make(map[routeKey]*routeState) }

func (t *routeTable) get(k routeKey) *routeState {
	if r := t.byKey[k]; r != nil {
		return r
	}
	if len(t.byKey) >= maxRoutes {
		t.overflow++
		return nil
	}
	r := &routeState{key: k}
	t.byKey[k] = r
	i := sort.Search(len(t.sorted), func(i int) bool { return !routeLess(t.sorted[i].key, k) })
	t.sorted = append(t.sorted, nil)
	copy(t.sorted[i+1:], t.sorted[i:])
	t.sorted[i] = r
	return r
}

func routeLess(a, b routeKey) bool {
	if a.partner != b.partner {
		return a.partner < b.partner
	}
	if a.link != b.link {
		return a.link < b.link
	}
	return a.dir < b.dir
}

func (e *Engine) routeClose(c *analysis.Call) {
	if c.Partner == "" || c.Direction == analysis.DirectionUnknown {
		return
	}
	t := &e.routes
	h := c.Start / hour
	if !t.started {
		t.started, t.judged = true, h-1
	}
	r := t.get(routeKey{c.Partner, c.Link, c.Direction})
	if r != nil {
		b := &r.hours[h%baselineHours]
		if b.hour != h {
			*b = hourCount{hour: h}
		}
		b.seizures++
		answered := c.Outcome == analysis.OutcomeAnswered
		if answered {
			b.answered++
			e.shortCall(r, c)
		}
	}
	now := c.End
	if now == 0 {
		now = c.Start
	}
	due := (now-e.th.ASRSettle)/hour - 1
	if due-t.judged > baselineHours {
		t.judged = due - baselineHours // a jump in capture time: older hours are gone from the counters
	}
	for t.judged < due {
		t.judged++
		for _, r := range t.sorted {
			e.judgeHour(r, t.judged)
		}
	}
}

func (e *Engine) judgeHour(r *routeState, h int64) {
	b := r.hours[h%baselineHours]
	if b.hour != h || int(b.seizures) < e.th.ASRMinSeizures {
		return
	}
	asr := float64(b.answered) / float64(b.seizures)
	var bs, ba uint32
	for d := int64(1); d <= 7; d++ {
		if p := r.hours[(h-24*d)%baselineHours]; p.hour == h-24*d {
			bs += p.seizures
			ba += p.answered
		}
	}
	var detail string
	switch {
	case asr < e.th.ASRFloor:
		detail = fmt.Sprintf("hourly ASR %.1f%% (%d answered of %d seizures) below the floor %.1f%%",
			100*asr, b.answered, b.seizures, 100*e.th.ASRFloor)
	case int(bs) >= e.th.ASRMinSeizures && asr < e.th.ASRFraction*float64(ba)/float64(bs):
		detail = fmt.Sprintf("hourly ASR %.1f%% (%d answered of %d seizures) below %.0f%% of the trailing 7-day ASR %.1f%% at this hour (%d of %d)",
			100*asr, b.answered, b.seizures, 100*e.th.ASRFraction, 100*float64(ba)/float64(bs), ba, bs)
	default:
		return
	}
	e.fireRoute(r, RouteASRDrop, (h+1)*hour, int(b.seizures), hour, detail)
}

func (e *Engine) shortCall(r *routeState, c *analysis.Call) {
	w := c.Release / e.th.ShortWindow
	if w != r.shortWindow {
		r.shortWindow, r.answered, r.short, r.shortFired = w, 0, 0, false
	}
	r.answered++
	if c.TalkNanos() < e.th.ShortMaxTalk {
		r.short++
	}
	if r.shortFired || r.answered < e.th.ShortMinAnswered || float64(r.short) <= e.th.ShortShare*float64(r.answered) {
		return
	}
	r.shortFired = true
	e.fireRoute(r, RouteShortCalls, c.Release, r.answered, e.th.ShortWindow,
		fmt.Sprintf("%d of %d answered calls talked less than %d s within %d s",
			r.short, r.answered, e.th.ShortMaxTalk/second, e.th.ShortWindow/second))
}

// fireRoute reports a route alert: it names the partner, link and direction,
// not a call.
func (e *Engine) fireRoute(r *routeState, rule string, ts int64, count int, window int64, detail string) {
	e.alerts[rule]++
	if e.emit == nil {
		return
	}
	a := &e.alert
	*a = analysis.Alert{TS: ts, Rule: rule, Severity: e.severity[rule], Partner: r.key.partner, Direction: r.key.dir,
		Link: r.key.link, Count: count, WindowS: int(window / second), Detail: detail}
	e.emit(a)
}
