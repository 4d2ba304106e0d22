// Package transit links the two legs of a call that crosses the gateway: the
// ingress call a partner sends us and the egress call the gateway sends on
// for it. The tap sees both IAMs; nothing in ISUP says they belong together,
// so they are matched on the called number (compared in E.164 form when the
// plan can normalise both, else as signalled) and on time: the egress IAM
// must follow the ingress IAM within a window (default 3 s).
//
// The correlator is fed by the assembler's callbacks (Open, Setup, Close).
// An ingress leg is registered when its IAM opens it; an egress leg is
// matched when its setup is complete (its called number has every overlap
// digit). A match sets Call.TransitOf on the egress record and
// Call.TransitTo on the ingress record (both calls are still open, so both
// stored records carry the link), and calls OnLink with the two legs, which
// is where the transit rules judge what changed. An ingress leg that goes on
// to several egress legs (crankback after a failed attempt) keeps the last
// one in TransitTo; each egress leg names it in TransitOf.
//
// Time is capture time; memory is bounded by MaxPending ingress legs (the
// oldest is dropped and counted when full), and an ingress leg stops being a
// candidate once its IAM is MaxAge old or its call has closed.
package transit

import (
	"hash/maphash"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/numplan"
)

const second = int64(1e9)

// Defaults of Config.
const (
	DefaultWindow     = 3 * second
	DefaultMaxAge     = 120 * second
	DefaultMaxPending = 1 << 16
)

// Normaliser is the numbering plan (numplan.Plan).
type Normaliser interface {
	Normalise(digits []byte, nai uint8, out *numplan.Result)
}

// Config configures a Correlator. Zero fields take the defaults.
type Config struct {
	// Window: the egress IAM must come at most this long after the ingress
	// IAM (default 3 s).
	Window int64
	// MaxAge: an ingress leg is no longer matched once its IAM is this old,
	// so an egress leg must complete its setup within it (default 120 s).
	MaxAge int64
	// MaxPending caps the ingress legs held for matching (default 65536).
	MaxPending int
	// Plan normalises called numbers; nil compares digits as signalled.
	Plan Normaliser
	// Ingress reports whether an ingress call may be the first leg of a
	// transit call (its partner's kind allows it); nil: every ingress call.
	Ingress func(*analysis.Call) bool
	// Egress reports whether an egress call may be the second leg; nil:
	// every egress call.
	Egress func(*analysis.Call) bool
	// OnLink is called for each link, with both calls open; nil: none.
	OnLink func(in, out *analysis.Call)
}

// Stats counts what the correlator did.
type Stats struct {
	Pending  int    // ingress legs held now
	Linked   uint64 // egress legs linked to an ingress leg
	Overflow uint64 // ingress legs dropped early because MaxPending was reached
}

type entry struct {
	call  *analysis.Call
	key   uint64
	start int64
	next  *entry // same key, newer
	qprev *entry // FIFO by IAM time
	qnext *entry
}

// Correlator links transit legs. It is not safe for concurrent use.
type Correlator struct {
	cfg        Config
	seed       maphash.Seed
	byKey      map[uint64]*entry // oldest first, chained by next
	byCall     map[*analysis.Call]*entry
	head, tail *entry // FIFO
	free       []*entry
	stats      Stats
	ra, rb     numplan.Result
	buf        []byte
}

