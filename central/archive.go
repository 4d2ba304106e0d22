package central

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/retention"
)

// Archive is what trace and report query: a box's own store (Local) or the
// central store (*Client). Both answer with the local store's types plus the
// box, so the commands render either the same way.
type Archive interface {
	// Calls returns the calls matching q, oldest first, with ladders and alerts.
	Calls(ctx context.Context, q Query) ([]CallResult, error)
	// Path returns a call's legs across boxes (nil where only one box is known).
	Path(ctx context.Context, call *analysis.Call, window time.Duration) ([]Hop, error)
	// Report is retention's per partner and link report, per box.
	Report(ctx context.Context, from, to int64, box string) ([]ReportRow, error)
	Close() error
}

// ReportRow is one row of the report: a box's partner and link.
type ReportRow struct {
	Box string `json:"box,omitempty"`
	retention.ReportRow
}

// Local is a box's own store as an Archive; Box names it ("" when unknown).
type Local struct {
	Store *retention.Store
	Box   string
}

// Calls runs q on the store.
func (l *Local) Calls(ctx context.Context, q Query) ([]CallResult, error) {
	if q.Box != "" && q.Box != l.Box {
		return nil, nil
	}
	calls, err := l.Store.QueryCallsContext(ctx, q.Query)
	if err != nil {
		return nil, err
	}
	out := make([]CallResult, len(calls))
	for i := range calls {
		out[i] = CallResult{Box: l.Box, CallResult: calls[i]}
	}
	return out, nil
}

// Path: one box knows no other box's legs.
func (l *Local) Path(context.Context, *analysis.Call, time.Duration) ([]Hop, error) { return nil, nil }

// Report runs the store's report.
func (l *Local) Report(_ context.Context, from, to int64, box string) ([]ReportRow, error) {
	if box != "" && box != l.Box {
		return []ReportRow{}, nil
	}
	rows, err := l.Store.Report(from, to)
	if err != nil {
		return nil, err
	}
	out := make([]ReportRow, len(rows))
	for i := range rows {
		out[i] = ReportRow{Box: l.Box, ReportRow: rows[i]}
	}
	return out, nil
}

// Close closes the store.
func (l *Local) Close() error { return l.Store.Close() }

var _ Archive = (*Local)(nil)
var _ Archive = (*Client)(nil)

func timeWhere(col string, from, to int64) string {
	w := "1"
	if from != 0 {
		w += fmt.Sprintf(" AND %s >= %d AND day >= toDate(%d)", col, from, from/1e9)
	}
	if to != 0 {
		w += fmt.Sprintf(" AND %s < %d AND day <= toDate(%d)", col, to, to/1e9)
	}
	return w
}

// Report is retention.Store.Report over the central store, one row per box,
// partner and link: calls per row; alerts attributed through their call
// (same box and call ID, call started in range), else to their own partner
// with an empty link; flagged calls counted once per rule. Rows shipped
// twice count once.
func (c *Client) Report(ctx context.Context, from, to int64, box string) ([]ReportRow, error) {
	db := c.opt.Database
	bw := ""
	if box != "" {
		bw = " AND box = " + sqlString(box)
	}
	type rowKey struct{ box, partner, link, dir string }
	rows := map[rowKey]*ReportRow{}
	row := func(k rowKey) *ReportRow {
		r := rows[k]
		if r == nil {
			r = &ReportRow{Box: k.box, ReportRow: retention.ReportRow{Partner: k.partner, Link: k.link, Direction: k.dir,
				ByRule: map[string]int{}, ByProtocol: map[string]int{}}}
			rows[k] = r
		}
		return r
	}
	q, err := c.conn.Query(ctx, fmt.Sprintf("SELECT box, partner, link, direction, protocol, uniqExact(uid) FROM %s.calls WHERE %s%s GROUP BY box, partner, link, direction, protocol",
		db, timeWhere("start", from, to), bw))
	if err != nil {
		return nil, fmt.Errorf("central: report: %w", err)
	}
	for q.Next() {
		var k rowKey
		var dir, proto uint8
		var n uint64
		if err := q.Scan(&k.box, &k.partner, &k.link, &dir, &proto, &n); err != nil {
			q.Close()
			return nil, err
		}
		k.dir = analysis.Direction(dir).String()
		r := row(k)
		r.Calls += int(n)
		r.ByProtocol[decode.Protocol(proto).String()] += int(n)
	}
	q.Close()
	if err := q.Err(); err != nil {
		return nil, err
	}
	// Alerts with the partner, link and direction of their call, when it
	// started in range (a call ID names one call within a box).
	q, err = c.conn.Query(ctx, fmt.Sprintf(`SELECT box, call_id, partner, direction, rule, cpartner, clink, cdirection, found FROM
		(SELECT DISTINCT box, uid, call_id, partner, direction, rule FROM %[1]s.alerts WHERE %[2]s%[4]s)
		ANY LEFT JOIN
		(SELECT DISTINCT box, id AS call_id, partner AS cpartner, link AS clink, direction AS cdirection, toUInt8(1) AS found
		 FROM %[1]s.calls WHERE %[3]s%[4]s)
		USING (box, call_id)`, db, timeWhere("ts", from, to), timeWhere("start", from, to), bw))
	if err != nil {
		return nil, fmt.Errorf("central: report alerts: %w", err)
	}
	flagged := map[[2]string]map[string]bool{}
	for q.Next() {
		var box, callID, partner, rule, cpartner, clink string
		var dir, cdir, found uint8
		if err := q.Scan(&box, &callID, &partner, &dir, &rule, &cpartner, &clink, &cdir, &found); err != nil {
			q.Close()
			return nil, err
		}
		k := rowKey{box, cpartner, clink, analysis.Direction(cdir).String()}
		ok := found == 1 && callID != ""
		if !ok {
			k = rowKey{box, partner, "", analysis.Direction(dir).String()}
		}
		r := row(k)
		r.Alerts++
		if !ok {
			r.ByRule[rule]++
			continue
		}
		rules := flagged[[2]string{box, callID}]
		if rules == nil {
			rules = map[string]bool{}
			flagged[[2]string{box, callID}] = rules
			r.Flagged++
		}
		if !rules[rule] {
			rules[rule] = true
			r.ByRule[rule]++
		}
	}
	q.Close()
	if err := q.Err(); err != nil {
		return nil, err
	}
	out := make([]ReportRow, 0, len(rows))
	for _, r := range rows {
		r.Unknown = r.Partner == ""
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Box != b.Box {
			return a.Box < b.Box
		}
		if a.Partner != b.Partner {
			return a.Partner < b.Partner
		}
		if a.Link != b.Link {
			return a.Link < b.Link
		}
		return a.Direction < b.Direction
	})
	return out, nil
}

// OpenArchive opens the central store named by dsn, or else the store at
// data read-only (named box).
func OpenArchive(ctx context.Context, data, dsn, box string) (Archive, error) {
	if dsn != "" {
		o, err := ParseDSN(dsn)
		if err != nil {
			return nil, err
		}
		return Open(ctx, o)
	}
	st, err := retention.Open(data, retention.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	return &Local{Store: st, Box: box}, nil
}
