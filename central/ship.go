package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/retention"
)

// Shipping. The box's own store is the outbox: a cursor per table, kept in
// CursorFile in the store's directory, says what the central store already
// holds. A batch is read after the cursor, inserted, and only then is the
// cursor saved (temp file, fsync, rename). The central store being down
// therefore delays shipping — the box keeps capturing into its store — and a
// crash between the insert and the cursor write sends that batch again,
// which the replacing keys collapse (schema.go).

// CursorFile is the name of the shipping cursor in a store's directory for
// a central database: one per database, so a store may ship to two.
func CursorFile(database string) string { return "central-" + database + ".cursor" }

// DefaultBatch is the most rows of one table in one insert (ClickHouse
// advises 10 k–100 k rows, about one insert a second).
const DefaultBatch = 50000

// Cursor is what has been shipped.
type Cursor struct {
	Box      string              `json:"box"`
	Messages retention.Ref       `json:"messages"` // next message to ship
	Calls    retention.RecordPos `json:"calls"`
	Alerts   retention.RecordPos `json:"alerts"`
	// Manifests is the newest sealed partition whose manifest was shipped.
	Manifests uint32 `json:"manifests"`
	// Checkpoints is the number (N) of the newest signed checkpoint shipped.
	Checkpoints uint64 `json:"checkpoints"`
}

// LoadCursor reads a store's cursor for a central database; a missing file
// is the zero cursor.
func LoadCursor(dir, database string) (Cursor, error) {
	var c Cursor
	b, err := os.ReadFile(filepath.Join(dir, CursorFile(database)))
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("central: %s: %w", filepath.Join(dir, CursorFile(database)), err)
	}
	return c, nil
}

func saveCursor(dir, database string, c Cursor) error {
	b, _ := json.Marshal(c)
	name := filepath.Join(dir, CursorFile(database))
	tmp := name + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ShipStats are a shipper's counters (metrics).
type ShipStats struct {
	Messages, Calls, Alerts uint64 // rows inserted (repeats included)
	Errors                  uint64 // failed rounds
	Skipped                 uint64 // partitions removed by retention before they were shipped
	LagRows                 uint64 // messages retained but not yet shipped, as of the last round
	LagSeconds              float64
}

// Shipper ships one store to the central store.
type Shipper struct {
	Store *retention.Store
	// Client is the central store; when nil, the shipper opens one with
	// Options on its first round (and again after a failure), so a daemon
	// starts while the central store is down.
	Client  *Client
	Options Options
	Box     string
	Batch   int // rows per insert (default DefaultBatch)

	ins   *Client // the shard this box's rows go to
	owned bool    // Client was opened from Options
	cur   Cursor

	messages, calls, alerts, errs, skipped atomic.Uint64
	lagRows, lagNanos                      atomic.Int64
}

// Stats returns the counters.
func (s *Shipper) Stats() ShipStats {
	return ShipStats{Messages: s.messages.Load(), Calls: s.calls.Load(), Alerts: s.alerts.Load(),
		Errors: s.errs.Load(), Skipped: s.skipped.Load(), LagRows: uint64(s.lagRows.Load()),
		LagSeconds: float64(s.lagNanos.Load()) / 1e9}
}

// ShardFor picks the shard that keeps a box's rows: all of a box's rows on
// one shard, boxes spread by a hash of their name. Rows are inserted into
// that shard's local tables directly (no Distributed insert, whose
// asynchronous forwarding would break "saved cursor = stored rows").
func ShardFor(box string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(box))
	return int(h.Sum32() % uint32(n))
}

func (s *Shipper) prepare(ctx context.Context) error {
	if s.ins != nil {
		return nil
	}
	if s.Box == "" {
		return errors.New("central: shipping needs a box name")
	}
	db := s.Options.Database
	if s.Client != nil {
		db = s.Client.opt.Database
	}
	cur, err := LoadCursor(s.Store.Dir(), db)
	if err != nil {
		return err
	}
	if cur.Box != "" && cur.Box != s.Box {
		return fmt.Errorf("central: %s was shipped as box %q, configured box is %q", s.Store.Dir(), cur.Box, s.Box)
	}
	cur.Box = s.Box
	s.cur = cur
	if s.Client == nil {
		c, err := Open(ctx, s.Options)
		if err != nil {
			return err
		}
		s.Client, s.owned = c, true
	}
	ok, err := s.Client.Ready(ctx)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.Client.Init(ctx); err != nil {
			return err
		}
	}
	shards, err := s.Client.Shards(ctx)
	if err != nil {
		return err
	}
	ins, err := s.Client.onShard(ctx, shards[ShardFor(s.Box, len(shards))])
	if err != nil {
		return err
	}
	s.ins = ins
	return nil
}

