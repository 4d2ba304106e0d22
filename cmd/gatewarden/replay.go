package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/rules"
	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/pipeline"
	"github.com/gatewarden/gatewarden/retention"
)

func init() {
	register("replay", "run calls and rules on capture files; alerts as JSON lines", runReplay)
}

func runReplay(args []string) int { return replayMain(args, os.Stdout, os.Stderr) }

// replayMaxFileCount is how many captures fit the 16-bit source index.
const replayMaxFileCount = 65535

// replayPipeline is the pipeline with replay's outputs: alerts and call
// records as JSON lines, and, with a store, the position that makes a
// replay resumable and a capture already stored recognisable.
type replayPipeline struct {
	p      *pipeline.Pipeline
	alerts *bufio.Writer
	calls  *bufio.Writer // nil: no call records
	store  *retention.Store

	pos replayPosition
	// frames[i] is how many frames of source i are done; skip[i] how many
	// a resumed replay passes over.
	frames, skip []uint64

	line     []byte
	writeErr error
	outcomes [6]uint64

	// onFrame, if not nil, is told how many frames were read so far and
	// the source of the last (the progress line).
	onFrame func(frames uint64, source uint16)
}

// replayPosition is what replay commits with the store: the captures it is
// reading (by content) and how far it got, and every capture the store
// holds completely.
type replayPosition struct {
	Input string          `json:"input"` // replayInput
	Files []replayFile    `json:"files,omitempty"`
	Done  []replayFile    `json:"done,omitempty"`
	Other json.RawMessage `json:"other,omitempty"` // another input's position (a daemon's), kept
}

type replayFile struct {
	SHA256 string `json:"sha256"`
	Name   string `json:"name"`
	Frames uint64 `json:"frames,omitempty"`
}

const replayInput = "replay"

// newReplayPipeline wires the stages; store may be nil (no retention).
func newReplayPipeline(gen *pipeline.Generation, alerts, calls io.Writer, store *retention.Store, names func(uint16) string) *replayPipeline {
	p := &replayPipeline{alerts: bufio.NewWriterSize(alerts, 1<<20), store: store}
	if calls != nil {
		p.calls = bufio.NewWriterSize(calls, 1<<20)
	}
	cfg := pipeline.Config{Gen: gen, Store: store, Source: names, AnnotateCalls: calls != nil,
		OnAlert: p.writeAlert, OnCall: p.closeCall}
	if store != nil {
		cfg.Position = p.position
	}
	p.p = pipeline.New(cfg)
	return p
}

func (p *replayPipeline) position() []byte {
	for i := range p.pos.Files {
		p.pos.Files[i].Frames = p.frames[i]
	}
	b, _ := json.Marshal(&p.pos)
	return b
}

func (p *replayPipeline) writeAlert(a *analysis.Alert) {
	if p.writeErr != nil {
		return
	}
	p.line = analysis.AppendAlertJSON(p.line[:0], a)
	p.line = append(p.line, '\n')
	_, p.writeErr = p.alerts.Write(p.line)
}

func (p *replayPipeline) closeCall(c *analysis.Call) {
	if int(c.Outcome) < len(p.outcomes) {
		p.outcomes[c.Outcome]++
	}
	if p.calls == nil || p.writeErr != nil {
		return
	}
	p.line = analysis.AppendCallJSON(p.line[:0], c)
	p.line = append(p.line, '\n')
	_, p.writeErr = p.calls.Write(p.line)
}

// run reads every frame of r, then closes the calls still open.
func (p *replayPipeline) run(r *capture.Reader, onError func(error)) error {
	reported := len(r.Errors())
	var f decode.Frame
	var frames uint64
	for p.writeErr == nil {
		err := r.Next(&f)
		if frames++; p.onFrame != nil {
			p.onFrame(frames, f.Source)
		}
		if errs := r.Errors(); len(errs) > reported {
			for _, e := range errs[reported:] {
				onError(e)
			}
			reported = len(errs)
		}
		if err == io.EOF {
			break
		}
		if i := int(f.Source); i < len(p.skip) {
			if f.Frame <= p.skip[i] {
				continue
			}
			p.p.Frame(&f)
			p.frames[i] = f.Frame
			continue
		}
		p.p.Frame(&f)
	}
	return p.finish()
}

