package main

// The daemon: `gatewarden run --config FILE`.
//
// Stages and queues:
//
//	capture (live AF_PACKET workers, or the capture-directory reader)
//	   │  frames copied into fixed-size batches from a fixed pool
//	   ▼  queue: channel of QueueBatches batches
//	analysis goroutine: decode → store.AddMessage, HEP mirror, assembler
//	   → rules → store.AddCall/AddAlert → alert dispatcher
//	   ▼  per-sink queues (deliver), HEP queue
//	sinks
//
// Nothing between stages grows without bound. Live capture never waits: a
// batch that finds the queue full is dropped and its frames counted by
// reason. The directory reader does wait — its input is already on disk, so
// waiting loses nothing. Alert sinks and the HEP mirror drop and count on
// their own queues; the store counts what it refuses (disk full).

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/config"
	"github.com/gatewarden/gatewarden/analysis/kpi"
	"github.com/gatewarden/gatewarden/analysis/rules"
	"github.com/gatewarden/gatewarden/analysis/transit"
	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/deliver"
	"github.com/gatewarden/gatewarden/retention"
	"github.com/gatewarden/gatewarden/web"
)

func init() {
	register("run", "the daemon: live capture or a capture directory -> calls, rules, store, alerts, /metrics", runDaemon)
}

func runDaemon(args []string) int { return daemonMain(args, os.Stderr) }

// Pipeline drop reasons: why a captured frame never reached the decoder.
const (
	dropQueueFull = iota // the analysis stage is behind: the batch found the queue full
	dropNoBuffer         // no free batch (cannot happen with the pool sized to the queue; counted if it does)
	dropOversize         // frame larger than a batch's data space
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{"queue_full", "no_buffer", "oversize"}

// WebMount is set by the investigator UI (its own file, in init) to serve
// on daemon.listen.web beside /healthz. nil: only /healthz is served there.
var WebMount func(env WebEnv) http.Handler

// WebEnv is what the daemon hands the web UI.
type WebEnv struct {
	Store  *retention.Store
	Config func() *config.Config // the configuration in force (changes on SIGHUP)
	Log    *slog.Logger
	TLS    bool // the listener serves TLS (daemon.web.tls)
}

// frameRec is one frame in a batch; its bytes are data[off:off+n].
type frameRec struct {
	ts       int64
	frame    uint64
	off, n   int32
	linkType uint16
	source   uint16
	iface    uint16
	fcsLen   int8
}

// frameBatch carries frames from capture to analysis. Batches come from a
// fixed pool and go back to it once analysed.
type frameBatch struct {
	recs []frameRec
	data []byte
	// Directory input: the file the frames come from, how many of its frames
	// are done after this batch, and whether the file is finished.
	file      string
	fileFrame uint64
	fileDone  bool
	fileErr   error
}

func (b *frameBatch) reset() {
	b.recs, b.data = b.recs[:0], b.data[:0]
	b.file, b.fileFrame, b.fileDone, b.fileErr = "", 0, false, nil
}

func (b *frameBatch) fits(n int) bool {
	return len(b.recs) < cap(b.recs) && len(b.data)+n <= cap(b.data)
}

func (b *frameBatch) add(f *decode.Frame) {
	off := len(b.data)
	b.data = append(b.data, f.Data...)
	b.recs = append(b.recs, frameRec{ts: f.TS, frame: f.Frame, off: int32(off), n: int32(len(f.Data)),
		linkType: f.LinkType, source: f.Source, iface: f.Iface, fcsLen: f.FCSLen})
}

// generation is everything SIGHUP reloads.
type generation struct {
	cfg        *config.Config
	blocklist  *config.Reloader // nil: none
	settings   rules.Settings
	pcBits     uint8
	linkPCBits map[netip.Addr]uint8
}

func loadGeneration(path string) (*generation, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	return newGeneration(cfg)
}

func newGeneration(cfg *config.Config) (*generation, error) {
	g := &generation{cfg: cfg, pcBits: cfg.PointCodeBits, linkPCBits: rules.LinkPCBits(cfg)}
	var bl rules.Blocklist
	if cfg.BlocklistFile != "" {
		r, err := cfg.NewBlocklistReloader()
		if err != nil {
			return nil, fmt.Errorf("%s: blocklist_file: %w", cfg.File, err)
		}
		g.blocklist, bl = r, r
	}
	g.settings = rules.FromConfig(cfg, bl)
	return g, nil
}

// ifaceCounters count what capture handed the pipeline per interface.
type ifaceCounters struct {
	packets, bytes atomic.Uint64
}

type liveWorker struct {
	mu  sync.Mutex
	cur *frameBatch
}

// daemon is one running instance.
type daemon struct {
	log     *slog.Logger
	cfgPath string
	dcfg    config.Daemon // fixed for the life of the process
	gen     atomic.Pointer[generation]

	queue chan *frameBatch
	free  chan *frameBatch
	drops [numDropReasons]atomic.Uint64

	store  *retention.Store
	alerts *deliver.Dispatcher
	hep    *deliver.HEPMirror // nil: off
	ship   *daemonShipping    // nil: no central store (run_central.go)

	live        *capture.Live
	liveWorkers []liveWorker
	ifaceNames  []string
	ifaces      []ifaceCounters
	dir         *dirSource

	stage *analysisStage
	met   *daemonMetrics

	reloadsOK, reloadsFailed atomic.Uint64

	inputCtx    context.Context
	inputCancel context.CancelFunc
	inputDone   chan struct{}
	stageDone   chan struct{}
	flusherStop chan struct{}
	flusherDone chan struct{}

	servers   []*http.Server
	listeners []net.Listener
	started   time.Time
}

func daemonMain(args []string, stderr io.Writer) int {
	fs := newFlagSet("run", helpOut, stderr)
	configPath := fs.String("config", "", "YAML configuration with a daemon: section (see deploy/gatewarden.example.yaml)")
	logFormat := fs.logFormatFlag()
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: gatewarden run --config FILE [--log-format json|text]\n\n"+
			"Captures live (daemon.capture.interfaces) or from a directory of rotating captures\n"+
			"(daemon.pcap_dir), keeps every ISUP message, call and alert in daemon.data_dir,\n"+
			"delivers alerts and serves /metrics. SIGHUP reloads partners, rules, thresholds and\n"+
			"the blocklist; SIGTERM drains the queues, seals the store and exits.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *configPath == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	gen, err := loadGeneration(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden run: %v\n", err)
		return 2
	}
	if err := gen.cfg.Daemon.CheckRunnable(); err != nil {
		fmt.Fprintf(stderr, "gatewarden run: %s: %v\n", *configPath, err)
		return 2
	}
	log, err := newCLILogger(stderr, *logFormat, gen.cfg.Daemon.LogLevel)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden run: %v\n", err)
		return 2
	}

	// Signals are registered before anything starts so none is missed.
	hup := make(chan os.Signal, 4)
	signal.Notify(hup, syscall.SIGHUP)
	term := make(chan os.Signal, 2)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(hup)
	defer signal.Stop(term)

	d, err := startDaemon(*configPath, gen, log)
	if err != nil {
		log.Error("start failed", "err", err)
		return 1
	}
	for {
		select {
		case <-hup:
			d.reload()
			continue
		case s := <-term:
			log.Info("stopping", "signal", s.String())
		}
		break
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.dcfg.ShutdownWait)
	defer cancel()
	if err := d.stop(ctx); err != nil {
		log.Error("stopped with errors", "err", err)
		return 1
	}
	return 0
}

