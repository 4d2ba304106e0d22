package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/retention"
	"github.com/gatewarden/gatewarden/web/internal/fixture"
	"golang.org/x/crypto/bcrypt"
)

const (
	testToken    = "investigator-token-for-tests"
	viewerToken  = "viewer-token-for-tests"
	adminPass    = "admin-password"
	viewerPass   = "viewer-password"
	investigPass = "investigator-password"
)

type env struct {
	t     testing.TB
	store *retention.Store
	srv   *Server
	ts    *httptest.Server
	audit string
	msgs  int
}

func hash(t testing.TB, pw string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func testOptions(t testing.TB, dir string) Options {
	return Options{Config: Config{
		Users: []User{
			{Name: "admin", Role: RoleAdmin, PasswordHash: hash(t, adminPass)},
			{Name: "ivy", Role: RoleInvestigator, PasswordHash: hash(t, investigPass)},
			{Name: "vic", Role: RoleViewer, PasswordHash: hash(t, viewerPass)},
		},
		Tokens: []Token{
			{Name: "ci", Role: RoleInvestigator, SHA256: sha256.Sum256([]byte(testToken))},
			{Name: "wall", Role: RoleViewer, SHA256: sha256.Sum256([]byte(viewerToken))},
		},
		AuditLog:        filepath.Join(dir, "audit.jsonl"),
		HomeCountryCode: "86",
	}}
}

// newEnv replays pcaps/scenarios.pcap into a fresh store and serves it.
func newEnv(t testing.TB, tweak func(*Options)) *env {
	t.Helper()
	pcap, cfg := fixture.Scenarios()
	if !fixture.Exists(pcap) {
		t.Fatal("pcaps/scenarios.pcap is absent")
	}
	return newEnvFrom(t, t.TempDir(), pcap, cfg, tweak)
}

// newEnvFrom replays a capture with its configuration into a fresh store
// under dir and serves it.
func newEnvFrom(t testing.TB, dir, pcap, cfg string, tweak func(*Options)) *env {
	t.Helper()
	st, err := retention.Open(filepath.Join(dir, "data"), retention.Options{NoSync: true, MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	n, err := fixture.Replay(st, pcap, cfg)
	if err != nil {
		t.Fatal(err)
	}
	opt := testOptions(t, dir)
	if tweak != nil {
		tweak(&opt)
	}
	srv, err := New(st, opt)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
		st.Close()
	})
	return &env{t: t, store: st, srv: srv, ts: ts, audit: opt.AuditLog, msgs: n}
}

type auth func(*http.Request)

func bearer(tok string) auth {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}
func basic(u, p string) auth { return func(r *http.Request) { r.SetBasicAuth(u, p) } }

func (e *env) do(method, path string, a auth, body io.Reader) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json") // as the UI sends it
	}
	if a != nil {
		a(req)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res, b
}

