package retention

import (
	"context"
	"sort"
)

// ReportRow is the accountability figure for one partner and link: how many
// calls it delivered or received and how many of them were flagged, by rule
// (BRIEF R9, "whoever connects it is responsible").
type ReportRow struct {
	Partner string `json:"partner"`
	Link    string `json:"link"`
	// Direction is the calls' direction (ingress, egress, unknown); empty
	// for alerts without a call record in range.
	Direction string         `json:"direction"`
	Calls     int            `json:"calls"`
	Flagged   int            `json:"flagged"` // calls with at least one alert
	ByRule    map[string]int `json:"by_rule"` // flagged calls (or call-less alerts) per rule
	Alerts    int            `json:"alerts"`  // alerts in total
	// ByProtocol counts the calls by call control: isup, bicc, sip, sip-i.
	ByProtocol map[string]int `json:"by_protocol"`
	Unknown    bool           `json:"-"` // partner not configured
}

// Report summarises the call records and alerts whose capture time is in
// [from, to) (zero: unbounded), one row per partner, link and direction,
// sorted by partner, link and direction. Alerts are attributed through their call; an alert whose
// call record is not in range counts under its own partner with an empty link.
func (s *Store) Report(from, to int64) ([]ReportRow, error) {
	return s.ReportContext(context.Background(), from, to)
}

// ReportContext is Report that stops with ctx's error when ctx is done.
func (s *Store) ReportContext(ctx context.Context, from, to int64) ([]ReportRow, error) {
	cc := &canceller{ctx: ctx}
	sn, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	defer sn.close()
	type rowKey struct{ partner, link, dir string }
	rows := map[rowKey]*ReportRow{}
	row := func(k rowKey) *ReportRow {
		r := rows[k]
		if r == nil {
			r = &ReportRow{Partner: k.partner, Link: k.link, Direction: k.dir, ByRule: map[string]int{}, ByProtocol: map[string]int{}}
			rows[k] = r
		}
		return r
	}
	callRow := map[string]rowKey{}
	flagged := map[string]map[string]bool{} // call ID -> rules
	err = sn.scanRecords(s, cc, from, to, secCalls, func(_ Ref, val []byte) error {
		c, err := decodeCall(val)
		if err != nil {
			return err
		}
		if !inTime(c.Start, from, to) {
			return nil
		}
		k := rowKey{c.Partner, c.Link, c.Direction.String()}
		row(k).Calls++
		row(k).ByProtocol[c.Protocol.String()]++
		callRow[c.ID] = k
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = sn.scanRecords(s, cc, from, to, secAlerts, func(_ Ref, val []byte) error {
		a, err := decodeAlert(val)
		if err != nil {
			return err
		}
		if !inTime(a.TS, from, to) {
			return nil
		}
		k, ok := callRow[a.CallID]
		if !ok || a.CallID == "" {
			k = rowKey{a.Partner, "", a.Direction.String()}
		}
		r := row(k)
		r.Alerts++
		if a.CallID == "" || !ok {
			r.ByRule[a.Rule]++
			return nil
		}
		rules := flagged[a.CallID]
		if rules == nil {
			rules = map[string]bool{}
			flagged[a.CallID] = rules
			r.Flagged++
		}
		if !rules[a.Rule] {
			rules[a.Rule] = true
			r.ByRule[a.Rule]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]ReportRow, 0, len(rows))
	for _, r := range rows {
		r.Unknown = r.Partner == ""
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Partner != out[j].Partner {
			return out[i].Partner < out[j].Partner
		}
		if out[i].Link != out[j].Link {
			return out[i].Link < out[j].Link
		}
		return out[i].Direction < out[j].Direction
	})
	return out, nil
}
