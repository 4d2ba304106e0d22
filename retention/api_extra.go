package retention

import (
	"context"
	"encoding/binary"

	"github.com/gatewarden/gatewarden/analysis"
)

// Additive queries for the web API (engineer H2): one call by its Ref, the
// time span held, and scans of call records and alerts over a time range
// (alert feed, partner scorecards).

// CallByRef returns the call named by ref (the Ref of its IAM, as CallResult.Ref).
// ok is false when no message, record or alert of that call is retained.
func (s *Store) CallByRef(ref Ref) (res CallResult, ok bool, err error) {
	sn, err := s.snapshot()
	if err != nil {
		return res, false, err
	}
	defer sn.close()
	if _, held := sn.bySeq[ref.Seq()]; !held {
		return res, false, nil
	}
	res, err = s.assemble(sn, ref)
	if err != nil {
		return res, false, err
	}
	return res, len(res.Ladder) > 0 || res.Call != nil || len(res.Alerts) > 0, nil
}

// Span returns the oldest and newest capture time held (Unix ns); ok is
// false when the store is empty.
func (s *Store) Span() (oldest, newest int64, ok bool, err error) {
	sn, err := s.snapshot()
	if err != nil {
		return 0, 0, false, err
	}
	defer sn.close()
	for _, v := range sn.views {
		if v.minTS == 0 && v.maxTS == 0 {
			continue // empty log
		}
		if !ok || v.minTS < oldest {
			oldest = v.minTS
		}
		if !ok || v.maxTS > newest {
			newest = v.maxTS
		}
		ok = true
	}
	return oldest, newest, ok, nil
}

// ScanAlerts calls fn for every alert whose capture time is in [from, to)
// (zero: unbounded), partition by partition in capture order. call is the
// Ref of the alert's call, zero for alerts not tied to a retained IAM.
// fn must not keep a.
func (s *Store) ScanAlerts(from, to int64, fn func(call Ref, a *analysis.Alert) error) error {
	return s.ScanAlertsContext(context.Background(), from, to, fn)
}

// ScanAlertsContext is ScanAlerts that stops with ctx's error when ctx is done.
func (s *Store) ScanAlertsContext(ctx context.Context, from, to int64, fn func(call Ref, a *analysis.Alert) error) error {
	return s.scanRecords(ctx, from, to, secAlerts, func(call Ref, val []byte) error {
		a, err := decodeAlert(val)
		if err != nil || !inTime(a.TS, from, to) {
			return err
		}
		return fn(call, a)
	})
}

// ScanCalls calls fn for every call record whose start is in [from, to),
// with the Ref of its IAM (zero when the IAM was not retained). fn must not keep c.
func (s *Store) ScanCalls(from, to int64, fn func(call Ref, c *analysis.Call) error) error {
	return s.ScanCallsContext(context.Background(), from, to, fn)
}

// ScanCallsContext is ScanCalls that stops with ctx's error when ctx is done.
func (s *Store) ScanCallsContext(ctx context.Context, from, to int64, fn func(call Ref, c *analysis.Call) error) error {
	return s.scanRecords(ctx, from, to, secCalls, func(call Ref, val []byte) error {
		c, err := decodeCall(val)
		if err != nil || !inTime(c.Start, from, to) {
			return err
		}
		return fn(call, c)
	})
}

// scanRecords walks section sec (keyed by call Ref) of every partition that
// overlaps [from, to), in capture order.
func (s *Store) scanRecords(ctx context.Context, from, to int64, sec string, fn func(call Ref, val []byte) error) error {
	sn, err := s.snapshot()
	if err != nil {
		return err
	}
	defer sn.close()
	return sn.scanRecords(s, &canceller{ctx: ctx}, from, to, sec, fn)
}

// scanRecords walks section sec of the snapshot's partitions that overlap
// [from, to), in capture order, checking cc before each record.
func (sn *snapshot) scanRecords(s *Store, cc *canceller, from, to int64, sec string, fn func(call Ref, val []byte) error) error {
	for _, v := range sn.views {
		if !sn.inRange(v, from, to) {
			continue
		}
		seg, err := v.open(s, &sn.scratch)
		if err != nil {
			return err
		}
		err = seg.scan(sec, func(k, val []byte) error {
			if err := cc.check(); err != nil {
				return err
			}
			var ref Ref
			if len(k) >= 8 {
				ref = Ref(binary.BigEndian.Uint64(k))
			}
			return fn(ref, val)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
