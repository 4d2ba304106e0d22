package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatewarden/gatewarden/analysis/rules"
	"github.com/gatewarden/gatewarden/capture"
)

// Daemon is the `daemon:` section: what `gatewarden run` captures, where it
// keeps data, where it listens and where alerts go. Absent from the file, it
// is the zero value with Present false (replay and decode ignore it).
type Daemon struct {
	Present bool

	// Input: live interfaces or a directory of rotating capture files, not both.
	Interfaces  []string
	Workers     int    // AF_PACKET fanout members per interface (default 1)
	BPF         string // capture filter (see capture.FilterHelp); "" for none
	Promiscuous bool
	PcapDir     string        // resolved against the file's directory
	PcapSettle  time.Duration // a file not grown for this long is complete (default 10 s)
	PcapPoll    time.Duration // how often the directory is listed (default 1 s)

	// Queues between stages: capacity in batches and frames per batch.
	QueueBatches int // default 64
	BatchFrames  int // default 2048

	DataDir      string // retention store (default /var/lib/gatewarden)
	Retention    Retention
	MetricsAddr  string // "" disables /metrics
	WebAddr      string // UI/API listener; "" disables it
	Alerts       AlertOutputs
	HEP          HEPOutput
	LogLevel     string // debug, info, warn, error (default info)
	ShutdownWait time.Duration
}

// Retention bounds the store.
type Retention struct {
	Days        int   // 0 keeps forever
	MaxBytes    int64 // 0: no budget
	MinFreeMiB  int64 // default 256; negative disables
	FlushPeriod time.Duration
}

// AlertOutputs lists where alerts are delivered besides the store.
type AlertOutputs struct {
	File    *FileSink
	Syslog  *SyslogSink
	Webhook *WebhookSink
	// RateLimit caps delivered alerts per rule (token bucket over capture
	// time); rules not listed use Default. A zero Default means no limit.
	RateLimit        RateLimit
	RateLimitPerRule map[string]RateLimit
}

// RateLimit is a token bucket: PerSecond tokens a second, at most Burst held.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// FileSink writes alerts as JSON lines with size-based rotation.
type FileSink struct {
	Path     string
	MaxBytes int64 // rotate beyond this (default 100 MiB)
	Keep     int   // rotated files kept (default 10)
}

// SyslogSink sends RFC 5424 messages.
type SyslogSink struct {
	Network  string // udp or tcp
	Address  string
	Facility int    // 0..23 (default 4, security/authorization)
	AppName  string // default "gatewarden"
	Hostname string // default: os.Hostname
}

// WebhookSink POSTs each alert as JSON.
type WebhookSink struct {
	URL        string
	Timeout    time.Duration // per attempt (default 5 s)
	Retries    int           // after the first attempt (default 5)
	BackoffMin time.Duration // first retry delay (default 500 ms), doubled each time
	BackoffMax time.Duration // default 30 s
	Queue      int           // alerts waiting; beyond it they are dropped and counted (default 1024)
	Headers    map[string]string
}

// HEPOutput mirrors decoded messages to a Homer collector over UDP.
type HEPOutput struct {
	Address  string // host:port; "" disables
	AgentID  uint32
	Password string
	Queue    int // messages waiting to be sent (default 8192)
}

