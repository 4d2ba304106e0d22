package timerange_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/internal/timerange"
)

func TestParse(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s int) int64 {
		return time.Date(y, mo, d, h, mi, s, 0, time.UTC).UnixNano()
	}
	for _, c := range []struct {
		in    string
		upper bool
		want  int64
	}{
		{"2025-01-31", false, utc(2025, 1, 31, 0, 0, 0)},
		{"2025-01-31", true, utc(2025, 2, 1, 0, 0, 0)},
		{"2025-01-31T08:00", true, utc(2025, 1, 31, 8, 0, 0)},
		{"2025-01-31 08:00:05", false, utc(2025, 1, 31, 8, 0, 5)},
		{"2025-01-31T08:00:00+08:00", false, utc(2025, 1, 31, 0, 0, 0)},
	} {
		got, err := timerange.Parse(c.in, c.upper)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q, %v) = %d, %v; want %d", c.in, c.upper, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2025-13-01", "1969-12-31", "2300-01-01", strings.Repeat("2", 65)} {
		if _, err := timerange.Parse(bad, false); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestRange(t *testing.T) {
	if _, _, err := timerange.Range("2025-02-01", "2025-01-31"); !errors.Is(err, timerange.ErrOrder) {
		t.Errorf("reversed range: %v", err)
	}
	// A single day, both bounds the same date, is one day long.
	f, to, err := timerange.Range("2025-01-31", "2025-01-31")
	if err != nil || time.Duration(to-f) != 24*time.Hour {
		t.Errorf("one day: %d..%d %v", f, to, err)
	}
	if _, _, err := timerange.Range("x", ""); err == nil || !strings.HasPrefix(err.Error(), "from: ") {
		t.Errorf("bad from: %v", err)
	}
	if f, to, err := timerange.Range("", ""); f != 0 || to != 0 || err != nil {
		t.Errorf("open range: %d %d %v", f, to, err)
	}
}

func ExampleRange() {
	from, to, _ := timerange.Range("2026-03-02", "2026-03-02")
	fmt.Println(timerange.Format(from), timerange.Format(to))
	// Output: 2026-03-02T00:00:00Z 2026-03-03T00:00:00Z
}
