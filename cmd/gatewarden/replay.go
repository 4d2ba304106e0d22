package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strings"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/config"
	"github.com/gatewarden/gatewarden/analysis/rules"
	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/retention"
)

func init() {
	register("replay", "run calls and rules on capture files; alerts as JSON lines", runReplay)
}

func runReplay(args []string) int { return replayMain(args, os.Stdout, os.Stderr) }

// replayMaxFileCount is how many captures fit the 16-bit source index.
const replayMaxFileCount = 65535

// replaySetup is what the configuration gives the pipeline.
type replaySetup struct {
	rules      rules.Settings
	partner    func(addr netip.Addr, pc uint32) string
	sipPartner func(ap netip.AddrPort) string
	pcBits     uint8
	linkPCBits map[netip.Addr]uint8
}

// replayPipeline runs decode -> calls -> rules and writes JSON lines.
type replayPipeline struct {
	dec    *decode.Decoder
	asm    *analysis.Assembler
	eng    *rules.Engine
	alerts *bufio.Writer
	calls  *bufio.Writer // nil: no call records
	store  *retention.Store
	names  func(uint16) string // source names, for the store

	line     []byte
	writeErr error
	storeErr error // first store error; later ones are counted by the store
	outcomes [6]uint64
}

// newReplayPipeline wires the stages; store may be nil (no retention).
func newReplayPipeline(setup *replaySetup, alerts, calls io.Writer, store *retention.Store, names func(uint16) string) *replayPipeline {
	p := &replayPipeline{alerts: bufio.NewWriterSize(alerts, 1<<20), store: store, names: names}
	if calls != nil {
		p.calls = bufio.NewWriterSize(calls, 1<<20)
		setup.rules.AnnotateCalls = true
	}
	p.eng = rules.New(setup.rules, p.writeAlert)
	p.asm = analysis.NewAssembler(analysis.AssemblerConfig{
		Partner:    setup.partner,
		SIPPartner: setup.sipPartner,
		Open:       p.eng.Open,
		Setup:      p.eng.Setup,
		Close:      p.closeCall,
	})
	handler := p.asm.Feed
	if store != nil {
		handler = p.storeAndFeed
	}
	p.dec = decode.New(decode.Config{PCBits: setup.pcBits, LinkPCBits: setup.linkPCBits, SIP: true}, handler)
	return p
}

// noteStoreErr keeps the first store error; the store counts the rest.
func (p *replayPipeline) noteStoreErr(err error) {
	if err != nil && p.storeErr == nil {
		p.storeErr = err
	}
}

// storeAndFeed keeps the message before analysing it: an alert raised while
// feeding finds its IAM through the store's circuit tracker.
func (p *replayPipeline) storeAndFeed(m *decode.Message) {
	p.noteStoreErr(p.store.AddMessage(m, p.names(m.Source)))
	p.asm.Feed(m)
}

func (p *replayPipeline) writeAlert(a *analysis.Alert) {
	if p.store != nil {
		p.noteStoreErr(p.store.AddAlert(a))
	}
	if p.writeErr != nil {
		return
	}
	p.line = analysis.AppendAlertJSON(p.line[:0], a)
	p.line = append(p.line, '\n')
	_, p.writeErr = p.alerts.Write(p.line)
}

func (p *replayPipeline) closeCall(c *analysis.Call) {
	p.eng.Close(c)
	if p.store != nil {
		p.noteStoreErr(p.store.AddCall(c))
	}
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
	for p.writeErr == nil {
		err := r.Next(&f)
		if errs := r.Errors(); len(errs) > reported {
			for _, e := range errs[reported:] {
				onError(e)
			}
			reported = len(errs)
		}
		if err == io.EOF {
			break
		}
		p.dec.Decode(&f)
	}
	return p.finish()
}

func (p *replayPipeline) finish() error {
	p.dec.Flush()
	p.asm.Flush()
	if err := p.alerts.Flush(); err != nil && p.writeErr == nil {
		p.writeErr = err
	}
	if p.calls != nil {
		if err := p.calls.Flush(); err != nil && p.writeErr == nil {
			p.writeErr = err
		}
	}
	if p.store != nil {
		p.noteStoreErr(p.store.Close())
		if p.storeErr != nil && p.writeErr == nil {
			p.writeErr = fmt.Errorf("store: %w", p.storeErr)
		}
	}
	return p.writeErr
}

// summary is the one-line report: calls by outcome, alerts by rule, drops by reason.
func (p *replayPipeline) summary() string {
	var b strings.Builder
	st := p.asm.Stats()
	fmt.Fprintf(&b, "calls=%d", st.Closed)
	for o := analysis.OutcomeAnswered; o <= analysis.OutcomeFailed; o++ {
		fmt.Fprintf(&b, " %s=%d", o, p.outcomes[o])
	}
	rs := p.eng.Stats()
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
	ds := p.dec.Stats()
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
	dataDir := fs.String("data", "", "also keep every message, call and alert in the store at DIR (for trace, report, serve)")
	pcBitsFlag := fs.Int("pc-bits", 0, "MTP3 point-code width, 14 or 24 (default: the configuration's point_code_bits)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: gatewarden replay [--config FILE] [--data DIR] [--alerts FILE] [--calls FILE] [--pc-bits N] PCAP...\n\n"+
			"Decodes the captures in timestamp order, assembles calls and applies every rule.\n"+
			"Alerts go to stdout (or --alerts) as JSON lines; a one-line summary goes to stderr.\n\nflags:\n")
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
	setup, err := loadReplaySetup(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden replay: %v\n", err)
		return exitUsage
	}
	if *pcBitsFlag != 0 {
		setup.pcBits = uint8(*pcBitsFlag)
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

	r, err := capture.OpenFiles(files)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden replay: %v\n", err)
		return exitUsage
	}
	defer r.Close()
	for _, e := range r.Errors() {
		fmt.Fprintf(stderr, "gatewarden replay: %v\n", e)
	}
	var store *retention.Store
	if *dataDir != "" {
		store, err = retention.Open(*dataDir, retention.Options{
			Logf: func(f string, a ...any) { fmt.Fprintf(stderr, "gatewarden replay: store: "+f+"\n", a...) },
		})
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden replay: %v\n", err)
			return exitFailed
		}
	}
	p := newReplayPipeline(setup, alertsOut, callsOut, store, r.SourceName)
	runErr := p.run(r, func(e error) { fmt.Fprintf(stderr, "gatewarden replay: %v\n", e) })
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
			*dataDir, st.Messages, st.Calls, st.Alerts, st.Dropped, st.Sealed)
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "gatewarden replay: writing output: %v\n", runErr)
		return exitFailed
	}
	if r.Unreadable() > 0 {
		return exitFailed
	}
	return exitOK
}

// loadReplaySetup reads the configuration at path ("" for the defaults) and
// the blocklist it names.
func loadReplaySetup(path string) (*replaySetup, error) {
	cfg := config.Default()
	if path != "" {
		var err error
		if cfg, err = config.Load(path); err != nil {
			return nil, err
		}
	}
	var blocklist rules.Blocklist
	if cfg.BlocklistFile != "" {
		r, err := cfg.NewBlocklistReloader()
		if err != nil {
			return nil, fmt.Errorf("%s: blocklist_file: %w", cfg.File, err)
		}
		blocklist = r
	}
	return &replaySetup{
		rules:      rules.FromConfig(cfg, blocklist),
		partner:    rules.PartnerFunc(cfg),
		sipPartner: rules.SIPPartnerFunc(cfg),
		pcBits:     cfg.PointCodeBits,
		linkPCBits: rules.LinkPCBits(cfg),
	}, nil
}
