package kpi

import (
	"time"

	"github.com/gatewarden/gatewarden/analysis"
)

// PDDBounds are the upper bounds (seconds) of the post-dial delay histogram
// buckets that Counters keep, as Prometheus "le" buckets.
var PDDBounds = [...]float64{0.5, 1, 2, 3, 5, 8, 13, 20, 30}

// RouteCounters are cumulative figures of one route, for a scrape: ASR, NER,
// ACD and PDD quantiles follow from their rates, with the definitions of
// Table (Counters.Add and Table.Add count the same calls the same way).
type RouteCounters struct {
	Seizures, Answered, UserOutcome uint64
	TalkNanos                       int64
	PDDBuckets                      [len(PDDBounds) + 1]uint64 // not cumulative; the last is +Inf
	PDDCount                        uint64
	PDDSumNanos                     int64
	Causes                          [256]uint64 // releases by Q.850 cause value
}

// Counters keep RouteCounters per partner, link and direction (Key.Hour is
// always 0), for at most MaxRoutes routes; calls of further routes are
// counted in Overflow. Not safe for concurrent use.
type Counters struct {
	MaxRoutes int // default 4096
	Overflow  uint64
	m         map[Key]*RouteCounters
}

// Add counts a closed call of a known partner.
func (c *Counters) Add(call *analysis.Call) {
	if call.Partner == "" {
		return
	}
	k := Key{Partner: call.Partner, Link: call.Link, Direction: call.Direction}
	r := c.m[k]
	if r == nil {
		if c.m == nil {
			c.m = map[Key]*RouteCounters{}
		}
		max := c.MaxRoutes
		if max <= 0 {
			max = 4096
		}
		if len(c.m) >= max {
			c.Overflow++
			return
		}
		r = new(RouteCounters)
		c.m[k] = r
	}
	r.count(call)
}

// count adds one closed call: the one definition Table and Counters share.
// It returns the call's post-dial delay when it alerted.
func (r *RouteCounters) count(c *analysis.Call) (pdd int64, alerted bool) {
	r.Seizures++
	if c.Outcome == analysis.OutcomeAnswered {
		r.Answered++
		r.TalkNanos += c.TalkNanos()
	}
	if UserOutcome(c) {
		r.UserOutcome++
	}
	if c.Alerting != 0 && c.Alerting >= c.Start {
		pdd, alerted = c.Alerting-c.Start, true
		i := 0
		for i < len(PDDBounds) && float64(pdd) > PDDBounds[i]*float64(time.Second) {
			i++
		}
		r.PDDBuckets[i]++
		r.PDDCount++
		r.PDDSumNanos += pdd
	}
	if c.Release != 0 && c.ReleasedBy != analysis.SideReset {
		r.Causes[c.Cause]++
	}
	return pdd, alerted
}

// Snapshot copies the counters.
func (c *Counters) Snapshot() map[Key]RouteCounters {
	out := make(map[Key]RouteCounters, len(c.m))
	for k, r := range c.m {
		out[k] = *r
	}
	return out
}
