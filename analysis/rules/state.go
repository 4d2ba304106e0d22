package rules

import (
	"fmt"

	"github.com/gatewarden/gatewarden/internal/snapshot"
)

// engineStateVersion is the first value of a saved engine state.
const engineStateVersion = 1

// AppendState appends the behaviour windows (every event still inside a
// window, and when each key last fired) to b, so a restart keeps counting
// where it stopped (RestoreState): a one-ring burst that spans a restart is
// still seen. Alert counters are not saved.
func (e *Engine) AppendState(b []byte) []byte {
	b = snapshot.AppendUint(b, engineStateVersion)
	for _, w := range e.windows() {
		b = w.appendState(b)
	}
	return b
}

// RestoreState replaces the behaviour windows' contents with a saved state;
// the windows keep their configured lengths and thresholds. On error the
// windows are left empty.
func (e *Engine) RestoreState(b []byte) error {
	r := snapshot.NewReader(b)
	if v := r.Uint(); v != engineStateVersion {
		return fmt.Errorf("rules state: version %d, want %d", v, engineStateVersion)
	}
	ws := e.windows()
	for _, w := range ws {
		w.readState(r)
	}
	if err := r.Err(); err != nil || r.Len() != 0 {
		for _, w := range ws {
			w.clear()
		}
		return fmt.Errorf("rules state: corrupt (%v, %d trailing bytes)", err, r.Len())
	}
	return nil
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
