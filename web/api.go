package web

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/netip"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/transit"
	"github.com/gatewarden/gatewarden/central"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/retention"
)

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("POST /api/login", s.handleLogin)
	m.HandleFunc("POST /api/logout", s.handleLogout)
	m.HandleFunc("GET /api/me", s.api(RoleViewer, s.handleMe))
	m.HandleFunc("GET /api/calls", s.api(RoleViewer, s.handleCalls))
	m.HandleFunc("GET /api/calls/{id}", s.api(RoleViewer, s.handleCall))
	m.HandleFunc("GET /api/alerts", s.api(RoleViewer, s.boxStore(s.handleAlerts)))
	m.HandleFunc("GET /api/partners", s.api(RoleViewer, s.boxStore(s.handlePartners)))
	m.HandleFunc("GET /api/scorecard", s.api(RoleViewer, s.boxStore(s.handleScorecard)))
	m.HandleFunc("GET /api/pcap", s.api(RoleInvestigator, s.boxStore(s.handlePcap)))
	m.HandleFunc("GET /api/audit", s.api(RoleAdmin, s.handleAudit))
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if _, ok, msg := s.authenticate(r); !ok {
			writeJSON(w, http.StatusUnauthorized, apiError{msg})
			return
		}
		writeJSON(w, http.StatusNotFound, apiError{"no such endpoint: " + r.Method + " " + r.URL.Path + " (see API.md)"})
	})
	m.HandleFunc("/", s.handleStatic)
}

// Public files: the login page and what it needs. Everything else in the UI
// is served only to an authenticated user.
var publicFiles = map[string]bool{"login.html": true, "login.js": true, "app.css": true}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeJSON(w, http.StatusMethodNotAllowed, apiError{"method not allowed"})
		return
	}
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	switch name {
	case "", "index.html":
		name = "index.html"
	case "login":
		name = "login.html"
	}
	if !publicFiles[name] {
		if _, ok, _ := s.authenticate(r); !ok {
			if name == "index.html" {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			writeJSON(w, http.StatusUnauthorized, apiError{"authentication required"})
			return
		}
	}
	data, err := fs.ReadFile(s.static, name)
	if err != nil {
		writeJSON(w, http.StatusNotFound, apiError{"not found"})
		return
	}
	switch path.Ext(name) {
	case ".html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	}
	w.Write(data)
}

type loginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// handleLogin checks a password. The attempt is counted against the
// address before the password is checked (see limiter); failures are
// audited through the per-address throttle, successes in full.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	host := remoteHost(r)
	entry := &reqState{status: 0}
	defer func() {
		entry.params = map[string]string{"user": cutName(req.User)}
		e := s.auditEntry(r, entry)
		if entry.status == http.StatusOK {
			if err := s.audit.write(&e); err != nil {
				s.log.Error("web: audit log write failed", "err", err)
			}
			return
		}
		s.auditFailure(host, &e)
	}()
	fail := func(status int, msg string) {
		entry.status = status
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		writeJSON(w, status, apiError{msg})
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		fail(http.StatusBadRequest, "body must be JSON {\"user\":..., \"password\":...}")
		return
	}
	entry.p.Name = cutName(req.User)
	switch s.limits.begin(host) {
	case lockedOut:
		fail(http.StatusTooManyRequests, "too many failed logins from your address; wait a minute")
		return
	case serverBusy:
		fail(http.StatusServiceUnavailable, "too many logins in progress; try again in a second")
		return
	}
	p, ok := s.checkPassword(req.User, req.Password)
	s.limits.end(host, ok)
	if !ok {
		fail(http.StatusUnauthorized, "invalid user or password")
		return
	}
	id, exp, err := s.sessions.create(p)
	if err != nil {
		fail(http.StatusInternalServerError, "cannot create session")
		return
	}
	p.Via = "session"
	entry.p = p
	entry.status = http.StatusOK
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/", Expires: exp,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	writeJSON(w, http.StatusOK, map[string]string{"user": p.Name, "role": p.Role.String()})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.remove(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	writeJSON(w, http.StatusOK, map[string]string{"status": "logged out"})
}