type fileDaemon struct {
	Capture struct {
		Interfaces  []string `yaml:"interfaces"`
		Workers     *int     `yaml:"workers"`
		BPF         string   `yaml:"bpf"`
		Promiscuous *bool    `yaml:"promiscuous"`
	} `yaml:"capture"`
	PcapDir    string  `yaml:"pcap_dir"`
	PcapSettle *string `yaml:"pcap_settle"`
	PcapPoll   *string `yaml:"pcap_poll"`
	Queue      struct {
		Batches *int `yaml:"batches"`
		Frames  *int `yaml:"frames_per_batch"`
	} `yaml:"queue"`
	DataDir   string `yaml:"data_dir"`
	Retention struct {
		Days        *int    `yaml:"days"`
		MaxGiB      *int64  `yaml:"max_gib"`
		MinFreeMiB  *int64  `yaml:"min_free_mib"`
		FlushPeriod *string `yaml:"flush_interval"`
	} `yaml:"retention"`
	Listen struct {
		Metrics *string `yaml:"metrics"`
		Web     *string `yaml:"web"`
	} `yaml:"listen"`
	Alerts struct {
		File *struct {
			Path   string `yaml:"path"`
			MaxMiB *int64 `yaml:"max_mib"`
			Keep   *int   `yaml:"keep"`
		} `yaml:"file"`
		Syslog *struct {
			Network  string `yaml:"network"`
			Address  string `yaml:"address"`
			Facility *int   `yaml:"facility"`
			AppName  string `yaml:"app_name"`
			Hostname string `yaml:"hostname"`
		} `yaml:"syslog"`
		Webhook *struct {
			URL        string            `yaml:"url"`
			Timeout    *string           `yaml:"timeout"`
			Retries    *int              `yaml:"retries"`
			BackoffMin *string           `yaml:"backoff_min"`
			BackoffMax *string           `yaml:"backoff_max"`
			Queue      *int              `yaml:"queue"`
			Headers    map[string]string `yaml:"headers"`
		} `yaml:"webhook"`
		RateLimit map[string]fileRateLimit `yaml:"rate_limit"`
	} `yaml:"alerts"`
	HEP struct {
		Address  string  `yaml:"address"`
		AgentID  *uint32 `yaml:"agent_id"`
		Password string  `yaml:"password"`
		Queue    *int    `yaml:"queue"`
	} `yaml:"hep"`
	LogLevel     string  `yaml:"log_level"`
	ShutdownWait *string `yaml:"shutdown_timeout"`
	// Web (users, tokens, tls, audit_log) is read and validated by package
	// web (web.LoadConfig), the one place that uses it.
	Web map[string]any `yaml:"web"`
}

type fileRateLimit struct {
	PerSecond float64 `yaml:"per_second"`
	Burst     int     `yaml:"burst"`
}

// DefaultDataDir is where the store lives unless daemon.data_dir says otherwise.
const DefaultDataDir = "/var/lib/gatewarden"

// defaultDaemon returns the daemon settings that apply to every absent key.
func defaultDaemon() Daemon {
	return Daemon{
		Workers: 1, PcapSettle: 10 * time.Second, PcapPoll: time.Second,
		QueueBatches: 64, BatchFrames: 2048, DataDir: DefaultDataDir,
		Retention:    Retention{MinFreeMiB: 256, FlushPeriod: time.Second},
		MetricsAddr:  "127.0.0.1:9100",
		LogLevel:     "info",
		ShutdownWait: 20 * time.Second,
		HEP:          HEPOutput{Queue: 8192},
	}
}