// startDaemon opens the store, the outputs and the input, and starts every
// stage. configPath is what reload re-reads.
func startDaemon(configPath string, gen *generation, log *slog.Logger) (*daemon, error) {
	dc := gen.cfg.Daemon
	d := &daemon{log: log, cfgPath: configPath, dcfg: dc, started: time.Now()}
	d.gen.Store(gen)
	ok := false
	defer func() {
		if !ok {
			d.closeOutputs(context.Background())
		}
	}()

	// Capture first: a missing interface or privilege fails before anything
	// is created on disk.
	var err error
	if len(dc.Interfaces) > 0 {
		d.live, err = capture.OpenLive(capture.LiveConfig{Interfaces: dc.Interfaces, Workers: dc.Workers,
			Filter: dc.BPF, Promiscuous: dc.Promiscuous})
		if err != nil {
			return nil, err
		}
	}
	var cpSinks atomic.Pointer[deliver.Dispatcher] // set once the sinks are open
	d.store, err = retention.Open(filepath.Join(dc.DataDir, "store"), retention.Options{
		FlushInterval: dc.Retention.FlushPeriod,
		RetentionDays: dc.Retention.Days,
		MaxBytes:      dc.Retention.MaxBytes,
		MinFreeBytes:  dc.Retention.MinFreeMiB << 20,
		Logf:          func(format string, a ...any) { log.Info(fmt.Sprintf(format, a...), "component", "retention") },
		Warnf:         func(format string, a ...any) { log.Warn(fmt.Sprintf(format, a...), "component", "retention") },
		Errorf:        func(format string, a ...any) { log.Error(fmt.Sprintf(format, a...), "component", "retention") },
		// Signed checkpoints go to the alert sinks too, so a SIEM holds the head off the box.
		OnCheckpoint: func(c retention.Checkpoint) {
			if a := cpSinks.Load(); a != nil {
				a.Send(&analysis.Alert{TS: time.Now().UnixNano(), Rule: "store.checkpoint", Severity: analysis.SeverityInfo, Detail: c.String()})
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	d.ship = startShipping(gen.cfg, d.store, log)
	if d.alerts, err = openAlertOutputs(&dc, log); err != nil {
		return nil, err
	}
	cpSinks.Store(d.alerts)
	if dc.HEP.Address != "" {
		if d.hep, err = deliver.NewHEPMirror(dc.HEP.Address, dc.HEP.AgentID, dc.HEP.Password, dc.HEP.Queue); err != nil {
			return nil, fmt.Errorf("hep: %w", err)
		}
	}

	// The pool holds every batch that can exist: the queue's, one being
	// analysed, one being filled per producer, and one spare.
	producers := 1
	if len(dc.Interfaces) > 0 {
		producers = dc.Workers
	}
	d.queue = make(chan *frameBatch, dc.QueueBatches)
	poolSize := dc.QueueBatches + producers + 2
	d.free = make(chan *frameBatch, poolSize)
	dataCap := max(dc.BatchFrames*2048, 128<<10)
	for i := 0; i < poolSize; i++ {
		d.free <- &frameBatch{recs: make([]frameRec, 0, dc.BatchFrames), data: make([]byte, 0, dataCap)}
	}

	if len(dc.Interfaces) > 0 {
		d.liveWorkers = make([]liveWorker, dc.Workers)
		d.ifaceNames = dc.Interfaces
	} else {
		d.dir = newDirSource(d, dc.PcapDir, dc.PcapSettle, dc.PcapPoll, filepath.Join(dc.DataDir, "pcap_dir.progress"))
		if err := d.dir.loadProgress(); err != nil {
			return nil, err
		}
		d.ifaceNames = []string{"pcap_dir"}
	}
	d.ifaces = make([]ifaceCounters, len(d.ifaceNames))

	d.stage = newAnalysisStage(d)
	d.met = newDaemonMetrics(d)
	if err := d.listen(); err != nil {
		if d.live != nil {
			d.live.Close()
		}
		return nil, err
	}

	d.stageDone = make(chan struct{})
	go func() {
		defer close(d.stageDone)
		d.stage.run()
	}()
	d.inputCtx, d.inputCancel = context.WithCancel(context.Background())
	d.inputDone = make(chan struct{})
	if d.live != nil {
		d.flusherStop, d.flusherDone = make(chan struct{}), make(chan struct{})
		go d.liveFlusher()
		go func() {
			defer close(d.inputDone)
			if err := d.live.Run(d.liveFrame); err != nil {
				log.Error("live capture", "err", err)
			}
		}()
	} else {
		go func() {
			defer close(d.inputDone)
			d.dir.run(d.inputCtx)
		}()
	}
	ok = true
	log.Info("started", "input", d.inputName(), "data_dir", dc.DataDir, "metrics", d.addr(0), "web", d.webAddr(), "queue_batches", dc.QueueBatches,
		"frames_per_batch", dc.BatchFrames, "alert_sinks", len(d.sinkNames()), "hep", dc.HEP.Address)
	return d, nil
}

func (d *daemon) inputName() string {
	if d.live != nil {
		return "live:" + strings.Join(d.dcfg.Interfaces, ",")
	}
	return "pcap_dir:" + d.dcfg.PcapDir
}

func (d *daemon) sinkNames() []string {
	st, _ := d.alerts.Stats()
	names := make([]string, len(st))
	for i, s := range st {
		names[i] = s.Name
	}
	return names
}

func openAlertOutputs(dc *config.Daemon, log *slog.Logger) (*deliver.Dispatcher, error) {
	var sinks []deliver.Sink
	a := &dc.Alerts
	if a.File != nil {
		s, err := deliver.NewFileSink(a.File.Path, a.File.MaxBytes, a.File.Keep)
		if err != nil {
			return nil, fmt.Errorf("alerts.file: %w", err)
		}
		sinks = append(sinks, s)
	}
	if a.Syslog != nil {
		s, err := deliver.NewSyslog(a.Syslog.Network, a.Syslog.Address, a.Syslog.Facility, a.Syslog.Hostname, a.Syslog.AppName)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, s)
	}
	queue := 1024
	if w := a.Webhook; w != nil {
		sinks = append(sinks, deliver.NewWebhook(w.URL, w.Timeout, w.Retries, w.BackoffMin, w.BackoffMax, w.Headers))
		queue = w.Queue
	}
	opt := deliver.Options{QueueLen: queue, Default: deliver.Limit(a.RateLimit), PerRule: map[string]deliver.Limit{},
		OnError: func(sink string, err error) { log.Warn("alert delivery failed", "sink", sink, "err", err) }}
	for rule, l := range a.RateLimitPerRule {
		opt.PerRule[rule] = deliver.Limit(l)
	}
	return deliver.NewDispatcher(opt, sinks...), nil
}

// listen binds the metrics and web listeners (separately, so /metrics can sit
// on a management network while the UI faces investigators).
func (d *daemon) listen() error {
	health := http.HandlerFunc(d.healthz)
	if d.dcfg.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", d.met)
		mux.Handle("/healthz", health)
		if err := d.serve(d.dcfg.MetricsAddr, mux); err != nil {
			return fmt.Errorf("listen.metrics: %w", err)
		}
	}
	if d.dcfg.WebAddr != "" {
		// TLS comes from daemon.web.tls, the web UI's own section; the
		// certificate is loaded now so a bad one fails the start, not the
		// first investigator.
		var tlsCfg *tls.Config
		if cfg := d.gen.Load().cfg; cfg != nil && cfg.File != "" {
			wc, err := web.LoadConfig(cfg.File)
			if err == nil && wc.TLS.Cert != "" {
				cert, err := tls.LoadX509KeyPair(wc.TLS.Cert, wc.TLS.Key)
				if err != nil {
					return fmt.Errorf("daemon.web.tls: %w", err)
				}
				tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			}
		}
		mux := http.NewServeMux()
		mux.Handle("/healthz", health)
		if WebMount != nil {
			mux.Handle("/", WebMount(WebEnv{Store: d.store, Config: func() *config.Config { return d.gen.Load().cfg }, Log: d.log, TLS: tlsCfg != nil}))
		}
		if err := d.serveTLS(d.dcfg.WebAddr, mux, tlsCfg); err != nil {
			return fmt.Errorf("listen.web: %w", err)
		}
	}
	return nil
}

func (d *daemon) serve(addr string, h http.Handler) error { return d.serveTLS(addr, h, nil) }

// serveTLS serves h on addr, over TLS when tlsCfg is set.
func (d *daemon) serveTLS(addr string, h http.Handler, tlsCfg *tls.Config) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	// Handshake noise (scanners, plain HTTP to a TLS port) goes to the debug log.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, TLSConfig: tlsCfg,
		ErrorLog: slog.NewLogLogger(d.log.Handler(), slog.LevelDebug)}
	d.servers = append(d.servers, srv)
	d.listeners = append(d.listeners, ln)
	go func() {
		var err error
		if tlsCfg != nil {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("http server", "addr", addr, "err", err)
		}
	}()
	return nil
}