// Close releases the connections the shipper opened.
func (s *Shipper) Close() error {
	s.release()
	return nil
}

func (s *Shipper) release() {
	if s.ins != nil && s.ins != s.Client {
		s.ins.Close()
	}
	s.ins = nil
	if s.owned && s.Client != nil {
		s.Client.Close()
		s.Client, s.owned = nil, false
	}
}

// ShipOnce ships at most one batch of each table. caughtUp is true when
// nothing was left to ship.
func (s *Shipper) ShipOnce(ctx context.Context) (caughtUp bool, err error) {
	defer func() {
		if err != nil {
			s.errs.Add(1)
		}
		s.measureLag() // also while the central store is down
	}()
	if err := s.prepare(ctx); err != nil {
		return false, err
	}
	batch := s.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	nm, err := s.shipMessages(ctx, batch)
	if err != nil {
		return false, err
	}
	nc, err := s.shipCalls(ctx, batch)
	if err != nil {
		return false, err
	}
	na, err := s.shipAlerts(ctx, batch)
	if err != nil {
		return false, err
	}
	if err := s.shipManifests(ctx); err != nil {
		return false, err
	}
	if err := s.shipCheckpoints(ctx); err != nil {
		return false, err
	}
	return nm == 0 && nc == 0 && na == 0, nil
}

// ShipAll ships until caught up.
func (s *Shipper) ShipAll(ctx context.Context) error {
	for {
		done, err := s.ShipOnce(ctx)
		if err != nil || done {
			return err
		}
	}
}

