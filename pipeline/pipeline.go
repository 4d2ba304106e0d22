// Package pipeline owns the stages between a captured frame and the
// evidence: it is the one place they are wired. cmd/gatewarden's replay and
// run, and the web tests' fixture, feed it frames; nothing else calls the
// decoder, assembler, rules engine and store in sequence.
//
// Stage order, per frame:
//
//	decode.Decoder.Decode(frame)            reassembly; zero or more ISUP messages
//	  for each message m:
//	    call := Assembler.CallOf(m)          the call in progress m belongs to (its IAM's Ref)
//	    ref  := Store.AddMessageRef(m, call) the message is kept before it is analysed
//	    Assembler.FeedRef(m, ref)            an IAM opens a call named by its own ref;
//	      → rules.Engine.Open(call)          at the IAM: transit correlation
//	      → rules.Engine.Setup(call)         at setup complete: caller-ID, forwarding, behaviour
//	      → rules.Engine.Close(call)         at close: one-ring
//	      → Store.AddCall(call)              linked to the IAM through Call.Ref
//	      → Store.AddAlert(alert)            linked through Alert.CallRef
//	Store.Commit(position, state)           at a commit point (below)
//	alert sinks                             alerts covered by the commit, once
//
// Commits make ingest from files exactly-once: the input's position (file
// and frame) and the pipeline's state (calls in progress, behaviour
// windows) are committed with the store's durable point
// (retention.Store.Commit), and a restart resumes from the last commit with
// that state while the store cuts whatever followed it. The pipeline
// commits before a frame that makes the store change partition (so a sealed
// partition never holds uncommitted records), when it holds too many
// undelivered alerts, every CommitEvery of wall time, and whenever its
// owner asks (a file finished, SIGTERM). Alerts go to the sinks only once a
// commit covers them, so an alert is never delivered twice — except when
// the store cannot commit (a full disk): then they are delivered at once
// (counted in Stats.AlertsUncommitted).
//
// Each committed alert gets a delivery sequence (1, 2, …; OnAlertSeq), and
// each commit also holds the committed alerts that some sink has not yet
// acknowledged (above Config.Acked, at most MaxResendAlerts). After a
// restart, Undelivered hands them back so the owner re-sends to each sink
// what followed its cursor (deliver.Dispatcher): alerts committed and still
// queued for a sink when the process was killed are delivered once.
package pipeline

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/config"
	"github.com/gatewarden/gatewarden/analysis/rules"
	"github.com/gatewarden/gatewarden/analysis/transit"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/internal/snapshot"
	"github.com/gatewarden/gatewarden/retention"
)

// Defaults for zero Config fields.
const (
	DefaultCommitEvery      = time.Second
	DefaultMaxPendingAlerts = 4096
	// DefaultMaxResendAlerts bounds the committed alerts kept for
	// re-sending after a restart (above the sinks' lowest cursor).
	DefaultMaxResendAlerts = 8192
	// DefaultMaxOpenCalls caps the calls in progress (about 850 B each):
	// 524 288 calls, about 450 MiB. Beyond it the least recently active
	// call is closed and counted (gatewarden_calls_evicted_total). See
	// deploy/SIZING.md.
	DefaultMaxOpenCalls = 1 << 19
	// commitCheckFrames is how many frames pass between two looks at the
	// wall clock for CommitEvery.
	commitCheckFrames = 256
)