func (p *replayPipeline) finish() error {
	p.p.Finish()
	if p.store != nil {
		// Every capture read to the end is now held by the store.
		for _, f := range p.pos.Files {
			f.Frames = 0
			p.pos.Done = append(p.pos.Done, f)
		}
		p.pos.Files, p.frames = nil, nil
		if err := p.p.Commit(); err != nil && p.writeErr == nil {
			p.writeErr = fmt.Errorf("store: %w", err)
		}
	}
	if err := p.alerts.Flush(); err != nil && p.writeErr == nil {
		p.writeErr = err
	}
	if p.calls != nil {
		if err := p.calls.Flush(); err != nil && p.writeErr == nil {
			p.writeErr = err
		}
	}
	if p.store != nil {
		err := p.store.Close()
		if err == nil {
			err = p.p.StoreErr()
		}
		if err != nil && p.writeErr == nil {
			p.writeErr = fmt.Errorf("store: %w", err)
		}
	}
	return p.writeErr
}

// plan decides, with a store, which captures to read: it takes the last
// commit's position, resumes a replay of the same captures that was
// stopped midway (restoring its calls and windows), and leaves out captures
// the store already holds unless force. It returns the files to read and
// messages for stderr.
func (p *replayPipeline) plan(files []string, force bool) ([]string, []string, error) {
	sums := make([]string, len(files))
	for i, f := range files {
		sum, _, err := retention.SHA256File(f)
		if err != nil {
			return nil, nil, err
		}
		sums[i] = sum
	}
	var notes []string
	var last replayPosition
	resumed := false
	_, _, err := p.p.Restore(func(pos []byte) bool {
		if json.Unmarshal(pos, &last) != nil || last.Input != replayInput {
			last = replayPosition{Other: pos}
			return false
		}
		if len(last.Files) != len(files) {
			return false
		}
		for i, f := range last.Files {
			if f.SHA256 != sums[i] {
				return false
			}
		}
		resumed = true
		return true
	})
	if err != nil {
		return nil, nil, fmt.Errorf("restoring the last commit: %w", err)
	}
	p.pos = replayPosition{Input: replayInput, Done: last.Done, Other: last.Other}
	if resumed {
		p.skip = make([]uint64, len(files))
		for i, f := range last.Files {
			p.skip[i] = f.Frames
		}
		notes = append(notes, fmt.Sprintf("resuming an interrupted replay of these captures (%d calls in progress restored)", p.p.Stats().RestoredCalls))
	} else {
		done := make(map[string]bool, len(last.Done))
		for _, f := range last.Done {
			done[f.SHA256] = true
		}
		kept, keptSums := files[:0:0], sums[:0:0]
		for i, f := range files {
			if done[sums[i]] && !force {
				notes = append(notes, fmt.Sprintf("%s: the store already holds this capture (sha256 %s); not stored again (--force stores it again)", f, sums[i][:16]))
				continue
			}
			kept, keptSums = append(kept, f), append(keptSums, sums[i])
		}
		files, sums = kept, keptSums
	}
	for i, f := range files {
		p.pos.Files = append(p.pos.Files, replayFile{SHA256: sums[i], Name: filepath.Base(f)})
	}
	if p.skip == nil {
		p.skip = make([]uint64, len(files))
	}
	p.frames = append([]uint64(nil), p.skip...)
	return files, notes, nil
}

