package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"golang.org/x/crypto/bcrypt"
)

// serveFrom sends one request to the handler as if from addr (host:port).
func serveFrom(s *Server, addr, method, target string, body []byte, hdr map[string]string) *httptest.ResponseRecorder {
	var req *http.Request
	if body != nil {
		req = httptest.NewRequest(method, target, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	req.RemoteAddr = addr
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func loginBody(user, pass string) []byte {
	b, _ := json.Marshal(loginRequest{User: user, Password: pass})
	return b
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// Hole 1: an unknown user must cost as much as a wrong password (the dummy
// hash had bcrypt's minimum cost while real ones had cost 12).
func TestLoginConstantCost(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		h, err := bcrypt.GenerateFromPassword([]byte(investigPass), bcrypt.DefaultCost)
		if err != nil {
			t.Fatal(err)
		}
		o.Users[1].PasswordHash = string(h) // ivy, at the cost deployments use
	})
	// Each login runs in this goroutine (httptest recorder), locked to its
	// thread, so the thread's CPU time is the login's cost whatever else
	// the shared machine is doing; wall time is logged beside it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var unknown, wrong, unknownWall, wrongWall []time.Duration
	for i := 0; i < 9; i++ {
		for _, c := range []struct {
			user      string
			cpu, wall *[]time.Duration
		}{{"nobody-" + fmt.Sprint(i), &unknown, &unknownWall}, {"ivy", &wrong, &wrongWall}} {
			addr := fmt.Sprintf("192.0.2.%d:1000", len(unknown)+len(wrong)+1) // a fresh address: no lockout
			start, cpu0 := time.Now(), threadCPU()
			rec := serveFrom(e.srv, addr, "POST", "/api/login", loginBody(c.user, "wrong"), nil)
			*c.cpu = append(*c.cpu, threadCPU()-cpu0)
			*c.wall = append(*c.wall, time.Since(start))
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("login %s: %d %s", c.user, rec.Code, rec.Body)
			}
			time.Sleep(150 * time.Millisecond) // stay under the global ceiling
		}
	}
	u, w := median(unknown), median(wrong)
	t.Logf("login cost, median of %d: unknown user %v CPU (%v wall), wrong password %v CPU (%v wall)",
		len(unknown), u, median(unknownWall), w, median(wrongWall))
	if ratio := float64(w) / float64(u); ratio > 1.5 || ratio < 1/1.5 {
		t.Errorf("unknown user %v vs wrong password %v of CPU: ratio %.2f, want within 1.5x", u, w, ratio)
	}
}

// Hole 2: parallel attempts from one address must be counted before the
// password check, so at most maxFailures of them get one.
func TestLoginParallelAttemptsCounted(t *testing.T) {
	e := newEnv(t, nil)
	const n = 40
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			rec := serveFrom(e.srv, "198.51.100.7:4000", "POST", "/api/login", loginBody("ivy", "wrong"), nil)
			codes[i] = rec.Code
		}()
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	checks := e.srv.passwordChecks.Load()
	t.Logf("%d parallel wrong passwords from one address: statuses %v, password checks %d", n, count, checks)
	if count[http.StatusUnauthorized] > maxFailures || checks > maxFailures {
		t.Errorf("%d attempts got a password check (%v), want at most %d", checks, count, maxFailures)
	}
	if count[http.StatusOK] != 0 {
		t.Errorf("statuses %v", count)
	}
}

// Hole 3: failures from many other addresses must not unlock a locked one.
func TestLockoutSurvivesAddressFlood(t *testing.T) {
	// The limiter's clock stands still: on a slow machine (or under -race)
	// the flood may take longer than the lockout lasts, and the test is
	// about the table, not about the lockout's length.
	now := time.Now()
	e := newEnv(t, func(o *Options) { o.Now = func() time.Time { return now } })
	locked := "203.0.113.9:5000"
	for range maxFailures {
		serveFrom(e.srv, locked, "POST", "/api/login", loginBody("ivy", "wrong"), nil)
	}
	if rec := serveFrom(e.srv, locked, "POST", "/api/login", loginBody("ivy", investigPass), nil); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("after %d failures: %d, want 429", maxFailures, rec.Code)
	}
	for i := range 10200 {
		addr := fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255)
		serveFrom(e.srv, addr, "POST", "/api/login", loginBody("ivy", "wrong"), nil)
	}
	if rec := serveFrom(e.srv, locked, "POST", "/api/login", loginBody("ivy", investigPass), nil); rec.Code != http.StatusTooManyRequests {
		t.Errorf("after a flood from 10 200 other addresses the locked address got %d, want 429", rec.Code)
	}
}

