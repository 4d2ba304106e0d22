package rules

// window counts events per key over a sliding window of capture time, exactly,
// with memory bounded by the number of events inside the window.
//
// State: an expiry queue holding every event still inside the window (key slot
// and time, 16 bytes each, kept in time order) and, per live key, a slot of 24
// bytes (hash, count, last firing) plus its map entry (about 20 bytes). A key
// lives only while it has events in the window: when its last event expires the
// key is deleted, so idle keys cost nothing. With one event per number the
// cost is about 100 bytes per distinct number in the window, measured by
// TestMillionDistinctCallers: a million distinct callers in ten minutes hold
// about 100 MB in the high-frequency table. The queue is capped
// (maxEvents); beyond it the oldest event is dropped early and counted in
// Overflow, which can only make a count smaller (never a false alert).
//
// Keys are 64-bit FNV-1a hashes of the number: two numbers colliding would
// share a count, which at 64 bits is negligible for millions of numbers.
type window struct {
	span      int64 // window length, ns
	threshold int32
	maxEvents int

	index map[uint64]int32 // key hash -> slot
	slots []keySlot
	free  []int32

	// events is a ring buffer in time order: events[head], ... n of them.
	events []event
	head   int
	n      int
	now    int64 // newest event time seen

	Overflow uint64 // events dropped because the queue was full
}

type keySlot struct {
	hash  uint64
	fired int64 // time of the last alert for this key; 0 never
	count int32
}

type event struct {
	ts   int64
	slot int32
}

func newWindow(span int64, threshold int, maxEvents int) *window {
	if threshold < 1 {
		threshold = 1
	}
	return &window{span: span, threshold: int32(threshold), maxEvents: maxEvents, index: make(map[uint64]int32)}
}

// add records an event for key at ts and reports whether the key reached the
// threshold within the window and has not fired in the last window length; in
// that case the key is marked as fired at ts. count is the key's events in the
// window.
func (w *window) add(hash uint64, ts int64) (fire bool, count int) {
	if ts > w.now {
		w.now = ts
	}
	w.expire()
	if w.n >= w.maxEvents {
		w.Overflow++
		w.dropHead()
	}
	idx, ok := w.index[hash]
	if !ok {
		if n := len(w.free); n > 0 {
			idx = w.free[n-1]
			w.free = w.free[:n-1]
		} else {
			idx = int32(len(w.slots))
			w.slots = append(w.slots, keySlot{})
		}
		w.slots[idx] = keySlot{hash: hash}
		w.index[hash] = idx
	}
	if ts <= w.now-w.span {
		// Older than the whole window already: it can never count.
		if w.slots[idx].count == 0 {
			w.release(idx)
		}
		return false, 0
	}
	w.push(event{ts: ts, slot: idx})
	k := &w.slots[idx]
	k.count++
	if k.count >= w.threshold && (k.fired == 0 || ts-k.fired >= w.span) {
		k.fired = ts
		if k.fired == 0 {
			k.fired = 1
		}
		return true, int(k.count)
	}
	return false, int(k.count)
}

// Keys is the number of keys with events in the window.
func (w *window) Keys() int { return len(w.index) }

// retune takes the length, threshold and queue bound of like, keeping the
// events and keys: events older than a shorter span leave at the next add.
func (w *window) retune(like *window) {
	w.span, w.threshold, w.maxEvents = like.span, like.threshold, like.maxEvents
}

func (w *window) expire() {
	horizon := w.now - w.span
	for w.n > 0 && w.events[w.head].ts <= horizon {
		w.dropHead()
	}
}

func (w *window) dropHead() {
	e := w.events[w.head]
	w.head++
	if w.head == len(w.events) {
		w.head = 0
	}
	w.n--
	k := &w.slots[e.slot]
	k.count--
	if k.count == 0 {
		w.release(e.slot)
	}
}

func (w *window) release(idx int32) {
	delete(w.index, w.slots[idx].hash)
	w.slots[idx] = keySlot{}
	w.free = append(w.free, idx)
}

// push inserts e keeping the queue in time order. Events arrive almost in
// order, so the insertion walks back only over the few newer ones.
func (w *window) push(e event) {
	if w.n == len(w.events) {
		w.grow()
	}
	size := len(w.events)
	pos := w.head + w.n
	if pos >= size {
		pos -= size
	}
	w.n++
	for i := w.n - 1; i > 0; i-- {
		prev := pos - 1
		if prev < 0 {
			prev += size
		}
		if w.events[prev].ts <= e.ts {
			break
		}
		w.events[pos] = w.events[prev]
		pos = prev
	}
	w.events[pos] = e
}

func (w *window) grow() {
	size := 2 * len(w.events)
	if size < 1024 {
		size = 1024
	}
	if size > w.maxEvents {
		size = w.maxEvents
	}
	grown := make([]event, size)
	for i := 0; i < w.n; i++ {
		j := w.head + i
		if j >= len(w.events) {
			j -= len(w.events)
		}
		grown[i] = w.events[j]
	}
	w.events = grown
	w.head = 0
}