// summary is the one-line report: calls by outcome, alerts by rule, drops by reason.
func (p *replayPipeline) summary() string {
	var b strings.Builder
	ps := p.p.Stats()
	st := ps.Calls
	fmt.Fprintf(&b, "calls=%d", st.Closed)
	for o := analysis.OutcomeAnswered; o <= analysis.OutcomeFailed; o++ {
		fmt.Fprintf(&b, " %s=%d", o, p.outcomes[o])
	}
	rs := ps.Rules
	var total uint64
	ids := make([]string, 0, len(rs.Alerts))
	for id, n := range rs.Alerts {
		total += n
		ids = append(ids, id)
	}
	sort.Strings(ids)
	fmt.Fprintf(&b, " alerts=%d", total)
	if len(ids) > 0 {
		b.WriteString(" (")
		for i, id := range ids {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s=%d", id, rs.Alerts[id])
		}
		b.WriteByte(')')
	}
	ds := ps.Decode
	fmt.Fprintf(&b, " messages=%d drops=%d", ds.Messages, ds.Drops())
	var drops []string
	for r := decode.Reason(1); r < decode.NumReasons; r++ {
		if r.IsDrop() && ds.Reasons[r] > 0 {
			drops = append(drops, fmt.Sprintf("%s=%d", r, ds.Reasons[r]))
		}
	}
	if len(drops) > 0 {
		b.WriteString(" (" + strings.Join(drops, " ") + ")")
	}
	if st.Evicted+st.DualSeizures+st.Orphans > 0 {
		fmt.Fprintf(&b, " evicted_calls=%d dual_seizures=%d orphan_messages=%d", st.Evicted, st.DualSeizures, st.Orphans)
	}
	for _, id := range []string{rules.CallOneRing, rules.CallBombing, rules.CallerHighFrequency, rules.FwdRelay} {
		if n := rs.WindowOverflow[id]; n > 0 {
			fmt.Fprintf(&b, " %s_window_overflow=%d", id, n)
		}
	}
	if rs.Transit.Linked > 0 || rs.Transit.Overflow > 0 {
		fmt.Fprintf(&b, " transit_linked=%d transit_pending_overflow=%d", rs.Transit.Linked, rs.Transit.Overflow)
	}
	if rs.RouteOverflow > 0 {
		fmt.Fprintf(&b, " route_table_overflow=%d", rs.RouteOverflow)
	}
	return b.String()
}

func replayMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("replay", stdout, stderr)
	configPath := fs.String("config", "", "YAML configuration (partners, numbering plan, thresholds); default: built-in defaults, no partners")
	alertsPath := fs.String("alerts", "", "write alerts (JSON lines) to FILE instead of stdout")
	callsPath := fs.String("calls", "", "also write call records (JSON lines) to FILE")
	dataDir := fs.String("data", "", "also keep every message, call and alert in the store at DIR (for trace, report, serve): the daemon's data_dir or the store inside it, or a new or empty directory for a new store")
	force := fs.Bool("force", false, "with --data: store captures the store already holds (same content) again")
	pcBitsFlag := fs.Int("pc-bits", 0, "MTP3 point-code width, 14 or 24 (default: the configuration's point_code_bits)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: gatewarden replay [--config FILE] [--data DIR [--force]] [--alerts FILE] [--calls FILE] [--pc-bits N] PCAP...\n\n"+
			"Decodes the captures in timestamp order, assembles calls and applies every rule.\n"+
			"Alerts go to stdout (or --alerts) as JSON lines; a one-line summary goes to stderr.\n"+
			"With --data, a capture the store already holds is not stored again, and a replay\n"+
			"that was interrupted resumes where its last commit left it.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	files := fs.Args()
	if len(files) == 0 {
		fmt.Fprintln(stderr, "gatewarden replay: no capture files given")
		fs.Usage()
		return exitUsage
	}
	if len(files) > replayMaxFileCount {
		fmt.Fprintf(stderr, "gatewarden replay: %d files: at most %d per run\n", len(files), replayMaxFileCount)
		return exitUsage
	}
	if *pcBitsFlag != 0 && *pcBitsFlag != 14 && *pcBitsFlag != 24 {
		fmt.Fprintf(stderr, "gatewarden replay: invalid --pc-bits %d: valid values are 14 and 24\n", *pcBitsFlag)
		return exitUsage
	}
	gen, err := pipeline.LoadGeneration(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden replay: %v\n", err)
		return exitUsage
	}
	if *pcBitsFlag != 0 {
		gen.PCBits = uint8(*pcBitsFlag)
	}

	var alertsOut io.Writer = stdout
	var closers []*os.File
	defer func() {
		for _, f := range closers {
			f.Close()
		}
	}()
	create := func(path string) (*os.File, bool) {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden replay: %v\n", err)
			return nil, false
		}
		closers = append(closers, f)
		return f, true
	}
	if *alertsPath != "" {
		f, ok := create(*alertsPath)
		if !ok {
			return exitFailed
		}
		alertsOut = f
	}
	var callsOut io.Writer
	if *callsPath != "" {
		f, ok := create(*callsPath)
		if !ok {
			return exitFailed
		}
		callsOut = f
	}

	var store *retention.Store
	storeDir := ""
	if *dataDir != "" {
		if storeDir, err = replayStoreDir(*dataDir); err != nil {
			fmt.Fprintf(stderr, "gatewarden replay: %v\n", err)
			return exitFailed
		}
		store, err = retention.Open(storeDir, retention.Options{
			Committed: true,
			Logf:      func(f string, a ...any) { fmt.Fprintf(stderr, "gatewarden replay: store: "+f+"\n", a...) },
		})
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden replay: %v\n", err)
			return exitFailed
		}
	}
	var r *capture.Reader
	p := newReplayPipeline(gen, alertsOut, callsOut, store, func(i uint16) string { return r.SourceName(i) })
	if store != nil {
		var notes []string
		files, notes, err = p.plan(files, *force)
		for _, n := range notes {
			fmt.Fprintf(stderr, "gatewarden replay: %s\n", n)
		}
		if err != nil {
			store.Close()
			fmt.Fprintf(stderr, "gatewarden replay: %v\n", err)
			return exitFailed
		}
		if len(files) == 0 {
			if err := store.Close(); err != nil {
				fmt.Fprintf(stderr, "gatewarden replay: store: %v\n", err)
				return exitFailed
			}
			fmt.Fprintln(stderr, "gatewarden replay: nothing to store")
			return exitOK
		}
	}
	r, err = capture.OpenFiles(files)
	if err != nil {
		if store != nil {
			store.Close()
		}
		fmt.Fprintf(stderr, "gatewarden replay: %v\n", err)
		return exitUsage
	}
	defer r.Close()
	for _, e := range r.Errors() {
		fmt.Fprintf(stderr, "gatewarden replay: %v\n", e)
	}
	prog := newProgress(stderr, "gatewarden replay")
	if prog != nil {
		p.onFrame = func(frames uint64, source uint16) {
			if prog.due() {
				prog.show("%d frames, %d messages, %s", frames, p.p.Stats().Decode.Messages, r.SourceName(source))
			}
		}
	}
	runErr := p.run(r, func(e error) {
		prog.done()
		fmt.Fprintf(stderr, "gatewarden replay: %v\n", e)
	})
	prog.done()
	for _, f := range closers {
		if err := f.Close(); err != nil && runErr == nil {
			runErr = err
		}
	}
	closers = nil
	fmt.Fprintf(stderr, "gatewarden replay: %s\n", p.summary())
	if store != nil {
		st := store.Stats()
		fmt.Fprintf(stderr, "gatewarden replay: store %s: messages=%d calls=%d alerts=%d dropped=%d partitions_sealed=%d\n",
			storeDir, st.Messages, st.Calls, st.Alerts, st.Dropped, st.Sealed)
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "gatewarden replay: writing output: %v\n", runErr)
		return exitFailed
	}
	if r.Unreadable() > 0 {
		return exitFailed
	}
	if len(r.Errors()) > r.Unreadable() {
		// Damaged part-way: what could be read was processed.
		return exitDamaged
	}
	return exitOK
}

// replayStoreDir is the store directory for replay's --data: a store, the
// daemon's data_dir holding one, or a new or empty directory, where replay
// creates a new store. Any other directory is refused, so a wrong path
// never gets a store written beside unrelated files.
func replayStoreDir(dir string) (string, error) {
	d, err := retention.Locate(dir)
	if err == nil {
		return d, nil
	}
	if errors.Is(err, os.ErrNotExist) {
		return dir, nil
	}
	if errors.Is(err, retention.ErrNoStore) {
		if entries, rerr := os.ReadDir(dir); rerr == nil && len(entries) == 0 {
			return dir, nil
		}
		return "", fmt.Errorf("--data: %w; replay creates a new store only in a new or empty directory", err)
	}
	return "", fmt.Errorf("--data: %w", err)
}
