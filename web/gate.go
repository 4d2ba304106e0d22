package web

import (
	"context"
	"net/http"
	"sync"
)

// queryGate bounds the queries running at once: each principal (user or
// token) may run at most perUser, and viewers draw on a pool of their own,
// so viewers hammering an expensive query never hold the slots an
// investigator's lookup needs. A query waits for its slots only as long as
// its deadline allows (then 503). The browser UI sends a few requests at
// once, so a principal's extra queries wait rather than fail.
type queryGate struct {
	mu      sync.Mutex
	users   map[string]*userSlots
	perUser int
	viewers chan struct{}
	others  chan struct{} // investigators and admins
}

type userSlots struct {
	sem  chan struct{}
	refs int // requests holding or waiting for sem
}

func newQueryGate(poolSize, perUser int) *queryGate {
	return &queryGate{users: map[string]*userSlots{}, perUser: perUser,
		viewers: make(chan struct{}, poolSize), others: make(chan struct{}, poolSize)}
}

// acquire takes a slot for p; release must be called when status is 0.
func (g *queryGate) acquire(ctx context.Context, p principal) (release func(), status int, msg string) {
	g.mu.Lock()
	u := g.users[p.Name]
	if u == nil {
		u = &userSlots{sem: make(chan struct{}, g.perUser)}
		g.users[p.Name] = u
	}
	u.refs++
	g.mu.Unlock()
	unref := func() {
		g.mu.Lock()
		if u.refs--; u.refs == 0 {
			delete(g.users, p.Name)
		}
		g.mu.Unlock()
	}
	busy := func(why string) (func(), int, string) {
		unref()
		return nil, http.StatusServiceUnavailable, why
	}
	select {
	case u.sem <- struct{}{}:
	case <-ctx.Done():
		return busy("too many of your queries are running; try again when they finish")
	}
	pool := g.others
	if p.Role <= RoleViewer {
		pool = g.viewers
	}
	select {
	case pool <- struct{}{}:
		return func() { <-pool; <-u.sem; unref() }, 0, ""
	case <-ctx.Done():
		<-u.sem
		return busy("server busy: too many queries running; try again")
	}
}