// Config wires a Pipeline.
type Config struct {
	Gen   *Generation
	Store *retention.Store // nil: nothing kept, alerts delivered at once, no commits
	// Source names a frame's source (file or interface) for the store.
	Source func(src uint16) string
	// Position is the input's position after the frames handed to Frame so
	// far, opaque to the pipeline; it is committed with the state. Nil:
	// commits carry no position (live capture).
	Position func() []byte
	// CommitEvery is the wall time between commits made on the pipeline's
	// own initiative (default 1 s, the store's flush interval).
	CommitEvery time.Duration
	// MaxPendingAlerts bounds alerts waiting for a commit; reaching it
	// commits (default 4096).
	MaxPendingAlerts int
	// MaxOpenCalls caps calls in progress (default DefaultMaxOpenCalls).
	MaxOpenCalls int
	// AnnotateCalls writes each number's E.164 form into call records.
	AnnotateCalls bool

	OnMessage func(m *decode.Message) // every decoded message, after it is stored
	OnCall    func(c *analysis.Call)  // every closed call, after rules and store
	OnAlert   func(a *analysis.Alert) // the sinks: each alert once, after a commit covers it
	// OnAlertSeq, when set, replaces OnAlert and gets each alert's delivery
	// sequence too (0 for an alert delivered after a failed commit).
	OnAlertSeq func(seq uint64, a *analysis.Alert)
	// Acked is the highest sequence every sink has acknowledged: committed
	// alerts above it are kept in each commit for re-sending. Nil: none kept.
	Acked func() uint64
	// MaxResendAlerts caps those (default DefaultMaxResendAlerts).
	MaxResendAlerts int
	OnCommit        func(err error)      // after each commit attempt
	Logf            func(string, ...any) // restore and commit problems
}

// Stats are the pipeline's counters.
type Stats struct {
	Decode        decode.Stats
	Calls         analysis.AssemblerStats
	OpenCalls     int
	Rules         rules.Stats
	Transit       transit.Stats
	Commits       uint64
	CommitErrors  uint64
	PendingAlerts int
	// CommitsWithFragments counts commits made while the decoder held
	// fragments: a crash right after one loses those messages.
	CommitsWithFragments uint64
	StoreErrors          uint64 // records the store refused (it counts them by reason too)
	// AlertsUncommitted counts alerts delivered after a failed commit (the
	// store could not keep them): a restart may deliver them again.
	AlertsUncommitted uint64
	RestoredCalls     int // calls in progress restored at start
	// ResendTrimmed counts unacknowledged committed alerts dropped from the
	// commits beyond MaxResendAlerts: a restart cannot re-send them.
	ResendTrimmed uint64
}

// Pipeline runs the stages for one input. It is not safe for concurrent use.
type Pipeline struct {
	cfg   Config
	gen   *Generation
	store *retention.Store
	dec   *decode.Decoder
	// decBase keeps the counts of decoders replaced by a reload that changed
	// point-code widths.
	decBase decode.Stats
	asm     *analysis.Assembler
	eng     *rules.Engine
	bl      *config.Reloader // blocklist reloader in force

	source  string // name of the current frame's source
	lastSrc uint16
	srcSet  bool

	warm        bool // decoding warm-up frames: messages are dropped
	warmFrames  uint64
	warmMsgs    uint64
	pending     []analysis.Alert // alerts waiting for a commit
	uncommitted bool             // records stored since the last commit
	frames      int
	lastCommit  time.Time

	storeErr error
	stats    Stats
	state    []byte // reused commit buffer

	alertSeq uint64     // sequence of the last committed alert
	tail     []seqAlert // committed alerts not acknowledged by every sink
}

type seqAlert struct {
	seq uint64
	a   analysis.Alert
}

