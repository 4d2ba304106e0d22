package web

import (
	"context"
	"net/http"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/central"
	"github.com/gatewarden/gatewarden/retention"
)

// Archive is the query side the server reads calls through: a box's own
// store (central.Local, as NewHandler wraps it) or the province's central
// store (*central.Client, for `gatewarden serve --clickhouse`). Search, the
// call page and its cross-gateway path go through it, so both are served by
// the same handlers, masking, audit, deadlines and slots.
type Archive interface {
	// Calls returns the calls matching q, oldest first, with ladders and alerts.
	Calls(ctx context.Context, q central.Query) ([]central.CallResult, error)
	// CallByRef returns box's call whose IAM is ref.
	CallByRef(ctx context.Context, box string, ref retention.Ref) (central.CallResult, bool, error)
	// Path returns the legs of a call across boxes (nil where one box is known).
	Path(ctx context.Context, call *analysis.Call, window time.Duration) ([]central.Hop, error)
	// Span returns the oldest and newest stored times.
	Span(ctx context.Context) (oldest, newest int64, ok bool, err error)
}

var (
	_ Archive = (*central.Local)(nil)
	_ Archive = (*central.Client)(nil)
)

// NewCentral builds the API and UI over the central store: search and call
// pages of every box, with the box on every call and the path across
// gateways. The alert feed, partner report, scorecard and pcap export read
// a box's own store and answer 501 here (serve --data on the box).
func NewCentral(a Archive, opts Options) (*Server, error) {
	return newServer(nil, a, opts)
}

// boxStore wraps a handler that reads the box's own store: over the central
// store it answers 501 with where to find it.
func (s *Server) boxStore(h func(w http.ResponseWriter, r *http.Request)) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.store == nil {
			writeJSON(w, http.StatusNotImplemented, apiError{r.URL.Path + " reads a box's own store: not available over the central store (run serve --data on the box); /api/calls and /api/calls/{id} are"})
			return
		}
		h(w, r)
	}
}
