package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

const sessionCookie = "gw_session"

// principal is who made a request.
type principal struct {
	Name string
	Role Role
	Via  string // session, token, basic
}

type session struct {
	principal
	expires time.Time
}

// sessions holds login sessions in memory: a restart logs everyone out,
// which is the safe direction.
type sessions struct {
	mu  sync.Mutex
	m   map[string]session // key: SHA-256 of the cookie value
	ttl time.Duration
	now func() time.Time
}

func newSessionID() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

func hashKey(s string) string {
	h := sha256.Sum256([]byte(s))
	return string(h[:])
}

func (s *sessions) create(p principal) (string, time.Time, error) {
	id, err := newSessionID()
	if err != nil {
		return "", time.Time{}, err
	}
	exp := s.now().Add(s.ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.m { // expired sessions go when a new one is made
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	s.m[hashKey(id)] = session{principal: p, expires: exp}
	return id, exp, nil
}

func (s *sessions) get(id string) (principal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[hashKey(id)]
	if !ok || s.now().After(v.expires) {
		return principal{}, false
	}
	return v.principal, true
}

func (s *sessions) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, hashKey(id))
}

// failures slows password guessing: after maxFailures failed logins from one
// address within failureWindow, further attempts are refused until it passes.
type failures struct {
	mu  sync.Mutex
	m   map[string][]time.Time
	now func() time.Time
}

const (
	maxFailures   = 5
	failureWindow = time.Minute
)

func (f *failures) recent(addr string) []time.Time {
	cut := f.now().Add(-failureWindow)
	ts := f.m[addr]
	i := 0
	for i < len(ts) && ts[i].Before(cut) {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(f.m, addr)
	} else {
		f.m[addr] = ts
	}
	return ts
}

func (f *failures) blocked(addr string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.recent(addr)) >= maxFailures
}

func (f *failures) add(addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.m) > 10000 { // bound memory under a spray from many addresses
		clear(f.m)
	}
	f.m[addr] = append(f.recent(addr), f.now())
}

func remoteHost(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

// dummyHash is compared against when the user does not exist, so a login
// takes as long for unknown users as for wrong passwords.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("gatewarden-no-such-user"), bcrypt.MinCost)

// SetAccess replaces the users and tokens (the daemon calls it when SIGHUP
// reloads the config). Sessions of users that are gone or whose role
// changed end at once.
func (s *Server) SetAccess(users []User, tokens []Token) {
	s.accessMu.Lock()
	s.opt.Users, s.opt.Tokens = users, tokens
	s.accessMu.Unlock()
	roles := map[string]Role{}
	for _, u := range users {
		roles[u.Name] = u.Role
	}
	s.sessions.mu.Lock()
	defer s.sessions.mu.Unlock()
	for k, v := range s.sessions.m {
		if r, ok := roles[v.Name]; !ok || r != v.Role {
			delete(s.sessions.m, k)
		}
	}
}

func (s *Server) access() ([]User, []Token) {
	s.accessMu.RLock()
	defer s.accessMu.RUnlock()
	return s.opt.Users, s.opt.Tokens
}

func (s *Server) checkPassword(name, password string) (principal, bool) {
	users, _ := s.access()
	var user *User
	for i := range users {
		if users[i].Name == name {
			user = &users[i]
		}
	}
	if user == nil {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return principal{}, false
	}
	if bcrypt.CompareHashAndPassword([]byte(user.PasswordHash), []byte(password)) != nil {
		return principal{}, false
	}
	return principal{Name: user.Name, Role: user.Role}, true
}

func (s *Server) checkToken(tok string) (principal, bool) {
	sum := sha256.Sum256([]byte(tok))
	_, tokens := s.access()
	var found principal
	ok := false
	for i := range tokens {
		// Compare against every token so timing does not tell which matched.
		if subtle.ConstantTimeCompare(sum[:], tokens[i].SHA256[:]) == 1 {
			found, ok = principal{Name: "token:" + tokens[i].Name, Role: tokens[i].Role, Via: "token"}, true
		}
	}
	return found, ok
}

// authenticate finds who is asking: a bearer token, HTTP basic auth, or a
// session cookie. errMsg says why not when ok is false.
func (s *Server) authenticate(r *http.Request) (p principal, ok bool, errMsg string) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, _ := strings.Cut(h, " ")
		switch strings.ToLower(scheme) {
		case "bearer":
			if p, ok := s.checkToken(strings.TrimSpace(cred)); ok {
				return p, true, ""
			}
			return p, false, "invalid bearer token"
		case "basic":
			name, pass, okb := r.BasicAuth()
			if !okb {
				return p, false, "malformed basic credentials"
			}
			if s.fails.blocked(remoteHost(r)) {
				return p, false, "too many failed logins; wait a minute"
			}
			if p, ok := s.checkPassword(name, pass); ok {
				p.Via = "basic"
				return p, true, ""
			}
			s.fails.add(remoteHost(r))
			return p, false, "invalid user or password"
		default:
			return p, false, "unsupported Authorization scheme (use Bearer or Basic)"
		}
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if p, ok := s.sessions.get(c.Value); ok {
			p.Via = "session"
			return p, true, ""
		}
		return p, false, "session expired; log in again"
	}
	return p, false, "authentication required"
}