func fmtTS(ns int64) string {
	if ns == 0 {
		return ""
	}
	return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000000000Z")
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	oldest, newest, ok, err := s.archive.Span(r.Context())
	if err != nil {
		s.serverError(w, err)
		return
	}
	out := map[string]any{"user": st.p.Name, "role": st.p.Role.String(),
		"max_range_days": int(s.opt.MaxRange / (24 * time.Hour)), "live_alerts": s.opt.LiveAlerts != nil,
		"display_zone": s.opt.DisplayZone, "home_country_code": s.opt.HomeCountryCode,
		"central": s.store == nil}
	if ok {
		out["oldest"], out["newest"] = fmtTS(oldest), fmtTS(newest)
	}
	st.audited = false
	respond(w, r, out)
}

func (s *Server) serverError(w http.ResponseWriter, err error) {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		s.log.Warn("web: query stopped", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, apiError{fmt.Sprintf(
			"query stopped after the %s limit: narrow the time range, or search by number", s.opt.QueryTimeout)})
		return
	}
	s.log.Error("web: query failed", "err", err)
	writeJSON(w, http.StatusInternalServerError, apiError{"query failed: " + err.Error()})
}

// CallID names a call in URLs: "p<partition>.<ordinal>" of its IAM, as `gatewarden trace` prints it.
func CallID(ref retention.Ref) string { return fmt.Sprintf("p%d.%d", ref.Seq(), ref.Ord()) }

// ParseCallID reverses CallID.
func ParseCallID(id string) (retention.Ref, bool) {
	rest, ok := strings.CutPrefix(id, "p")
	if !ok {
		return 0, false
	}
	a, b, ok := strings.Cut(rest, ".")
	if !ok {
		return 0, false
	}
	seq, err1 := strconv.ParseUint(a, 10, 32)
	ord, err2 := strconv.ParseUint(b, 10, 32)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return retention.MakeRef(uint32(seq), uint32(ord)), true
}

// CallSummary is one row of a search result.
type CallSummary struct {
	ID          string   `json:"id"`            // for /api/calls/{id}; empty for an alert without a retained call
	Box         string   `json:"box,omitempty"` // the gateway box that saw it (and ?box= of its call page)
	CallID      string   `json:"call_id,omitempty"`
	Start       string   `json:"start"`
	Outcome     string   `json:"outcome,omitempty"`
	Cause       uint8    `json:"cause,omitempty"`
	CauseName   string   `json:"cause_name,omitempty"` // Q.850
	Partner     string   `json:"partner,omitempty"`
	Direction   string   `json:"direction,omitempty"`
	Link        string   `json:"link,omitempty"`
	OPC         uint32   `json:"opc"`
	DPC         uint32   `json:"dpc"`
	OPCText     string   `json:"opc_pc,omitempty"`
	DPCText     string   `json:"dpc_pc,omitempty"`
	CIC         uint32   `json:"cic"`
	Calling     string   `json:"calling,omitempty"`
	Called      string   `json:"called,omitempty"`
	Redirecting string   `json:"redirecting,omitempty"`
	Messages    int      `json:"messages"`
	Sequence    []string `json:"sequence"` // message types in order
	Rules       []string `json:"rules"`
}

