// Package kpi computes route quality figures from call records: per partner,
// link and direction, for a whole range or per hour of IAM time.
//
//   - Seizures: calls (IAMs) on the route. Answered: calls with ANM or CON.
//   - ASR, answer seizure ratio (ITU-T E.411): answered / seizures.
//   - NER, network effectiveness ratio (ITU-T E.425 (03/2002), its
//     definition of NER): seizures that end in an answer, a user busy, a
//     ring no answer or a terminal rejection/unavailability, over all
//     seizures — the outcomes the user, not the network, decided. In ISUP
//     terms (UserOutcome): answered; released with Q.850 cause 17 (user
//     busy); cause 18 (no user responding) or 19 (no answer from user, user
//     alerted), or released by the caller after alerting (ring no answer);
//     cause 21 (call rejected: terminal rejection). Every other release
//     (network causes, resets, time-outs, callers giving up before any
//     alerting) counts against NER. The four categories are E.425's; their
//     mapping to Q.850 cause values is this package's reading of Q.850's
//     definitions (17, 18/19, 21), not a table quoted from E.425.
//   - ACD, average call duration: mean talk time (answer to release) of
//     answered calls.
//   - PDD, post-dial delay: IAM to the first backward message that alerts
//     (ACM with "subscriber free", or CPG alerting), over calls that alerted;
//     median and 95th percentile by the nearest-rank method.
//   - Causes: the release-cause histogram, with Q.850 names.
//
// Figures depend on the call records only, so a replay of the same capture
// gives the same figures.
package kpi

import (
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/decode"
)

// Q.850 cause values E.425 counts as user outcomes.
const (
	causeUserBusy       = 17
	causeNoUserResponse = 18
	causeNoAnswer       = 19
	causeCallRejected   = 21
)

// UserOutcome reports whether a call ended in one of the outcomes E.425's
// NER counts: answer, user busy, ring no answer, terminal rejection.
func UserOutcome(c *analysis.Call) bool {
	if c.Outcome == analysis.OutcomeAnswered {
		return true
	}
	if c.ReleasedBy == analysis.SideReset || c.Release == 0 {
		return false
	}
	switch c.Cause {
	case causeUserBusy, causeNoUserResponse, causeNoAnswer, causeCallRejected:
		return true
	}
	// The caller hung up while it rang: ring no answer.
	return c.ReleasedBy == analysis.SideCalling && c.Alerting != 0
}

// Key names one row: a route, and the hour (Unix seconds of its start) when
// figures are hourly, else 0.
type Key struct {
	Partner   string
	Link      string // "" when links are merged
	Direction analysis.Direction
	Hour      int64
}

// CauseCount is one bar of the release-cause histogram.
type CauseCount struct {
	Cause uint8  `json:"cause"`
	Name  string `json:"name"`
	Calls int    `json:"calls"`
}

// Row is the figures of one Key. Ratios are fractions (0..1); durations are
// seconds; a figure without its denominator (no seizures, no answered call,
// no alerting) is NaN in Go and null in JSON.
type Row struct {
	Partner     string       `json:"partner"`
	Link        string       `json:"link,omitempty"`
	Direction   string       `json:"direction"`
	Hour        string       `json:"hour,omitempty"` // RFC 3339, hourly rows only
	Seizures    int          `json:"seizures"`
	Answered    int          `json:"answered"`
	UserOutcome int          `json:"user_outcome"` // NER's numerator
	ASR         Figure       `json:"asr"`
	NER         Figure       `json:"ner"`
	ACD         Figure       `json:"acd_s"`
	PDDMedian   Figure       `json:"pdd_median_s"`
	PDDP95      Figure       `json:"pdd_p95_s"`
	PDDCalls    int          `json:"pdd_calls"` // calls that alerted
	Causes      []CauseCount `json:"causes"`
	key         Key
}

// Figure is a ratio or a duration; NaN when it has no denominator.
type Figure float64

// MarshalJSON writes NaN as null.
func (f Figure) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(f), 'f', -1, 64), nil
}

// Valid reports whether the figure has a value.
func (f Figure) Valid() bool { return !math.IsNaN(float64(f)) }

// acc is a Table row being counted: the route counters, and every PDD for
// the percentiles.
type acc struct {
	RouteCounters
	pdd []int64
}

// Options select how calls are grouped.
type Options struct {
	Hourly     bool // one row per hour of IAM time
	MergeLinks bool // one row per partner and direction, links merged
}

// Table accumulates calls into rows.
type Table struct {
	opt  Options
	rows map[Key]*acc
}

// New returns an empty table.
func New(opt Options) *Table { return &Table{opt: opt, rows: map[Key]*acc{}} }

// Add counts one closed call.
func (t *Table) Add(c *analysis.Call) {
	k := Key{Partner: c.Partner, Link: c.Link, Direction: c.Direction}
	if t.opt.MergeLinks {
		k.Link = ""
	}
	if t.opt.Hourly {
		k.Hour = c.Start / int64(time.Hour) * 3600
	}
	a := t.rows[k]
	if a == nil {
		a = &acc{}
		t.rows[k] = a
	}
	if pdd, ok := a.count(c); ok {
		a.pdd = append(a.pdd, pdd)
	}
}

// Rows returns the figures, sorted by partner, link, direction and hour.
func (t *Table) Rows() []Row {
	out := make([]Row, 0, len(t.rows))
	for k, a := range t.rows {
		r := Row{Partner: k.Partner, Link: k.Link, Direction: k.Direction.String(), key: k,
			Seizures: int(a.Seizures), Answered: int(a.Answered), UserOutcome: int(a.UserOutcome), PDDCalls: len(a.pdd)}
		if t.opt.Hourly {
			r.Hour = time.Unix(k.Hour, 0).UTC().Format(time.RFC3339)
		}
		r.ASR = ratio(r.Answered, r.Seizures)
		r.NER = ratio(r.UserOutcome, r.Seizures)
		r.ACD = Figure(math.NaN())
		if a.Answered > 0 {
			r.ACD = Figure(float64(a.TalkNanos) / float64(a.Answered) / 1e9)
		}
		sort.Slice(a.pdd, func(i, j int) bool { return a.pdd[i] < a.pdd[j] })
		r.PDDMedian, r.PDDP95 = percentile(a.pdd, 50), percentile(a.pdd, 95)
		for v, n := range a.Causes {
			if n > 0 {
				r.Causes = append(r.Causes, CauseCount{Cause: uint8(v), Name: decode.CauseName(uint8(v)), Calls: int(n)})
			}
		}
		sort.Slice(r.Causes, func(i, j int) bool {
			if r.Causes[i].Calls != r.Causes[j].Calls {
				return r.Causes[i].Calls > r.Causes[j].Calls
			}
			return r.Causes[i].Cause < r.Causes[j].Cause
		})
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].key, out[j].key
		switch {
		case a.Partner != b.Partner:
			return a.Partner < b.Partner
		case a.Link != b.Link:
			return a.Link < b.Link
		case a.Direction != b.Direction:
			return a.Direction < b.Direction
		}
		return a.Hour < b.Hour
	})
	return out
}

func ratio(n, d int) Figure {
	if d == 0 {
		return Figure(math.NaN())
	}
	return Figure(float64(n) / float64(d))
}

// percentile is the nearest-rank percentile of sorted nanoseconds, in
// seconds (NaN for none).
func percentile(sorted []int64, p int) Figure {
	if len(sorted) == 0 {
		return Figure(math.NaN())
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × n)
	if rank < 1 {
		rank = 1
	}
	return Figure(float64(sorted[rank-1]) / 1e9)
}
