// Package deliver is the "alerts out" stage of the daemon: it hands alerts
// to operators' systems (a rotating JSON-lines file, syslog, an HTTP
// webhook), each behind its own bounded queue so a slow or dead receiver
// never holds up the pipeline, and it mirrors decoded signalling to a Homer
// collector as HEPv3. Every alert that is not delivered is counted: by rule
// when rate limited, by sink when a queue overflows or a delivery fails.
package deliver

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/gatewarden/gatewarden/analysis"
)

// Event is one alert on its way out: the record and its public JSON form
// (analysis.AppendAlertJSON, no newline). Sinks must not modify it.
type Event struct {
	Alert analysis.Alert
	JSON  []byte
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
}

// SinkStats are one sink's counters.
type SinkStats struct {
	Name      string
	Delivered uint64
	Failed    uint64 // gave up after retries, or a write error
	Dropped   uint64 // queue full
	Queued    int    // waiting now
	Capacity  int
}

type sinkWorker struct {
	sink      Sink
	q         chan *Event
	delivered atomic.Uint64
	failed    atomic.Uint64
	dropped   atomic.Uint64
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

// NewDispatcher starts one goroutine per sink.
func NewDispatcher(opt Options, sinks ...Sink) *Dispatcher {
	if opt.QueueLen <= 0 {
		opt.QueueLen = 1024
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Dispatcher{opt: opt, buckets: map[string]*TokenBucket{}, rateLimited: map[string]uint64{}, ctx: ctx, cancel: cancel}
	for _, s := range sinks {
		w := &sinkWorker{sink: s, q: make(chan *Event, opt.QueueLen)}
		d.workers = append(d.workers, w)
		d.wg.Add(1)
		go d.run(w)
	}
	return d
}

func (d *Dispatcher) run(w *sinkWorker) {
	defer d.wg.Done()
	for e := range w.q {
		if err := w.sink.Deliver(d.ctx, e); err != nil {
			w.failed.Add(1)
			if d.opt.OnError != nil {
				d.opt.OnError(w.sink.Name(), err)
			}
			continue
		}
		w.delivered.Add(1)
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
func (d *Dispatcher) Send(a *analysis.Alert) bool {
	d.mu.Lock()
	ok := d.allow(a)
	if !ok {
		d.rateLimited[a.Rule]++
	}
	d.mu.Unlock()
	if !ok {
		return false
	}
	if len(d.workers) == 0 {
		return true
	}
	e := &Event{Alert: *a}
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
			Dropped: w.dropped.Load(), Queued: len(w.q), Capacity: cap(w.q)}
	}
	d.mu.Lock()
	rl := make(map[string]uint64, len(d.rateLimited))
	for k, v := range d.rateLimited {
		rl[k] = v
	}
	d.mu.Unlock()
	return out, rl
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
	}
	return errors.Join(errs...)
}