// webAddr is the bound address of the web UI listener ("" if none); it is
// the last one started.
func (d *daemon) webAddr() string {
	if d.dcfg.WebAddr == "" {
		return ""
	}
	return d.addr(len(d.listeners) - 1)
}

// addr is the bound address of listener i ("" if none): tests listen on port 0.
func (d *daemon) addr(i int) string {
	if i < len(d.listeners) {
		return d.listeners[i].Addr().String()
	}
	return ""
}

func (d *daemon) healthz(w http.ResponseWriter, r *http.Request) {
	select {
	case <-d.stageDone:
		http.Error(w, "analysis stage stopped\n", http.StatusServiceUnavailable)
		return
	default:
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"status": "ok", "input": d.inputName(),
		"uptime_s": int64(time.Since(d.started).Seconds()), "queue": len(d.queue), "queue_capacity": cap(d.queue)})
}

// liveFrame is the capture callback of worker w: copy the frame into the
// worker's batch, hand full batches on without waiting.
func (d *daemon) liveFrame(w int, f *decode.Frame) {
	if int(f.Source) < len(d.ifaces) {
		c := &d.ifaces[f.Source]
		c.packets.Add(1)
		c.bytes.Add(uint64(len(f.Data)))
	}
	lw := &d.liveWorkers[w]
	lw.mu.Lock()
	if lw.cur != nil && !lw.cur.fits(len(f.Data)) {
		d.flushLive(lw)
	}
	if lw.cur == nil {
		select {
		case lw.cur = <-d.free:
		default:
			lw.mu.Unlock()
			d.drops[dropNoBuffer].Add(1)
			return
		}
	}
	if !lw.cur.fits(len(f.Data)) {
		lw.mu.Unlock()
		d.drops[dropOversize].Add(1)
		return
	}
	lw.cur.add(f)
	if len(lw.cur.recs) == cap(lw.cur.recs) {
		d.flushLive(lw)
	}
	lw.mu.Unlock()
}

