// Package deliver is the "alerts out" stage of the daemon: it hands alerts
// to operators' systems (a rotating JSON-lines file, syslog, an HTTP
// webhook), each behind its own bounded queue so a slow or dead receiver
// never holds up the pipeline, and it mirrors decoded signalling to a Homer
// collector as HEPv3. Every alert that is not delivered is counted: by rule
// when rate limited, by sink when a queue overflows or a delivery fails.
//
// With Options.CursorDir (OpenDispatcher), each sink keeps a delivery
// cursor: the sequence number of the last alert it acknowledged (file:
// written; webhook: a 2xx answer; syslog: handed to the socket). Alerts sent
// with a sequence (SendSeq) at or below a sink's cursor are skipped for it,
// and after a restart the owner re-sends (Resend) what followed each
// cursor: see cursor.go for what survives which crash.
package deliver

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
)

// Event is one alert on its way out: the record and its public JSON form
// (analysis.AppendAlertJSON, no newline). Sinks must not modify it.
type Event struct {
	Alert analysis.Alert
	JSON  []byte
	// Seq is the alert's delivery sequence (SendSeq, Resend); 0: not
	// tracked by the cursors (e.g. the store's checkpoints).
	Seq uint64
	// skip: the alert was rate limited; the cursor moves past it.
	skip bool
}

// Sink delivers events to one destination. Deliver is called from a single
// goroutine; it may block (the sink's queue fills meanwhile) and should give
// up when ctx is done.
type Sink interface {
	Name() string
	Deliver(ctx context.Context, e *Event) error
	Close() error
}

// Limit is a token-bucket rate: PerSecond on average, Burst at once. The
// zero Limit means unlimited.
type Limit struct {
	PerSecond float64
	Burst     int
}

// Options configure a Dispatcher.
type Options struct {
	// QueueLen is each sink's queue capacity in alerts (default 1024).
	QueueLen int
	// Default limits every rule not in PerRule; zero: unlimited.
	Default Limit
	PerRule map[string]Limit
	// OnError is told about failed deliveries (for logging); it may be nil.
	OnError func(sink string, err error)
	// CursorDir keeps each sink's delivery cursor (OpenDispatcher only).
	CursorDir string
	// CursorSync is how often cursors (and Positioned sinks' files) are
	// fsynced (default DefaultCursorSync).
	CursorSync time.Duration
}

// DefaultCursorSync is the default Options.CursorSync: the window of
// acknowledgements a power loss (not a kill) may forget.
const DefaultCursorSync = time.Second

// SinkStats are one sink's counters.
type SinkStats struct {
	Name      string
	Delivered uint64
	Failed    uint64 // gave up after retries, or a write error
	Dropped   uint64 // queue full
	Queued    int    // waiting now
	Capacity  int
	// Skipped counts alerts not delivered because the cursor showed them
	// delivered before a restart.
	Skipped uint64
	Acked   uint64 // the cursor: last acknowledged sequence (0 without cursors)
}

type sinkWorker struct {
	sink      Sink
	q         chan *Event
	cur       *cursor // nil without cursors
	pos       Positioned
	acked     atomic.Uint64
	delivered atomic.Uint64
	failed    atomic.Uint64
	dropped   atomic.Uint64
	skipped   atomic.Uint64
	curErr    error // first cursor write error (the sink's goroutine)
}

// Dispatcher fans alerts out to sinks after per-rule rate limiting. Send and
// Stats may be called from any goroutine.
type Dispatcher struct {
	opt     Options
	workers []*sinkWorker
	buckets map[string]*TokenBucket
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu          sync.Mutex
	rateLimited map[string]uint64
	closed      bool
}

// NewDispatcher starts one goroutine per sink, without delivery cursors
// (opt.CursorDir is ignored).
func NewDispatcher(opt Options, sinks ...Sink) *Dispatcher {
	opt.CursorDir = ""
	d, _ := OpenDispatcher(opt, sinks...)
	return d
}