func summarise(c *retention.CallResult, rd *retention.Redecoder) CallSummary {
	sum := CallSummary{Start: fmtTS(c.Start()), Sequence: []string{}, Rules: []string{}}
	if c.Ref != 0 || len(c.Ladder) > 0 {
		sum.ID = CallID(c.Ref)
	}
	if iam := c.IAM(); iam != nil {
		sum.OPC, sum.DPC, sum.CIC = iam.Label.OPC, iam.Label.DPC, iam.CIC
		sum.OPCText, sum.DPCText = decode.FormatPC(iam.Label.OPC, iam.Label.PCBits), decode.FormatPC(iam.Label.DPC, iam.Label.PCBits)
		sum.Link = retention.LinkName(iam)
		if dm, ok := rd.Decode(iam); ok {
			sum.Calling = dm.ISUP.Calling.DigitString()
			sum.Called = dm.ISUP.Called.DigitString()
			sum.Redirecting = dm.ISUP.Redirecting.DigitString()
		}
	}
	if rec := c.Call; rec != nil {
		sum.CallID = rec.ID
		sum.Outcome, sum.Cause, sum.Partner = rec.Outcome.String(), rec.Cause, rec.Partner
		if rec.Cause != 0 {
			sum.CauseName = decode.ValueName("cause.value", uint64(rec.Cause))
		}
		sum.Direction = rec.Direction.String()
		if rec.Link != "" {
			sum.Link = rec.Link
		}
		if sum.OPC == 0 && sum.DPC == 0 {
			sum.OPC, sum.DPC, sum.CIC = rec.OPC, rec.DPC, rec.CIC
		}
		if sum.Calling == "" && rec.Calling != nil {
			sum.Calling = rec.Calling.Digits
		}
		if sum.Called == "" && rec.Called != nil {
			sum.Called = rec.Called.Digits
		}
	}
	sum.Messages = len(c.Ladder)
	for i := range c.Ladder {
		sum.Sequence = append(sum.Sequence, c.Ladder[i].TypeName())
	}
	seen := map[string]bool{}
	for _, a := range c.Alerts {
		if !seen[a.Rule] {
			seen[a.Rule] = true
			sum.Rules = append(sum.Rules, a.Rule)
		}
		if sum.Partner == "" {
			sum.Partner = a.Partner
		}
		if c.Ref == 0 && len(c.Ladder) == 0 { // call-less alert
			sum.Start, sum.Calling, sum.Called = fmtTS(a.TS), a.Calling, a.Called
			sum.OPC, sum.DPC, sum.CIC = a.OPC, a.DPC, a.CIC
		}
	}
	return sum
}

type searchResult struct {
	Query     map[string]string `json:"query"`
	Count     int               `json:"count"`
	Truncated bool              `json:"truncated"` // more calls match than limit
	Calls     []CallSummary     `json:"calls"`
}

func (s *Server) handleCalls(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	p, err := s.parseSearch(r.Context(), r.URL.Query(), maxLimit)
	if err != nil {
		s.paramError(w, err)
		return
	}
	st.params = p.auditParams()
	q := s.query(p)
	q.Limit = p.Limit + 1 // one more tells whether the result was cut
	q.Newest = true       // the investigator usually wants the latest calls
	calls, err := s.archive.Calls(r.Context(), central.Query{Query: q, Box: p.Box})
	if errors.Is(err, central.ErrUnsupported) {
		badRequest(w, "%v", err)
		return
	}
	if err != nil {
		s.serverError(w, err)
		return
	}
	res := searchResult{Query: st.params, Calls: []CallSummary{}}
	if len(calls) > p.Limit {
		calls, res.Truncated = calls[:p.Limit], true
	}
	var rd retention.Redecoder
	for i := range calls {
		sum := summarise(&calls[i].CallResult, &rd)
		sum.Box = calls[i].Box
		res.Calls = append(res.Calls, sum)
	}
	// Newest first: the investigator usually wants the latest call.
	sort.SliceStable(res.Calls, func(i, j int) bool { return res.Calls[i].Start > res.Calls[j].Start })
	res.Count = len(res.Calls)
	st.results = res.Count
	respond(w, r, res)
}

// LadderMessage is one message of a call page.
type LadderMessage struct {
	TS        string          `json:"ts"`
	Type      string          `json:"type"`
	OPC       uint32          `json:"opc"`
	DPC       uint32          `json:"dpc"`
	OPCText   string          `json:"opc_pc"`
	DPCText   string          `json:"dpc_pc"`
	SLS       uint8           `json:"sls"`
	CIC       uint32          `json:"cic"`
	Transport string          `json:"transport"`
	Protocol  string          `json:"protocol"`
	Source    string          `json:"source"`
	Frame     uint64          `json:"frame"`
	Src       string          `json:"src,omitempty"`
	Dst       string          `json:"dst,omitempty"`
	Stream    uint16          `json:"stream"`
	RC        *uint32         `json:"rc,omitempty"`
	Decoded   json.RawMessage `json:"decoded,omitempty"` // `gatewarden decode` JSON of the stored bytes
	// Names of the coded values in Decoded, by path ("calling.nai",
	// "cause.value", "generic[0].qualifier"): Q.763/Q.850 names.
	Names     map[string]string `json:"names,omitempty"`
	DecodeErr string            `json:"decode_error,omitempty"`
	MTP3      string            `json:"mtp3"` // hex of SIO, routing label and ISUP
}