// flushLive queues the worker's batch or, when the queue is full, drops its
// frames and counts them. Called with lw.mu held.
func (d *daemon) flushLive(lw *liveWorker) {
	b := lw.cur
	if b == nil || len(b.recs) == 0 {
		return
	}
	select {
	case d.queue <- b:
		lw.cur = nil
	default:
		d.drops[dropQueueFull].Add(uint64(len(b.recs)))
		b.reset()
	}
}

// liveFlusher bounds the latency at low traffic: partly filled batches are
// queued every 20 ms.
func (d *daemon) liveFlusher() {
	defer close(d.flusherDone)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-d.flusherStop:
			return
		case <-t.C:
			for i := range d.liveWorkers {
				lw := &d.liveWorkers[i]
				lw.mu.Lock()
				d.flushLive(lw)
				lw.mu.Unlock()
			}
		}
	}
}

// reload re-reads the configuration and the blocklist and hands them to the
// analysis stage, which switches between two batches. A bad file leaves the
// configuration in force.
func (d *daemon) reload() {
	g, err := loadGeneration(d.cfgPath)
	if err != nil {
		d.reloadsFailed.Add(1)
		d.log.Error("reload failed; keeping the configuration in force", "config", d.cfgPath, "err", err)
		return
	}
	if !sameDaemonSection(&g.cfg.Daemon, &d.dcfg) {
		d.log.Warn("daemon: section changed; it takes effect on restart only", "config", d.cfgPath)
	}
	d.gen.Store(g)
	d.reloadsOK.Add(1)
	d.log.Info("configuration reloaded", "config", d.cfgPath, "partners", len(g.cfg.Partners),
		"blocklist", g.blocklist != nil)
}

