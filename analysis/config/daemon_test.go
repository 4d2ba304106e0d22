package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDaemonExample(t *testing.T) {
	c, err := Load("../../deploy/gatewarden.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := c.Daemon
	if !d.Present || len(d.Interfaces) != 1 || d.Interfaces[0] != "eth1" || d.BPF != "sctp" || !d.Promiscuous {
		t.Errorf("capture: %+v", d)
	}
	if d.DataDir != "/var/lib/gatewarden" || d.Retention.Days != 180 || d.MetricsAddr != "127.0.0.1:9100" || d.WebAddr != "" {
		t.Errorf("data/listen: %+v", d)
	}
	if d.Alerts.File == nil || d.Alerts.File.MaxBytes != 100<<20 || d.Alerts.File.Keep != 10 {
		t.Errorf("file sink: %+v", d.Alerts.File)
	}
	if d.Alerts.Syslog != nil || d.Alerts.Webhook != nil || d.HEP.Address != "" || d.HEP.AgentID != 2001 {
		t.Errorf("commented-out outputs are on: %+v %+v %+v", d.Alerts.Syslog, d.Alerts.Webhook, d.HEP)
	}
	if d.Alerts.RateLimit != (RateLimit{PerSecond: 10, Burst: 100}) || d.Alerts.RateLimitPerRule["caller.high_frequency"] != (RateLimit{PerSecond: 1, Burst: 10}) {
		t.Errorf("rate limits: %+v %+v", d.Alerts.RateLimit, d.Alerts.RateLimitPerRule)
	}
	if err := d.CheckRunnable(); err != nil {
		t.Error(err)
	}
}

func TestDaemonAbsent(t *testing.T) {
	c, err := Parse([]byte("home_country_code: \"86\"\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Daemon.Present || c.Daemon.QueueBatches != 64 || c.Daemon.DataDir != DefaultDataDir {
		t.Errorf("defaults: %+v", c.Daemon)
	}
	if err := c.Daemon.CheckRunnable(); err == nil {
		t.Error("no input accepted")
	}
}

func TestDaemonFull(t *testing.T) {
	y := `daemon:
  pcap_dir: spool
  pcap_settle: 2s
  queue: {batches: 8, frames_per_batch: 32}
  data_dir: data
  retention: {days: 30, max_gib: 2, min_free_mib: -1, flush_interval: 200ms}
  listen: {metrics: "127.0.0.1:0", web: ":8080"}
  alerts:
    syslog: {network: tcp, address: "127.0.0.1:6514", facility: 10}
    webhook: {url: "http://127.0.0.1:1/x", retries: 2, backoff_min: 10ms, backoff_max: 40ms, queue: 3}
  hep: {address: "127.0.0.1:9060", agent_id: 7, queue: 5}
  log_level: debug
`
	c, err := Parse([]byte(y), "/etc/gw/t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := c.Daemon
	if d.PcapDir != "/etc/gw/spool" || d.DataDir != "/etc/gw/data" || d.PcapSettle != 2*time.Second {
		t.Errorf("paths: %+v", d)
	}
	if d.QueueBatches != 8 || d.BatchFrames != 32 {
		t.Errorf("queue: %+v", d)
	}
	if d.Retention != (Retention{Days: 30, MaxBytes: 2 << 30, MinFreeMiB: -1, FlushPeriod: 200 * time.Millisecond}) {
		t.Errorf("retention: %+v", d.Retention)
	}
	if d.Alerts.Syslog.Network != "tcp" || d.Alerts.Syslog.Facility != 10 || d.Alerts.Syslog.AppName != "gatewarden" {
		t.Errorf("syslog: %+v", d.Alerts.Syslog)
	}
	w := d.Alerts.Webhook
	if w.Retries != 2 || w.BackoffMin != 10*time.Millisecond || w.Queue != 3 || w.Timeout != 5*time.Second {
		t.Errorf("webhook: %+v", w)
	}
	if d.HEP != (HEPOutput{Address: "127.0.0.1:9060", AgentID: 7, Queue: 5}) || d.LogLevel != "debug" {
		t.Errorf("hep/log: %+v %s", d.HEP, d.LogLevel)
	}
}

// The RUNBOOK's filter examples are accepted.
func TestDaemonFilterExamples(t *testing.T) {
	for _, bpf := range []string{"sctp", "sctp and port 2905", "vlan and sctp port 2905", "sctp and (port 2905 or port 3565) and not host 10.0.0.9"} {
		if _, err := Parse([]byte("daemon: {capture: {bpf: \""+bpf+"\"}}"), "t.yaml"); err != nil {
			t.Errorf("%q: %v", bpf, err)
		}
	}
}

func TestDaemonErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"daemon: {capture: {interfaces: [eth0]}, pcap_dir: /x}", "daemon.pcap_dir: set together"},
		{"daemon: {capture: {workers: 0}}", "daemon.capture.workers: 0 must be at least 1"},
		{"daemon: {capture: {interfaces: [\"a b\"]}}", "daemon.capture.interfaces[0]"},
		{"daemon: {pcap_settle: soon}", "daemon.pcap_settle"},
		{"daemon: {queue: {batches: 1}}", "daemon.queue.batches"},
		{"daemon: {retention: {max_gib: -1}}", "daemon.retention.max_gib"},
		{"daemon: {listen: {metrics: \"9100\"}}", "daemon.listen.metrics"},
		{"daemon: {alerts: {file: {max_mib: 0}}}", "daemon.alerts.file.path: missing"},
		{"daemon: {alerts: {file: {path: a, max_mib: 0}}}", "daemon.alerts.file.max_mib"},
		{"daemon: {alerts: {syslog: {network: sctp, address: \"h:1\"}}}", "daemon.alerts.syslog.network"},
		{"daemon: {alerts: {syslog: {address: nowhere}}}", "daemon.alerts.syslog.address"},
		{"daemon: {alerts: {syslog: {address: \"h:1\", facility: 24}}}", "daemon.alerts.syslog.facility"},
		{"daemon: {alerts: {webhook: {url: \"ftp://x/\"}}}", "daemon.alerts.webhook.url"},
		{"daemon: {alerts: {webhook: {url: \"http://x/\", backoff_min: 2s, backoff_max: 1s}}}", "backoff_max"},
		{"daemon: {alerts: {webhook: {url: \"http://x/\", queue: 0}}}", "daemon.alerts.webhook.queue"},
		{"daemon: {alerts: {rate_limit: {cli.nope: {per_second: 1, burst: 1}}}}", "daemon.alerts.rate_limit.cli.nope"},
		{"daemon: {alerts: {rate_limit: {default: {per_second: 0, burst: 1}}}}", "daemon.alerts.rate_limit.default"},
		{"daemon: {hep: {address: homer}}", "daemon.hep.address"},
		{"daemon: {log_level: loud}", "daemon.log_level"},
		{"daemon: {capture: {bpf: \"sctp and port\"}}", "daemon.capture.bpf: filter \"sctp and port\": port needs a value"},
		{"daemon: {capture: {bpf: \"sctp port http\"}}", "daemon.capture.bpf"},
		{"daemon: {unknown_key: 1}", "daemon.unknown_key: unknown key"},
	} {
		_, err := Parse([]byte(tc.yaml), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.yaml, err, tc.want)
		}
	}
}

// run refuses a pcap_dir that does not exist, instead of polling it forever.
func TestCheckRunnableMissingPcapDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gw.yaml")
	os.WriteFile(path, []byte("daemon:\n  data_dir: data\n  pcap_dir: incoming\n"), 0o644)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Daemon.CheckRunnable()
	if err == nil || !strings.Contains(err.Error(), "daemon.pcap_dir") || !strings.Contains(err.Error(), filepath.Join(dir, "incoming")+" does not exist") {
		t.Fatalf("missing pcap_dir: %v", err)
	}
	os.Mkdir(filepath.Join(dir, "incoming"), 0o755)
	if err := c.Daemon.CheckRunnable(); err != nil {
		t.Fatalf("existing pcap_dir: %v", err)
	}
}
