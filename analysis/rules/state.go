package rules

import (
	"fmt"

	"github.com/gatewarden/gatewarden/analysis"

	"github.com/gatewarden/gatewarden/internal/snapshot"
)

// engineStateVersion is the first value of a saved engine state.
const engineStateVersion = 2

// AppendState appends what the engine has counted to b, so a restart keeps
// counting where it stopped (RestoreState): the behaviour windows (every
// event still inside a window, and when each key last fired: a one-ring
// burst that spans a restart is still seen), the route KPI counters
// (route.asr_drop, route.short_calls) and the transit legs waiting for
// their egress leg (by call ID). Alert counters are not saved.
func (e *Engine) AppendState(b []byte) []byte {
	b = snapshot.AppendUint(b, engineStateVersion)
	for _, w := range e.windows() {
		b = w.appendState(b)
	}
	b = e.routes.appendState(b)
	var ids []string
	e.transit.EachPending(func(c *analysis.Call) { ids = append(ids, c.ID) })
	b = snapshot.AppendUint(b, uint64(len(ids)))
	for _, id := range ids {
		b = snapshot.AppendString(b, id)
	}
	return b
}

// RestoreState replaces what the engine has counted with a saved state; the
// windows keep their configured lengths and thresholds. open finds a
// restored call in progress by ID (the transit legs). On error the engine's
// counts are left empty.
func (e *Engine) RestoreState(b []byte, open func(id string) *analysis.Call) error {
	r := snapshot.NewReader(b)
	if v := r.Uint(); v != engineStateVersion {
		return fmt.Errorf("rules state: version %d, want %d", v, engineStateVersion)
	}
	ws := e.windows()
	for _, w := range ws {
		w.readState(r)
	}
	e.routes.readState(r)
	n := r.Count(e.th.TransitMaxPending + maxRoutes)
	legs := make([]*analysis.Call, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		if c := open(r.String()); c != nil {
			legs = append(legs, c)
		}
	}
	if err := r.Err(); err != nil || r.Len() != 0 {
		for _, w := range ws {
			w.clear()
		}
		e.routes = routeTable{}
		e.routes.init()
		return fmt.Errorf("rules state: corrupt (%v, %d trailing bytes)", err, r.Len())
	}
	e.transit.Restore(legs)
	return nil
}

func (t *routeTable) appendState(b []byte) []byte {
	b = snapshot.AppendInt(b, t.judged)
	b = snapshot.AppendBool(b, t.started)
	b = snapshot.AppendUint(b, t.overflow)
	b = snapshot.AppendUint(b, uint64(len(t.sorted)))
	for _, r := range t.sorted {
		b = snapshot.AppendString(b, r.key.partner)
		b = snapshot.AppendString(b, r.key.link)
		b = append(b, byte(r.key.dir))
		n := 0
		for i := range r.hours {
			if r.hours[i] != (hourCount{}) {
				n++
			}
		}
		b = snapshot.AppendUint(b, uint64(n))
		for i, h := range r.hours {
			if h != (hourCount{}) {
				b = snapshot.AppendUint(b, uint64(i))
				b = snapshot.AppendInt(b, h.hour)
				b = snapshot.AppendUint(b, uint64(h.seizures))
				b = snapshot.AppendUint(b, uint64(h.answered))
			}
		}
		b = snapshot.AppendInt(b, r.shortWindow)
		b = snapshot.AppendInt(b, int64(r.answered))
		b = snapshot.AppendInt(b, int64(r.short))
		b = snapshot.AppendBool(b, r.shortFired)
	}
	return b
}

func (t *routeTable) readState(r *snapshot.Reader) {
	*t = routeTable{}
	t.init()
	t.judged, t.started, t.overflow = r.Int(), r.Bool(), r.Uint()
	n := r.Count(maxRoutes)
	for i := 0; i < n && r.Err() == nil; i++ {
		k := routeKey{partner: r.String(), link: r.String(), dir: analysis.Direction(r.Uint8())}
		rs := t.get(k)
		if rs == nil {
			r.Fail()
			return
		}
		nh := r.Count(baselineHours)
		for j := 0; j < nh && r.Err() == nil; j++ {
			idx := r.Count(baselineHours - 1)
			rs.hours[idx] = hourCount{hour: r.Int(), seizures: uint32(r.Uint()), answered: uint32(r.Uint())}
		}
		rs.shortWindow, rs.answered, rs.short, rs.shortFired = r.Int(), int(r.Int()), int(r.Int()), r.Bool()
	}
}

func (e *Engine) windows() [4]*window {
	return [4]*window{e.oneRing, e.bombing, e.highFreq, e.relay}
}

func (w *window) clear() {
	*w = *newWindow(w.span, int(w.threshold), w.maxEvents)
}

// appendState writes the live keys (hash, last firing) and the events in
// time order, each naming its key by position.
func (w *window) appendState(b []byte) []byte {
	b = snapshot.AppendInt(b, w.now)
	b = snapshot.AppendUint(b, w.Overflow)
	pos := make(map[int32]int, len(w.index))
	b = snapshot.AppendUint(b, uint64(len(w.index)))
	for _, idx := range w.index {
		pos[idx] = len(pos)
		k := &w.slots[idx]
		b = snapshot.AppendUint(b, k.hash)
		b = snapshot.AppendInt(b, k.fired)
	}
	b = snapshot.AppendUint(b, uint64(w.n))
	for i := 0; i < w.n; i++ {
		j := w.head + i
		if j >= len(w.events) {
			j -= len(w.events)
		}
		ev := w.events[j]
		b = snapshot.AppendInt(b, ev.ts)
		b = snapshot.AppendUint(b, uint64(pos[ev.slot]))
	}
	return b
}

func (w *window) readState(r *snapshot.Reader) {
	w.clear()
	w.now = r.Int()
	w.Overflow = r.Uint()
	nk := r.Count(w.maxEvents)
	for i := 0; i < nk && r.Err() == nil; i++ {
		hash, fired := r.Uint(), r.Int()
		if _, dup := w.index[hash]; dup {
			r.Fail()
			return
		}
		w.index[hash] = int32(len(w.slots))
		w.slots = append(w.slots, keySlot{hash: hash, fired: fired})
	}
	ne := r.Count(w.maxEvents)
	var last int64
	for i := 0; i < ne && r.Err() == nil; i++ {
		ts, k := r.Int(), r.Count(nk-1)
		if r.Err() != nil || (i > 0 && ts < last) {
			r.Fail()
			return
		}
		last = ts
		w.push(event{ts: ts, slot: int32(k)})
		w.slots[k].count++
	}
	for idx := range w.slots {
		if w.slots[idx].count == 0 && r.Err() == nil {
			r.Fail() // a saved key always has an event
		}
	}
}
