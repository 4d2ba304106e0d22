package gen

import (
	"fmt"
	"time"
)

// RouteProfile scripts the traffic of one route (partner, link, direction)
// with known quality figures: Calls seizures of which Answered are answered
// (ASR = Answered/Calls), every answered call talking exactly Talk (ACD =
// Talk), every call that alerts doing so PDD after its IAM. Of the calls not
// answered, Busy are released with cause 17 before alerting, NoAnswer alert
// and are released with cause 19, Rejected are released with cause 21,
// Congestion with cause 42, and the rest are abandoned by the caller before
// any alerting (cause 16). Calls are spread evenly over Span from Start.
type RouteProfile struct {
	Partner   string
	Link      int
	Direction Direction
	Start     time.Time
	Span      time.Duration

	Calls, Answered                      int
	Talk, PDD                            time.Duration
	Busy, NoAnswer, Rejected, Congestion int

	// CallingPrefix and CalledPrefix start the numbers, each followed by a
	// serial number of Width digits (default 6), so every call has its own;
	// NAI is that of both numbers.
	CallingPrefix, CalledPrefix string
	Width                       int
	NAI                         uint8
}

// ProfileSource plays RouteProfiles; see NewProfileSource.
type ProfileSource struct{ *SliceSource }

// NewProfileSource returns the calls of the profiles, in start order. The
// outcomes are interleaved so every part of the span looks alike.
func NewProfileSource(profiles []RouteProfile) (*ProfileSource, error) {
	var calls []Call
	for i, p := range profiles {
		rest := p.Calls - p.Answered - p.Busy - p.NoAnswer - p.Rejected - p.Congestion
		if p.Calls <= 0 || rest < 0 || p.Talk <= 0 || p.PDD <= 0 {
			return nil, fmt.Errorf("route profile %d (%s): want calls > 0, answered+busy+no_answer+rejected+congestion <= calls, talk and pdd > 0", i, p.Partner)
		}
		kinds := make([]int, 0, p.Calls)
		for k, n := range []int{p.Answered, p.Busy, p.NoAnswer, p.Rejected, p.Congestion, rest} {
			for j := 0; j < n; j++ {
				kinds = append(kinds, k)
			}
		}
		// interleave: stride through the list with a step coprime to its length
		step := 1
		for _, s := range []int{7, 11, 13, 17, 19, 23} {
			if gcd(s, len(kinds)) == 1 {
				step = s
				break
			}
		}
		gap := p.Span / time.Duration(p.Calls)
		width := p.Width
		if width <= 0 {
			width = 6
		}
		for j := 0; j < p.Calls; j++ {
			c := Call{Start: p.Start.Add(time.Duration(j) * gap), Partner: p.Partner, Link: p.Link, Direction: p.Direction,
				RLCDelay: 10 * time.Millisecond}
			num := func(prefix string) Number {
				return Number{Digits: fmt.Sprintf("%s%0*d", prefix, width, j), NAI: p.NAI, NPI: NPIISDN, SI: SIUserPassed}
			}
			calling := num(p.CallingPrefix)
			c.IAM = IAM{ForwardCallIndicators: 0x0160, Category: CategoryOrdinary, Calling: &calling, Called: num(p.CalledPrefix)}
			switch kinds[(j*step)%len(kinds)] {
			case 0: // answered
				c.ACM, c.Alerting, c.Answer = p.PDD, p.PDD, p.PDD+2*time.Second
				c.Release, c.ReleasedBy, c.Cause = c.Answer+p.Talk, SideCalling, Cause{Value: CauseNormal}
			case 1: // busy
				c.Release, c.ReleasedBy, c.Cause = p.PDD, SideCalled, Cause{Value: CauseBusy, Location: LocationUser}
			case 2: // alerted, no answer
				c.ACM, c.Alerting = p.PDD, p.PDD
				c.Release, c.ReleasedBy, c.Cause = p.PDD+30*time.Second, SideCalled, Cause{Value: CauseNoAnswer}
			case 3: // rejected
				c.Release, c.ReleasedBy, c.Cause = p.PDD, SideCalled, Cause{Value: CauseRejected, Location: LocationUser}
			case 4: // network congestion
				c.Release, c.ReleasedBy, c.Cause = p.PDD/2, SideCalled, Cause{Value: CauseCongestion, Location: LocationTransit}
			default: // the caller gives up before any alerting
				c.Release, c.ReleasedBy, c.Cause = p.PDD/2, SideCalling, Cause{Value: CauseNormal, Location: LocationUser}
			}
			calls = append(calls, c)
		}
	}
	return &ProfileSource{NewSliceSource(calls)}, nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
