package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatewarden/gatewarden/internal/timerange"
	"github.com/gatewarden/gatewarden/retention"
)

const (
	defaultLimit = 100
	maxLimit     = 1000
	maxPcapCalls = 5000
)

// searchParams is a validated call search.
type searchParams struct {
	Number  string
	Role    string
	From    int64
	To      int64
	Partner string
	Rule    string
	Box     string // only calls of this box ("" any)
	Limit   int
}

// normaliseNumber accepts digits with the usual human decoration (+, spaces,
// dashes, dots, brackets) and returns the digits, or an error that says what
// is wrong; the CLI's --number uses the same check.
func normaliseNumber(s string) (string, error) { return retention.ParseNumber(s) }

// parseTime reads one bound with the shared parser (internal/timerange), as
// the CLI's --from/--to do.
func parseTime(s string, upper bool) (int64, error) { return timerange.Parse(s, upper) }

// timeRange reads from and to. A missing to is just after the newest stored
// message (at most MaxRange after from); a missing from is MaxRange before to. Ranges longer than MaxRange
// are refused: they would scan months of partitions for one request.
func (s *Server) timeRange(ctx context.Context, q url.Values) (from, to int64, err error) {
	if v := q.Get("to"); v != "" {
		if to, err = parseTime(v, true); err != nil {
			return 0, 0, fmt.Errorf("to: %w", err)
		}
	} else {
		_, newest, ok, err := s.archive.Span(ctx)
		if err != nil {
			return 0, 0, storeError{err}
		}
		if ok {
			to = newest + 1
		} else {
			to = s.opt.Now().UnixNano()
		}
	}
	if v := q.Get("from"); v != "" {
		if from, err = parseTime(v, false); err != nil {
			return 0, 0, fmt.Errorf("from: %w", err)
		}
	} else {
		from = to - int64(s.opt.MaxRange)
	}
	// With only from given, the range runs to the newest data but no
	// further than the limit: the user did not ask for a huge range.
	if q.Get("to") == "" && q.Get("from") != "" && to-from > int64(s.opt.MaxRange) {
		to = from + int64(s.opt.MaxRange)
	}
	if to <= from {
		return 0, 0, fmt.Errorf("to must be after from (without to, the range ends at the newest stored message)")
	}
	if time.Duration(to-from) > s.opt.MaxRange {
		return 0, 0, fmt.Errorf("time range of %s is longer than the %d days allowed: narrow from/to",
			time.Duration(to-from).Round(time.Hour), int(s.opt.MaxRange/(24*time.Hour)))
	}
	return from, to, nil
}

// storeError is a failure of the store (or the central one) met while
// reading parameters: a server error, not the request's fault.
type storeError struct{ err error }

func (e storeError) Error() string { return e.err.Error() }
func (e storeError) Unwrap() error { return e.err }

// paramError answers a request whose parameters could not be read: 400 for
// bad parameters, the server error for a failing store (503 past the deadline).
func (s *Server) paramError(w http.ResponseWriter, err error) {
	var se storeError
	if errors.As(err, &se) {
		s.serverError(w, se.err)
		return
	}
	badRequest(w, "%v", err)
}

func textParam(q url.Values, name string) (string, error) {
	v := strings.TrimSpace(q.Get(name))
	if len(v) > 128 {
		return "", fmt.Errorf("%s: longer than 128 characters", name)
	}
	for _, r := range v {
		if r < ' ' || r == 0x7f {
			return "", fmt.Errorf("%s: control characters are not allowed", name)
		}
	}
	return v, nil
}

func limitParam(q url.Values, def, maximum int) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maximum {
		return 0, fmt.Errorf("limit: want 1 to %d, got %q", maximum, v)
	}
	return n, nil
}

var knownParams = map[string]bool{"number": true, "role": true, "from": true, "to": true, "partner": true, "rule": true, "box": true, "limit": true}

// parseSearch validates the search form shared by /api/calls and /api/pcap.
func (s *Server) parseSearch(ctx context.Context, q url.Values, maxLim int) (searchParams, error) {
	var p searchParams
	for k := range q {
		if !knownParams[k] {
			return p, fmt.Errorf("unknown parameter %q (known: number, role, from, to, partner, rule, box, limit)", k)
		}
	}
	var err error
	if v := q.Get("number"); v != "" {
		if p.Number, err = normaliseNumber(v); err != nil {
			return p, err
		}
	}
	p.Role = q.Get("role")
	if p.Role == "" {
		p.Role = "any"
	}
	if p.Role != "any" {
		if _, ok := retention.ParseRole(p.Role); !ok {
			return p, fmt.Errorf("role %q: want calling, called, redirecting, original_called, generic, redirection or any", p.Role)
		}
		if p.Number == "" {
			return p, fmt.Errorf("role %q given without a number", p.Role)
		}
	}
	if p.From, p.To, err = s.timeRange(ctx, q); err != nil {
		return p, err
	}
	if p.Partner, err = textParam(q, "partner"); err != nil {
		return p, err
	}
	if p.Rule, err = textParam(q, "rule"); err != nil {
		return p, err
	}
	if p.Box, err = textParam(q, "box"); err != nil {
		return p, err
	}
	if p.Limit, err = limitParam(q, min(defaultLimit, maxLim), maxLim); err != nil {
		return p, err
	}
	return p, nil
}

// query turns the search into a retention query; a number is looked up in
// every form it may have been signalled in.
func (s *Server) query(p searchParams) retention.Query {
	q := retention.Query{From: p.From, To: p.To, Partner: p.Partner, Rule: p.Rule, Limit: p.Limit}
	if p.Number != "" {
		q.Numbers = retention.NumberForms(p.Number, s.opt.HomeCountryCode)
	}
	if r, ok := retention.ParseRole(p.Role); ok {
		q.Roles = 1 << r
	}
	return q
}

// auditParams records what was searched, in clear, for the audit log.
func (p searchParams) auditParams() map[string]string {
	m := map[string]string{
		"from": time.Unix(0, p.From).UTC().Format(time.RFC3339),
		"to":   time.Unix(0, p.To).UTC().Format(time.RFC3339),
		"role": p.Role, "limit": strconv.Itoa(p.Limit),
	}
	for k, v := range map[string]string{"number": p.Number, "partner": p.Partner, "rule": p.Rule, "box": p.Box} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}