// OpenDispatcher is NewDispatcher with each sink's delivery cursor read from
// (or created in) opt.CursorDir, one file per sink name.
func OpenDispatcher(opt Options, sinks ...Sink) (*Dispatcher, error) {
	if opt.QueueLen <= 0 {
		opt.QueueLen = 1024
	}
	if opt.CursorSync <= 0 {
		opt.CursorSync = DefaultCursorSync
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Dispatcher{opt: opt, buckets: map[string]*TokenBucket{}, rateLimited: map[string]uint64{}, ctx: ctx, cancel: cancel}
	for _, s := range sinks {
		w := &sinkWorker{sink: s, q: make(chan *Event, opt.QueueLen)}
		if opt.CursorDir != "" {
			c, err := openCursor(opt.CursorDir, s.Name(), s)
			if err != nil {
				for _, w := range d.workers {
					w.cur.close()
				}
				cancel()
				return nil, err
			}
			w.cur = c
			w.acked.Store(c.acked())
			w.pos, _ = s.(Positioned)
		}
		d.workers = append(d.workers, w)
	}
	for _, w := range d.workers {
		d.wg.Add(1)
		go d.run(w)
	}
	return d, nil
}

func (d *Dispatcher) run(w *sinkWorker) {
	defer d.wg.Done()
	var tick <-chan time.Time
	if w.cur != nil {
		t := time.NewTicker(d.opt.CursorSync)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case e, ok := <-w.q:
			if !ok {
				d.sync(w)
				return
			}
			d.deliver(w, e)
		case <-tick:
			d.sync(w)
		}
	}
}

// deliver hands e to w's sink and moves its cursor.
func (d *Dispatcher) deliver(w *sinkWorker, e *Event) {
	acked := w.acked.Load()
	if w.cur != nil && e.Seq != 0 && e.Seq <= acked {
		if !e.skip {
			w.skipped.Add(1)
		}
		return
	}
	if e.skip {
		d.ack(w, e.Seq)
		return
	}
	if w.pos != nil {
		// Before the write: a kill after it is resolved by the file.
		next := acked
		if e.Seq != 0 {
			next = e.Seq
		}
		d.cursorErr(w, w.cur.set(acked, next, w.pos.Size()))
	}
	if err := w.sink.Deliver(d.ctx, e); err != nil {
		w.failed.Add(1)
		if d.opt.OnError != nil {
			d.opt.OnError(w.sink.Name(), err)
		}
		return
	}
	w.delivered.Add(1)
	d.ack(w, e.Seq)
}

// ack moves w's cursor to seq (if beyond it).
func (d *Dispatcher) ack(w *sinkWorker, seq uint64) {
	if w.cur == nil {
		return
	}
	var mark int64
	if w.pos != nil {
		mark = w.pos.Size()
	}
	acked := max(w.acked.Load(), seq)
	d.cursorErr(w, w.cur.set(acked, acked, mark))
	w.acked.Store(acked)
}

// sync makes w's acknowledgements durable: the sink's file first, then the
// cursor.
func (d *Dispatcher) sync(w *sinkWorker) {
	if w.cur == nil || !w.cur.dirty {
		return
	}
	if w.pos != nil {
		d.cursorErr(w, w.pos.Sync())
	}
	d.cursorErr(w, w.cur.sync())
}

func (d *Dispatcher) cursorErr(w *sinkWorker, err error) {
	if err != nil && w.curErr == nil {
		w.curErr = err
		if d.opt.OnError != nil {
			d.opt.OnError(w.sink.Name(), err)
		}
	}
}

// allow applies the rule's token bucket at the alert's capture time.
func (d *Dispatcher) allow(a *analysis.Alert) bool {
	b := d.buckets[a.Rule]
	if b == nil {
		lim, ok := d.opt.PerRule[a.Rule]
		if !ok {
			lim = d.opt.Default
		}
		if lim.PerSecond <= 0 {
			return true
		}
		b = NewTokenBucket(lim.PerSecond, lim.Burst)
		d.buckets[a.Rule] = b
	}
	return b.Allow(a.TS)
}

// Send queues a copy of a for every sink; it never blocks. It reports
// whether the alert passed the rate limit. It may be called from several
// goroutines (the pipeline, and the store's checkpoints).
func (d *Dispatcher) Send(a *analysis.Alert) bool { return d.SendSeq(a, 0) }