// New wires the stages. cfg.Gen must be set.
func New(cfg Config) *Pipeline {
	if cfg.CommitEvery <= 0 {
		cfg.CommitEvery = DefaultCommitEvery
	}
	if cfg.MaxPendingAlerts <= 0 {
		cfg.MaxPendingAlerts = DefaultMaxPendingAlerts
	}
	if cfg.MaxOpenCalls <= 0 {
		cfg.MaxOpenCalls = DefaultMaxOpenCalls
	}
	if cfg.MaxResendAlerts <= 0 {
		cfg.MaxResendAlerts = DefaultMaxResendAlerts
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	p := &Pipeline{cfg: cfg, gen: cfg.Gen, store: cfg.Store, bl: cfg.Gen.Blocklist, lastCommit: time.Now()}
	settings := cfg.Gen.Rules
	settings.AnnotateCalls = settings.AnnotateCalls || cfg.AnnotateCalls
	p.eng = rules.New(settings, p.onAlert)
	p.asm = analysis.NewAssembler(analysis.AssemblerConfig{
		MaxOpenCalls: cfg.MaxOpenCalls,
		// Through the pipeline, not the generation: a reload swaps what these see.
		Partner:    func(addr netip.Addr, pc uint32) string { return p.gen.Config.PartnerName(addr, pc) },
		SIPPartner: func(ap netip.AddrPort) string { return p.gen.Config.SIPPartnerName(ap) },
		Open:       func(c *analysis.Call) { p.eng.Open(c) },
		Setup:      func(c *analysis.Call) { p.eng.Setup(c) },
		Close:      p.onClose,
	})
	p.dec = p.newDecoder()
	return p
}

func (p *Pipeline) newDecoder() *decode.Decoder {
	// SIP too: SIP-I and SIP calls go through the same calls, rules and store.
	return decode.New(decode.Config{PCBits: p.gen.PCBits, LinkPCBits: p.gen.LinkPCBits, SIP: true}, p.onMessage)
}

// Generation is the configuration in force.
func (p *Pipeline) Generation() *Generation { return p.gen }

// Blocklist is the blocklist reloader the rules in force consult (nil: none).
func (p *Pipeline) Blocklist() *config.Reloader { return p.bl }

// Reload puts a new generation in force between two frames. Calls in
// progress are kept. The rules engine is reconfigured only when its settings
// changed (its behaviour windows keep their counts); the decoder is replaced
// only when point-code widths changed. It reports whether the rules were
// reconfigured.
func (p *Pipeline) Reload(g *Generation) bool {
	old := p.gen
	p.gen = g
	rebuilt := false
	if sameRules(old, g) {
		// The blocklist reloader in force keeps watching the same file.
		if p.bl == nil {
			p.bl = g.Blocklist
		}
	} else {
		s := g.Rules
		s.AnnotateCalls = s.AnnotateCalls || p.cfg.AnnotateCalls
		p.eng.Reconfigure(s)
		p.bl = g.Blocklist
		rebuilt = true
	}
	if !sameWidths(old, g) {
		p.dec.Flush()
		s := p.dec.Stats()
		p.decBase.Add(&s)
		p.dec = p.newDecoder()
	}
	return rebuilt
}

// Frame runs one frame through every stage. f is only read during the call.
func (p *Pipeline) Frame(f *decode.Frame) {
	if p.store != nil && p.uncommitted {
		due := len(p.pending) >= p.cfg.MaxPendingAlerts
		if !due {
			if p.frames++; p.frames >= commitCheckFrames {
				p.frames = 0
				due = time.Since(p.lastCommit) >= p.cfg.CommitEvery
			}
		}
		// Before a frame that changes the store's partition: a sealed
		// partition ends with a commit (whatever the decoder holds). Other
		// commits wait, within bounds, for a point where the decoder holds
		// no fragment.
		if p.store.Rotates(f.TS) || (due && (p.dec.Pending() == 0 || len(p.pending) >= 2*p.cfg.MaxPendingAlerts)) {
			p.Commit()
		}
	}
	if !p.srcSet || f.Source != p.lastSrc {
		p.lastSrc, p.srcSet = f.Source, true
		if p.cfg.Source != nil {
			p.source = p.cfg.Source(f.Source)
		}
	}
	p.dec.Decode(f)
}

// WarmupFrames is how many frames before a resume point the input feeds
// to Warm: enough to rebuild the decoder's reassembly and duplicate
// (retransmission) state the commit did not save.
const WarmupFrames = 4096

// Warm decodes a frame that precedes the committed position after a
// restart: the decoder rebuilds its SCTP/IP reassembly and retransmission
// state from it, and its messages (already stored before the restart) are
// dropped. Warm frames are not counted in Stats' frames and messages.
func (p *Pipeline) Warm(f *decode.Frame) {
	p.warm = true
	p.warmFrames++
	p.dec.Decode(f)
	p.warm = false
}

func (p *Pipeline) onMessage(m *decode.Message) {
	if p.warm {
		p.warmMsgs++
		return
	}
	if p.store != nil {
		call := retention.Ref(p.asm.CallOf(m))
		ref, err := p.store.AddMessageRef(m, p.source, call)
		p.noteStoreErr(err)
		p.uncommitted = true
		if p.cfg.OnMessage != nil {
			p.cfg.OnMessage(m)
		}
		p.asm.FeedRef(m, uint64(ref))
		return
	}
	if p.cfg.OnMessage != nil {
		p.cfg.OnMessage(m)
	}
	p.asm.Feed(m)
}

func (p *Pipeline) onClose(c *analysis.Call) {
	p.eng.Close(c)
	if p.store != nil {
		p.noteStoreErr(p.store.AddCall(c))
		p.uncommitted = true
	}
	if p.cfg.OnCall != nil {
		p.cfg.OnCall(c)
	}
}

func (p *Pipeline) onAlert(a *analysis.Alert) {
	if p.store == nil {
		p.send(0, a)
		return
	}
	p.noteStoreErr(p.store.AddAlert(a))
	p.uncommitted = true
	p.pending = append(p.pending, *a)
}

func (p *Pipeline) noteStoreErr(err error) {
	if err != nil {
		p.stats.StoreErrors++
		if p.storeErr == nil {
			p.storeErr = err
		}
	}
}

// Dirty reports whether records or alerts wait for a commit.
func (p *Pipeline) Dirty() bool { return p.uncommitted || len(p.pending) > 0 }

// StoreErr is the first error the store returned, nil if none.
func (p *Pipeline) StoreErr() error { return p.storeErr }

// stateVersion is the first value of a committed pipeline state. Version 1
// (no alert sequence, no alerts to re-send) is still read.
const stateVersion = 2

// Commit commits the input position and the pipeline's state with the
// store's durable point, then hands the alerts it covers to the sinks. With
// no store it only delivers. A failed commit keeps the alerts for the next.
func (p *Pipeline) Commit() error {
	if p.store == nil {
		return nil
	}
	var pos []byte
	if p.cfg.Position != nil {
		pos = p.cfg.Position()
	}
	// The alerts this commit covers get their sequences; those a sink has
	// not acknowledged yet are committed too, for re-sending.
	p.trimTail()
	tailLen, seq := len(p.tail), p.alertSeq
	for i := range p.pending {
		seq++
		p.tail = append(p.tail, seqAlert{seq: seq, a: p.pending[i]})
	}
	if n := len(p.tail) - p.cfg.MaxResendAlerts; n > 0 && p.cfg.Acked != nil {
		p.stats.ResendTrimmed += uint64(n)
		p.tail = append(p.tail[:0], p.tail[n:]...)
		tailLen = max(0, tailLen-n)
	}
	b := snapshot.AppendUint(p.state[:0], stateVersion)
	b = snapshot.AppendString(b, string(pos))
	b = snapshot.AppendUint(b, seq)
	if p.cfg.Acked != nil {
		b = snapshot.AppendUint(b, uint64(len(p.tail)))
		for i := range p.tail {
			b = appendSeqAlert(b, &p.tail[i])
		}
	} else {
		b = snapshot.AppendUint(b, 0)
	}
	mark := len(b)
	b = p.asm.AppendState(append(b, 0, 0, 0, 0))
	putLen(b[mark:], len(b)-mark-4)
	b = p.eng.AppendState(b)
	p.state = b
	if p.dec.Pending() > 0 {
		p.stats.CommitsWithFragments++
	}
	err := p.store.Commit(pos, b)
	p.lastCommit = time.Now()
	if p.cfg.OnCommit != nil {
		p.cfg.OnCommit(err)
	}
	if err != nil {
		// The store cannot commit (a full disk): it cannot keep these alerts
		// either, so the sinks get them now rather than never. Exactly-once
		// delivery needs a store that writes.
		p.stats.CommitErrors++
		p.stats.AlertsUncommitted += uint64(len(p.pending))
		clear(p.tail[min(tailLen, len(p.tail)):])
		p.tail = p.tail[:min(tailLen, len(p.tail))]
		p.deliver(0)
		return err
	}
	p.stats.Commits++
	p.uncommitted = false
	first := p.alertSeq + 1
	p.alertSeq = seq
	p.deliver(first)
	return nil
}

// trimTail drops the alerts every sink has acknowledged.
func (p *Pipeline) trimTail() {
	if p.cfg.Acked == nil {
		clear(p.tail)
		p.tail = p.tail[:0]
		return
	}
	acked := p.cfg.Acked()
	n := 0
	for n < len(p.tail) && p.tail[n].seq <= acked {
		n++
	}
	if n > 0 {
		k := copy(p.tail, p.tail[n:])
		clear(p.tail[k:])
		p.tail = p.tail[:k]
	}
}

// deliver hands the pending alerts to the sinks, numbered from first (0:
// not numbered).
func (p *Pipeline) deliver(first uint64) {
	for i := range p.pending {
		seq := first
		if first != 0 {
			seq += uint64(i)
		}
		p.send(seq, &p.pending[i])
	}
	clear(p.pending)
	p.pending = p.pending[:0]
}

func (p *Pipeline) send(seq uint64, a *analysis.Alert) {
	switch {
	case p.cfg.OnAlertSeq != nil:
		p.cfg.OnAlertSeq(seq, a)
	case p.cfg.OnAlert != nil:
		p.cfg.OnAlert(a)
	}
}

// AlertSeq is the sequence of the last committed alert (restored at start).
func (p *Pipeline) AlertSeq() uint64 { return p.alertSeq }

// ContinueAlertSeq makes the numbering continue after seq when the store
// holds no commit but a sink's cursor is at seq (a new or emptied store), so
// new alerts are not taken for ones already delivered. Call it before the
// first frame.
func (p *Pipeline) ContinueAlertSeq(seq uint64) {
	if seq > p.alertSeq && len(p.tail) == 0 {
		p.alertSeq = seq
	}
}

// Undelivered calls fn, in order, for each committed alert above sequence
// after that the last commit kept for re-sending (see Restore), and returns
// how many alerts above after it no longer holds (trimmed beyond
// MaxResendAlerts, or the commit was made without Acked).
func (p *Pipeline) Undelivered(after uint64, fn func(seq uint64, a *analysis.Alert)) (missing uint64) {
	if after >= p.alertSeq {
		return 0
	}
	want := p.alertSeq - after
	var n uint64
	for i := range p.tail {
		if t := &p.tail[i]; t.seq > after {
			fn(t.seq, &t.a)
			n++
		}
	}
	return want - n
}

func appendSeqAlert(b []byte, t *seqAlert) []byte {
	a := &t.a
	b = snapshot.AppendUint(b, t.seq)
	b = snapshot.AppendInt(b, a.TS)
	b = snapshot.AppendString(b, a.Rule)
	b = snapshot.AppendUint(b, uint64(a.Severity))
	b = snapshot.AppendString(b, a.Partner)
	b = snapshot.AppendUint(b, uint64(a.Direction))
	b = snapshot.AppendString(b, a.Calling)
	b = snapshot.AppendString(b, a.Called)
	b = snapshot.AppendString(b, a.Redirecting)
	b = snapshot.AppendUint(b, uint64(a.OPC))
	b = snapshot.AppendUint(b, uint64(a.DPC))
	b = snapshot.AppendUint(b, uint64(a.CIC))
	b = snapshot.AppendString(b, a.CallID)
	b = snapshot.AppendUint(b, uint64(a.Outcome))
	b = snapshot.AppendInt(b, int64(a.Count))
	b = snapshot.AppendInt(b, int64(a.WindowS))
	b = snapshot.AppendString(b, a.Detail)
	b = snapshot.AppendString(b, a.OriginCountry)
	b = snapshot.AppendString(b, a.Link)
	return snapshot.AppendUint(b, a.CallRef)
}

func readSeqAlert(r *snapshot.Reader) seqAlert {
	var t seqAlert
	a := &t.a
	t.seq = r.Uint()
	a.TS = r.Int()
	a.Rule = r.String()
	a.Severity = analysis.Severity(r.Uint())
	a.Partner = r.String()
	a.Direction = analysis.Direction(r.Uint())
	a.Calling = r.String()
	a.Called = r.String()
	a.Redirecting = r.String()
	a.OPC = uint32(r.Uint())
	a.DPC = uint32(r.Uint())
	a.CIC = uint32(r.Uint())
	a.CallID = r.String()
	a.Outcome = analysis.Outcome(r.Uint())
	a.Count = int(r.Int())
	a.WindowS = int(r.Int())
	a.Detail = r.String()
	a.OriginCountry = r.String()
	a.Link = r.String()
	a.CallRef = r.Uint()
	return t
}

func putLen(b []byte, n int) {
	b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
}

func getLen(b []byte) int {
	return int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
}

// Restore takes the state of the commit the store resumed from, if accept
// agrees with its position, and returns that position. ok is false when
// there was no commit or accept refused it (the pipeline then starts empty).
func (p *Pipeline) Restore(accept func(position []byte) bool) (position []byte, ok bool, err error) {
	if p.store == nil {
		return nil, false, nil
	}
	state := p.store.RecoveredState()
	if state == nil {
		return nil, false, nil
	}
	r := snapshot.NewReader(state)
	v := r.Uint()
	if v != stateVersion && v != 1 {
		return nil, false, fmt.Errorf("pipeline state: version %d, want %d", v, stateVersion)
	}
	position = r.Bytes()
	var seq uint64
	var tail []seqAlert
	if v >= 2 {
		seq = r.Uint()
		n := r.Count(r.Len())
		for i := 0; i < n && r.Err() == nil; i++ {
			tail = append(tail, readSeqAlert(r))
		}
	}
	if r.Err() != nil || r.Len() < 4 {
		return nil, false, errors.New("pipeline state: corrupt")
	}
	// The alerts' numbering continues whatever the input.
	p.alertSeq, p.tail = seq, tail
	if accept != nil && !accept(position) {
		return position, false, nil
	}
	rest := state[len(state)-r.Len():]
	n := getLen(rest)
	if n > len(rest)-4 {
		return nil, false, errors.New("pipeline state: corrupt")
	}
	if err := p.asm.RestoreState(rest[4 : 4+n]); err != nil {
		return nil, false, err
	}
	open := make(map[string]*analysis.Call, p.asm.OpenCalls())
	p.asm.EachOpen(func(c *analysis.Call) { open[c.ID] = c })
	if err := p.eng.RestoreState(rest[4+n:], func(id string) *analysis.Call { return open[id] }); err != nil {
		p.asm.RestoreState(nil) //nolint:errcheck // empties it
		return nil, false, err
	}
	p.stats.RestoredCalls = p.asm.OpenCalls()
	return position, true, nil
}

// Finish ends the input: pending reassemblies are dropped (counted), calls
// still open are closed and recorded. It does not commit.
func (p *Pipeline) Finish() {
	p.dec.Flush()
	p.asm.Flush()
}

// Stats returns the counters.
func (p *Pipeline) Stats() Stats {
	st := p.stats
	st.Decode = p.dec.Stats()
	st.Decode.Add(&p.decBase)
	st.Decode.Frames -= p.warmFrames
	st.Decode.Messages -= p.warmMsgs
	st.Calls = p.asm.Stats()
	st.OpenCalls = p.asm.OpenCalls()
	st.Rules = p.eng.Stats()
	st.Transit = p.eng.TransitStats()
	st.PendingAlerts = len(p.pending)
	return st
}
