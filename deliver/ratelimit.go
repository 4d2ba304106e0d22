package deliver

// TokenBucket limits events per second with bursts, over a clock the caller
// supplies. The dispatcher feeds it capture time (Alert.TS): delivery is then
// deterministic — a replay of the same captures delivers the same alerts —
// and in live capture, capture time is wall time anyway. It also means a
// backlog replayed faster than real time is limited as it happened, not as
// it is read; the webhook's bounded queue absorbs the burst that causes.
type TokenBucket struct {
	perNano float64 // tokens per nanosecond
	burst   float64
	tokens  float64
	last    int64 // time of the last refill, Unix ns; 0: never used
}

// NewTokenBucket returns a full bucket refilled at perSecond, holding at
// most burst tokens.
func NewTokenBucket(perSecond float64, burst int) *TokenBucket {
	return &TokenBucket{perNano: perSecond / 1e9, burst: float64(burst), tokens: float64(burst)}
}

// Allow takes a token at time now (Unix ns) if one is available. Time going
// backwards (out-of-order capture across interfaces) refills nothing.
func (b *TokenBucket) Allow(now int64) bool {
	if b.last != 0 && now > b.last {
		b.tokens += float64(now-b.last) * b.perNano
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
	}
	if now > b.last {
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}