// SendSeq is Send for an alert with a delivery sequence (increasing from
// one alert to the next): sinks whose cursor is at or beyond seq skip it.
func (d *Dispatcher) SendSeq(a *analysis.Alert, seq uint64) bool {
	d.mu.Lock()
	ok := d.allow(a)
	if !ok {
		d.rateLimited[a.Rule]++
	}
	d.mu.Unlock()
	if !ok {
		if seq != 0 {
			// The cursors move past it, so a restart does not re-send it.
			e := &Event{Seq: seq, skip: true}
			for _, w := range d.workers {
				select {
				case w.q <- e:
				default:
				}
			}
		}
		return false
	}
	if len(d.workers) == 0 {
		return true
	}
	e := &Event{Alert: *a, Seq: seq}
	e.JSON = analysis.AppendAlertJSON(make([]byte, 0, 384), a)
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	for _, w := range d.workers {
		if closed {
			w.dropped.Add(1)
			continue
		}
		select {
		case w.q <- e:
		default:
			w.dropped.Add(1)
		}
	}
	return true
}

// Stats returns every sink's counters and the alerts held back per rule.
func (d *Dispatcher) Stats() ([]SinkStats, map[string]uint64) {
	out := make([]SinkStats, len(d.workers))
	for i, w := range d.workers {
		out[i] = SinkStats{Name: w.sink.Name(), Delivered: w.delivered.Load(), Failed: w.failed.Load(),
			Dropped: w.dropped.Load(), Queued: len(w.q), Capacity: cap(w.q), Skipped: w.skipped.Load(), Acked: w.acked.Load()}
	}
	d.mu.Lock()
	rl := make(map[string]uint64, len(d.rateLimited))
	for k, v := range d.rateLimited {
		rl[k] = v
	}
	d.mu.Unlock()
	return out, rl
}

// Sinks is how many sinks the dispatcher feeds (indexes for Cursor and Resend).
func (d *Dispatcher) Sinks() int { return len(d.workers) }

// Cursor is sink i's name and cursor as read at open; fresh means it had
// none (a new sink, or the first start with cursors): it has no history to
// catch up on. Call it before the first Send.
func (d *Dispatcher) Cursor(i int) (name string, acked uint64, fresh bool) {
	w := d.workers[i]
	if w.cur == nil {
		return w.sink.Name(), 0, true
	}
	return w.sink.Name(), w.acked.Load(), w.cur.fresh
}

// StartCursor sets a fresh sink's cursor (see Cursor) to seq before the
// first Send: alerts up to seq are not sent to it.
func (d *Dispatcher) StartCursor(i int, seq uint64) {
	if w := d.workers[i]; w.cur != nil {
		w.q <- &Event{Seq: seq, skip: true}
	}
}

// Resend queues a to sink i alone with its sequence: the re-sending of
// committed alerts after a restart, before the first Send. It never blocks
// (a dead receiver must not hold up the start): beyond the queue's room the
// alert is dropped and counted, as in Send, and Resend reports false. Rate
// limits are not applied again: an alert they held back before the restart
// normally moved the cursors past it (unless the kill came first).
func (d *Dispatcher) Resend(i int, a *analysis.Alert, seq uint64) bool {
	e := &Event{Alert: *a, Seq: seq}
	e.JSON = analysis.AppendAlertJSON(make([]byte, 0, 384), a)
	w := d.workers[i]
	select {
	case w.q <- e:
		return true
	default:
		w.dropped.Add(1)
		return false
	}
}

// MinAcked is the lowest cursor over the sinks: every alert at or below it
// has been acknowledged by every sink (math.MaxUint64 without cursors or
// sinks). Safe from any goroutine.
func (d *Dispatcher) MinAcked() uint64 {
	m := uint64(math.MaxUint64)
	for _, w := range d.workers {
		if w.cur != nil {
			m = min(m, w.acked.Load())
		}
	}
	return m
}

// Close stops accepting alerts, lets the sinks drain their queues until ctx
// is done (then abandons retries), and closes them. Call it after the last
// Send.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	for _, w := range d.workers {
		close(w.q)
	}
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		d.cancel()
		<-done
	}
	d.cancel()
	var errs []error
	for _, w := range d.workers {
		errs = append(errs, w.sink.Close())
		if w.cur != nil {
			errs = append(errs, w.curErr, w.cur.close())
		}
	}
	return errors.Join(errs...)
}