// The limiter's table is bounded and forgets the least recently seen
// unlocked addresses, never a locked one.
func TestLimiterEvictsOnlyUnlocked(t *testing.T) {
	now := time.Unix(1e9, 0)
	l := newLimiter(func() time.Time { return now })
	l.maxAddrs, l.rate, l.burst, l.tokens = 10, 1e9, 1e9, 1e9
	for range maxFailures {
		if l.begin("locked") != allowed {
			t.Fatal("first attempts refused")
		}
		l.end("locked", false)
	}
	for i := range 1000 {
		a := fmt.Sprint("a", i)
		if v := l.begin(a); v != allowed {
			t.Fatalf("%s: %v", a, v)
		}
		l.end(a, false)
	}
	if len(l.m) > 10 {
		t.Errorf("table holds %d addresses, bound 10", len(l.m))
	}
	if l.begin("locked") != lockedOut {
		t.Error("locked address forgotten")
	}
	// A table full of locked addresses refuses newcomers (fails closed).
	for i := range 20 {
		a := fmt.Sprint("b", i)
		for range maxFailures {
			if l.begin(a) == allowed {
				l.end(a, false)
			}
		}
	}
	if v := l.begin("newcomer"); v == allowed {
		t.Error("newcomer allowed into a table full of locked addresses")
	}
	now = now.Add(failureWindow + time.Second)
	if v := l.begin("locked"); v != allowed {
		t.Errorf("after the window: %v", v)
	}
}

