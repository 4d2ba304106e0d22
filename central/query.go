package central

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/retention"
)

// CallResult is one call found in the central store: what the box's own
// store would return, and the box it came from.
type CallResult struct {
	Box string
	retention.CallResult
}

// Query selects calls in the central store. Of retention.Query it uses the
// numbers (calling and called roles; any other role is not indexed
// centrally), the time range, partner, point codes, CIC and the limit.
type Query struct {
	retention.Query
	Box string // only this box ("" any)
}

func sqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func sqlStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = sqlString(s)
	}
	return strings.Join(q, ", ")
}

// where builds the filter on the calls tables.
func (q *Query) where(numberCol string) string {
	var w []string
	if len(q.Numbers) > 0 {
		w = append(w, fmt.Sprintf("%s IN (%s)", numberCol, sqlStrings(q.Numbers)))
	}
	if q.From != 0 {
		w = append(w, fmt.Sprintf("start >= %d AND day >= toDate(%d)", q.From, q.From/1e9))
	}
	if q.To != 0 {
		w = append(w, fmt.Sprintf("start < %d AND day <= toDate(%d)", q.To, q.To/1e9))
	}
	if q.Box != "" {
		w = append(w, "box = "+sqlString(q.Box))
	}
	if q.Partner != "" {
		w = append(w, "partner = "+sqlString(q.Partner))
	}
	for _, f := range []struct {
		col string
		v   *uint32
	}{{"opc", q.OPC}, {"dpc", q.DPC}, {"cic", q.CIC}} {
		if f.v != nil {
			w = append(w, fmt.Sprintf("%s = %d", f.col, *f.v))
		}
	}
	if len(w) == 0 {
		return "1"
	}
	return strings.Join(w, " AND ")
}

type callKey struct {
	box string
	uid uint64
}

type callRow struct {
	box   string
	uid   uint64
	call  uint64
	rec   string
	start int64
}

// Calls returns the matching calls, oldest first, with their ladders
// and alerts. Rows shipped twice are returned once.
func (c *Client) Calls(ctx context.Context, q Query) ([]CallResult, error) {
	if q.Rule != "" || q.Link != "" {
		return nil, fmt.Errorf("central: queries by rule or link: %w (yet)", ErrUnsupported)
	}
	var sqls []string
	byCalling := q.Roles == 0 || q.Roles.Has(retention.RoleCalling)
	byCalled := len(q.Numbers) > 0 && (q.Roles == 0 || q.Roles.Has(retention.RoleCalled))
	if len(q.Numbers) > 0 && !byCalling && !byCalled {
		return nil, fmt.Errorf("central: numbers are indexed centrally as calling and called only: other roles are %w", ErrUnsupported)
	}
	limit := ""
	if q.Limit > 0 {
		order := "start"
		if q.Newest {
			order = "start DESC"
		}
		limit = fmt.Sprintf(" ORDER BY %s LIMIT %d", order, q.Limit)
	}
	db := c.opt.Database
	if byCalling {
		sqls = append(sqls, fmt.Sprintf("SELECT box, uid, call, rec, start FROM %s.calls WHERE %s%s", db, q.where("calling"), limit))
	}
	if byCalled {
		sqls = append(sqls, fmt.Sprintf("SELECT box, uid, call, rec, start FROM %s.calls_by_called WHERE %s%s", db, q.where("called"), limit))
	}
	seen := map[callKey]bool{}
	var found []callRow
	for _, s := range sqls {
		rows, err := c.conn.Query(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("central: %w", err)
		}
		for rows.Next() {
			var r callRow
			if err := rows.Scan(&r.box, &r.uid, &r.call, &r.rec, &r.start); err != nil {
				rows.Close()
				return nil, err
			}
			if k := (callKey{r.box, r.uid}); !seen[k] {
				seen[k] = true
				found = append(found, r)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]CallResult, 0, len(found))
	var minStart, maxStart int64 // of the rows, for the days their messages are in
	for i, r := range found {
		if i == 0 || r.start < minStart {
			minStart = r.start
		}
		maxStart = max(maxStart, r.start)
		call, err := retention.DecodeCallRecord([]byte(r.rec))
		if err != nil {
			return nil, fmt.Errorf("central: call record of box %s: %w", r.box, err)
		}
		out = append(out, CallResult{Box: r.box, CallResult: retention.CallResult{Ref: retention.Ref(r.call), Call: call}})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start() < out[j].Start() })
	if q.Limit > 0 && len(out) > q.Limit {
		if q.Newest { // the newest Limit, still oldest first
			out = out[len(out)-q.Limit:]
		} else {
			out = out[:q.Limit]
		}
	}
	if err := c.fill(ctx, out, minStart, maxStart); err != nil {
		return nil, err
	}
	return out, nil
}