func sameDaemonSection(a, b *config.Daemon) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// stop drains and closes everything in order: input, queue, analysis (calls
// still open are closed and recorded), the HTTP servers, then the store
// (sealed; its checkpoint is sent), alert sinks and HEP.
func (d *daemon) stop(ctx context.Context) error {
	d.inputCancel()
	if d.live != nil {
		d.live.Stop()
	}
	<-d.inputDone
	if d.live != nil {
		close(d.flusherStop)
		<-d.flusherDone
		for i := range d.liveWorkers {
			lw := &d.liveWorkers[i]
			if lw.cur != nil && len(lw.cur.recs) > 0 {
				d.queue <- lw.cur // the stage is still draining: this waits at most for it
				lw.cur = nil
			}
		}
	}
	close(d.queue)
	select {
	case <-d.stageDone:
	case <-ctx.Done():
		d.log.Error("shutdown timeout: analysis still draining; waiting for it before sealing the store")
		<-d.stageDone
	}
	// No scrape or UI request may see the store closed under it.
	for _, s := range d.servers {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s.Shutdown(sctx)
		cancel()
	}
	err := d.closeOutputs(ctx)
	st := d.stage.final
	d.log.Info("stopped", "frames", st.frames, "messages", st.messages, "calls", st.calls, "alerts", st.alerts,
		"pipeline_drops", d.totalDrops(), "err", err)
	return err
}

func (d *daemon) totalDrops() uint64 {
	var n uint64
	for i := range d.drops {
		n += d.drops[i].Load()
	}
	return n
}

func (d *daemon) closeOutputs(ctx context.Context) error {
	d.ship.stop()
	var errs []error
	if d.store != nil { // first: its last checkpoint goes to the alert sinks
		errs = append(errs, d.store.Close())
	}
	if d.alerts != nil {
		errs = append(errs, d.alerts.Close(ctx))
	}
	if d.hep != nil {
		errs = append(errs, d.hep.Close())
	}
	if d.live != nil {
		errs = append(errs, d.live.Close())
	}
	return errors.Join(errs...)
}

// dirSource reads a directory of rotating capture files: each complete file
// once, in name order (rotating capture tools name files by time), and
// remembers how far it got in a progress file so a restart neither skips
// nor repeats frames.
type dirSource struct {
	d              *daemon
	dir            string
	settle, poll   time.Duration
	progressPath   string
	sent           string // reader: last file whose frames were all queued
	partial        string // at start: file stopped midway…
	partialFrames  uint64 // …after this many frames
	doneLast       string // analysis stage: last file analysed to the end
	seq            uint16 // decoder source index of the current file
	filesDone      atomic.Uint64
	filesFailed    atomic.Uint64
	progressWrites atomic.Uint64
}

