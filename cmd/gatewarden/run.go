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
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/config"
	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/deliver"
	"github.com/gatewarden/gatewarden/pipeline"
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
	warm     bool // precedes the committed position: rebuilds decoder state only
}

// A batch's data space: batchBytesPerFrame for each of its frames (SIGTRAN
// frames are mostly under 300 octets; a batch whose space runs out is handed
// on early), and never less than minBatchBytes, so that any frame up to a
// 64 KiB GRO aggregate fits an empty batch.
const (
	batchBytesPerFrame = 256
	minBatchBytes      = 128 << 10
)

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

// loadGeneration reads the configuration at path: everything SIGHUP reloads.
func loadGeneration(path string) (*pipeline.Generation, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	return pipeline.NewGeneration(cfg)
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
	gen     atomic.Pointer[pipeline.Generation]

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
	if err := gen.Config.Daemon.CheckRunnable(); err != nil {
		fmt.Fprintf(stderr, "gatewarden run: %s: %v\n", *configPath, err)
		return 2
	}
	log, err := newCLILogger(stderr, *logFormat, gen.Config.Daemon.LogLevel)
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
func startDaemon(configPath string, gen *pipeline.Generation, log *slog.Logger) (*daemon, error) {
	dc := gen.Config.Daemon
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
		Committed:     true,
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
	d.ship = startShipping(gen.Config, d.store, log)
	if d.alerts, err = openAlertOutputs(&dc, log); err != nil {
		return nil, err
	}
	cpSinks.Store(d.alerts)
	if err := d.store.Checkpoint(); err != nil { // the head at start, to the sinks too
		log.Error("store checkpoint at start", "err", err)
	}
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
	dataCap := max(dc.BatchFrames*batchBytesPerFrame, minBatchBytes)
	for i := 0; i < poolSize; i++ {
		d.free <- &frameBatch{recs: make([]frameRec, 0, dc.BatchFrames), data: make([]byte, 0, dataCap)}
	}

	if len(dc.Interfaces) > 0 {
		d.liveWorkers = make([]liveWorker, dc.Workers)
		d.ifaceNames = dc.Interfaces
	} else {
		d.dir = newDirSource(d, dc.PcapDir, dc.PcapSettle, dc.PcapPoll)
		d.ifaceNames = []string{"pcap_dir"}
	}
	d.ifaces = make([]ifaceCounters, len(d.ifaceNames))

	d.stage = newAnalysisStage(d)
	if err := d.stage.restore(); err != nil {
		return nil, err
	}
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
	// Each sink's delivery cursor lives next to the store, so a restart
	// re-sends what a sink had not acknowledged (RUNBOOK section 4a).
	opt := deliver.Options{QueueLen: queue, Default: deliver.Limit(a.RateLimit), PerRule: map[string]deliver.Limit{},
		OnError:    func(sink string, err error) { log.Warn("alert delivery failed", "sink", sink, "err", err) },
		CursorDir:  filepath.Join(dc.DataDir, "sinks"),
		CursorSync: dc.Retention.FlushPeriod}
	for rule, l := range a.RateLimitPerRule {
		opt.PerRule[rule] = deliver.Limit(l)
	}
	d, err := deliver.OpenDispatcher(opt, sinks...)
	if err != nil {
		for _, s := range sinks {
			s.Close()
		}
		return nil, fmt.Errorf("alerts: %w", err)
	}
	return d, nil
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
		if cfg := d.gen.Load().Config; cfg != nil && cfg.File != "" {
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
			mux.Handle("/", WebMount(WebEnv{Store: d.store, Config: func() *config.Config { return d.gen.Load().Config }, Log: d.log, TLS: tlsCfg != nil}))
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
	if !sameDaemonSection(&g.Config.Daemon, &d.dcfg) {
		d.log.Warn("daemon: section changed; it takes effect on restart only", "config", d.cfgPath)
	}
	d.gen.Store(g)
	d.reloadsOK.Add(1)
	d.log.Info("configuration reloaded", "config", d.cfgPath, "partners", len(g.Config.Partners),
		"blocklist", g.Blocklist != nil)
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
