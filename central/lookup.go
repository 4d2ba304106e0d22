package central

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatewarden/gatewarden/retention"
)

// ErrUnsupported is wrapped by errors for queries the central store cannot
// answer (yet); callers may report them as a bad request rather than a fault.
var ErrUnsupported = errors.New("not supported on the central store")

// Span returns the first and last message times of the box's store.
func (l *Local) Span(context.Context) (oldest, newest int64, ok bool, err error) {
	return l.Store.Span()
}

// CallByRef returns the call whose IAM is ref, when box is this box ("" any).
func (l *Local) CallByRef(_ context.Context, box string, ref retention.Ref) (CallResult, bool, error) {
	if box != "" && box != l.Box {
		return CallResult{}, false, nil
	}
	c, ok, err := l.Store.CallByRef(ref)
	return CallResult{Box: l.Box, CallResult: c}, ok, err
}

// Span returns the first and last call start times over every box (of the
// calls table: far fewer rows than the messages).
func (c *Client) Span(ctx context.Context) (oldest, newest int64, ok bool, err error) {
	rows, err := c.conn.Query(ctx, fmt.Sprintf("SELECT min(start), max(start), count() FROM %s.calls", c.opt.Database))
	if err != nil {
		return 0, 0, false, fmt.Errorf("central: span: %w", err)
	}
	defer rows.Close()
	var n uint64
	if rows.Next() {
		if err := rows.Scan(&oldest, &newest, &n); err != nil {
			return 0, 0, false, err
		}
	}
	return oldest, newest, n > 0, rows.Err()
}

// CallByRef returns box's call whose IAM is ref (the ID the box's own store
// gives it), with its ladder and alerts. The calls tables are sorted by
// number, not by box and reference, so this reads the box's call rows of
// every day: the web call page uses it after a search found the call.
func (c *Client) CallByRef(ctx context.Context, box string, ref retention.Ref) (CallResult, bool, error) {
	if box == "" {
		return CallResult{}, false, fmt.Errorf("central: a call reference names a call within one box: box required")
	}
	rows, err := c.conn.Query(ctx, fmt.Sprintf("SELECT rec, start FROM %s.calls WHERE box = %s AND call = %d LIMIT 1",
		c.opt.Database, sqlString(box), uint64(ref)))
	if err != nil {
		return CallResult{}, false, fmt.Errorf("central: call: %w", err)
	}
	var rec string
	var start int64
	found := rows.Next()
	if found {
		err = rows.Scan(&rec, &start)
	}
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	if err != nil || !found {
		return CallResult{}, false, err
	}
	call, err := retention.DecodeCallRecord([]byte(rec))
	if err != nil {
		return CallResult{}, false, fmt.Errorf("central: call record of box %s: %w", box, err)
	}
	out := []CallResult{{Box: box, CallResult: retention.CallResult{Ref: ref, Call: call}}}
	if err := c.fill(ctx, out, start, start); err != nil {
		return CallResult{}, false, err
	}
	return out[0], true, nil
}
