package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/kpi"
	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/pipeline"
)

// dirSource reads a directory of rotating capture files: each complete file
// once, whatever its name's order (name order within one listing: rotating
// capture tools name files by time). Which files are finished, and how far
// the current one got, is committed with the store (daemonPosition), so a
// restart — after SIGTERM or kill -9 — neither skips nor repeats a frame.
type dirSource struct {
	d            *daemon
	dir          string
	settle, poll time.Duration

	// Set at start from the committed position, then owned by the reader.
	done          map[string]bool // files finished (committed) or queued in this run
	newestDone    string          // greatest finished name, to notice late arrivals
	partial       string          // at start: file stopped midway…
	partialFrames uint64          // …after this many frames
	warmPrev      string          // at start: the last file finished, whose tail warms the decoder up
	seq           uint16          // decoder source index of the current file

	filesDone   atomic.Uint64
	filesFailed atomic.Uint64
	filesLate   atomic.Uint64 // files processed although their name sorts before one already done
}

func newDirSource(d *daemon, dir string, settle, poll time.Duration) *dirSource {
	return &dirSource{d: d, dir: dir, settle: settle, poll: poll, done: map[string]bool{}}
}

// daemonPosition is what the daemon commits with the store.
type daemonPosition struct {
	Input string `json:"input"` // "pcap_dir" or "live"
	// pcap_dir: the finished files still in the directory, the file being
	// read and how many of its frames are done, and its source index.
	Done    []string `json:"done,omitempty"`
	Partial string   `json:"partial,omitempty"`
	Frames  uint64   `json:"frames,omitempty"`
	Seq     uint16   `json:"seq,omitempty"`
}

func isCaptureName(name string) bool {
	name = strings.TrimSuffix(name, ".gz")
	return strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng") || strings.HasSuffix(name, ".cap")
}

// pending lists the files not yet done, the file stopped midway first, then
// in name order, and how many of them are complete: every file but the
// newest, and the newest too once it has not grown for the settle time.
func (s *dirSource) pending() ([]string, int) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		s.d.log.Warn("pcap_dir: cannot list", "dir", s.dir, "err", err)
		return nil, 0
	}
	var names []string
	newest := ""
	for _, e := range entries {
		if !e.Type().IsRegular() || !isCaptureName(e.Name()) {
			continue
		}
		newest = max(newest, e.Name())
		if !s.done[e.Name()] {
			names = append(names, e.Name())
		}
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == s.partial) != (names[j] == s.partial) {
			return names[i] == s.partial
		}
		return names[i] < names[j]
	})
	if len(names) == 0 {
		return nil, 0
	}
	complete := len(names)
	if names[complete-1] == newest {
		// The newest file may still be written.
		if fi, err := os.Stat(filepath.Join(s.dir, newest)); err != nil || time.Since(fi.ModTime()) < s.settle {
			complete--
		}
	}
	return names, complete
}

