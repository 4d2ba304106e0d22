package retention

import (
	"github.com/gatewarden/gatewarden/analysis"
)

// TransitSearchSpan bounds how far apart the IAMs of two legs of one transit
// call may be for OtherLeg to find them (the correlator's window is at most
// a minute).
const TransitSearchSpan = int64(2 * 60 * 1e9)

// OtherLeg finds the other leg of a transit call c (c.TransitOf or
// c.TransitTo set): the call with that ID, to the same called number (in any
// of its forms under country code cc), whose IAM is within TransitSearchSpan
// before (ingress leg) or after (egress leg) c's. ok is false when c is not a
// transit leg or its other leg is not retained.
func (s *Store) OtherLeg(c *analysis.Call, cc string) (res CallResult, ok bool, err error) {
	id := c.TransitOf
	q := Query{From: c.Start - TransitSearchSpan, To: c.Start + 1, Roles: 1 << RoleCalled}
	if id == "" {
		id = c.TransitTo
		q.From, q.To = c.Start, c.Start+TransitSearchSpan
	}
	if id == "" || c.Called == nil || c.Called.Digits == "" {
		return CallResult{}, false, nil
	}
	q.Numbers = NumberForms(c.Called.Digits, cc)
	calls, err := s.QueryCalls(q)
	if err != nil {
		return CallResult{}, false, err
	}
	for i := range calls {
		if calls[i].Call != nil && calls[i].Call.ID == id {
			return calls[i], true, nil
		}
	}
	return CallResult{}, false, nil
}