// buildDaemon validates the daemon section of a file that has one.
func buildDaemon(f *fileDaemon, dir string, probs *problems) Daemon {
	d := defaultDaemon()
	d.Present = true
	resolve := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	count := func(key string, v *int, dst *int, minimum int) {
		if v == nil {
			return
		}
		if *v < minimum {
			probs.add("daemon."+key, "%d must be at least %d", *v, minimum)
			return
		}
		*dst = *v
	}
	duration := func(key string, v *string, dst *time.Duration) {
		if v == nil {
			return
		}
		t, err := time.ParseDuration(*v)
		if err != nil || t <= 0 {
			probs.add("daemon."+key, "%q is not a positive duration (e.g. 500ms, 10s)", *v)
			return
		}
		*dst = t
	}
	addr := func(key string, v *string, dst *string) {
		if v == nil {
			return
		}
		if *v != "" {
			if _, _, err := net.SplitHostPort(*v); err != nil {
				probs.add("daemon."+key, "%q is not host:port (\"\" disables)", *v)
				return
			}
		}
		*dst = *v
	}

	c := &f.Capture
	d.Interfaces = c.Interfaces
	for i, name := range c.Interfaces {
		if name == "" || strings.ContainsAny(name, " /") {
			probs.add(fmt.Sprintf("daemon.capture.interfaces[%d]", i), "%q is not an interface name", name)
		}
	}
	count("capture.workers", c.Workers, &d.Workers, 1)
	d.BPF = c.BPF
	if err := capture.ValidateFilter(c.BPF); err != nil {
		probs.add("daemon.capture.bpf", "%v", err)
	}
	if c.Promiscuous != nil {
		d.Promiscuous = *c.Promiscuous
	} else {
		d.Promiscuous = true // a SPAN port or tap delivers frames addressed to others
	}
	d.PcapDir = resolve(f.PcapDir)
	if len(d.Interfaces) > 0 && d.PcapDir != "" {
		probs.add("daemon.pcap_dir", "set together with capture.interfaces: choose live capture or a capture directory")
	}
	duration("pcap_settle", f.PcapSettle, &d.PcapSettle)
	duration("pcap_poll", f.PcapPoll, &d.PcapPoll)
	count("queue.batches", f.Queue.Batches, &d.QueueBatches, 2)
	count("queue.frames_per_batch", f.Queue.Frames, &d.BatchFrames, 1)

	if f.DataDir != "" {
		d.DataDir = resolve(f.DataDir)
	}
	r := &f.Retention
	count("retention.days", r.Days, &d.Retention.Days, 0)
	if r.MaxGiB != nil {
		if *r.MaxGiB < 0 {
			probs.add("daemon.retention.max_gib", "%d must be 0 (no budget) or more", *r.MaxGiB)
		} else {
			d.Retention.MaxBytes = *r.MaxGiB << 30
		}
	}
	if r.MinFreeMiB != nil {
		d.Retention.MinFreeMiB = *r.MinFreeMiB
	}
	duration("retention.flush_interval", r.FlushPeriod, &d.Retention.FlushPeriod)

	addr("listen.metrics", f.Listen.Metrics, &d.MetricsAddr)
	addr("listen.web", f.Listen.Web, &d.WebAddr)

	buildAlertOutputs(f, &d, resolve, duration, probs)

	h := &f.HEP
	if h.Address != "" {
		if _, _, err := net.SplitHostPort(h.Address); err != nil {
			probs.add("daemon.hep.address", "%q is not host:port", h.Address)
		}
		d.HEP.Address = h.Address
	}
	if h.AgentID != nil {
		d.HEP.AgentID = *h.AgentID
	}
	d.HEP.Password = h.Password
	count("hep.queue", h.Queue, &d.HEP.Queue, 1)

	switch f.LogLevel {
	case "":
	case "debug", "info", "warn", "error":
		d.LogLevel = f.LogLevel
	default:
		probs.add("daemon.log_level", "%q is not one of debug, info, warn, error", f.LogLevel)
	}
	duration("shutdown_timeout", f.ShutdownWait, &d.ShutdownWait)
	return d
}