type dirProgress struct {
	Last          string `json:"last_done"`
	Partial       string `json:"partial,omitempty"`
	PartialFrames uint64 `json:"partial_frames,omitempty"`
}

func newDirSource(d *daemon, dir string, settle, poll time.Duration, progressPath string) *dirSource {
	return &dirSource{d: d, dir: dir, settle: settle, poll: poll, progressPath: progressPath}
}

func (s *dirSource) loadProgress() error {
	b, err := os.ReadFile(s.progressPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var p dirProgress
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("%s: %w", s.progressPath, err)
	}
	s.sent, s.doneLast, s.partial, s.partialFrames = p.Last, p.Last, p.Partial, p.PartialFrames
	return nil
}

// saveProgress is called by the analysis stage once frames are analysed.
func (s *dirSource) saveProgress(file string, frames uint64, done bool) {
	p := dirProgress{Last: s.doneLast}
	if done {
		p.Last = file
		s.doneLast = file
	} else {
		p.Partial, p.PartialFrames = file, frames
	}
	b, _ := json.Marshal(p)
	tmp := s.progressPath + ".tmp"
	if err := os.MkdirAll(filepath.Dir(tmp), 0o750); err == nil {
		if err = os.WriteFile(tmp, b, 0o640); err == nil {
			err = os.Rename(tmp, s.progressPath)
		}
		if err != nil {
			s.d.log.Error("pcap_dir: cannot save progress", "file", s.progressPath, "err", err)
		}
	}
	s.progressWrites.Add(1)
}

func isCaptureName(name string) bool {
	name = strings.TrimSuffix(name, ".gz")
	return strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng") || strings.HasSuffix(name, ".cap")
}

// pending lists the files after the last one done, in name order, and how
// many of them are complete: every file but the newest, and the newest too
// once it has not grown for the settle time.
func (s *dirSource) pending() ([]string, int) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		s.d.log.Warn("pcap_dir: cannot list", "dir", s.dir, "err", err)
		return nil, 0
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && isCaptureName(e.Name()) && e.Name() > s.sent {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, 0
	}
	complete := len(names) - 1
	if fi, err := os.Stat(filepath.Join(s.dir, names[complete])); err == nil && time.Since(fi.ModTime()) >= s.settle {
		complete++
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
	if name == s.partial {
		skip = s.partialFrames
	}
	s.seq++
	f, err := capture.OpenFile(path)
	var b *frameBatch
	get := func() bool {
		select {
		case b = <-s.d.free:
			b.reset()
			b.file = path
			return true
		case <-ctx.Done():
			return false
		}
	}
	put := func() bool {
		select {
		case s.d.queue <- b:
			b = nil
			return true
		case <-ctx.Done():
			s.d.free <- b
			b = nil
			return false
		}
	}
	if !get() {
		return false
	}
	if err != nil {
		b.fileDone, b.fileErr = true, err
		if put() {
			s.sent = name
			return true
		}
		return false
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
			if put() {
				s.sent = name
				return true
			}
			return false
		}
		if fr.Frame <= skip {
			continue
		}
		fr.Source = s.seq
		counters.packets.Add(1)
		counters.bytes.Add(uint64(len(fr.Data)))
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
	}
}

// stageTotals are the analysis stage's final counts, for the last log line.
type stageTotals struct {
	frames, messages, calls, alerts uint64
}

// analysisStage owns the decoder, assembler and rules engine: one goroutine.
type analysisStage struct {
	d   *daemon
	gen *generation
	dec *decode.Decoder
	// decBase keeps the counts of decoders replaced by a reload that changed
	// point-code widths.
	decBase decode.Stats
	asm     *analysis.Assembler
	eng     *rules.Engine
	// blocklist is the reloader the engine in force consults.
	blocklist    *config.Reloader
	enginesBuilt int // rules engines reconfigured by reloads (tests)

	source string       // name of the current batch's source
	frame  decode.Frame // reused: the decoder keeps a pointer to it while decoding

	// Counters owned by the stage goroutine, published for /metrics.
	msgs        map[string]*[256]uint64 // by partner, ISUP type
	lastPartner string
	lastCounts  *[256]uint64
	calls       map[string]*[6]uint64 // by partner, outcome
	alerts      map[[2]string]uint64  // by rule, partner
	routes      kpi.Counters          // route KPIs by partner, link, direction

	mu        sync.Mutex
	published published
	lastPub   time.Time
	lastBL    time.Time

	final stageTotals

	// Directory progress of the last analysed batch, saved at most once a second.
	progFile   string
	progFrames uint64
	progDirty  bool
	lastProg   time.Time
}

