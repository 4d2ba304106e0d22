package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/kpi"
	"github.com/gatewarden/gatewarden/central"
	"github.com/gatewarden/gatewarden/retention"
)

// AlertItem is one entry of the alert feed.
type AlertItem struct {
	Alert json.RawMessage `json:"alert"`          // the public alert JSON (analysis.AppendAlertJSON)
	Call  string          `json:"call,omitempty"` // id for /api/calls/{id}, when the call is retained
	Live  bool            `json:"live,omitempty"` // from the daemon, not yet read back from the store
	ts    int64
}

func checkKnown(q url.Values, known ...string) error {
	for k := range q {
		ok := false
		for _, n := range known {
			ok = ok || k == n
		}
		if !ok {
			return fmt.Errorf("unknown parameter %q (known: %v)", k, known)
		}
	}
	return nil
}

// maxAlertOffset bounds paging into the alert feed: a page further back
// than this is better found by narrowing the time range.
const maxAlertOffset = 10000

// parseSeverity reads a minimum severity: info, warning or critical.
func parseSeverity(v string) (analysis.Severity, error) {
	for s := analysis.SeverityInfo; s <= analysis.SeverityCritical; s++ {
		if s.String() == v {
			return s, nil
		}
	}
	return 0, fmt.Errorf("severity %q: want info, warning or critical", v)
}

func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	q := r.URL.Query()
	if err := checkKnown(q, "rule", "partner", "severity", "from", "to", "limit", "offset"); err != nil {
		badRequest(w, "%v", err)
		return
	}
	from, to, err := s.timeRange(r.Context(), q)
	if err != nil {
		s.paramError(w, err)
		return
	}
	rule, err := textParam(q, "rule")
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	partner, err := textParam(q, "partner")
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	minSev := analysis.SeverityInfo
	if v := q.Get("severity"); v != "" {
		if minSev, err = parseSeverity(v); err != nil {
			badRequest(w, "%v", err)
			return
		}
	}
	limit, err := limitParam(q, defaultLimit, maxLimit)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	offset := 0
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 || offset > maxAlertOffset {
			badRequest(w, "offset: want 0 to %d, got %q (narrow the time range to go further back)", maxAlertOffset, v)
			return
		}
	}
	st.params = map[string]string{"from": fmtTS(from), "to": fmtTS(to), "rule": rule, "partner": partner,
		"severity": q.Get("severity"), "limit": strconv.Itoa(limit), "offset": strconv.Itoa(offset)}
	want := func(a *analysis.Alert) bool {
		return (rule == "" || a.Rule == rule) && (partner == "" || a.Partner == partner) && a.Severity >= minSev
	}
	// keep is how many of the newest are needed: this page, and one more to
	// tell whether there is an older page.
	keep := offset + limit + 1
	var items []AlertItem
	seen := map[string]bool{}
	key := func(a *analysis.Alert) string { return fmt.Sprint(a.TS, a.Rule, a.CallID, a.OPC, a.DPC, a.CIC) }
	// Keep only the newest: trim whenever the slice grows well past keep.
	trim := func() {
		sort.SliceStable(items, func(i, j int) bool { return items[i].ts > items[j].ts })
		if len(items) > keep {
			items = items[:keep]
		}
	}
	err = s.store.ScanAlertsContext(r.Context(), from, to, func(ref retention.Ref, a *analysis.Alert) error {
		if !want(a) {
			return nil
		}
		it := AlertItem{Alert: analysis.AppendAlertJSON(nil, a), ts: a.TS}
		if ref != 0 {
			it.Call = CallID(ref)
		}
		seen[key(a)] = true
		items = append(items, it)
		if len(items) >= 4*keep+1024 {
			trim()
		}
		return nil
	})
	if err != nil {
		s.serverError(w, err)
		return
	}
	if s.opt.LiveAlerts != nil {
		for _, a := range s.opt.LiveAlerts(keep) {
			if want(&a) && (a.TS >= from && a.TS < to) && !seen[key(&a)] {
				items = append(items, AlertItem{Alert: analysis.AppendAlertJSON(nil, &a), Live: true, ts: a.TS})
			}
		}
	}
	trim()
	more := len(items) > offset+limit
	if offset < len(items) {
		items = items[offset:min(len(items), offset+limit)]
	} else {
		items = nil
	}
	if items == nil {
		items = []AlertItem{}
	}
	st.results = len(items)
	respond(w, r, map[string]any{"count": len(items), "offset": offset, "more": more,
		"from": fmtTS(from), "to": fmtTS(to), "alerts": items})
}