func (e *env) getJSON(path string, a auth, want int, v any) []byte {
	e.t.Helper()
	res, b := e.do("GET", path, a, nil)
	if res.StatusCode != want {
		e.t.Fatalf("GET %s: status %d, want %d: %s", path, res.StatusCode, want, b)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Fatalf("GET %s: Content-Type %q", path, ct)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			e.t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	return b
}

func TestNothingServedWithoutAuth(t *testing.T) {
	e := newEnv(t, nil)
	for _, p := range []string{"/api/me", "/api/calls?number=13950000003", "/api/calls/p0.0", "/api/alerts",
		"/api/partners", "/api/scorecard?partner=ic-telecom", "/api/pcap", "/api/audit", "/api/nonexistent", "/app.js"} {
		res, b := e.do("GET", p, nil, nil)
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without auth: %d %s", p, res.StatusCode, b)
			continue
		}
		var ae apiError
		if json.Unmarshal(b, &ae) != nil || ae.Error == "" {
			t.Errorf("GET %s: body is not a JSON error: %s", p, b)
		}
	}
	for _, a := range []auth{bearer("wrong"), basic("admin", "wrong"), basic("nobody", "x"), func(r *http.Request) { r.Header.Set("Authorization", "Digest x") },
		func(r *http.Request) { r.AddCookie(&http.Cookie{Name: sessionCookie, Value: "forged"}) }} {
		if res, b := e.do("GET", "/api/calls", a, nil); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("bad credentials: %d %s", res.StatusCode, b)
		}
	}
	// The app shell redirects to the login page; only the login page is public.
	res, _ := e.do("GET", "/", nil, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Errorf("GET / without auth: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, b := e.do("GET", "/login", nil, nil)
	if res.StatusCode != 200 || !bytes.Contains(b, []byte("login-form")) {
		t.Errorf("GET /login: %d", res.StatusCode)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	// Unauthenticated requests are not queries: nothing was searched, but
	// the failed basic-auth attempts above count towards the lockout.
	res, _ = e.do("GET", "/", basic("admin", adminPass), nil)
	if res.StatusCode != 200 {
		t.Errorf("GET / with auth: %d", res.StatusCode)
	}
}

func TestNewHandlerRefusesUnsafeConfig(t *testing.T) {
	st, err := retention.Open(t.TempDir(), retention.Options{NoSync: true, MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := NewHandler(st, Options{Config: Config{AuditLog: filepath.Join(t.TempDir(), "a")}}); err == nil {
		t.Error("no users or tokens accepted")
	}
	if _, err := NewHandler(st, Options{Config: Config{Tokens: []Token{{Name: "x", Role: RoleAdmin}}}}); err == nil {
		t.Error("no audit log accepted")
	}
}

func login(t *testing.T, e *env, user, pass string) *http.Cookie {
	t.Helper()
	body, _ := json.Marshal(loginRequest{User: user, Password: pass})
	res, b := e.do("POST", "/api/login", nil, bytes.NewReader(body))
	if res.StatusCode != 200 {
		t.Fatalf("login %s: %d %s", user, res.StatusCode, b)
	}
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

func TestLoginSession(t *testing.T) {
	e := newEnv(t, nil)
	body, _ := json.Marshal(loginRequest{User: "ivy", Password: "nope"})
	if res, _ := e.do("POST", "/api/login", nil, bytes.NewReader(body)); res.StatusCode != 401 {
		t.Errorf("wrong password: %d", res.StatusCode)
	}
	c := login(t, e, "ivy", investigPass)
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || len(c.Value) != 64 {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, 256-bit random value", c)
	}
	withCookie := func(r *http.Request) { r.AddCookie(c) }
	var me map[string]any
	e.getJSON("/api/me", withCookie, 200, &me)
	if me["user"] != "ivy" || me["role"] != "investigator" || me["oldest"] == nil {
		t.Errorf("/api/me: %v", me)
	}
	if res, _ := e.do("POST", "/api/logout", withCookie, nil); res.StatusCode != 200 {
		t.Errorf("logout: %d", res.StatusCode)
	}
	e.getJSON("/api/me", withCookie, 401, nil)
}

func TestLoginLockout(t *testing.T) {
	e := newEnv(t, nil)
	body, _ := json.Marshal(loginRequest{User: "ivy", Password: "nope"})
	for i := 0; i < maxFailures; i++ {
		e.do("POST", "/api/login", nil, bytes.NewReader(body))
	}
	good, _ := json.Marshal(loginRequest{User: "ivy", Password: investigPass})
	if res, _ := e.do("POST", "/api/login", nil, bytes.NewReader(good)); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after %d failures: %d, want 429", maxFailures, res.StatusCode)
	}
}

func search(t testing.TB, e *env, a auth, q url.Values) searchResult {
	t.Helper()
	var res searchResult
	e.getJSON("/api/calls?"+q.Encode(), a, 200, &res)
	return res
}

func TestSearchByNumberAndRole(t *testing.T) {
	e := newEnv(t, nil)
	// scenarios.expected.jsonl: restricted CLI 13850000002 -> 13950000003.
	res := search(t, e, bearer(testToken), url.Values{"number": {"13950000003"}, "role": {"called"}})
	if res.Count == 0 {
		t.Fatal("no call for called 13950000003")
	}
	for _, c := range res.Calls {
		if c.Called != "13950000003" && !strings.HasSuffix(c.Called, "13950000003") {
			t.Errorf("call %s called %q", c.ID, c.Called)
		}
		if c.ID == "" || len(c.Sequence) == 0 || c.Sequence[0] != "IAM" {
			t.Errorf("call %+v: want an id and a ladder starting with IAM", c)
		}
	}
	if !contains(res.Calls[0].Rules, "cli.restricted") {
		t.Errorf("rules %v, want cli.restricted", res.Calls[0].Rules)
	}
	// The same number in international form with decoration finds the same calls.
	intl := search(t, e, bearer(testToken), url.Values{"number": {"+86 139-5000-0003"}, "role": {"called"}})
	if intl.Count != res.Count {
		t.Errorf("+86 form: %d calls, national form %d", intl.Count, res.Count)
	}
	// With only from, the range runs to the newest data (capped at 92 days).
	if r := search(t, e, bearer(testToken), url.Values{"number": {"13950000003"}, "from": {"2026-03-01"}}); r.Count != res.Count {
		t.Errorf("from only: %d calls", r.Count)
	}
	if r := search(t, e, bearer(testToken), url.Values{"number": {"13950000003"}, "from": {"2020-01-01"}}); r.Count != 0 || r.Query["to"] != "2020-04-02T00:00:00Z" {
		t.Errorf("from 2020 only: %d calls, to %s", r.Count, r.Query["to"])
	}
	// The called number is not a calling number.
	if r := search(t, e, bearer(testToken), url.Values{"number": {"13950000003"}, "role": {"calling"}}); r.Count != 0 {
		t.Errorf("role calling found %d calls", r.Count)
	}
	// Partner and rule filters.
	r := search(t, e, bearer(testToken), url.Values{"rule": {"cli.missing"}})
	if r.Count == 0 {
		t.Fatal("no cli.missing call")
	}
	for _, c := range r.Calls {
		if !contains(c.Rules, "cli.missing") {
			t.Errorf("rule filter returned %v", c.Rules)
		}
	}
	r = search(t, e, bearer(testToken), url.Values{"partner": {"ll-fintech"}, "limit": {"3"}})
	if r.Count == 0 || r.Count > 3 {
		t.Fatalf("partner search: %d calls", r.Count)
	}
	for _, c := range r.Calls {
		if c.Partner != "ll-fintech" {
			t.Errorf("partner %q", c.Partner)
		}
	}
	if all := search(t, e, bearer(testToken), url.Values{"limit": {"1"}}); !all.Truncated || all.Count != 1 {
		t.Errorf("limit 1: count %d truncated %v", all.Count, all.Truncated)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestCallDetail(t *testing.T) {
	e := newEnv(t, nil)
	res := search(t, e, bearer(testToken), url.Values{"number": {"13950000003"}, "role": {"called"}})
	if res.Count == 0 {
		t.Fatal("no call")
	}
	var d struct {
		CallSummary
		Record  map[string]any   `json:"record"`
		Alerts  []map[string]any `json:"alerts"`
		Points  [2]string        `json:"points"`
		Ladder  []LadderMessage  `json:"ladder"`
		Ingress map[string]string
	}
	e.getJSON("/api/calls/"+res.Calls[0].ID, bearer(testToken), 200, &d)
	if len(d.Ladder) < 2 || d.Ladder[0].Type != "IAM" {
		t.Fatalf("ladder %+v", d.Ladder)
	}
	if d.Points[0] == "" || d.Points[0] == d.Points[1] {
		t.Errorf("points %v", d.Points)
	}
	if d.Ladder[0].OPCText != d.Points[0] {
		t.Errorf("IAM from %s, first point %s", d.Ladder[0].OPCText, d.Points[0])
	}
	var iam map[string]any
	if err := json.Unmarshal(d.Ladder[0].Decoded, &iam); err != nil {
		t.Fatalf("decoded IAM: %v", err)
	}
	called, _ := iam["called"].(map[string]any)
	if called == nil || called["digits"] != "13950000003" {
		t.Errorf("decoded IAM called %v", iam["called"])
	}
	if iam["type"] != "IAM" || iam["cic"] == nil || iam["category"] == nil {
		t.Errorf("decoded IAM lacks type/cic/category: %v", iam)
	}
	// Coded values carry their Q.763/Q.850 names (issue 10 of the test).
	if n := d.Ladder[0].Names; n["calling.nai"] == "" || n["called.nai"] != decode.ValueName("called.nai", uint64(called["nai"].(float64))) ||
		n["category"] == "" || n["calling.apri"] == "" {
		t.Errorf("IAM value names %v", n)
	}
	for _, m := range d.Ladder {
		if m.Type == "REL" && (m.Names["cause.value"] == "" || m.Names["cause.location"] == "") {
			t.Errorf("REL value names %v", m.Names)
		}
		if m.Decoded == nil || m.MTP3 == "" {
			t.Errorf("%s: decoded %s, mtp3 %q, error %q", m.Type, m.Decoded, m.MTP3, m.DecodeErr)
		}
	}
	if d.Record == nil || d.Record["partner"] != "ic-telecom" || len(d.Alerts) == 0 {
		t.Errorf("record %v alerts %v", d.Record, d.Alerts)
	}
	if d.Ingress["partner"] != "ic-telecom" || d.Ingress["link"] == "" {
		t.Errorf("ingress %v", d.Ingress)
	}
	e.getJSON("/api/calls/p9999.1", bearer(testToken), 404, nil)
	e.getJSON("/api/calls/xyz", bearer(testToken), 400, nil)
}

func TestViewerSeesMaskedNumbers(t *testing.T) {
	e := newEnv(t, nil)
	for _, a := range []auth{bearer(viewerToken), basic("vic", viewerPass)} {
		res := search(t, e, a, url.Values{"number": {"13950000003"}})
		if res.Count == 0 {
			t.Fatal("viewer search found nothing")
		}
		c := res.Calls[0]
		if c.Called != "139******03" || c.Calling != "138******02" {
			t.Errorf("viewer sees calling %q called %q", c.Calling, c.Called)
		}
		if res.Query["number"] != MaskNumber("13950000003") {
			t.Errorf("echoed query number %q", res.Query["number"])
		}
		_, body := e.do("GET", "/api/calls/"+c.ID, a, nil)
		for _, clear := range []string{"13950000003", "13850000002", `"mtp3"`} {
			if bytes.Contains(body, []byte(clear)) {
				t.Errorf("viewer call page contains %s", clear)
			}
		}
		_, body = e.do("GET", "/api/alerts?limit=1000", a, nil)
		if bytes.Contains(body, []byte("13950000003")) || bytes.Contains(body, []byte("13850000002")) {
			t.Error("viewer alert feed contains a number in clear")
		}
		if res, _ := e.do("GET", "/api/pcap?number=13950000003", a, nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("viewer pcap: %d", res.StatusCode)
		}
		e.getJSON("/api/audit", a, http.StatusForbidden, nil)
	}
	// The investigator sees the same call in clear.
	res := search(t, e, bearer(testToken), url.Values{"number": {"13950000003"}})
	if res.Calls[0].Called != "13950000003" {
		t.Errorf("investigator sees %q", res.Calls[0].Called)
	}
}

func TestMaskNumber(t *testing.T) {
	for in, want := range map[string]string{"13800138000": "138******00", "123456": "123*56", "12345": "*****", "": "", "8613800138000": "861********00"} {
		if got := MaskNumber(in); got != want {
			t.Errorf("MaskNumber(%q) = %q, want %q", in, got, want)
		}
	}
	v, err := maskValue(map[string]any{"ts": "2026-03-02T09:00:00.123456789Z", "detail": "caller 13800138000 spoofed", "generic": []string{"13912345678"}, "mtp3": "85"})
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	if m["ts"] != "2026-03-02T09:00:00.123456789Z" || m["detail"] != "caller 138******00 spoofed" || m["generic"].([]any)[0] != "139******78" || m["mtp3"] != nil {
		t.Errorf("masked %v", m)
	}
}

func TestAlertFeed(t *testing.T) {
	e := newEnv(t, nil)
	var res struct {
		Count  int
		Alerts []struct {
			Alert map[string]any
			Call  string
		}
	}
	e.getJSON("/api/alerts", bearer(testToken), 200, &res)
	if res.Count < 10 {
		t.Fatalf("%d alerts; scenarios.expected.jsonl lists 21", res.Count)
	}
	prev := "9999"
	linked := 0
	for _, it := range res.Alerts {
		ts := it.Alert["ts"].(string)
		if ts > prev {
			t.Errorf("feed not newest first: %s after %s", ts, prev)
		}
		prev = ts
		if it.Call != "" {
			linked++
		}
	}
	if linked == 0 {
		t.Error("no alert links to its call")
	}
	e.getJSON("/api/alerts?rule=cli.missing&partner=ic-telecom", bearer(testToken), 200, &res)
	if res.Count == 0 {
		t.Fatal("no cli.missing alert from ic-telecom")
	}
	for _, it := range res.Alerts {
		if it.Alert["rule"] != "cli.missing" || it.Alert["partner"] != "ic-telecom" {
			t.Errorf("filtered feed returned %v", it.Alert)
		}
	}
	e.getJSON("/api/alerts?limit=2", bearer(testToken), 200, &res)
	if res.Count != 2 {
		t.Errorf("limit 2: %d", res.Count)
	}
}

func TestLiveAlertsMergedAndPanicRecovered(t *testing.T) {
	var mu sync.Mutex
	live := []analysis.Alert{}
	explode := false
	e := newEnv(t, func(o *Options) {
		o.LiveAlerts = func(limit int) []analysis.Alert {
			mu.Lock()
			defer mu.Unlock()
			if explode {
				panic("live feed broke")
			}
			return live
		}
	})
	_, newest, _, _ := e.store.Span()
	mu.Lock()
	live = []analysis.Alert{{TS: newest, Rule: "test.live", Partner: "ic-telecom", Calling: "13800138000"}}
	mu.Unlock()
	var res struct {
		Alerts []struct {
			Alert map[string]any
			Live  bool
		}
	}
	e.getJSON("/api/alerts?rule=test.live", bearer(testToken), 200, &res)
	if len(res.Alerts) != 1 || !res.Alerts[0].Live {
		t.Errorf("live alert not in feed: %+v", res.Alerts)
	}
	mu.Lock()
	explode = true
	mu.Unlock()
	e.getJSON("/api/alerts", bearer(testToken), http.StatusInternalServerError, nil)
	// The server is still up, and the concurrency slot was released.
	for i := 0; i < 10; i++ {
		e.getJSON("/api/me", bearer(testToken), 200, nil)
	}
}

func TestPartnersAndScorecard(t *testing.T) {
	e := newEnv(t, nil)
	var list struct{ Partners []PartnerRow }
	e.getJSON("/api/partners", bearer(testToken), 200, &list)
	var ic *PartnerRow
	for i := range list.Partners {
		if list.Partners[i].Partner == "ic-telecom" {
			ic = &list.Partners[i]
		}
	}
	if ic == nil || ic.Calls == 0 || ic.ByRule["cli.missing"] == 0 || len(ic.Links) == 0 {
		t.Fatalf("ic-telecom row %+v", ic)
	}
	var sc struct {
		Partner PartnerRow
		Series  []SeriesPoint
		Links   []retention.ReportRow
	}
	e.getJSON("/api/scorecard?partner=ic-telecom", bearer(testToken), 200, &sc)
	if sc.Partner.Calls != ic.Calls || sc.Partner.ByRule["cli.missing"] != ic.ByRule["cli.missing"] {
		t.Errorf("scorecard %+v, list row %+v", sc.Partner, *ic)
	}
	calls, alerts := 0, 0
	for _, p := range sc.Series {
		calls += p.Calls
		alerts += p.Alerts
		if _, err := time.Parse(time.RFC3339, p.T); err != nil || !strings.HasSuffix(p.T, ":00:00Z") {
			t.Errorf("series point time %q is not an hour", p.T)
		}
	}
	if calls != ic.Calls || alerts == 0 {
		t.Errorf("series sums to %d calls and %d alerts; partner has %d calls", calls, alerts, ic.Calls)
	}
	if len(sc.Series) > 92*24+1 {
		t.Errorf("%d points", len(sc.Series))
	}
	e.getJSON("/api/scorecard", bearer(testToken), 400, nil)
}

func TestPcapDownloadRedecodes(t *testing.T) {
	e := newEnv(t, nil)
	q := url.Values{"number": {"13950000003"}}
	res := search(t, e, bearer(testToken), q)
	var d struct{ Ladder []LadderMessage }
	e.getJSON("/api/calls/"+res.Calls[0].ID, bearer(testToken), 200, &d)

	resp, body := e.do("GET", "/api/pcap?"+q.Encode(), bearer(testToken), nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-pcapng" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), ".pcapng") {
		t.Fatalf("pcap: %d %v", resp.StatusCode, resp.Header)
	}
	path := filepath.Join(t.TempDir(), "out.pcap")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	types := ReadPcapTypes(t, path)
	if len(types) < len(d.Ladder) || types[0] != "IAM" {
		t.Errorf("pcap holds %v; ladder has %d messages", types, len(d.Ladder))
	}
	if resp.Header.Get("X-Gatewarden-Packets") == "0" {
		t.Error("no packets")
	}
}

// ReadPcapTypes reads a pcap with the project's capture and decode packages
// and returns the ISUP message types in it.
func ReadPcapTypes(t *testing.T, path string) []string {
	t.Helper()
	r, err := capture.OpenFiles([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var types []string
	dec := decode.New(decode.Config{}, func(m *decode.Message) { types = append(types, decode.MessageTypeName(m.ISUP.Type)) })
	var f decode.Frame
	for r.Next(&f) != io.EOF {
		dec.Decode(&f)
	}
	if len(r.Errors()) > 0 {
		t.Errorf("capture errors: %v", r.Errors())
	}
	return types
}

func TestAuditLog(t *testing.T) {
	e := newEnv(t, nil)
	search(t, e, bearer(testToken), url.Values{"number": {"13950000003"}, "role": {"called"}})
	e.getJSON("/api/calls?number=abc", basic("vic", viewerPass), 400, nil)
	login(t, e, "admin", adminPass)
	var res struct {
		Count   int
		Entries []AuditEntry
	}
	e.getJSON("/api/audit", basic("admin", adminPass), 200, &res)
	var found, bad, loginSeen bool
	for _, en := range res.Entries {
		switch {
		case en.Endpoint == "/api/calls" && en.User == "token:ci" && en.Params["number"] == "13950000003":
			found = en.Results > 0 && en.Status == 200 && en.Role == "investigator" && en.Params["role"] == "called"
		case en.Endpoint == "/api/calls" && en.User == "vic":
			bad = en.Status == 400 && en.Params["number"] == "abc"
		case en.Endpoint == "/api/login" && en.User == "admin":
			loginSeen = en.Status == 200
		}
	}
	if !found || !bad || !loginSeen {
		t.Errorf("audit entries (search %v, bad request %v, login %v): %+v", found, bad, loginSeen, res.Entries)
	}
	if res.Entries[0].Endpoint != "/api/login" {
		t.Errorf("newest entry first: got %+v", res.Entries[0])
	}
	e.getJSON("/api/audit", bearer(testToken), http.StatusForbidden, nil)
	// The file is JSON lines, one per query, in order.
	f, err := os.Open(e.audit)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := scanAudit(f)
	if err != nil || len(all) < 4 {
		t.Fatalf("audit file: %d entries, %v", len(all), err)
	}
	if all[len(all)-1].Endpoint != "/api/audit" {
		t.Errorf("last line %+v", all[len(all)-1])
	}
}

func TestAuditTailAcrossBlocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a, err := openAudit(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	const n = 3000 // ~200 bytes each: several 64 KiB blocks
	for i := 0; i < n; i++ {
		if err := a.write(&AuditEntry{User: "u", Endpoint: "/api/calls", Results: i, Params: map[string]string{"number": strings.Repeat("1", 100)}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.tail(n + 10)
	if err != nil || len(got) != n {
		t.Fatalf("tail: %d entries, %v", len(got), err)
	}
	for i, e := range got {
		if e.Results != n-1-i {
			t.Fatalf("entry %d has results %d, want %d", i, e.Results, n-1-i)
		}
	}
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t, nil)
	a := bearer(testToken)
	cases := []string{
		"/api/calls?number=abc",
		"/api/calls?number=12",
		"/api/calls?number=" + strings.Repeat("1", 40),
		"/api/calls?number=139%00",
		"/api/calls?role=calling",
		"/api/calls?number=13950000003&role=caller",
		"/api/calls?from=yesterday",
		"/api/calls?to=2026-13-01",
		"/api/calls?from=1000-01-01&to=1000-01-02",
		"/api/calls?from=2025-01-01&to=2025-06-01",
		"/api/calls?from=2026-03-02&to=2026-03-01",
		"/api/calls?limit=0",
		"/api/calls?limit=100000",
		"/api/calls?colour=blue",
		"/api/calls?partner=" + strings.Repeat("x", 200),
		"/api/alerts?from=2020-01-01&to=2026-01-01",
		"/api/alerts?limit=-1",
		"/api/partners?from=bad",
		"/api/pcap?from=2020-01-01&to=2026-01-01",
		"/api/calls/p1",
	}
	for _, p := range cases {
		res, b := e.do("GET", p, a, nil)
		var ae apiError
		if res.StatusCode != 400 || json.Unmarshal(b, &ae) != nil || ae.Error == "" {
			t.Errorf("GET %s: %d %s", p, res.StatusCode, b)
		}
	}
	e.getJSON("/api/audit?limit=x", basic("admin", adminPass), 400, nil)
	if res, _ := e.do("GET", "/api/calls?number="+strings.Repeat("1", maxQuery), a, nil); res.StatusCode != http.StatusRequestURITooLong {
		t.Errorf("long query: %d", res.StatusCode)
	}
	if res, _ := e.do("POST", "/api/login", nil, strings.NewReader(strings.Repeat("x", maxBody*2))); res.StatusCode != 400 {
		t.Errorf("huge login body: %d", res.StatusCode)
	}
	if res, _ := e.do("GET", "/api/nope", a, nil); res.StatusCode != 404 {
		t.Errorf("unknown endpoint: %d", res.StatusCode)
	}
	if res, _ := e.do("DELETE", "/api/calls", a, nil); res.StatusCode != http.StatusMethodNotAllowed && res.StatusCode != 404 {
		t.Errorf("DELETE: %d", res.StatusCode)
	}
	// Still serving.
	e.getJSON("/api/me", a, 200, nil)
}

func TestSetAccess(t *testing.T) {
	e := newEnv(t, nil)
	c := login(t, e, "ivy", investigPass)
	withCookie := func(r *http.Request) { r.AddCookie(c) }
	keep := login(t, e, "admin", adminPass)
	e.getJSON("/api/me", withCookie, 200, nil)
	// ivy is demoted to viewer, the ci token removed.
	users := testOptions(t, t.TempDir()).Users
	users[1].Role = RoleViewer
	e.srv.SetAccess(users, nil)
	e.getJSON("/api/me", withCookie, 401, nil)
	e.getJSON("/api/me", bearer(testToken), 401, nil)
	e.getJSON("/api/me", func(r *http.Request) { r.AddCookie(keep) }, 200, nil)
	var me map[string]any
	e.getJSON("/api/me", basic("ivy", investigPass), 200, &me)
	if me["role"] != "viewer" {
		t.Errorf("after reload ivy is %v", me["role"])
	}
}