// published is the stage's counters as of its last publication.
type published struct {
	dec     decode.Stats
	asm     analysis.AssemblerStats
	open    int
	msgs    map[string][256]uint64
	calls   map[string][6]uint64
	alerts  map[[2]string]uint64
	routes  map[kpi.Key]kpi.RouteCounters
	transit transit.Stats
	// routes not followed because a table was full: route rules, KPI counters
	routeOverflow [2]uint64
	reloaded      int
}

func newAnalysisStage(d *daemon) *analysisStage {
	st := &analysisStage{d: d, msgs: map[string]*[256]uint64{}, calls: map[string]*[6]uint64{}, alerts: map[[2]string]uint64{}}
	st.gen = d.gen.Load()
	st.eng = rules.New(st.gen.settings, st.onAlert)
	st.blocklist = st.gen.blocklist
	st.asm = analysis.NewAssembler(analysis.AssemblerConfig{
		// Through the stage, not the generation: a reload swaps what these see.
		Partner:    func(addr netip.Addr, pc uint32) string { return st.gen.cfg.PartnerName(addr, pc) },
		SIPPartner: func(ap netip.AddrPort) string { return st.gen.cfg.SIPPartnerName(ap) },
		Open:       func(c *analysis.Call) { st.eng.Open(c) },
		Setup:      func(c *analysis.Call) { st.eng.Setup(c) },
		Close:      st.onClose,
	})
	st.dec = st.newDecoder()
	st.publish()
	return st
}

func (st *analysisStage) newDecoder() *decode.Decoder {
	return decode.New(decode.Config{PCBits: st.gen.pcBits, LinkPCBits: st.gen.linkPCBits, SIP: true}, st.onMessage)
}

// applyReload switches to a new generation between two batches. The
// assembler and its calls in flight are always kept. The rules engine is
// reconfigured only when the rules' settings changed (partners, plan,
// protected numbers, thresholds, severities, blocklist file); its behaviour
// windows keep their counts. The decoder is kept unless point-code widths changed.
func (st *analysisStage) applyReload(g *generation) {
	old := st.gen
	st.gen = g
	if sameRules(old, g) {
		// The blocklist reloader in force keeps watching the same file.
		st.blocklist = old.blocklist
		if st.blocklist == nil {
			st.blocklist = g.blocklist
		}
	} else {
		st.eng.Reconfigure(g.settings)
		st.blocklist = g.blocklist
		st.enginesBuilt++
	}
	if g.pcBits != old.pcBits || !sameWidths(g.linkPCBits, old.linkPCBits) {
		st.dec.Flush()
		s := st.dec.Stats()
		st.decBase.Add(&s)
		st.dec = st.newDecoder()
	}
}

// sameRules reports whether two generations give the rules the same
// settings (the blocklist compared by file, not by reloader).
func sameRules(a, b *generation) bool {
	if a.cfg.BlocklistFile != b.cfg.BlocklistFile {
		return false
	}
	sa, sb := a.settings, b.settings
	sa.Blocklist, sb.Blocklist = nil, nil
	return reflect.DeepEqual(sa, sb)
}

func sameWidths(a, b map[netip.Addr]uint8) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func (st *analysisStage) run() {
	// Idle or not, counters are published and the blocklist looked at on a
	// timer; under load housekeeping after each batch does it.
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
			st.housekeeping(true)
		}
	}
}

func (st *analysisStage) batch(b *frameBatch) {
	if g := st.d.gen.Load(); g != st.gen {
		st.applyReload(g)
	}
	if b.file != "" {
		st.source = b.file
	}
	f := &st.frame
	for i := range b.recs {
		r := &b.recs[i]
		*f = decode.Frame{TS: r.ts, LinkType: r.linkType, Source: r.source, Frame: r.frame, Iface: r.iface,
			FCSLen: r.fcsLen, Data: b.data[r.off : r.off+r.n]}
		if b.file == "" && int(r.source) < len(st.d.ifaceNames) {
			st.source = st.d.ifaceNames[r.source]
		}
		st.dec.Decode(f)
	}
	fileDone := b.file != "" && st.fileProgress(b)
	b.reset()
	st.d.free <- b
	st.housekeeping(fileDone)
	if fileDone {
		// Counted after publishing, so a scrape that sees the file done
		// also sees everything decoded from it.
		st.d.dir.filesDone.Add(1)
	}
}