// PartnerRow is a partner's totals over a time range, links merged.
type PartnerRow struct {
	Partner string         `json:"partner"` // "" for calls from no configured partner
	Calls   int            `json:"calls"`
	Flagged int            `json:"flagged"`
	Alerts  int            `json:"alerts"`
	ByRule  map[string]int `json:"by_rule"`
	Links   []string       `json:"links"`
}

func mergeRows(rows []retention.ReportRow) map[string]*PartnerRow {
	out := map[string]*PartnerRow{}
	for _, r := range rows {
		p := out[r.Partner]
		if p == nil {
			p = &PartnerRow{Partner: r.Partner, ByRule: map[string]int{}, Links: []string{}}
			out[r.Partner] = p
		}
		p.Calls += r.Calls
		p.Flagged += r.Flagged
		p.Alerts += r.Alerts
		for k, v := range r.ByRule {
			p.ByRule[k] += v
		}
		if r.Link != "" {
			p.Links = append(p.Links, r.Link)
		}
	}
	return out
}

func (s *Server) rangeOnly(w http.ResponseWriter, r *http.Request, extra ...string) (url.Values, int64, int64, bool) {
	q := r.URL.Query()
	if err := checkKnown(q, append([]string{"from", "to"}, extra...)...); err != nil {
		badRequest(w, "%v", err)
		return q, 0, 0, false
	}
	from, to, err := s.timeRange(r.Context(), q)
	if err != nil {
		s.paramError(w, err)
		return q, 0, 0, false
	}
	return q, from, to, true
}

func (s *Server) handlePartners(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	_, from, to, ok := s.rangeOnly(w, r)
	if !ok {
		return
	}
	st.params = map[string]string{"from": fmtTS(from), "to": fmtTS(to)}
	rows, err := s.store.ReportContext(r.Context(), from, to)
	if err != nil {
		s.serverError(w, err)
		return
	}
	merged := mergeRows(rows)
	out := make([]PartnerRow, 0, len(merged))
	for _, p := range merged {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Flagged != out[j].Flagged {
			return out[i].Flagged > out[j].Flagged
		}
		return out[i].Partner < out[j].Partner
	})
	st.results = len(out)
	respond(w, r, map[string]any{"from": fmtTS(from), "to": fmtTS(to), "partners": out})
}

// scorecardDefault is the scorecard's range when from is not given.
const scorecardDefault = 7 * 24 * time.Hour

// SeriesPoint is one hour of a partner's scorecard chart.
type SeriesPoint struct {
	T       string `json:"t"` // start of the hour
	Calls   int    `json:"calls"`
	Flagged int    `json:"flagged"`
	Alerts  int    `json:"alerts"`
}

