// Package web is the investigator's HTTP JSON API and browser UI over the
// retention store, with authentication, roles, number masking and an
// append-only audit log. Both `gatewarden serve` (a stored data directory)
// and `gatewarden run` (the live daemon) mount NewHandler.
package web

import (
	"context"
	"crypto/tls"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/config"
	"github.com/gatewarden/gatewarden/central"
	"github.com/gatewarden/gatewarden/retention"
)

//go:embed ui
var uiFiles embed.FS

// Options configure the handler.
type Options struct {
	Config // users, tokens, audit log, session TTL, country code

	Logger *slog.Logger // default: discard
	// LiveAlerts, when the daemon has one, returns its most recent alerts
	// (newest first, at most limit); they are merged into the alert feed
	// before the store has flushed them.
	LiveAlerts func(limit int) []analysis.Alert
	// MaxRange bounds a query's time range (default 92 days).
	MaxRange time.Duration
	// QueryTimeout bounds one request, the wait for a slot and the query's
	// execution together: a query still running then is cancelled (503).
	// Default 30 s.
	QueryTimeout time.Duration
	// MaxConcurrent queries of viewers run at once, and as many of
	// investigators and admins, in a pool of their own (default half the
	// CPUs, at least 1, so queries leave the other half to ingest); others
	// wait within QueryTimeout and then get 503.
	MaxConcurrent int
	// MaxPerUser queries of one user or token run at once; more wait
	// within QueryTimeout (default 2).
	MaxPerUser int
	// Now is the wall clock for sessions and the audit log (default time.Now).
	Now func() time.Time
	// Box names the box whose store NewHandler serves (shown on its calls;
	// "" leaves it out).
	Box string
}

// Server is the handler NewHandler returns; Close releases the audit log.
type Server struct {
	store    *retention.Store // the box's own store; nil over the central store
	archive  Archive
	accessMu sync.RWMutex // guards opt.Users and opt.Tokens
	opt      Options
	log      *slog.Logger
	audit    *auditLog
	sessions *sessions
	limits   *limiter
	basic    *basicCache
	gate     *queryGate
	// dummyCost is the bcrypt cost of the hash unknown users are checked
	// against (guarded by accessMu).
	dummyCost      int
	passwordChecks atomic.Int64 // bcrypt comparisons made (tests, metrics)
	failAudit      failThrottle
	mux            *http.ServeMux
	static         fs.FS
}

// NewHandler builds the API and UI over store. It refuses to start without
// at least one user or token (nothing may be served unauthenticated) or
// without an audit log path.
func NewHandler(store *retention.Store, opts Options) (http.Handler, error) {
	return New(store, opts)
}

// New is NewHandler returning the concrete *Server (for Close).
func New(store *retention.Store, opts Options) (*Server, error) {
	if store == nil {
		return nil, errors.New("web: no store")
	}
	return newServer(store, &central.Local{Store: store, Box: opts.Box}, opts)
}

func newServer(store *retention.Store, archive Archive, opts Options) (*Server, error) {
	if archive == nil {
		return nil, errors.New("web: no store")
	}
	if len(opts.Users) == 0 && len(opts.Tokens) == 0 {
		return nil, errors.New("web: no users or tokens configured (daemon.web.users / daemon.web.tokens): nothing can be served")
	}
	if opts.AuditLog == "" {
		return nil, errors.New("web: daemon.web.audit_log is not set: every query must be audited")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.MaxRange <= 0 {
		opts.MaxRange = 92 * 24 * time.Hour
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = 30 * time.Second
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if opts.HomeCountryCode == "" {
		opts.HomeCountryCode = config.DefaultHomeCountryCode
	}
	if opts.DisplayZone == "" {
		opts.DisplayZone = "UTC"
	}
	if opts.MaxPerUser <= 0 {
		opts.MaxPerUser = 2
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a, err := openAudit(opts.AuditLog)
	if err != nil {
		return nil, err
	}
	static, err := fs.Sub(uiFiles, "ui")
	if err != nil {
		return nil, err
	}
	s := &Server{
		store: store, archive: archive, opt: opts, log: opts.Logger, audit: a,
		sessions:  &sessions{m: map[string]session{}, ttl: opts.SessionTTL, now: opts.Now},
		limits:    newLimiter(opts.Now),
		basic:     newBasicCache(opts.Now),
		gate:      newQueryGate(opts.MaxConcurrent, opts.MaxPerUser),
		mux:       http.NewServeMux(),
		static:    static,
		dummyCost: dummyCost(opts.Users),
	}
	dummyHash(s.dummyCost)
	s.routes()
	return s, nil
}

// Close closes the audit log.
func (s *Server) Close() error {
	s.flushFailures()
	return s.audit.close()
}

// NewHTTPServer wraps h in an http.Server with timeouts that a slow or
// hostile client cannot hold open.
func NewHTTPServer(addr string, h http.Handler, logger *slog.Logger) *http.Server {
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // pcap downloads of large results
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
	}
	if logger != nil {
		srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	}
	return srv
}

const (
	maxBody  = 16 << 10
	maxQuery = 4 << 10
)

// apiError is every 4xx/5xx body.
type apiError struct {
	Error string `json:"error"`
}

type ctxKey int

const principalKey ctxKey = 0

// reqState carries what the audit entry needs from the handler.
type reqState struct {
	p       principal
	results int
	params  map[string]string
	status  int
	audited bool // this endpoint is a query: always audited
}

func stateOf(r *http.Request) *reqState {
	st, _ := r.Context().Value(principalKey).(*reqState)
	return st
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	h.Set("Cache-Control", "no-store")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("web: handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeJSON(w, http.StatusInternalServerError, apiError{"internal error (logged)"})
		}
	}()
	if len(r.URL.RawQuery) > maxQuery {
		writeJSON(w, http.StatusRequestURITooLong, apiError{fmt.Sprintf("query string longer than %d bytes", maxQuery)})
		return
	}
	if msg := crossSite(r); msg != "" {
		s.log.Info("web: cross-site request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "reason", msg)
		writeJSON(w, http.StatusForbidden, apiError{msg})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	s.mux.ServeHTTP(w, r)
}

// crossSite refuses a state-changing request (anything but GET, HEAD,
// OPTIONS) that a browser sent from another site, login included: its
// Sec-Fetch-Site must be same-origin (or none: typed by the user), its
// Origin must be this server, and its body, if any, must be JSON, which a
// cross-site form cannot send without a CORS preflight this server never
// answers. Clients that send none of these headers (curl, scripts) are not
// browsers and pass. It returns why the request is refused, or "".
func crossSite(r *http.Request) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return ""
	}
	if sfs := r.Header.Get("Sec-Fetch-Site"); sfs != "" && sfs != "same-origin" && sfs != "none" {
		return "cross-site request refused (Sec-Fetch-Site: " + sfs + ")"
	}
	if o := r.Header.Get("Origin"); o != "" {
		// The host must be this server's; the scheme may differ, so the
		// daemon works behind a TLS-terminating proxy that keeps Host.
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) || (u.Scheme != "http" && u.Scheme != "https") {
			return "cross-origin request refused (Origin " + o + " is not this server, " + r.Host + ")"
		}
	}
	if r.ContentLength != 0 || r.Header.Get("Content-Type") != "" {
		mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
		if !strings.EqualFold(strings.TrimSpace(mt), "application/json") {
			return "request body must be Content-Type: application/json"
		}
	}
	return ""
}