// run processes files until ctx is cancelled.
func (s *dirSource) run(ctx context.Context) {
	for {
		names, complete := s.pending()
		for _, name := range names[:complete] {
			if !s.process(ctx, name) {
				return
			}
		}
		t := time.NewTimer(s.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// process sends one file's frames; it returns false when stopped midway.
func (s *dirSource) process(ctx context.Context, name string) bool {
	path := filepath.Join(s.dir, name)
	skip := uint64(0)
	if name == s.partial && s.partial != "" {
		skip = s.partialFrames
		s.partial = "" // its index was restored with the position
	} else {
		s.seq++
	}
	if name < s.newestDone {
		s.filesLate.Add(1)
		s.d.log.Info("pcap_dir: file sorts before one already processed; processing it", "file", path, "after", s.newestDone)
	}
	s.done[name] = true
	s.newestDone = max(s.newestDone, name)
	// After a restart the decoder's reassembly and retransmission state is
	// rebuilt from the frames before the committed position (see
	// pipeline.Warm): the previous file's tail, then this file's frames up to
	// the position.
	warm := uint64(pipeline.WarmupFrames)
	if skip < warm && s.warmPrev != "" {
		if !s.warmTail(ctx, filepath.Join(s.dir, s.warmPrev), int(warm-skip)) {
			return false
		}
	}
	s.warmPrev = ""
	f, err := capture.OpenFile(path)
	var b *frameBatch
	get := func() bool {
		if b = s.getBatch(ctx); b != nil {
			b.file = path
		}
		return b != nil
	}
	put := func() bool {
		ok := s.putBatch(ctx, b)
		b = nil
		return ok
	}
	if !get() {
		return false
	}
	if err != nil {
		b.fileDone, b.fileErr = true, err
		return put()
	}
	defer f.Close()
	s.d.log.Info("pcap_dir: reading", "file", path, "resume_after_frames", skip)
	var fr decode.Frame
	counters := &s.d.ifaces[0]
	for {
		err := f.Next(&fr)
		if err != nil {
			if err != io.EOF {
				b.fileErr = err
			}
			b.fileDone, b.fileFrame = true, f.Frames()
			return put()
		}
		isWarm := fr.Frame <= skip
		if isWarm && skip-fr.Frame >= warm {
			continue
		}
		fr.Source = s.seq
		if !isWarm {
			counters.packets.Add(1)
			counters.bytes.Add(uint64(len(fr.Data)))
		}
		if !b.fits(len(fr.Data)) {
			if len(b.recs) == 0 {
				s.d.drops[dropOversize].Add(1)
				continue
			}
			b.fileFrame = fr.Frame - 1
			if !put() || !get() {
				return false
			}
			if !b.fits(len(fr.Data)) {
				s.d.drops[dropOversize].Add(1)
				continue
			}
		}
		b.add(&fr)
		b.recs[len(b.recs)-1].warm = isWarm
	}
}

// warmTail queues the last n frames of a finished file as warm-up frames.
func (s *dirSource) warmTail(ctx context.Context, path string, n int) bool {
	f, err := capture.OpenFile(path)
	if err != nil {
		return true // gone: nothing to warm up from
	}
	defer f.Close()
	ring := make([]decode.Frame, n)
	count := 0
	var fr decode.Frame
	for f.Next(&fr) == nil {
		r := &ring[count%n]
		data := append(r.Data[:0], fr.Data...)
		*r = fr
		r.Data = data
		count++
	}
	var b *frameBatch
	for i := max(0, count-n); i < count; i++ {
		fr := &ring[i%n]
		fr.Source = s.seq - 1
		if b == nil || !b.fits(len(fr.Data)) {
			if b != nil && !s.putBatch(ctx, b) {
				return false
			}
			if b = s.getBatch(ctx); b == nil {
				return false
			}
			if !b.fits(len(fr.Data)) {
				b.reset()
				continue
			}
		}
		b.add(fr)
		b.recs[len(b.recs)-1].warm = true
	}
	return b == nil || s.putBatch(ctx, b)
}

// getBatch takes a free batch, emptied; nil once ctx is done.
func (s *dirSource) getBatch(ctx context.Context) *frameBatch {
	select {
	case b := <-s.d.free:
		b.reset()
		return b
	case <-ctx.Done():
		return nil
	}
}

// putBatch queues b for the analysis stage; once ctx is done it returns b to
// the free list instead and reports false.
func (s *dirSource) putBatch(ctx context.Context, b *frameBatch) bool {
	select {
	case s.d.queue <- b:
		return true
	case <-ctx.Done():
		s.d.free <- b
		return false
	}
}

// stageTotals are the analysis stage's final counts, for the last log line.
type stageTotals struct {
	frames, messages, calls, alerts uint64
}

// analysisStage runs the pipeline on the batches: one goroutine.
type analysisStage struct {
	d            *daemon
	p            *pipeline.Pipeline
	enginesBuilt int // rules engines reconfigured by reloads (tests)

	frame decode.Frame // reused

	// The committed position: owned by the stage goroutine (and by restore
	// before it starts).
	pos     daemonPosition
	curFile string // path of the file being read (pcap_dir)

	// Counters owned by the stage goroutine, published for /metrics.
	msgs        map[string]*[256]uint64 // by partner, ISUP type
	lastPartner string
	lastCounts  *[256]uint64
	calls       map[string]*[6]uint64 // by partner, outcome
	routes      kpi.Counters          // route KPIs by partner, link, direction
	alerts      map[[2]string]uint64  // by rule, partner (delivered: covered by a commit)

	mu        sync.Mutex
	published published
	lastPub   time.Time
	lastBL    time.Time

	final stageTotals
}

// published is the stage's counters as of its last publication.
type published struct {
	pl pipeline.Stats
	// filesCommitted is how many finished files the last position holds.
	filesCommitted int
	routes         map[kpi.Key]kpi.RouteCounters
	// routes not followed because a table was full: route rules, KPI counters
	routeOverflow [2]uint64
	msgs          map[string][256]uint64
	calls         map[string][6]uint64
	alerts        map[[2]string]uint64
	reloaded      int
}

func newAnalysisStage(d *daemon) *analysisStage {
	st := &analysisStage{d: d, msgs: map[string]*[256]uint64{}, calls: map[string]*[6]uint64{}, alerts: map[[2]string]uint64{}}
	st.pos.Input = "live"
	if d.dir != nil {
		st.pos.Input = "pcap_dir"
	}
	cfg := pipeline.Config{Gen: d.gen.Load(), Store: d.store, Source: st.sourceName,
		OnMessage: st.onMessage, OnCall: st.onClose, OnAlertSeq: st.onAlert, Position: st.position,
		CommitEvery: d.dcfg.Retention.FlushPeriod,
		OnCommit: func(err error) {
			if err != nil {
				st.storeError(err)
			}
		}}
	if d.store == nil {
		cfg.Store = nil
	}
	if d.alerts != nil {
		cfg.Acked = d.alerts.MinAcked
	}
	st.p = pipeline.New(cfg)
	st.publish()
	return st
}

func (st *analysisStage) sourceName(src uint16) string {
	if st.d.dir != nil {
		return st.curFile
	}
	if int(src) < len(st.d.ifaceNames) {
		return st.d.ifaceNames[src]
	}
	return ""
}

// position is the input's position for the pipeline's commits.
func (st *analysisStage) position() []byte {
	b, _ := json.Marshal(&st.pos)
	return b
}

// restore takes the calls in progress, behaviour windows and input position
// of the store's last commit, and reports what the store's recovery cut.
func (st *analysisStage) restore() error {
	if st.d.store == nil {
		return nil
	}
	cs := st.d.store.CommitStats()
	defer st.resendAlerts(st.d.store.RecoveredState() != nil)
	var last daemonPosition
	pos, ok, err := st.p.Restore(func(b []byte) bool {
		return json.Unmarshal(b, &last) == nil && last.Input == st.pos.Input
	})
	if err != nil {
		st.d.log.Error("cannot restore the pipeline state of the last commit; starting empty", "err", err)
		ok = false
	}
	if cut := cs.CutMessages + cs.CutCalls + cs.CutAlerts; cut > 0 {
		what := "they are read again from pcap_dir"
		if st.pos.Input == "live" {
			what = "lost: live input cannot be read again (at most one flush_interval of traffic)"
		}
		st.d.log.Warn("recovery: records after the last commit were cut", "messages", cs.CutMessages, "calls", cs.CutCalls,
			"alerts", cs.CutAlerts, "logs_removed", cs.CutLogs, "outcome", what)
	}
	if !ok {
		if pos != nil {
			st.d.log.Warn("the store's last commit is from another input; starting with no calls in progress", "position", string(pos))
		} else if st.d.dir != nil {
			return st.upgradeProgress()
		}
		return nil
	}
	st.pos = last
	if src := st.d.dir; src != nil {
		for _, n := range last.Done {
			src.done[n] = true
			src.newestDone = max(src.newestDone, n)
		}
		src.partial, src.partialFrames, src.seq = last.Partial, last.Frames, last.Seq
		if n := len(last.Done); n > 0 {
			src.warmPrev = last.Done[n-1]
		}
	}
	st.d.log.Info("restored from the last commit", "generation", cs.RecoveredGen, "calls_in_progress", st.p.Stats().RestoredCalls,
		"files_done", len(last.Done), "partial", last.Partial, "frames", last.Frames)
	return nil
}

// legacyProgressFile is where versions before commits kept pcap_dir
// progress (a high-water mark): read once at the first start of this
// version, so an upgrade neither repeats nor skips files.
const legacyProgressFile = "pcap_dir.progress"

func (st *analysisStage) upgradeProgress() error {
	path := filepath.Join(st.d.dcfg.DataDir, legacyProgressFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil // none: a first start
	}
	var old struct {
		Last          string `json:"last_done"`
		Partial       string `json:"partial"`
		PartialFrames uint64 `json:"partial_frames"`
	}
	if err := json.Unmarshal(b, &old); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	src := st.d.dir
	ents, _ := os.ReadDir(src.dir)
	for _, e := range ents {
		if n := e.Name(); isCaptureName(n) && n <= old.Last {
			src.done[n] = true
			st.pos.Done = append(st.pos.Done, n)
		}
	}
	src.newestDone = old.Last
	if old.Partial != "" && old.Partial > old.Last {
		src.partial, src.partialFrames = old.Partial, old.PartialFrames
		src.seq = 1 // the index process gives the partial file
		st.pos.Partial, st.pos.Frames, st.pos.Seq = old.Partial, old.PartialFrames, 1
	}
	st.d.log.Info("pcap_dir: progress of an earlier version taken over", "file", path, "files_done", len(st.pos.Done),
		"partial", old.Partial, "frames", old.PartialFrames)
	return nil
}

func (st *analysisStage) run() {
	// Idle or not, counters are published, the blocklist looked at and
	// pending alerts committed on a timer; under load the pipeline commits
	// on its own.
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case b, ok := <-st.d.queue:
			if !ok {
				st.finish()
				return
			}
			st.batch(b)
		case <-tick.C:
			if st.p.Dirty() {
				st.p.Commit() // errors are counted and logged through OnCommit
			}
			st.housekeeping(true)
		}
	}
}

func (st *analysisStage) applyReload(g *pipeline.Generation) {
	if st.p.Reload(g) {
		st.enginesBuilt++
	}
}

func (st *analysisStage) batch(b *frameBatch) {
	if g := st.d.gen.Load(); g != st.p.Generation() {
		st.applyReload(g)
	}
	dir := b.file != ""
	f := &st.frame
	for i := range b.recs {
		r := &b.recs[i]
		*f = decode.Frame{TS: r.ts, LinkType: r.linkType, Source: r.source, Frame: r.frame, Iface: r.iface,
			FCSLen: r.fcsLen, Data: b.data[r.off : r.off+r.n]}
		if r.warm {
			st.p.Warm(f)
			continue
		}
		if dir && st.curFile != b.file {
			// The position names the new file before its first frame is
			// analysed (a commit may come first): none of its frames done.
			st.curFile = b.file
			st.pos.Partial, st.pos.Frames, st.pos.Seq = filepath.Base(b.file), 0, r.source
		}
		st.p.Frame(f)
		if dir {
			st.pos.Frames, st.pos.Seq = r.frame, r.source
		}
	}
	if dir && b.fileDone && st.curFile != b.file {
		// A file with no frame left to read (or none at all).
		st.curFile = b.file
	}
	fileDone := dir && st.fileProgress(b)
	b.reset()
	st.d.free <- b
	st.housekeeping(fileDone)
	if fileDone {
		// Counted after publishing, so a scrape that sees the file done
		// also sees everything decoded from it.
		st.d.dir.filesDone.Add(1)
	}
}

// fileProgress notes a finished file in the position and commits it; it
// reports whether the batch finished its file.
func (st *analysisStage) fileProgress(b *frameBatch) bool {
	if !b.fileDone {
		return false
	}
	src := st.d.dir
	if b.fileErr != nil {
		src.filesFailed.Add(1)
		st.d.log.Warn("pcap_dir: file ended with an error; frames before it were analysed", "file", b.file, "err", b.fileErr)
	}
	name := filepath.Base(b.file)
	st.pos.Done = append(st.pos.Done, name)
	st.pos.Partial, st.pos.Frames = "", 0
	// Only the files still in the directory need remembering.
	if ents, err := os.ReadDir(src.dir); err == nil {
		present := make(map[string]bool, len(ents))
		for _, e := range ents {
			present[e.Name()] = true
		}
		kept := st.pos.Done[:0]
		for _, n := range st.pos.Done {
			if present[n] {
				kept = append(kept, n)
			}
		}
		st.pos.Done = kept
	}
	st.p.Commit()
	st.d.log.Info("pcap_dir: done", "file", b.file, "frames", b.fileFrame)
	return true
}

// finish ends the input at a stop: the calls in progress and the behaviour
// windows are committed with the position, to be restored at the next
// start (a call that spans the restart stays one call).
func (st *analysisStage) finish() {
	if err := st.p.Commit(); err != nil {
		st.d.log.Error("final commit failed", "err", err)
	}
	st.publish()
	ps := st.p.Stats()
	var alerts uint64
	for _, n := range st.alerts {
		alerts += n
	}
	st.final = stageTotals{frames: ps.Decode.Frames, messages: ps.Decode.Messages, calls: ps.Calls.Closed, alerts: alerts}
}

// housekeeping publishes counters at most four times a second and looks at
// the blocklist file once a second (wall clock: it only decides when to
// look at the file, never what a rule decides).
func (st *analysisStage) housekeeping(force bool) {
	now := time.Now()
	if force || now.Sub(st.lastPub) >= 250*time.Millisecond {
		st.publish()
		st.lastPub = now
	}
	if bl := st.p.Blocklist(); bl != nil && now.Sub(st.lastBL) >= time.Second {
		st.lastBL = now
		if reloaded, err := bl.Check(now); err != nil {
			st.d.log.Error("blocklist", "err", err)
		} else if reloaded {
			st.d.log.Info("blocklist reloaded", "file", bl.Path(), "numbers", bl.Blocklist().Len())
		}
	}
}

func (st *analysisStage) publish() {
	p := published{pl: st.p.Stats(), filesCommitted: len(st.pos.Done), routes: st.routes.Snapshot(),
		msgs: make(map[string][256]uint64, len(st.msgs)), calls: make(map[string][6]uint64, len(st.calls)),
		alerts: make(map[[2]string]uint64, len(st.alerts))}
	for k, v := range st.msgs {
		p.msgs[k] = *v
	}
	for k, v := range st.calls {
		p.calls[k] = *v
	}
	for k, v := range st.alerts {
		p.alerts[k] = v
	}
	p.routeOverflow = [2]uint64{p.pl.Rules.RouteOverflow, st.routes.Overflow}
	st.mu.Lock()
	st.published = p
	st.mu.Unlock()
}

func (st *analysisStage) snapshot() published {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.published
}

// onMessage counts every decoded ISUP message and mirrors it.
func (st *analysisStage) onMessage(m *decode.Message) {
	cfg := st.p.Generation().Config
	var partner string
	if m.Transport.IsSIP() {
		if partner = cfg.SIPPartnerName(m.Src); partner == "" {
			partner = cfg.SIPPartnerName(m.Dst)
		}
	} else if partner = cfg.PartnerName(m.Src.Addr(), m.Label.OPC); partner == "" {
		partner = cfg.PartnerName(m.Dst.Addr(), m.Label.DPC)
	}
	if partner != st.lastPartner || st.lastCounts == nil {
		c := st.msgs[partner]
		if c == nil {
			c = new([256]uint64)
			st.msgs[partner] = c
		}
		st.lastPartner, st.lastCounts = partner, c
	}
	if m.HasISUP { // ISUP messages by type; SIP has gatewarden_decode_sip_messages_total
		st.lastCounts[m.ISUP.Type]++
	}
	if st.d.hep != nil {
		st.d.hep.Mirror(m)
	}
}

func (st *analysisStage) onClose(c *analysis.Call) {
	st.routes.Add(c)
	counts := st.calls[c.Partner]
	if counts == nil {
		counts = new([6]uint64)
		st.calls[c.Partner] = counts
	}
	if int(c.Outcome) < len(counts) {
		counts[c.Outcome]++
	}
}

// onAlert delivers an alert a commit covers, with its delivery sequence.
func (st *analysisStage) onAlert(seq uint64, a *analysis.Alert) {
	st.alerts[[2]string{a.Rule, a.Partner}]++
	if st.d.alerts != nil {
		st.d.alerts.SendSeq(a, seq)
	}
}

// resendAlerts brings each alert sink up to the last commit: the committed
// alerts after its delivery cursor (queued, not acknowledged, when the
// process died) are sent to it again, once. A sink new to this data_dir
// starts at the last commit. Called after restore, before the first frame.
func (st *analysisStage) resendAlerts(committed bool) {
	d := st.d.alerts
	if d == nil {
		return
	}
	seq := st.p.AlertSeq()
	if !committed {
		// No commit to number from: continue after the sinks' cursors.
		for i := 0; i < d.Sinks(); i++ {
			_, acked, _ := d.Cursor(i)
			st.p.ContinueAlertSeq(acked)
		}
		seq = st.p.AlertSeq()
	}
	for i := 0; i < d.Sinks(); i++ {
		name, acked, fresh := d.Cursor(i)
		switch {
		case fresh:
			d.StartCursor(i, seq)
		case acked < seq:
			n, dropped := 0, 0
			missing := st.p.Undelivered(acked, func(s uint64, a *analysis.Alert) {
				if d.Resend(i, a, s) {
					n++
				} else {
					dropped++
				}
			})
			st.d.log.Info("alert sink: re-sending committed alerts it had not acknowledged", "sink", name,
				"cursor", acked, "committed", seq, "resent", n, "queue_full", dropped, "not_kept", missing)
			if missing > 0 {
				st.d.log.Warn("alert sink: committed alerts no longer held for re-sending (in the store: trace --rule, report)",
					"sink", name, "alerts", missing)
			}
		case acked > seq:
			st.d.log.Warn("alert sink: its cursor is beyond the last commit (the store fell back to an earlier commit); alerts up to the cursor are not sent again",
				"sink", name, "cursor", acked, "committed", seq)
		}
	}
}

// storeError logs store refusals at most once a minute; they are counted by
// the store (gatewarden_store_dropped_records_total).
var lastStoreErrorLog atomic.Int64

func (st *analysisStage) storeError(err error) {
	now := time.Now().UnixNano()
	if last := lastStoreErrorLog.Load(); now-last > int64(time.Minute) && lastStoreErrorLog.CompareAndSwap(last, now) {
		st.d.log.Error("store refused a record (counted; further errors this minute are not logged)", "err", fmt.Sprint(err))
	}
}