// CallDetail is the call page.
type CallDetail struct {
	CallSummary
	Record  json.RawMessage   `json:"record,omitempty"` // the analysis call record
	Alerts  []json.RawMessage `json:"alerts"`
	Points  [2]string         `json:"points"` // the two signalling points of the ladder: IAM sender, receiver
	Ladder  []LadderMessage   `json:"ladder"`
	Ingress map[string]string `json:"ingress,omitempty"`
	// OriginCountry of an international call (ISO 3166-1 alpha-2).
	OriginCountry string `json:"origin_country,omitempty"`
	// Transit: this call is one leg of a call through the gateway.
	Transit *CallTransit `json:"transit,omitempty"`
	// Path: the call's legs across monitored gateways, in time order, the
	// caller ID as signalled at each and where it changed (central store;
	// as `trace --clickhouse` gives it).
	Path []central.Hop `json:"path,omitempty"`
}

// CallTransit names the other leg of a transit call and what the gateway
// changed between the ingress and the egress leg (as trace shows it).
type CallTransit struct {
	Leg          string           `json:"leg"`             // which leg this call is: ingress or egress
	OtherCallID  string           `json:"other_call_id"`   // analysis call id
	Other        string           `json:"other,omitempty"` // its /api/calls/{id}, when retained
	OtherPartner string           `json:"other_partner,omitempty"`
	OtherLink    string           `json:"other_link,omitempty"`
	Changes      []transit.Change `json:"changes"`
}

// callTransit finds the other leg of a transit call; nil when c is not one.
func (s *Server) callTransit(c *analysis.Call) (*CallTransit, error) {
	if c == nil || c.TransitOf == "" && c.TransitTo == "" || s.store == nil {
		return nil, nil
	}
	t := &CallTransit{Leg: "egress", OtherCallID: c.TransitOf, Changes: []transit.Change{}}
	if c.TransitOf == "" {
		t.Leg, t.OtherCallID = "ingress", c.TransitTo
	}
	other, ok, err := s.store.OtherLeg(c, s.opt.HomeCountryCode)
	if err != nil || !ok || other.Call == nil {
		return t, err
	}
	t.Other, t.OtherPartner, t.OtherLink = CallID(other.Ref), other.Call.Partner, other.Call.Link
	t.Leg, t.Changes = transit.Compare(c, other.Call)
	return t, nil
}