// New returns a correlator with cfg.
func New(cfg Config) *Correlator {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.MaxAge < cfg.Window {
		cfg.MaxAge = cfg.Window
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	return &Correlator{cfg: cfg, seed: maphash.MakeSeed(),
		byKey: make(map[uint64]*entry), byCall: make(map[*analysis.Call]*entry)}
}

// Reconfigure puts cfg in force; pending legs are kept.
func (t *Correlator) Reconfigure(cfg Config) {
	n := New(cfg)
	n.seed, n.byKey, n.byCall, n.head, n.tail, n.free, n.stats = t.seed, t.byKey, t.byCall, t.head, t.tail, t.free, t.stats
	*t = *n
}

// Stats returns the counters so far.
func (t *Correlator) Stats() Stats {
	s := t.stats
	s.Pending = len(t.byCall)
	return s
}

// keyDigits is how many trailing digits of the called number index the
// pending legs: the forms of one number (national, with 0, with the country
// code, with 00) share them, so indexing needs no normalisation; a match is
// then confirmed in E.164 (sameCalled).
const keyDigits = 8

// key hashes the last keyDigits digits of the called number. ok is false
// without digits.
func (t *Correlator) key(c *analysis.Call) (uint64, bool) {
	if c.Called == nil || c.Called.Digits == "" {
		return 0, false
	}
	d := c.Called.Digits
	if len(d) > keyDigits {
		d = d[len(d)-keyDigits:]
	}
	return maphash.String(t.seed, d), true
}

// Open registers an ingress call (analysis.AssemblerConfig.Open).
func (t *Correlator) Open(c *analysis.Call) {
	t.expire(c.Start)
	if c.Direction != analysis.DirectionIngress || (t.cfg.Ingress != nil && !t.cfg.Ingress(c)) {
		return
	}
	t.add(c)
}

// add makes c a pending ingress leg (newest).
func (t *Correlator) add(c *analysis.Call) {
	k, ok := t.key(c)
	if !ok {
		return
	}
	if len(t.byCall) >= t.cfg.MaxPending {
		t.stats.Overflow++
		t.remove(t.head)
	}
	var e *entry
	if n := len(t.free); n > 0 {
		e = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		e = new(entry)
	}
	*e = entry{call: c, key: k, start: c.Start, qprev: t.tail}
	if t.tail != nil {
		t.tail.qnext = e
	} else {
		t.head = e
	}
	t.tail = e
	if first := t.byKey[k]; first == nil {
		t.byKey[k] = e
	} else {
		for first.next != nil {
			first = first.next
		}
		first.next = e
	}
	t.byCall[c] = e
}

// EachPending calls fn with each pending ingress leg, oldest first (a
// restart saves their call IDs; see Restore).
func (t *Correlator) EachPending(fn func(c *analysis.Call)) {
	for e := t.head; e != nil; e = e.qnext {
		fn(e.call)
	}
}

// Restore makes calls (restored calls in progress, oldest first) the pending
// ingress legs again after a restart.
func (t *Correlator) Restore(calls []*analysis.Call) {
	t.byKey, t.byCall, t.head, t.tail = make(map[uint64]*entry), make(map[*analysis.Call]*entry), nil, nil
	for _, c := range calls {
		t.add(c)
	}
}

// Setup matches an egress call whose setup is complete
// (analysis.AssemblerConfig.Setup).
func (t *Correlator) Setup(c *analysis.Call) {
	if c.Direction != analysis.DirectionEgress || c.TransitOf != "" || (t.cfg.Egress != nil && !t.cfg.Egress(c)) {
		return
	}
	k, ok := t.key(c)
	if !ok {
		return
	}
	// The newest ingress leg whose IAM came at most Window before this IAM.
	var best *entry
	for e := t.byKey[k]; e != nil; e = e.next {
		if d := c.Start - e.start; d >= 0 && d <= t.cfg.Window && t.sameCalled(e.call, c) {
			best = e
		}
	}
	if best == nil {
		return
	}
	in := best.call
	c.TransitOf = in.ID
	in.TransitTo = c.ID
	if c.OriginCountry == "" {
		c.OriginCountry = in.OriginCountry
	}
	t.stats.Linked++
	if t.cfg.OnLink != nil {
		t.cfg.OnLink(in, c)
	}
}

// sameCalled confirms a hash match.
func (t *Correlator) sameCalled(a, b *analysis.Call) bool {
	ra, rb := &t.ra, &t.rb
	*ra, *rb = numplan.Result{}, numplan.Result{}
	if t.cfg.Plan != nil {
		t.buf = append(t.buf[:0], a.Called.Digits...)
		t.cfg.Plan.Normalise(t.buf, a.Called.NAI, ra)
		t.buf = append(t.buf[:0], b.Called.Digits...)
		t.cfg.Plan.Normalise(t.buf, b.Called.NAI, rb)
	}
	if ra.NE164 > 0 || rb.NE164 > 0 {
		return ra.NE164 == rb.NE164 && ra.E164 == rb.E164
	}
	return a.Called.Digits == b.Called.Digits
}

// Close forgets a closed call (analysis.AssemblerConfig.Close): its record
// is reused by the assembler afterwards.
func (t *Correlator) Close(c *analysis.Call) {
	if e := t.byCall[c]; e != nil {
		t.remove(e)
	}
}

// expire drops ingress legs whose IAM is older than MaxAge at capture time now.
func (t *Correlator) expire(now int64) {
	for t.head != nil && now-t.head.start > t.cfg.MaxAge {
		t.remove(t.head)
	}
}

func (t *Correlator) remove(e *entry) {
	delete(t.byCall, e.call)
	// unchain from its key
	if first := t.byKey[e.key]; first == e {
		if e.next != nil {
			t.byKey[e.key] = e.next
		} else {
			delete(t.byKey, e.key)
		}
	} else {
		for p := first; p != nil; p = p.next {
			if p.next == e {
				p.next = e.next
				break
			}
		}
	}
	if e.qprev != nil {
		e.qprev.qnext = e.qnext
	} else {
		t.head = e.qnext
	}
	if e.qnext != nil {
		e.qnext.qprev = e.qprev
	} else {
		t.tail = e.qprev
	}
	*e = entry{}
	t.free = append(t.free, e)
}