// Run ships until ctx ends: as fast as it can while behind, every interval
// once caught up, and after a failure (central store down) again after a
// back-off of up to a minute. It never touches the store's writer.
func (s *Shipper) Run(ctx context.Context, interval time.Duration, logf func(string, ...any)) {
	backoff := interval
	for {
		done, err := s.ShipOnce(ctx)
		wait := time.Duration(0)
		switch {
		case err != nil && ctx.Err() == nil:
			logf("central: shipping: %v (retry in %s)", err, backoff)
			wait = backoff
			backoff = min(2*backoff, time.Minute)
			s.release() // reconnect, re-read the cursor and the shards
		case done:
			wait, backoff = interval, interval
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (s *Shipper) commit(c Cursor) error {
	if err := saveCursor(s.Store.Dir(), s.Client.opt.Database, c); err != nil {
		return fmt.Errorf("central: saving cursor: %w", err)
	}
	s.cur = c
	return nil
}

func (s *Shipper) measureLag() {
	n, first, newest, err := s.Store.Backlog(s.cur.Messages)
	if err != nil {
		return
	}
	s.lagRows.Store(int64(n))
	if n == 0 {
		s.lagNanos.Store(0)
		return
	}
	s.lagNanos.Store(max(newest-first, 0))
}

func dayOf(ns int64) time.Time {
	t := time.Unix(0, ns).UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func (s *Shipper) insert(ctx context.Context, t *table, cols []any) error {
	b, err := s.ins.conn.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s.%s (%s)", s.ins.opt.Database, s.ins.local(t.name), t.columnList()))
	if err != nil {
		return fmt.Errorf("central: insert %s: %w", t.name, err)
	}
	for i, c := range cols {
		if err := b.Column(i).Append(c); err != nil {
			b.Abort()
			return fmt.Errorf("central: insert %s column %s: %w", t.name, t.columns[i][0], err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("central: insert %s: %w", t.name, err)
	}
	return nil
}

type messageCols struct {
	box                                       []string
	day                                       []time.Time
	ts                                        []int64
	ref, call, frame                          []uint64
	source, src, dst, mtp3                    []string
	transport, flags, ni, si, pcBits, sls, mp []uint8
	typ                                       []uint8
	vtag, tsn, rc, na, opc, dpc, cic          []uint32
	stream, link                              []uint16
}

func (c *messageCols) add(box string, m *retention.Message) {
	var flags uint8
	if m.HasRC {
		flags |= 1
	}
	if m.HasNA {
		flags |= 2
	}
	c.box = append(c.box, box)
	c.day = append(c.day, dayOf(m.TS))
	c.ts = append(c.ts, m.TS)
	c.ref = append(c.ref, uint64(m.Ref))
	c.call = append(c.call, uint64(m.Call))
	c.source = append(c.source, m.Source)
	c.frame = append(c.frame, m.Frame)
	c.transport = append(c.transport, uint8(m.Transport))
	c.src = append(c.src, m.Src.String())
	c.dst = append(c.dst, m.Dst.String())
	c.vtag = append(c.vtag, m.VTag)
	c.stream = append(c.stream, m.Stream)
	c.tsn = append(c.tsn, m.TSN)
	c.link = append(c.link, m.Link)
	c.rc = append(c.rc, m.RoutingContext)
	c.na = append(c.na, m.NetworkAppearance)
	c.flags = append(c.flags, flags)
	c.ni = append(c.ni, m.Label.NI)
	c.si = append(c.si, m.Label.SI)
	c.pcBits = append(c.pcBits, m.Label.PCBits)
	c.opc = append(c.opc, m.Label.OPC)
	c.dpc = append(c.dpc, m.Label.DPC)
	c.sls = append(c.sls, m.Label.SLS)
	c.mp = append(c.mp, m.Label.MP)
	c.cic = append(c.cic, m.CIC)
	c.typ = append(c.typ, m.Type)
	c.mtp3 = append(c.mtp3, string(m.MTP3))
}

func (c *messageCols) columns() []any {
	return []any{c.box, c.day, c.ts, c.ref, c.call, c.source, c.frame, c.transport, c.src, c.dst,
		c.vtag, c.stream, c.tsn, c.link, c.rc, c.na, c.flags, c.ni, c.si, c.pcBits, c.opc, c.dpc,
		c.sls, c.mp, c.cic, c.typ, c.mtp3}
}

func (s *Shipper) shipMessages(ctx context.Context, batch int) (int, error) {
	var cols messageCols
	next, n, st, err := s.Store.ScanMessages(s.cur.Messages, batch, func(m *retention.Message) error {
		cols.add(s.Box, m)
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.skipped.Add(uint64(st.Skipped))
	if n == 0 {
		return 0, nil
	}
	if err := s.insert(ctx, &messagesTable, cols.columns()); err != nil {
		return 0, err
	}
	c := s.cur
	c.Messages = next
	if err := s.commit(c); err != nil {
		return 0, err
	}
	s.messages.Add(uint64(n))
	return n, nil
}

// recordUID names a call or alert record within its box: a hash of its
// encoding, identical when the same record is read twice.
func recordUID(raw []byte) uint64 {
	h := fnv.New64a()
	h.Write(raw)
	return h.Sum64()
}

func numberOf(p *analysis.PartyNumber) (norm, digits string) {
	if p == nil {
		return "", ""
	}
	if p.E164 != "" {
		return p.E164, p.Digits
	}
	return p.Digits, p.Digits
}

func (s *Shipper) shipCalls(ctx context.Context, batch int) (int, error) {
	var (
		box, id, calling, called, callingD, calledD, partner, link, rec []string
		day                                                             []time.Time
		start, answer, end                                              []int64
		uid, call                                                       []uint64
		direction, outcome, cause, protocol                             []uint8
		opc, dpc, cic                                                   []uint32
	)
	pos, n, err := s.Store.ScanCallRecords(s.cur.Calls, batch, func(ref retention.Ref, raw []byte, c *analysis.Call) error {
		cn, cd := numberOf(c.Calling)
		dn, dd := numberOf(c.Called)
		box, day, start = append(box, s.Box), append(day, dayOf(c.Start)), append(start, c.Start)
		uid, id, call = append(uid, recordUID(raw)), append(id, c.ID), append(call, uint64(ref))
		calling, called, callingD, calledD = append(calling, cn), append(called, dn), append(callingD, cd), append(calledD, dd)
		partner, link, direction = append(partner, c.Partner), append(link, c.Link), append(direction, uint8(c.Direction))
		opc, dpc, cic = append(opc, c.OPC), append(dpc, c.DPC), append(cic, c.CIC)
		outcome, cause, answer, end = append(outcome, uint8(c.Outcome)), append(cause, c.Cause), append(answer, c.Answer), append(end, c.End)
		rec, protocol = append(rec, string(raw)), append(protocol, uint8(c.Protocol))
		return nil
	})
	if err != nil {
		return 0, err
	}
	if n > 0 {
		err = s.insert(ctx, &callsTable, []any{box, day, start, uid, id, call, calling, called, callingD, calledD,
			partner, link, direction, opc, dpc, cic, outcome, cause, answer, end, rec, protocol})
		if err != nil {
			return 0, err
		}
	}
	if n == 0 && pos == s.cur.Calls {
		return 0, nil
	}
	c := s.cur
	c.Calls = pos
	if err := s.commit(c); err != nil {
		return 0, err
	}
	s.calls.Add(uint64(n))
	return n, nil
}

func (s *Shipper) shipAlerts(ctx context.Context, batch int) (int, error) {
	var (
		box, callID, rule, partner, calling, called, rec []string
		day                                              []time.Time
		ts                                               []int64
		uid, call                                        []uint64
		severity, direction                              []uint8
	)
	pos, n, err := s.Store.ScanAlertRecords(s.cur.Alerts, batch, func(ref retention.Ref, raw []byte, a *analysis.Alert) error {
		box, day, ts, uid = append(box, s.Box), append(day, dayOf(a.TS)), append(ts, a.TS), append(uid, recordUID(raw))
		call, callID, rule = append(call, uint64(ref)), append(callID, a.CallID), append(rule, a.Rule)
		severity, partner, direction = append(severity, uint8(a.Severity)), append(partner, a.Partner), append(direction, uint8(a.Direction))
		calling, called, rec = append(calling, a.Calling), append(called, a.Called), append(rec, string(raw))
		return nil
	})
	if err != nil {
		return 0, err
	}
	if n > 0 {
		err = s.insert(ctx, &alertsTable, []any{box, day, ts, uid, call, callID, rule, severity, partner, direction, calling, called, rec})
		if err != nil {
			return 0, err
		}
	}
	if n == 0 && pos == s.cur.Alerts {
		return 0, nil
	}
	c := s.cur
	c.Alerts = pos
	if err := s.commit(c); err != nil {
		return 0, err
	}
	s.alerts.Add(uint64(n))
	return n, nil
}

// shipManifests ships the manifests of partitions sealed since the last
// round: the central store's copy of the box's chain (verify --clickhouse).
func (s *Shipper) shipManifests(ctx context.Context) error {
	var (
		box, manifest, segment, prev, sealed []string
		day                                  []time.Time
		seq                                  []uint32
		minTS, maxTS, bytes                  []int64
		messages                             []uint64
	)
	newest := s.cur.Manifests
	for _, p := range s.Store.Partitions() {
		if p.Seq <= s.cur.Manifests {
			continue
		}
		h, err := retention.ManifestHash(s.Store.Dir(), p.Seq)
		if err != nil {
			return err
		}
		box, manifest, segment, prev, sealed = append(box, s.Box), append(manifest, h), append(segment, p.SHA256), append(prev, p.Prev), append(sealed, p.Sealed)
		day, seq, minTS, maxTS = append(day, dayOf(p.MaxTS)), append(seq, p.Seq), append(minTS, p.MinTS), append(maxTS, p.MaxTS)
		bytes, messages = append(bytes, p.Bytes), append(messages, uint64(p.Messages))
		newest = max(newest, p.Seq)
	}
	if len(seq) == 0 {
		return nil
	}
	if err := s.insert(ctx, &manifestsTable, []any{box, day, seq, manifest, segment, prev, minTS, maxTS, messages, bytes, sealed}); err != nil {
		return err
	}
	c := s.cur
	c.Manifests = newest
	return s.commit(c)
}

// shipCheckpoints ships the store's signed checkpoints written since the
// last round, each as its line: the central store keeps them off the box.
func (s *Shipper) shipCheckpoints(ctx context.Context) error {
	cps, err := retention.StoreCheckpoints(s.Store.Dir())
	if err != nil {
		return err
	}
	var (
		box, event, head, line []string
		day                    []time.Time
		n, uid                 []uint64
		seq                    []uint32
	)
	newest := s.cur.Checkpoints
	for _, cp := range cps {
		if cp.N <= s.cur.Checkpoints {
			continue
		}
		l := cp.String()
		t, err := time.Parse(time.RFC3339Nano, cp.Time)
		if err != nil {
			t = time.Now()
		}
		box, event, head, line = append(box, s.Box), append(event, cp.Event), append(head, cp.Head), append(line, l)
		day, n, uid, seq = append(day, dayOf(t.UnixNano())), append(n, cp.N), append(uid, recordUID([]byte(l))), append(seq, cp.Seq)
		newest = max(newest, cp.N)
	}
	if len(n) == 0 {
		return nil
	}
	if err := s.insert(ctx, &checkpointsTable, []any{box, day, n, uid, event, seq, head, line}); err != nil {
		return err
	}
	c := s.cur
	c.Checkpoints = newest
	return s.commit(c)
}