func (s *Server) handleCall(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	id := r.PathValue("id")
	st.params = map[string]string{"id": id}
	q := r.URL.Query()
	for k := range q {
		if k != "box" {
			badRequest(w, "unknown parameter %q (known: box)", k)
			return
		}
	}
	box, err := textParam(q, "box")
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	if box != "" {
		st.params["box"] = box
	}
	ref, ok := ParseCallID(id)
	if !ok {
		badRequest(w, "call id %q: want p<partition>.<ordinal> as search results give it", id)
		return
	}
	if s.store == nil && box == "" {
		badRequest(w, "call %s: box required (?box=, as search results give it): a call id names a call within one box", id)
		return
	}
	cr, found, err := s.archive.CallByRef(r.Context(), box, ref)
	if err != nil {
		s.serverError(w, err)
		return
	}
	if !found {
		writeJSON(w, http.StatusNotFound, apiError{"no call " + id + " in the store (removed by retention?)"})
		return
	}
	c := cr.CallResult
	var rd retention.Redecoder
	d := CallDetail{CallSummary: summarise(&c, &rd), Alerts: []json.RawMessage{}, Ladder: []LadderMessage{}}
	d.Box = cr.Box
	if c.Call != nil {
		hops, err := s.archive.Path(r.Context(), c.Call, central.DefaultPathWindow)
		if err != nil {
			s.serverError(w, err)
			return
		}
		if len(hops) > 1 { // as trace: a path is more than the call itself
			d.Path = hops
		}
	}
	if c.Call != nil {
		d.Record = analysis.AppendCallJSON(nil, c.Call)
		d.OriginCountry = c.Call.OriginCountry
		if d.Transit, err = s.callTransit(c.Call); err != nil {
			s.serverError(w, err)
			return
		}
	}
	for i := range c.Alerts {
		d.Alerts = append(d.Alerts, analysis.AppendAlertJSON(nil, &c.Alerts[i]))
	}
	if iam := c.IAM(); iam != nil {
		d.Points = ladderPoints(iam)
		d.Ingress = map[string]string{"source": iam.Source, "transport": iam.Transport.String(), "protocol": iam.Protocol().String(),
			"link": retention.LinkName(iam)}
		if iam.Src.IsValid() {
			d.Ingress["peer"], d.Ingress["local"] = iam.Src.String(), iam.Dst.String()
		}
		if iam.HasRC {
			d.Ingress["rc"] = strconv.FormatUint(uint64(iam.RoutingContext), 10)
		}
		if d.Partner != "" {
			d.Ingress["partner"] = d.Partner
		}
	} else if len(c.Ladder) > 0 {
		m := &c.Ladder[0]
		d.Points = ladderPoints(m)
	}
	for i := range c.Ladder {
		m := &c.Ladder[i]
		lm := LadderMessage{
			TS: fmtTS(m.TS), Type: m.TypeName(), OPC: m.Label.OPC, DPC: m.Label.DPC,
			OPCText: pointOf(m, m.Label.OPC, m.Src), DPCText: pointOf(m, m.Label.DPC, m.Dst),
			SLS: m.Label.SLS, CIC: m.CIC, Transport: m.Transport.String(), Protocol: m.Protocol().String(), Source: m.Source, Frame: m.Frame,
			Stream: m.Stream, MTP3: hex.EncodeToString(m.MTP3),
		}
		if m.Src.IsValid() {
			lm.Src, lm.Dst = m.Src.String(), m.Dst.String()
		}
		if m.HasRC {
			rc := m.RoutingContext
			lm.RC = &rc
		}
		if dm, ok := rd.Decode(m); ok {
			dm.Transport, dm.Src, dm.Dst, dm.Frame = m.Transport, m.Src, m.Dst, m.Frame
			dm.HasRC, dm.RoutingContext = m.HasRC, m.RoutingContext
			lm.Decoded = decode.AppendJSON(nil, &dm, m.Source)
			lm.Names = valueNames(lm.Decoded)
		} else {
			lm.DecodeErr = rd.Reason()
		}
		d.Ladder = append(d.Ladder, lm)
	}
	st.results = 1
	respond(w, r, d)
}

// ladderPoints are the two ends of a ladder, as the message that opened the
// call names them: its point codes, or for SIP its addresses.
func ladderPoints(m *retention.Message) [2]string {
	return [2]string{pointOf(m, m.Label.OPC, m.Src), pointOf(m, m.Label.DPC, m.Dst)}
}

// pointOf names one end of a message: the formatted point code, or for SIP
// (no point codes) the IP address and port.
func pointOf(m *retention.Message, pc uint32, ap netip.AddrPort) string {
	if m.IsSIP() {
		return ap.String()
	}
	return decode.FormatPC(pc, m.Label.PCBits)
}

// valueNames names every coded value of a message's decoded JSON that
// decode.ValueName has a table for, keyed by its path.
func valueNames(decoded []byte) map[string]string {
	var g map[string]any
	if json.Unmarshal(decoded, &g) != nil {
		return nil
	}
	out := map[string]string{}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(x, p)
			}
		case []any:
			for i, x := range t {
				walk(x, fmt.Sprintf("%s[%d]", path, i))
			}
		case float64:
			if t >= 0 && t == float64(uint64(t)) {
				if n := decode.ValueName(path, uint64(t)); n != "" {
					out[path] = n
				}
			}
		}
	}
	walk(g, "")
	if len(out) == 0 {
		return nil
	}
	return out
}