// fill reads the ladders and alerts of calls (one query each for all calls)
// that started between minStart and maxStart.
func (c *Client) fill(ctx context.Context, calls []CallResult, minStart, maxStart int64) error {
	type key struct {
		box  string
		call uint64
	}
	idx := map[key]int{}
	var tuples []string
	for i := range calls {
		if calls[i].Ref == 0 {
			continue
		}
		k := key{calls[i].Box, uint64(calls[i].Ref)}
		if _, dup := idx[k]; dup {
			continue
		}
		idx[k] = i
		tuples = append(tuples, fmt.Sprintf("(%s, %d)", sqlString(k.box), k.call))
	}
	if len(tuples) == 0 {
		return nil
	}
	db := c.opt.Database
	// A call's messages are on the day of its IAM or, for a call across
	// midnight, the next one.
	days := fmt.Sprintf("day >= toDate(%d) AND day <= toDate(%d)", minStart/1e9, (maxStart+int64(24*time.Hour))/1e9)
	rows, err := c.conn.Query(ctx, fmt.Sprintf(`SELECT box, call, ref, ts, source, frame, transport, src, dst, vtag, stream, tsn, link,
		rc, na, flags, ni, si, pc_bits, opc, dpc, sls, mp, cic, type, mtp3
		FROM %s.messages WHERE %s AND (box, call) IN (%s)`, db, days, strings.Join(tuples, ", ")))
	if err != nil {
		return fmt.Errorf("central: ladders: %w", err)
	}
	seen := map[key]bool{}
	for rows.Next() {
		var (
			box, source, src, dst, mtp3            string
			call, ref, frame                       uint64
			ts                                     int64
			transport, flags, ni, si, pcb, sls, mp uint8
			typ                                    uint8
			vtag, tsn, rc, na, opc, dpc, cic       uint32
			stream, link                           uint16
		)
		if err := rows.Scan(&box, &call, &ref, &ts, &source, &frame, &transport, &src, &dst, &vtag, &stream, &tsn, &link,
			&rc, &na, &flags, &ni, &si, &pcb, &opc, &dpc, &sls, &mp, &cic, &typ, &mtp3); err != nil {
			rows.Close()
			return err
		}
		if seen[key{box, ref}] {
			continue // shipped twice
		}
		seen[key{box, ref}] = true
		m := retention.Message{Ref: retention.Ref(ref), Call: retention.Ref(call), TS: ts, Source: source, Frame: frame,
			Transport: decode.Transport(transport), VTag: vtag, Stream: stream, TSN: tsn, Link: link,
			RoutingContext: rc, NetworkAppearance: na, HasRC: flags&1 != 0, HasNA: flags&2 != 0,
			Label: decode.Label{NI: ni, SI: si, PCBits: pcb, OPC: opc, DPC: dpc, SLS: sls, MP: mp},
			CIC:   cic, Type: typ, MTP3: []byte(mtp3)}
		m.Src, _ = netip.ParseAddrPort(src)
		m.Dst, _ = netip.ParseAddrPort(dst)
		i := idx[key{box, call}]
		calls[i].Ladder = append(calls[i].Ladder, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = c.conn.Query(ctx, fmt.Sprintf("SELECT box, call, uid, rec FROM %s.alerts WHERE %s AND (box, call) IN (%s) ORDER BY ts",
		db, days, strings.Join(tuples, ", ")))
	if err != nil {
		return fmt.Errorf("central: alerts: %w", err)
	}
	seenAlert := map[callKey]bool{}
	for rows.Next() {
		var box, rec string
		var call, uid uint64
		if err := rows.Scan(&box, &call, &uid, &rec); err != nil {
			rows.Close()
			return err
		}
		if seenAlert[callKey{box, uid}] {
			continue
		}
		seenAlert[callKey{box, uid}] = true
		a, err := retention.DecodeAlertRecord([]byte(rec))
		if err != nil {
			rows.Close()
			return err
		}
		i := idx[key{box, call}]
		calls[i].Alerts = append(calls[i].Alerts, *a)
	}
	rows.Close()
	for i := range calls {
		sort.SliceStable(calls[i].Ladder, func(a, b int) bool { return calls[i].Ladder[a].TS < calls[i].Ladder[b].TS })
	}
	return rows.Err()
}

// Hop is one leg of a call as one box saw it.
type Hop struct {
	Box       string `json:"box"`
	Start     int64  `json:"-"`
	TS        string `json:"ts"` // RFC 3339, UTC
	Direction string `json:"direction"`
	Partner   string `json:"partner,omitempty"`
	Link      string `json:"link,omitempty"`
	OPC       uint32 `json:"opc"`
	DPC       uint32 `json:"dpc"`
	CIC       uint32 `json:"cic"`
	Calling   string `json:"calling"` // as signalled at this hop
	Called    string `json:"called"`
	// CallerIDChanged: the calling number differs from the previous hop's.
	CallerIDChanged bool   `json:"caller_id_changed,omitempty"`
	CallID          string `json:"call_id"`
}

// DefaultPathWindow is how far apart in time two legs of one call may start.
const DefaultPathWindow = 5 * time.Second

// Path returns the legs of call c across every box: call records with the
// same called number (normalised) starting within window of it, in time
// order, the caller ID as signalled at each and where it changed. A leg is
// one call record; a box that sees a call enter and leave has two.
func (c *Client) Path(ctx context.Context, call *analysis.Call, window time.Duration) ([]Hop, error) {
	if call == nil || call.Called == nil {
		return nil, nil
	}
	called, _ := numberOf(call.Called)
	w := window.Nanoseconds()
	rows, err := c.conn.Query(ctx, fmt.Sprintf(`SELECT box, uid, rec FROM %s.calls_by_called
		WHERE called = %s AND start >= %d AND start <= %d AND day >= toDate(%d) AND day <= toDate(%d)`,
		c.opt.Database, sqlString(called), call.Start-w, call.Start+w, (call.Start-w)/1e9, (call.Start+w)/1e9))
	if err != nil {
		return nil, fmt.Errorf("central: path: %w", err)
	}
	defer rows.Close()
	seen := map[callKey]bool{}
	var hops []Hop
	for rows.Next() {
		var box, rec string
		var uid uint64
		if err := rows.Scan(&box, &uid, &rec); err != nil {
			return nil, err
		}
		if seen[callKey{box, uid}] {
			continue
		}
		seen[callKey{box, uid}] = true
		r, err := retention.DecodeCallRecord([]byte(rec))
		if err != nil {
			return nil, err
		}
		h := Hop{Box: box, Start: r.Start, TS: time.Unix(0, r.Start).UTC().Format(time.RFC3339Nano), Direction: r.Direction.String(), Partner: r.Partner, Link: r.Link,
			OPC: r.OPC, DPC: r.DPC, CIC: r.CIC, CallID: r.ID}
		if r.Calling != nil {
			h.Calling = r.Calling.Digits
		}
		if r.Called != nil {
			h.Called = r.Called.Digits
		}
		hops = append(hops, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(hops, func(i, j int) bool {
		if hops[i].Start != hops[j].Start {
			return hops[i].Start < hops[j].Start
		}
		return hops[i].Box < hops[j].Box
	})
	for i := 1; i < len(hops); i++ {
		hops[i].CallerIDChanged = hops[i].Calling != hops[i-1].Calling
	}
	return hops, nil
}
