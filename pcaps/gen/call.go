package gen

import (
	"sort"
	"time"
)

// Direction says which side of the gateway sends the IAM.
type Direction uint8

const (
	Ingress Direction = iota // the partner sends the IAM
	Egress                   // the gateway sends the IAM to the partner
)

// Side is the end of a call that releases it.
type Side uint8

const (
	SideCalling Side = iota // the side that sent the IAM
	SideCalled
)

// Call is a scripted call: everything the generator needs to write its ladder.
// Times are offsets from Start; a zero offset means the message is not sent.
// Messages scheduled at or after Release are not sent (RLC always follows REL).
type Call struct {
	// Label is free text for scenario tests (e.g. the rule the call should
	// trigger); it is handed to Options.OnCall and not written to the capture.
	Label     string
	Start     time.Time
	Partner   string // Partner.Name
	Link      int    // index into Partner.Links
	Direction Direction
	CIC       uint16 // 0: the generator takes a free circuit (odd for ingress, even for egress)

	IAM IAM
	// SAMDigits, when set, are sent in a SAM SAMDelay after the IAM (overlap
	// sending); IAM.Called then holds only the first digits.
	SAMDigits string
	SAMDelay  time.Duration

	ACM      time.Duration
	Alerting time.Duration // CPG (alerting); equal to ACM: the ACM says "subscriber free" instead
	Answer   time.Duration
	Release  time.Duration // required
	// ReleasedBy sends REL with Cause; the other side answers with RLC after RLCDelay (default 12 ms).
	ReleasedBy Side
	Cause      Cause
	RLCDelay   time.Duration
	// RedirectionNumber and RELRedirection go in the REL (cause 23, redirection to new destination).
	RedirectionNumber *Number
	RELRedirection    *Redirection
}

// CallSource produces calls in non-decreasing Start order.
type CallSource interface {
	Next() (Call, bool)
}

// SliceSource plays a fixed list of calls (a scenario script).
type SliceSource struct {
	calls []Call
	next  int
}

// NewSliceSource sorts the calls by start time (stable) and plays them.
func NewSliceSource(calls []Call) *SliceSource {
	c := append([]Call(nil), calls...)
	sort.SliceStable(c, func(i, j int) bool { return c[i].Start.Before(c[j].Start) })
	return &SliceSource{calls: c}
}

func (s *SliceSource) Next() (Call, bool) {
	if s.next >= len(s.calls) {
		return Call{}, false
	}
	s.next++
	return s.calls[s.next-1], true
}

// Merge interleaves sources by start time, e.g. scripted rule scenarios over
// random background traffic. Ties go to the earlier source.
func Merge(sources ...CallSource) CallSource {
	m := &merged{srcs: sources, head: make([]Call, len(sources)), ok: make([]bool, len(sources))}
	for i, s := range sources {
		m.head[i], m.ok[i] = s.Next()
	}
	return m
}

type merged struct {
	srcs []CallSource
	head []Call
	ok   []bool
}

func (m *merged) Next() (Call, bool) {
	best := -1
	for i := range m.srcs {
		if m.ok[i] && (best < 0 || m.head[i].Start.Before(m.head[best].Start)) {
			best = i
		}
	}
	if best < 0 {
		return Call{}, false
	}
	c := m.head[best]
	m.head[best], m.ok[best] = m.srcs[best].Next()
	return c, true
}

// Repeat scripts n identical calls from one partner, every gap from start,
// each released after release by side with cause, alerting after alerting
// (0: never alerts). It is the building block of behaviour scenarios such as
// "N calls with CLI c to d, alerting, then released after 2 s by the caller".
func Repeat(n int, start time.Time, gap time.Duration, partner string, dir Direction, iam IAM,
	alerting, release time.Duration, by Side, cause Cause) []Call {
	calls := make([]Call, 0, n)
	for i := 0; i < n; i++ {
		c := Call{
			Start: start.Add(time.Duration(i) * gap), Partner: partner, Direction: dir, IAM: iam,
			Release: release, ReleasedBy: by, Cause: cause,
		}
		if alerting > 0 {
			c.ACM, c.Alerting = alerting, alerting
		}
		calls = append(calls, c)
	}
	return calls
}