func buildAlertOutputs(f *fileDaemon, d *Daemon, resolve func(string) string,
	duration func(string, *string, *time.Duration), probs *problems) {
	a := &f.Alerts
	if fs := a.File; fs != nil {
		s := &FileSink{Path: resolve(fs.Path), MaxBytes: 100 << 20, Keep: 10}
		if fs.Path == "" {
			probs.add("daemon.alerts.file.path", "missing")
		}
		if fs.MaxMiB != nil {
			if *fs.MaxMiB < 1 {
				probs.add("daemon.alerts.file.max_mib", "%d must be at least 1", *fs.MaxMiB)
			} else {
				s.MaxBytes = *fs.MaxMiB << 20
			}
		}
		if fs.Keep != nil {
			if *fs.Keep < 0 {
				probs.add("daemon.alerts.file.keep", "%d must be 0 or more", *fs.Keep)
			} else {
				s.Keep = *fs.Keep
			}
		}
		d.Alerts.File = s
	}
	if ss := a.Syslog; ss != nil {
		s := &SyslogSink{Network: ss.Network, Address: ss.Address, Facility: 4, AppName: ss.AppName, Hostname: ss.Hostname}
		if s.Network == "" {
			s.Network = "udp"
		}
		if s.Network != "udp" && s.Network != "tcp" {
			probs.add("daemon.alerts.syslog.network", "%q is not udp or tcp", ss.Network)
		}
		if _, _, err := net.SplitHostPort(s.Address); err != nil {
			probs.add("daemon.alerts.syslog.address", "%q is not host:port", ss.Address)
		}
		if ss.Facility != nil {
			if *ss.Facility < 0 || *ss.Facility > 23 {
				probs.add("daemon.alerts.syslog.facility", "%d is not a syslog facility (0..23)", *ss.Facility)
			} else {
				s.Facility = *ss.Facility
			}
		}
		if s.AppName == "" {
			s.AppName = "gatewarden"
		}
		d.Alerts.Syslog = s
	}
	if ws := a.Webhook; ws != nil {
		s := &WebhookSink{URL: ws.URL, Timeout: 5 * time.Second, Retries: 5,
			BackoffMin: 500 * time.Millisecond, BackoffMax: 30 * time.Second, Queue: 1024, Headers: ws.Headers}
		if u, err := url.Parse(ws.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			probs.add("daemon.alerts.webhook.url", "%q is not an http(s) URL", ws.URL)
		}
		duration("alerts.webhook.timeout", ws.Timeout, &s.Timeout)
		duration("alerts.webhook.backoff_min", ws.BackoffMin, &s.BackoffMin)
		duration("alerts.webhook.backoff_max", ws.BackoffMax, &s.BackoffMax)
		if ws.Retries != nil {
			if *ws.Retries < 0 {
				probs.add("daemon.alerts.webhook.retries", "%d must be 0 or more", *ws.Retries)
			} else {
				s.Retries = *ws.Retries
			}
		}
		if ws.Queue != nil {
			if *ws.Queue < 1 {
				probs.add("daemon.alerts.webhook.queue", "%d must be at least 1", *ws.Queue)
			} else {
				s.Queue = *ws.Queue
			}
		}
		if s.BackoffMax < s.BackoffMin {
			probs.add("daemon.alerts.webhook.backoff_max", "%s is below backoff_min %s", s.BackoffMax, s.BackoffMin)
		}
		d.Alerts.Webhook = s
	}
	for rule, rl := range a.RateLimit {
		key := "daemon.alerts.rate_limit." + rule
		if rule != "default" && !contains(rules.IDs, rule) {
			probs.add(key, "%q is not a rule ID or \"default\"", rule)
			continue
		}
		if rl.PerSecond <= 0 || rl.Burst < 1 {
			probs.add(key, "per_second must be > 0 and burst at least 1")
			continue
		}
		lim := RateLimit{PerSecond: rl.PerSecond, Burst: rl.Burst}
		if rule == "default" {
			d.Alerts.RateLimit = lim
			continue
		}
		if d.Alerts.RateLimitPerRule == nil {
			d.Alerts.RateLimitPerRule = map[string]RateLimit{}
		}
		d.Alerts.RateLimitPerRule[rule] = lim
	}
}

// CheckRunnable reports what `gatewarden run` additionally needs: an input,
// and a pcap_dir that exists (a missing one would otherwise be polled, and
// warned about, forever). data_dir and the alerts file's directory are
// created by the daemon.
func (d *Daemon) CheckRunnable() error {
	if len(d.Interfaces) == 0 && d.PcapDir == "" {
		return fmt.Errorf("daemon: no input: set daemon.capture.interfaces or daemon.pcap_dir")
	}
	var errs []error
	if d.PcapDir != "" {
		if err := isDir(d.PcapDir); err != nil {
			errs = append(errs, fmt.Errorf("key daemon.pcap_dir: %w: create it or correct the path", err))
		}
	}
	return errors.Join(errs...)
}

// isDir says why path is not an existing directory.
func isDir(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("directory %s does not exist", path)
		}
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", path)
	}
	return nil
}