// Hole 4: unauthenticated failures must not grow the audit log without
// bound; authenticated queries are still audited in full.
func TestAuditFloodBounded(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, func(o *Options) { o.Now = clock })
	before := fileSize(t, e.audit)
	name := strings.Repeat("A", 15<<10)
	for range 2000 {
		e.do("POST", "/api/login", nil, bytes.NewReader(loginBody(name, "x")))
	}
	grown := fileSize(t, e.audit) - before
	t.Logf("2000 failed logins with a 15 KB user name added %d bytes to the audit log", grown)
	if grown > 16<<10 {
		t.Errorf("audit log grew by %d bytes under a login flood, want under 16 KiB", grown)
	}
	for i := range 20 {
		search(t, e, bearer(testToken), url.Values{"number": {fmt.Sprint(13950000000 + i)}})
	}
	mu.Lock()
	now = now.Add(2 * failureWindow)
	mu.Unlock()
	e.do("POST", "/api/login", nil, bytes.NewReader(loginBody("x", "y"))) // the next window ends the last
	f, err := os.Open(e.audit)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := scanAudit(f)
	if err != nil {
		t.Fatal(err)
	}
	searches, suppressed := 0, 0
	for _, en := range all {
		if en.Endpoint == "/api/calls" && en.User == "token:ci" && en.Params["number"] != "" {
			searches++
		}
		suppressed += en.Suppressed
		if en.Endpoint == "/api/login" && len(en.User) > maxAuditName+32 {
			t.Fatalf("user name of %d bytes written", len(en.User))
		}
	}
	if searches != 20 {
		t.Errorf("%d of 20 authenticated searches audited", searches)
	}
	if suppressed != 2000-failsPerWindow {
		t.Errorf("summaries count %d suppressed failures, want %d", suppressed, 2000-failsPerWindow)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// Hole 6: login CSRF. A cross-site form post (text/plain, foreign Origin)
// must not log in; the UI's own same-origin JSON request must.
func TestLoginCrossSiteRefused(t *testing.T) {
	e := newEnv(t, nil)
	host := strings.TrimPrefix(e.ts.URL, "http://")
	body := loginBody("ivy", investigPass)
	for _, c := range []struct {
		hdr  map[string]string
		want int
	}{
		{map[string]string{"Content-Type": "text/plain", "Origin": "http://evil.example"}, 403},
		{map[string]string{"Content-Type": "text/plain"}, 403},
		{map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 403},
		{map[string]string{"Origin": "http://evil.example"}, 403},
		{map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://" + host}, 403},
		{map[string]string{"Origin": "null"}, 403},
		{map[string]string{"Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"}, 200},
		{map[string]string{"Origin": "https://" + host, "Sec-Fetch-Site": "same-origin"}, 200}, // behind a TLS proxy
		{nil, 200}, // curl: no browser headers
	} {
		res, b := e.do("POST", "/api/login", func(r *http.Request) {
			for k, v := range c.hdr {
				r.Header.Set(k, v)
			}
		}, bytes.NewReader(body))
		if res.StatusCode != c.want {
			t.Errorf("login with %v: %d %s, want %d", c.hdr, res.StatusCode, b, c.want)
		}
		if res.StatusCode != 200 && len(res.Cookies()) > 0 {
			t.Errorf("login with %v set a cookie", c.hdr)
		}
	}
	c := login(t, e, "ivy", investigPass)
	res, _ := e.do("POST", "/api/logout", func(r *http.Request) {
		r.AddCookie(c)
		r.Header.Set("Origin", "http://evil.example")
	}, nil)
	if res.StatusCode != 403 {
		t.Errorf("cross-site logout: %d", res.StatusCode)
	}
	e.getJSON("/api/me", func(r *http.Request) { r.AddCookie(c) }, 200, nil)
}

// Hole 8a: HSTS when serving TLS (and not over plain HTTP, where browsers ignore it).
func TestHSTSOverTLS(t *testing.T) {
	e := newEnv(t, nil)
	tlsSrv := httptest.NewTLSServer(e.srv)
	defer tlsSrv.Close()
	res, err := tlsSrv.Client().Get(tlsSrv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if h := res.Header.Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=") {
		t.Errorf("over TLS: Strict-Transport-Security %q", h)
	}
	res, _ = e.do("GET", "/login", nil, nil)
	if h := res.Header.Get("Strict-Transport-Security"); h != "" {
		t.Errorf("over plain HTTP: Strict-Transport-Security %q", h)
	}
}

// Hole 8b: Basic auth is verified once per credential for a short time,
// not with bcrypt on every request.
func TestBasicAuthVerifiedOnce(t *testing.T) {
	e := newEnv(t, nil)
	for range 20 {
		e.getJSON("/api/me", basic("ivy", investigPass), 200, nil)
	}
	if n := e.srv.passwordChecks.Load(); n != 1 {
		t.Errorf("20 basic-auth requests ran %d password checks, want 1", n)
	}
	// A wrong password is never served from the cache.
	e.getJSON("/api/me", basic("ivy", investigPass+"x"), 401, nil)
	if n := e.srv.passwordChecks.Load(); n != 2 {
		t.Errorf("wrong password: %d checks in all, want 2", n)
	}
	// A password change (config reload) takes effect at once.
	users := testOptions(t, t.TempDir()).Users
	users[1].PasswordHash = hash(t, "new-password")
	e.srv.SetAccess(users, nil)
	e.getJSON("/api/me", basic("ivy", investigPass), 401, nil)
	e.getJSON("/api/me", basic("ivy", "new-password"), 200, nil)
}

// Hole 7: numbers inside free text (alert details) are masked for viewers
// by the same rule as number fields, whatever their length.
func TestViewerFreeTextMasked(t *testing.T) {
	var newest int64
	e := newEnv(t, func(o *Options) {
		o.LiveAlerts = func(int) []analysis.Alert {
			return []analysis.Alert{{TS: newest, Rule: "test.text", Partner: "ic-telecom", Calling: "8613812345",
				Detail: "protected number 12345 called from 8613812345 (3 calls in 60 s)"}}
		}
	})
	_, newest, _, _ = e.store.Span()
	_, body := e.do("GET", "/api/alerts?rule=test.text", bearer(viewerToken), nil)
	if !bytes.Contains(body, []byte(`protected number *****`)) || bytes.Contains(body, []byte("12345")) {
		t.Errorf("viewer alert text: %s", body)
	}
	if !bytes.Contains(body, []byte("861*****45")) || !bytes.Contains(body, []byte("3 calls in 60 s")) {
		t.Errorf("viewer alert text, number and counts: %s", body)
	}
	_, body = e.do("GET", "/api/alerts?rule=test.text", bearer(testToken), nil)
	if !bytes.Contains(body, []byte("protected number 12345")) {
		t.Errorf("investigator alert text: %s", body)
	}
}

func TestMaskText(t *testing.T) {
	for in, want := range map[string]string{
		"protected number 12345":        "protected number *****",
		"caller 8613800138000 spoofed":  "caller 861********00 spoofed",
		"3 calls in 60 s, window 900 s": "3 calls in 60 s, window 900 s",
		"number 1395000000F (filler)":   "number 139******0F (filler)",
		"cli.e164 rule":                 "cli.e164 rule",
	} {
		if got := maskText(in); got != want {
			t.Errorf("maskText(%q) = %q, want %q", in, got, want)
		}
	}
}

// Hole 9: search finds every form of a number with the configuration as
// written (home_country_code only; no web-specific country code).
func TestSearchEveryFormByDefault(t *testing.T) {
	wc, err := ParseConfig([]byte("home_country_code: \"86\"\ndaemon: {web: {audit_log: a.jsonl}}\n"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) {
		users, tokens, audit := o.Users, o.Tokens, o.AuditLog
		o.Config = wc
		o.Users, o.Tokens, o.AuditLog = users, tokens, audit
	})
	for _, n := range []string{"13850000002", "+8613850000002", "008613850000002", "013850000002", "86 138 5000 0002"} {
		res := search(t, e, bearer(testToken), url.Values{"number": {n}})
		if res.Count == 0 {
			t.Errorf("search %q found nothing", n)
		}
	}
}