// statusWriter remembers the status for the audit log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (sw *statusWriter) WriteHeader(code int) {
	if sw.status == 0 {
		sw.status = code
	}
	sw.ResponseWriter.WriteHeader(code)
}

func (sw *statusWriter) Write(b []byte) (int, error) {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	return sw.ResponseWriter.Write(b)
}

// api wraps an API handler: authentication, role check, concurrency limit,
// time limit, and the audit entry.
func (s *Server) api(minRole Role, h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok, msg := s.authenticate(r)
		st := &reqState{p: p, audited: true}
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if !ok {
				return // unauthenticated requests are logged, not audited as queries
			}
			st.status = sw.status
			s.writeAudit(r, st)
		}()
		if !ok {
			s.log.Info("web: unauthenticated request", "path", r.URL.Path, "remote", r.RemoteAddr, "reason", msg)
			if r.Header.Get("Authorization") == "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gatewarden"`)
			}
			writeJSON(sw, http.StatusUnauthorized, apiError{msg})
			return
		}
		if p.Role < minRole {
			writeJSON(sw, http.StatusForbidden, apiError{fmt.Sprintf("role %s may not use %s (needs %s)", p.Role, r.URL.Path, minRole)})
			return
		}
		// One deadline covers the wait for a slot and the query itself:
		// the store's scans stop when it passes.
		ctx, cancel := context.WithTimeout(r.Context(), s.opt.QueryTimeout)
		defer cancel()
		release, status, msg := s.gate.acquire(ctx, p)
		if status != 0 {
			writeJSON(sw, status, apiError{msg})
			return
		}
		defer release()
		ctx = context.WithValue(ctx, principalKey, st)
		h(sw, r.WithContext(ctx))
	}
}

func (s *Server) writeAudit(r *http.Request, st *reqState) {
	e := s.auditEntry(r, st)
	if err := s.audit.write(&e); err != nil {
		s.log.Error("web: audit log write failed", "err", err)
	}
}

func (s *Server) auditEntry(r *http.Request, st *reqState) AuditEntry {
	e := AuditEntry{
		TS: auditTime(s.opt.Now()), User: st.p.Name, Role: st.p.Role.String(), Via: st.p.Via,
		Remote: r.RemoteAddr, Method: r.Method, Endpoint: r.URL.Path,
		Params: st.params, Results: st.results, Status: st.status,
	}
	if e.Params == nil && len(r.URL.RawQuery) > 0 {
		e.Params = map[string]string{}
		for k, v := range r.URL.Query() {
			e.Params[k] = strings.Join(v, ",")
		}
	}
	return e
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding response"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// respond writes v for the requester, masking numbers for viewers.
func respond(w http.ResponseWriter, r *http.Request, v any) {
	st := stateOf(r)
	if st != nil && st.p.Role == RoleViewer {
		masked, err := maskValue(v)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, apiError{"masking response"})
			return
		}
		writeJSON(w, http.StatusOK, masked)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func badRequest(w http.ResponseWriter, format string, args ...any) {
	writeJSON(w, http.StatusBadRequest, apiError{fmt.Sprintf(format, args...)})
}