func (s *Server) handleScorecard(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	q, from, to, ok := s.rangeOnly(w, r, "partner")
	if !ok {
		return
	}
	// The series scans call records, so without an explicit from the
	// scorecard covers a week, not the whole range limit.
	if !q.Has("from") && to-from > int64(scorecardDefault) {
		from = to - int64(scorecardDefault)
	}
	if !q.Has("partner") {
		badRequest(w, "partner is required (\"\" for calls from no configured partner)")
		return
	}
	partner, err := textParam(q, "partner")
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	st.params = map[string]string{"from": fmtTS(from), "to": fmtTS(to), "partner": partner}
	rows, err := s.store.ReportContext(r.Context(), from, to)
	if err != nil {
		s.serverError(w, err)
		return
	}
	var links []retention.ReportRow
	for _, row := range rows {
		if row.Partner == partner {
			links = append(links, row)
		}
	}
	total := mergeRows(links)[partner]
	if total == nil {
		total = &PartnerRow{Partner: partner, ByRule: map[string]int{}, Links: []string{}}
	}
	const hour = int64(time.Hour)
	first := from - ((from%hour)+hour)%hour
	n := int((to - first + hour - 1) / hour)
	series := make([]SeriesPoint, n)
	for i := range series {
		series[i].T = time.Unix(0, first+int64(i)*hour).UTC().Format(time.RFC3339)
	}
	bucket := func(ts int64) *SeriesPoint {
		i := int((ts - first) / hour)
		if i < 0 || i >= n {
			return nil
		}
		return &series[i]
	}
	flaggedCalls := map[string]bool{}
	err = s.store.ScanAlertsContext(r.Context(), from, to, func(_ retention.Ref, a *analysis.Alert) error {
		if a.Partner != partner {
			return nil
		}
		if b := bucket(a.TS); b != nil {
			b.Alerts++
		}
		if a.CallID != "" {
			flaggedCalls[a.CallID] = true
		}
		return nil
	})
	// Route quality: per link and direction for the range, and per hour
	// (links merged) for the charts; the definitions of `report --kpi`.
	routes, hourly := kpi.New(kpi.Options{}), kpi.New(kpi.Options{Hourly: true, MergeLinks: true})
	if err == nil {
		err = s.store.ScanCallsContext(r.Context(), from, to, func(_ retention.Ref, c *analysis.Call) error {
			if c.Partner != partner {
				return nil
			}
			routes.Add(c)
			hourly.Add(c)
			if b := bucket(c.Start); b != nil {
				b.Calls++
				if flaggedCalls[c.ID] {
					b.Flagged++
				}
			}
			return nil
		})
	}
	if err != nil {
		s.serverError(w, err)
		return
	}
	st.results = total.Calls
	respond(w, r, map[string]any{"from": fmtTS(from), "to": fmtTS(to), "partner": total, "links": links, "series": series,
		"kpi": routes.Rows(), "kpi_hourly": hourly.Rows()})
}

func (s *Server) handlePcap(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	p, err := s.parseSearch(r.Context(), r.URL.Query(), maxPcapCalls)
	if err != nil {
		s.paramError(w, err)
		return
	}
	if !r.URL.Query().Has("limit") {
		p.Limit = maxLimit
	}
	st.params = p.auditParams()
	found, err := s.archive.Calls(r.Context(), central.Query{Query: s.query(p), Box: p.Box})
	if err != nil {
		s.serverError(w, err)
		return
	}
	calls := make([]retention.CallResult, len(found))
	for i := range found {
		calls[i] = found[i].CallResult
	}
	// Written to memory first so an error is still a clean JSON response;
	// the result is bounded by the call limit.
	var buf bytes.Buffer
	n, err := retention.WritePcap(&buf, calls)
	if err != nil {
		s.serverError(w, err)
		return
	}
	st.results = len(calls)
	name := fmt.Sprintf("gatewarden-%s.pcapng", time.Unix(0, p.From).UTC().Format("20060102T150405"))
	w.Header().Set("Content-Type", "application/x-pcapng")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("X-Gatewarden-Calls", strconv.Itoa(len(calls)))
	w.Header().Set("X-Gatewarden-Packets", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	q := r.URL.Query()
	if err := checkKnown(q, "limit"); err != nil {
		badRequest(w, "%v", err)
		return
	}
	limit, err := limitParam(q, 200, 5000)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	entries, err := s.audit.tail(limit)
	if err != nil {
		s.serverError(w, err)
		return
	}
	st.results = len(entries)
	respond(w, r, map[string]any{"count": len(entries), "entries": entries})
}
