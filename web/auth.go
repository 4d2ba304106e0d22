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

func remoteHost(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

// dummyHashes are compared against when the user does not exist, one per
// bcrypt cost in use, so a login takes as long for unknown users as for a
// wrong password: the dummy has the highest cost of the configured hashes.
var (
	dummyMu     sync.Mutex
	dummyHashes = map[int][]byte{}
)

func dummyHash(cost int) []byte {
	dummyMu.Lock()
	defer dummyMu.Unlock()
	if h, ok := dummyHashes[cost]; ok {
		return h
	}
	h, err := bcrypt.GenerateFromPassword([]byte("gatewarden-no-such-user"), cost)
	if err != nil {
		h, _ = bcrypt.GenerateFromPassword([]byte("gatewarden-no-such-user"), bcrypt.DefaultCost)
	}
	dummyHashes[cost] = h
	return h
}

// dummyCost is the highest bcrypt cost among users (DefaultCost without users).
func dummyCost(users []User) int {
	c := 0
	for _, u := range users {
		if uc, err := bcrypt.Cost([]byte(u.PasswordHash)); err == nil && uc > c {
			c = uc
		}
	}
	if c == 0 {
		c = bcrypt.DefaultCost
	}
	return c
}

// SetAccess replaces the users and tokens (the daemon calls it when SIGHUP
// reloads the config). Sessions of users that are gone or whose role
// changed end at once.
func (s *Server) SetAccess(users []User, tokens []Token) {
	cost := dummyCost(users)
	dummyHash(cost) // made before the lock: it takes as long as a login
	s.accessMu.Lock()
	s.opt.Users, s.opt.Tokens = users, tokens
	s.dummyCost = cost
	s.accessMu.Unlock()
	s.basic.clear()
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

// checkPassword runs bcrypt once, against the user's hash or, for an
// unknown user, a dummy hash of the same cost.
func (s *Server) checkPassword(name, password string) (principal, bool) {
	s.passwordChecks.Add(1)
	users, _ := s.access()
	var user *User
	for i := range users {
		if users[i].Name == name {
			user = &users[i]
		}
	}
	if user == nil {
		s.accessMu.RLock()
		cost := s.dummyCost
		s.accessMu.RUnlock()
		_ = bcrypt.CompareHashAndPassword(dummyHash(cost), []byte(password))
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
			if p, ok := s.basic.get(name, pass); ok {
				return p, true, ""
			}
			host := remoteHost(r)
			switch s.limits.begin(host) {
			case lockedOut:
				return p, false, "too many failed logins; wait a minute"
			case serverBusy:
				return p, false, "too many logins in progress; try again in a second"
			}
			p, ok := s.checkPassword(name, pass)
			s.limits.end(host, ok)
			if !ok {
				return p, false, "invalid user or password"
			}
			p.Via = "basic"
			s.basic.put(name, pass, p)
			return p, true, ""
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