// finish ends the input: pending reassemblies are dropped and counted, calls
// still open are closed and recorded.
func (st *analysisStage) finish() {
	st.dec.Flush()
	st.asm.Flush()
	if st.progDirty {
		st.d.dir.saveProgress(st.progFile, st.progFrames, false)
	}
	st.publish()
	ds := st.dec.Stats()
	ds.Add(&st.decBase)
	as := st.asm.Stats()
	var alerts uint64
	for _, n := range st.alerts {
		alerts += n
	}
	st.final = stageTotals{frames: ds.Frames, messages: ds.Messages, calls: as.Closed, alerts: alerts}
}

// fileProgress records how far the directory input got; it reports whether
// the batch finished its file.
func (st *analysisStage) fileProgress(b *frameBatch) bool {
	src := st.d.dir
	if b.fileDone {
		if b.fileErr != nil {
			src.filesFailed.Add(1)
			st.d.log.Warn("pcap_dir: file ended with an error; frames before it were analysed", "file", b.file, "err", b.fileErr)
		}
		src.saveProgress(filepath.Base(b.file), b.fileFrame, true)
		st.progDirty = false
		st.d.log.Info("pcap_dir: done", "file", b.file, "frames", b.fileFrame)
		return true
	}
	st.progFile, st.progFrames, st.progDirty = filepath.Base(b.file), b.fileFrame, true
	if time.Since(st.lastProg) >= time.Second {
		src.saveProgress(st.progFile, st.progFrames, false)
		st.progDirty = false
		st.lastProg = time.Now()
	}
	return false
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
	if bl := st.blocklist; bl != nil && now.Sub(st.lastBL) >= time.Second {
		st.lastBL = now
		if reloaded, err := bl.Check(now); err != nil {
			st.d.log.Error("blocklist", "err", err)
		} else if reloaded {
			st.d.log.Info("blocklist reloaded", "file", bl.Path(), "numbers", bl.Blocklist().Len())
		}
	}
}

func (st *analysisStage) publish() {
	p := published{dec: st.dec.Stats(), asm: st.asm.Stats(), open: st.asm.OpenCalls(),
		msgs: make(map[string][256]uint64, len(st.msgs)), calls: make(map[string][6]uint64, len(st.calls)),
		alerts: make(map[[2]string]uint64, len(st.alerts))}
	p.dec.Add(&st.decBase)
	for k, v := range st.msgs {
		p.msgs[k] = *v
	}
	for k, v := range st.calls {
		p.calls[k] = *v
	}
	for k, v := range st.alerts {
		p.alerts[k] = v
	}
	p.routes, p.transit = st.routes.Snapshot(), st.eng.TransitStats()
	p.routeOverflow = [2]uint64{st.eng.RouteOverflow(), st.routes.Overflow}
	st.mu.Lock()
	st.published = p
	st.mu.Unlock()
}

func (st *analysisStage) snapshot() published {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.published
}

// onMessage: every decoded ISUP message is counted, stored, mirrored and fed
// to the assembler.
func (st *analysisStage) onMessage(m *decode.Message) {
	cfg := st.gen.cfg
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
	if err := st.d.store.AddMessage(m, st.source); err != nil {
		st.storeError(err)
	}
	if st.d.hep != nil {
		st.d.hep.Mirror(m)
	}
	st.asm.Feed(m)
}

func (st *analysisStage) onClose(c *analysis.Call) {
	st.eng.Close(c)
	st.routes.Add(c)
	counts := st.calls[c.Partner]
	if counts == nil {
		counts = new([6]uint64)
		st.calls[c.Partner] = counts
	}
	if int(c.Outcome) < len(counts) {
		counts[c.Outcome]++
	}
	if err := st.d.store.AddCall(c); err != nil {
		st.storeError(err)
	}
}

func (st *analysisStage) onAlert(a *analysis.Alert) {
	st.alerts[[2]string{a.Rule, a.Partner}]++
	if err := st.d.store.AddAlert(a); err != nil {
		st.storeError(err)
	}
	st.d.alerts.Send(a)
}

// storeError logs store refusals at most once a minute; they are counted by
// the store (gatewarden_store_dropped_records_total).
var lastStoreErrorLog atomic.Int64

func (st *analysisStage) storeError(err error) {
	now := time.Now().UnixNano()
	if last := lastStoreErrorLog.Load(); now-last > int64(time.Minute) && lastStoreErrorLog.CompareAndSwap(last, now) {
		st.d.log.Error("store refused a record (counted; further errors this minute are not logged)", "err", err)
	}
}
