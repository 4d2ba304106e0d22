package web

import (
	"container/list"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// Login limits. An address may have at most maxFailures failed or
// in-progress password checks within failureWindow; the attempt is counted
// before the password is checked, so parallel requests cannot all get a
// check. The table of addresses is bounded: when full, the least recently
// seen address that is not locked out is forgotten, never a locked one. A
// server-wide ceiling on password checks per second bounds the CPU a spray
// from many addresses can take.
const (
	maxFailures        = 5
	failureWindow      = time.Minute
	maxTrackedAddrs    = 10000
	globalChecksPerSec = 10 // bcrypt at cost 12 takes ~0.2 s of CPU each
	globalChecksBurst  = 10
)

type addrEntry struct {
	addr     string
	fails    []time.Time // failures within the window, oldest first
	inflight int         // password checks running now
	locked   time.Time   // refused until then
	elem     *list.Element
}

// limiter is the per-address login limit plus the global ceiling.
type limiter struct {
	mu       sync.Mutex
	m        map[string]*addrEntry
	lru      *list.List // front: most recently seen
	maxAddrs int
	now      func() time.Time

	// token bucket of password checks
	tokens   float64
	last     time.Time
	rate     float64
	burst    float64
	refusals int64 // attempts refused by the global ceiling
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{m: map[string]*addrEntry{}, lru: list.New(), maxAddrs: maxTrackedAddrs, now: now,
		rate: globalChecksPerSec, burst: globalChecksBurst, tokens: globalChecksBurst}
}

// verdict of begin.
type verdict int

const (
	allowed    verdict = iota
	lockedOut          // this address: too many failures
	serverBusy         // the global ceiling, or a table full of locked addresses
)

func (e *addrEntry) prune(now time.Time) {
	cut := now.Add(-failureWindow)
	i := 0
	for i < len(e.fails) && e.fails[i].Before(cut) {
		i++
	}
	e.fails = e.fails[i:]
}

func (l *limiter) isLocked(e *addrEntry, now time.Time) bool {
	return now.Before(e.locked)
}

// entry finds or makes addr's entry; nil when the table is full of locked
// addresses (the attempt is then refused: failing closed).
func (l *limiter) entry(addr string, now time.Time) *addrEntry {
	if e := l.m[addr]; e != nil {
		l.lru.MoveToFront(e.elem)
		return e
	}
	if len(l.m) >= l.maxAddrs {
		// Forget the least recently seen address that is not locked out
		// and has no check running.
		for el := l.lru.Back(); el != nil; el = el.Prev() {
			old := el.Value.(*addrEntry)
			if !l.isLocked(old, now) && old.inflight == 0 {
				l.lru.Remove(el)
				delete(l.m, old.addr)
				break
			}
		}
		if len(l.m) >= l.maxAddrs {
			return nil
		}
	}
	e := &addrEntry{addr: addr}
	e.elem = l.lru.PushFront(e)
	l.m[addr] = e
	return e
}

// begin reserves a password check for addr. On allowed the caller must call
// end with the outcome.
func (l *limiter) begin(addr string) verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.entry(addr, now)
	if e == nil {
		return serverBusy
	}
	if l.isLocked(e, now) {
		return lockedOut
	}
	e.prune(now)
	if len(e.fails)+e.inflight >= maxFailures {
		return lockedOut
	}
	// Global ceiling.
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens < 1 {
		l.refusals++
		return serverBusy
	}
	l.tokens--
	e.inflight++
	return allowed
}

// end records the outcome of a check begin allowed.
func (l *limiter) end(addr string, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[addr]
	if e == nil {
		return // cannot happen: entries with a check running are not evicted
	}
	e.inflight--
	if ok {
		return
	}
	now := l.now()
	e.prune(now)
	e.fails = append(e.fails, now)
	if len(e.fails) >= maxFailures {
		e.locked = now.Add(failureWindow)
	}
}

// blocked reports whether addr is locked out now (no reservation).
func (l *limiter) blocked(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[addr]
	if e == nil {
		return false
	}
	now := l.now()
	e.prune(now)
	return l.isLocked(e, now) || len(e.fails)+e.inflight >= maxFailures
}

// Basic auth sends the password with every request; checking it with bcrypt
// each time costs ~0.2 s of CPU. A successful check is remembered for
// basicCacheTTL, keyed by an HMAC of the credential under a key that exists
// only in this process (the password itself is never kept). The cache is
// bounded and cleared when users change.
const (
	basicCacheTTL  = time.Minute
	basicCacheSize = 1024
)

type basicCache struct {
	mu  sync.Mutex
	key [32]byte
	m   map[[32]byte]basicHit
	now func() time.Time
}

type basicHit struct {
	p       principal
	expires time.Time
}

func newBasicCache(now func() time.Time) *basicCache {
	c := &basicCache{m: map[[32]byte]basicHit{}, now: now}
	if _, err := rand.Read(c.key[:]); err != nil {
		panic("web: no randomness: " + err.Error())
	}
	return c
}

func (c *basicCache) id(user, pass string) [32]byte {
	h := hmac.New(sha256.New, c.key[:])
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(pass))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func (c *basicCache) get(user, pass string) (principal, bool) {
	k := c.id(user, pass)
	c.mu.Lock()
	defer c.mu.Unlock()
	hit, ok := c.m[k]
	if !ok || !c.now().Before(hit.expires) {
		delete(c.m, k)
		return principal{}, false
	}
	return hit.p, true
}

func (c *basicCache) put(user, pass string, p principal) {
	k := c.id(user, pass)
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.m) >= basicCacheSize {
		for k, v := range c.m {
			if !now.Before(v.expires) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= basicCacheSize {
			clear(c.m) // all fresh: start over rather than grow
		}
	}
	c.m[k] = basicHit{p: p, expires: now.Add(basicCacheTTL)}
}

func (c *basicCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}
