// Package timerange is the one home for reading the time bounds an operator
// types: the CLI's --from/--to and the web API's from/to share it, so a value
// one accepts the other accepts too.
//
// Accepted forms: RFC 3339 with an offset (2025-01-31T08:00:00+08:00), a
// date (2025-01-31), or a date and time without an offset, read as UTC
// (2025-01-31T08:00, 2025-01-31 08:00:05). A bare date as an upper bound means
// the end of that day, so "to 2025-01-31" includes the 31st.
package timerange

import (
	"errors"
	"fmt"
	"time"
)

// Bounds of a usable time: Unix nanoseconds cover 1678-2262 and signalling
// is not older than 1970.
const (
	minYear   = 1970
	limitYear = 2200
	maxLen    = 64 // longer input is refused before any parsing
	dateOnly  = "2006-01-02"
)

// layouts are tried in order; the last is a bare date.
var layouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", dateOnly}

// Forms describes the accepted forms, for error and usage messages.
const Forms = "RFC 3339 (2025-01-31T08:00:00+08:00), a date (2025-01-31) or date and time (2025-01-31T08:00, UTC)"

// Parse reads one bound as Unix nanoseconds. upper makes a bare date mean
// the end of that day (the start of the next).
func Parse(s string, upper bool) (int64, error) {
	if len(s) > maxLen {
		return 0, fmt.Errorf("bad time: longer than %d characters", maxLen)
	}
	for _, layout := range layouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		if t.Year() < minYear || t.Year() >= limitYear {
			return 0, fmt.Errorf("time %q is outside %d-%d", s, minYear, limitYear)
		}
		if upper && layout == dateOnly {
			t = t.AddDate(0, 0, 1)
		}
		return t.UnixNano(), nil
	}
	return 0, fmt.Errorf("bad time %q: want %s", s, Forms)
}

// ErrOrder is returned by Range when the end is not after the start.
var ErrOrder = errors.New("to must be after from")

// Range reads an optional start and end; an empty one is 0 (open). Errors
// name the bound (from or to) so the caller can prefix its flag or
// parameter spelling.
func Range(from, to string) (f, t int64, err error) {
	if from != "" {
		if f, err = Parse(from, false); err != nil {
			return 0, 0, fmt.Errorf("from: %w", err)
		}
	}
	if to != "" {
		if t, err = Parse(to, true); err != nil {
			return 0, 0, fmt.Errorf("to: %w", err)
		}
	}
	if f != 0 && t != 0 && t <= f {
		return 0, 0, ErrOrder
	}
	return f, t, nil
}

// Format prints Unix nanoseconds as RFC 3339 in UTC; 0 (open) is "".
func Format(ns int64) string {
	if ns == 0 {
		return ""
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}
