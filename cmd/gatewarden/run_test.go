package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/config"
	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/pipeline"
	"github.com/gatewarden/gatewarden/retention"
)

// The end-to-end test runs the real command in a child process (this test
// binary, re-entered through runDaemonChild) so that SIGHUP and SIGTERM are
// real signals.
const daemonChildEnv = "GATEWARDEN_TEST_DAEMON_CONFIG"

func init() {
	if path := os.Getenv(daemonChildEnv); path != "" {
		os.Exit(daemonMain([]string{"--config", path}, os.Stderr))
	}
}

const scenarioPcap = "../../pcaps/scenarios.pcap"

// reference runs decode → calls → rules over the whole capture in one go:
// what the daemon must match, however the input is split and reloaded.
func reference(t *testing.T, cfgPath, pcap string) (messages, calls, alerts uint64) {
	t.Helper()
	gen, err := loadGeneration(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(pipeline.Config{Gen: gen, OnAlert: func(*analysis.Alert) { alerts++ }})
	r, err := capture.OpenFiles([]string{pcap})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var f decode.Frame
	for r.Next(&f) != io.EOF {
		p.Frame(&f)
	}
	p.Finish()
	st := p.Stats()
	return st.Decode.Messages, st.Calls.Closed, alerts
}

// finishStored does what a restart followed by the end of input does: it
// opens the daemon's store, restores the calls in progress committed at the
// stop, closes them (they are recorded, with their alerts) and returns what
// the store then holds.
func finishStored(t *testing.T, cfgPath, storeDir string) (msgs, calls, alerts int) {
	t.Helper()
	gen, err := loadGeneration(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := retention.Open(storeDir, retention.Options{MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(pipeline.Config{Gen: gen, Store: st})
	if _, ok, err := p.Restore(nil); err != nil || !ok {
		t.Fatalf("no committed state to restore: %v", err)
	}
	p.Finish()
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, m := range st.Partitions() {
		msgs += m.Messages
		calls += m.Calls
		alerts += m.Alerts
	}
	return
}

// splitPcap writes the capture's frames into parts files of about equal
// frame counts, read with the project's reader and written with pcapgo.
func splitCapture(t *testing.T, src, dir string, parts int) []string {
	t.Helper()
	f, err := capture.OpenFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	var stamps []int64
	var fr decode.Frame
	for f.Next(&fr) == nil {
		frames = append(frames, append([]byte(nil), fr.Data...))
		stamps = append(stamps, fr.TS)
	}
	lt := f.Interfaces()[0].LinkType
	f.Close()
	var names []string
	per := (len(frames) + parts - 1) / parts
	for p := 0; p < parts; p++ {
		name := filepath.Join(dir, fmt.Sprintf("trace-%03d.pcap", p))
		out, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w := pcapgo.NewWriterNanos(out)
		if err := w.WriteFileHeader(65535, layers.LinkType(lt)); err != nil {
			t.Fatal(err)
		}
		for i := p * per; i < min((p+1)*per, len(frames)); i++ {
			ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, stamps[i]), CaptureLength: len(frames[i]), Length: len(frames[i])}
			if err := w.WritePacket(ci, frames[i]); err != nil {
				t.Fatal(err)
			}
		}
		out.Close()
		names = append(names, name)
	}
	return names
}

// scenarioConfig copies the scenario configuration and blocklist into dir
// and adds a daemon section.
func scenarioConfig(t *testing.T, dir, daemonYAML string) string {
	t.Helper()
	base, err := os.ReadFile("../../pcaps/scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bl, err := os.ReadFile("../../pcaps/scenarios.blocklist")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "scenarios.blocklist"), bl, 0o644)
	path := filepath.Join(dir, "gatewarden.yaml")
	if err := os.WriteFile(path, append(base, []byte("\n"+daemonYAML)...), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// scrape reads /metrics into name{labels} -> value.
func scrape(addr string) (map[string]float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("bad line %q", line)
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

func sumMetric(m map[string]float64, prefix string) float64 {
	var s float64
	for k, v := range m {
		if k == prefix || strings.HasPrefix(k, prefix+"{") {
			s += v
		}
	}
	return s
}

// waitMetric polls until cond holds on a scrape.
func waitMetric(t *testing.T, addr, what string, cond func(map[string]float64) bool) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := scrape(addr)
		if err == nil && cond(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: last scrape %v (err %v)", what, m, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDaemonPcapDirEndToEnd(t *testing.T) {
	if _, err := os.Stat(scenarioPcap); err != nil {
		t.Fatalf("%s: %v", scenarioPcap, err)
	}
	dir := t.TempDir()
	staging, spool, data := filepath.Join(dir, "staging"), filepath.Join(dir, "spool"), filepath.Join(dir, "data")
	for _, d := range []string{staging, spool} {
		os.MkdirAll(d, 0o755)
	}
	metricsAddr := freePort(t)
	// A Homer collector stand-in: count the HEP packets the daemon mirrors.
	homer, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer homer.Close()
	homer.(*net.UDPConn).SetReadBuffer(8 << 20)
	hepPackets := make(chan int, 1)
	daemonStopped := make(chan struct{}) // closed once the daemon has sent everything
	go func() {
		n := 0
		buf := make([]byte, 65536)
		for {
			// Count until the daemon has stopped and the socket is drained
			// (loopback delivers into the receive buffer as it sends), however
			// slow the run (-race on a loaded machine).
			homer.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			k, _, err := homer.ReadFrom(buf)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				select {
				case <-daemonStopped:
					hepPackets <- n
					return
				default:
					continue
				}
			}
			if err != nil {
				hepPackets <- n
				return
			}
			if string(buf[:4]) == "HEP3" && k > 6 {
				n++
			}
		}
	}()
	cfgPath := scenarioConfig(t, dir, fmt.Sprintf(`daemon:
  hep: {address: %q, agent_id: 9}
  pcap_dir: spool
  pcap_settle: 300ms
  pcap_poll: 20ms
  queue: {batches: 4, frames_per_batch: 64}
  data_dir: data
  retention: {min_free_mib: -1, days: 1}
  listen: {metrics: %q}
  alerts:
    file: {path: alerts.jsonl}
`, homer.LocalAddr().String(), metricsAddr))
	wantMsgs, wantCalls, wantAlerts := reference(t, cfgPath, scenarioPcap)
	if wantCalls < 100 || wantAlerts == 0 {
		t.Fatalf("reference: %d messages, %d calls, %d alerts", wantMsgs, wantCalls, wantAlerts)
	}
	parts := splitCapture(t, scenarioPcap, staging, 3)

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), daemonChildEnv+"="+cfgPath)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", stderr.String())
		}
	}()
	move := func(p string) {
		if err := os.Rename(p, filepath.Join(spool, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}

	// The first part, then SIGHUP while calls are in flight, then the rest.
	move(parts[0])
	m := waitMetric(t, metricsAddr, "first file", func(m map[string]float64) bool {
		return m[`gatewarden_pcap_files_total{result="done"}`] == 1
	})
	if m["gatewarden_calls_open"] == 0 {
		t.Fatalf("no call in flight at the reload point: the test would prove nothing")
	}
	inFlight := m["gatewarden_calls_open"]
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, metricsAddr, "reload", func(m map[string]float64) bool {
		return m[`gatewarden_config_reloads_total{result="ok"}`] == 1
	})
	move(parts[1])
	move(parts[2])
	m = waitMetric(t, metricsAddr, "all files", func(m map[string]float64) bool {
		return m[`gatewarden_pcap_files_total{result="done"}`] == 3
	})
	if got := m["gatewarden_decode_messages_total"]; got != float64(wantMsgs) {
		t.Errorf("decoded %v messages, replay %d", got, wantMsgs)
	}
	if got := sumMetric(m, "gatewarden_pipeline_dropped_frames_total"); got != 0 {
		t.Errorf("pipeline drops %v on directory input", got)
	}
	if m[`gatewarden_capture_packets_total{interface="pcap_dir"}`] == 0 || m[`gatewarden_queue_capacity{queue="decode"}`] != 4 {
		t.Errorf("capture/queue metrics missing")
	}
	if sumMetric(m, "gatewarden_isup_messages_total") != float64(wantMsgs) {
		t.Errorf("isup_messages_total sums to %v, want %d", sumMetric(m, "gatewarden_isup_messages_total"), wantMsgs)
	}
	if m[`gatewarden_isup_messages_total{type="IAM",partner="intl-pacific"}`] == 0 {
		t.Errorf("no IAM counted for intl-pacific")
	}
	// The file sink's cursor stands at the last alert it wrote (alerts are
	// numbered from 1; its deliveries also count signed checkpoints);
	// nothing was held back as delivered before (a first run).
	cm := waitMetric(t, metricsAddr, "the file sink's cursor at the last alert", func(m map[string]float64) bool {
		got := m[`gatewarden_alert_sink_acked_seq{sink="file"}`]
		return got > 0 && got == sumMetric(m, "gatewarden_alerts_total")
	})
	if v, ok := cm[`gatewarden_alert_deliveries_total{sink="file",result="already_delivered"}`]; !ok || v != 0 {
		t.Errorf("already_delivered %v (present %v) on a first run", v, ok)
	}
	for _, name := range []string{"gatewarden_store_records_total", "gatewarden_decode_frames_total", "gatewarden_calls_total", "gatewarden_alerts_total"} {
		if sumMetric(m, name) == 0 {
			t.Errorf("%s is zero", name)
		}
	}
	// Route KPIs count every call of a known partner once.
	var partnerCalls float64
	for k, v := range m {
		if strings.HasPrefix(k, "gatewarden_calls_total{") && !strings.Contains(k, `partner=""`) {
			partnerCalls += v
		}
	}
	if got := sumMetric(m, "gatewarden_route_seizures_total"); got == 0 || got != partnerCalls {
		t.Errorf("route seizures %v, calls of partners %v", got, partnerCalls)
	}
	if sumMetric(m, "gatewarden_route_answered_total") == 0 || sumMetric(m, "gatewarden_route_pdd_seconds_count") == 0 {
		t.Errorf("route KPI counters missing")
	}
	if _, ok := m[`gatewarden_decode_errors_total{layer="sctp",reason="sctp_truncated"}`]; !ok {
		t.Errorf("decode errors by layer and reason missing")
	}
	// The mirror never blocks the pipeline: on a loaded machine its queue may
	// overflow, and then every message is still accounted for.
	hep := func(m map[string]float64) (sent, queueFull, errs float64) {
		return m[`gatewarden_hep_packets_total{result="sent"}`], m[`gatewarden_hep_packets_total{result="queue_full"}`],
			m[`gatewarden_hep_packets_total{result="error"}`]
	}
	m = waitMetric(t, metricsAddr, "HEP mirror drained", func(m map[string]float64) bool {
		s, q, e := hep(m)
		return s+q+e == float64(wantMsgs)
	})
	hepSent, hepQueueFull, _ := hep(m)
	if hepSent < float64(wantMsgs)/2 {
		t.Errorf("HEP sent %v, queue_full %v, of %d messages", hepSent, hepQueueFull, wantMsgs)
	}
	checkDashboard(t, m, "gatewarden_capture_kernel_")
	resp, err := http.Get("http://" + metricsAddr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("healthz: %v %v", resp, err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("daemon exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not stop on SIGTERM")
	}

	// The store was flushed and sealed, the calls in progress committed:
	// with them closed (as the end of input does), every message, call and
	// alert of the replay is in it, none lost across the files or the
	// reload, and none removed by the one-day retention (it counts from the
	// newest data stored, not the wall clock, so a capture from long ago is kept).
	storeDir := filepath.Join(data, "store")
	ro, err := retention.Open(storeDir, retention.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var alertsAtStop int
	for _, p := range ro.Partitions() {
		alertsAtStop += p.Alerts
	}
	msgs, calls, alerts := finishStored(t, cfgPath, storeDir)
	if uint64(msgs) != wantMsgs || uint64(calls) != wantCalls {
		t.Errorf("store holds %d messages and %d calls; replay %d and %d (%v calls were in flight at SIGHUP)", msgs, calls, wantMsgs, wantCalls, inFlight)
	}
	// The reload re-read an unchanged file, so the rules engine and its
	// behaviour windows were kept: every alert of the replay is there too.
	if uint64(alerts) != wantAlerts {
		t.Errorf("store holds %d alerts, replay %d", alerts, wantAlerts)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "alerts.jsonl"))
	// The store's signed checkpoints go to the sinks too (one per seal at least).
	seals := bytes.Count(b, []byte(`\"event\":\"seal\"`))
	cps := bytes.Count(b, []byte(`"store.checkpoint"`))
	if n := bytes.Count(b, []byte("\n")) - cps; n != alertsAtStop || seals == 0 {
		t.Errorf("alert file has %d alert lines (store %d alerts at the stop) and %d checkpoints (%d seals)", n, alertsAtStop, cps, seals)
	}
	close(daemonStopped)
	if n := <-hepPackets; n != int(hepSent) {
		t.Errorf("the collector received %d HEP packets, the daemon sent %v", n, hepSent)
	}
	if !strings.Contains(stderr.String(), `"msg":"stopped"`) || !strings.Contains(stderr.String(), `"msg":"configuration reloaded"`) {
		t.Errorf("log lacks the reload or stop record")
	}
	if !strings.Contains(stderr.String(), `"msg":"pcap_dir: done","file":"`+filepath.Join(spool, "trace-002.pcap")) {
		t.Errorf("log lacks the last file done")
	}
}

// checkDashboard fails for every metric the Grafana dashboard queries that
// the scrape lacks, except names starting with skip (exported in another mode).
func checkDashboard(t *testing.T, scraped map[string]float64, skip string) {
	t.Helper()
	b, err := os.ReadFile("../../deploy/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`gatewarden_[a-z_]+`).FindAllString(string(b), -1)
	if len(names) < 20 {
		t.Fatalf("dashboard names %d metrics", len(names))
	}
	for _, name := range names {
		if skip != "" && strings.HasPrefix(name, skip) {
			continue
		}
		found := false
		for k := range scraped {
			if k == name || strings.HasPrefix(k, name+"{") {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("the dashboard queries %s, which the daemon does not export", name)
		}
	}
}

// TestDaemonRestartResumes stops the daemon (SIGTERM's path) again and
// again, in the middle of files and of calls, and starts it again: frames
// are analysed exactly once overall, and the store ends with exactly the
// messages, calls and alerts of one uninterrupted run — a call in progress
// at a stop is one call with its IAM, behaviour windows carry over.
func TestDaemonRestartResumes(t *testing.T) {
	if _, err := os.Stat(scenarioPcap); err != nil {
		t.Fatalf("%s: %v", scenarioPcap, err)
	}
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	os.MkdirAll(spool, 0o755)
	cfgPath := scenarioConfig(t, dir, `daemon:
  pcap_dir: spool
  pcap_settle: 10ms
  pcap_poll: 10ms
  queue: {batches: 2, frames_per_batch: 16}
  data_dir: data
  retention: {min_free_mib: -1}
  listen: {metrics: ""}
`)
	wantMsgs, wantCalls, wantAlerts := reference(t, cfgPath, scenarioPcap)
	splitCapture(t, scenarioPcap, spool, 2)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var frames uint64
	resumed, restoredCalls := 0, 0
	for run := 0; run < 500; run++ {
		d := mustStart(t, cfgPath, log)
		if d.dir.partialFrames > 0 {
			resumed++
		}
		time.Sleep(time.Duration(5+run) * time.Millisecond) // stop somewhere in the middle
		if err := d.stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		// The pipeline belongs to the stage's goroutine: read it once stopped
		// (-race found the read while it ran).
		restoredCalls += d.stage.p.Stats().RestoredCalls
		frames += d.stage.final.frames
		if len(d.stage.pos.Done) == 2 {
			break
		}
	}
	if resumed == 0 || restoredCalls == 0 {
		t.Fatalf("%d runs resumed a file midway, %d calls restored: the test proves nothing", resumed, restoredCalls)
	}
	t.Logf("%d runs resumed a file midway, %d calls in progress restored", resumed, restoredCalls)
	r, _ := capture.OpenFiles([]string{scenarioPcap})
	var total uint64
	var f decode.Frame
	for r.Next(&f) != io.EOF {
		total++
	}
	r.Close()
	if frames != total {
		t.Errorf("analysed %d frames over the restarts, the capture has %d", frames, total)
	}
	msgs, calls, alerts := finishStored(t, cfgPath, filepath.Join(dir, "data", "store"))
	if uint64(msgs) != wantMsgs || uint64(calls) != wantCalls || uint64(alerts) != wantAlerts {
		t.Errorf("store holds %d messages, %d calls, %d alerts over the restarts; one run: %d, %d, %d",
			msgs, calls, alerts, wantMsgs, wantCalls, wantAlerts)
	}
}

func mustStart(t *testing.T, cfgPath string, log *slog.Logger) *daemon {
	t.Helper()
	gen, err := loadGeneration(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	d, err := startDaemon(cfgPath, gen, log)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDaemonReloadKeepsConfigOnError(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "spool"), 0o755)
	cfgPath := scenarioConfig(t, dir, "daemon:\n  pcap_dir: spool\n  data_dir: data\n  retention: {min_free_mib: -1}\n  listen: {metrics: \"\"}\n")
	d := mustStart(t, cfgPath, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer d.stop(context.Background())
	before := d.gen.Load()
	os.WriteFile(cfgPath, []byte("partners: [{name: x}]\n"), 0o644)
	d.reload()
	if d.gen.Load() != before || d.reloadsFailed.Load() != 1 || d.reloadsOK.Load() != 0 {
		t.Errorf("bad file replaced the configuration")
	}
	os.WriteFile(cfgPath, []byte("home_country_code: \"86\"\ndaemon:\n  pcap_dir: spool\n  data_dir: data\n"), 0o644)
	d.reload()
	if d.gen.Load() == before || len(d.gen.Load().Config.Partners) != 0 || d.reloadsOK.Load() != 1 {
		t.Errorf("good file not taken")
	}
}

func TestDaemonUsage(t *testing.T) {
	var out bytes.Buffer
	if code := daemonMain(nil, &out); code != 2 {
		t.Errorf("no --config: exit %d", code)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	os.WriteFile(p, []byte("home_country_code: \"86\"\n"), 0o644)
	out.Reset()
	if code := daemonMain([]string{"--config", p}, &out); code != 2 || !strings.Contains(out.String(), "no input") {
		t.Errorf("no input: exit %d, %s", code, out.String())
	}
	_ = config.DefaultDataDir
}

// TestLiveEdgeDropsWhenQueueFull feeds the live capture callback with no
// analysis stage draining the queue: once the pool and queue are full, every
// frame is dropped at the edge and counted, and nothing blocks.
func TestLiveEdgeDropsWhenQueueFull(t *testing.T) {
	const batchFrames, queueLen = 4, 2
	d := &daemon{queue: make(chan *frameBatch, queueLen), free: make(chan *frameBatch, queueLen+2),
		liveWorkers: make([]liveWorker, 1), ifaces: make([]ifaceCounters, 1), ifaceNames: []string{"eth9"}}
	for i := 0; i < cap(d.free); i++ {
		d.free <- &frameBatch{recs: make([]frameRec, 0, batchFrames), data: make([]byte, 0, 256)}
	}
	frame := decode.Frame{LinkType: decode.LinkTypeEthernet, Data: make([]byte, 60)}
	done := make(chan struct{})
	go func() {
		for i := 0; i < 100; i++ {
			d.liveFrame(0, &frame)
		}
		big := decode.Frame{Data: make([]byte, 1000)}
		d.liveFrame(0, &big)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the capture callback blocked on a full queue")
	}
	queued := uint64(len(d.queue) * batchFrames)
	held := uint64(len(d.liveWorkers[0].cur.recs))
	dropped := d.drops[dropQueueFull].Load()
	if queued != queueLen*batchFrames || queued+held+dropped != 100 || dropped == 0 {
		t.Errorf("queued %d, held %d, dropped %d: want every one of 100 frames accounted for", queued, held, dropped)
	}
	if d.drops[dropOversize].Load() != 1 || d.ifaces[0].packets.Load() != 101 || d.ifaces[0].bytes.Load() != 100*60+1000 {
		t.Errorf("oversize %d packets %d bytes %d", d.drops[dropOversize].Load(), d.ifaces[0].packets.Load(), d.ifaces[0].bytes.Load())
	}
}

// BenchmarkDaemonPipeline measures the analysis stage as the daemon runs it
// (decode, store, assembler, rules, counters) on the scenario capture, fed
// through the batch queue. It reports messages per second and allocations
// per message.
func BenchmarkDaemonPipeline(b *testing.B) {
	if _, err := os.Stat(scenarioPcap); err != nil {
		b.Fatalf("%s: %v", scenarioPcap, err)
	}
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, "spool"), 0o755)
	base, _ := os.ReadFile("../../pcaps/scenarios.yaml")
	bl, _ := os.ReadFile("../../pcaps/scenarios.blocklist")
	os.WriteFile(filepath.Join(dir, "scenarios.blocklist"), bl, 0o644)
	cfgPath := filepath.Join(dir, "gatewarden.yaml")
	os.WriteFile(cfgPath, append(base, []byte("\ndaemon:\n  pcap_dir: spool\n  data_dir: data\n  retention: {min_free_mib: -1}\n  listen: {metrics: \"\"}\n")...), 0o644)
	gen, err := loadGeneration(cfgPath)
	if err != nil {
		b.Fatal(err)
	}
	d, err := startDaemon(cfgPath, gen, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			d.stop(context.Background())
		}
	}()
	f, err := capture.OpenFile(scenarioPcap)
	if err != nil {
		b.Fatal(err)
	}
	var frames []decode.Frame
	var fr decode.Frame
	for f.Next(&fr) == nil {
		c := fr
		c.Data = append([]byte(nil), fr.Data...)
		frames = append(frames, c)
	}
	f.Close()
	span := frames[len(frames)-1].TS - frames[0].TS + 1e9
	msgsBefore := func() uint64 { return d.store.Stats().Messages }
	start := msgsBefore()
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Each pass is shifted in capture time so calls do not collide.
		shift := int64(i) * span
		batch := <-d.free
		batch.reset()
		for j := range frames {
			fr := frames[j]
			fr.TS += shift
			if !batch.fits(len(fr.Data)) {
				d.queue <- batch
				batch = <-d.free
				batch.reset()
			}
			batch.add(&fr)
		}
		d.queue <- batch
	}
	for len(d.queue) > 0 || len(d.free) != cap(d.free) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	msgs := msgsBefore() - start
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(msgs)/cpu.Seconds(), "msgs/cpu-s")
	b.ReportMetric(float64(msgs)/float64(b.N), "msgs/op")
	// Disk per message once sealed, calls, alerts and indexes included.
	d.stop(context.Background())
	stopped = true
	st, err := retention.Open(filepath.Join(dir, "data", "store"), retention.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	var bytes int64
	var stored, calls int
	for _, p := range st.Partitions() {
		bytes += p.Bytes
		stored += p.Messages
		calls += p.Calls
	}
	b.ReportMetric(float64(bytes)/float64(stored), "disk-B/msg")
	b.ReportMetric(float64(stored)/float64(calls), "msgs/call")
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestReloadRebuildsRulesOnlyWhenTheyChange: reloading an unchanged file keeps
// the rules engine untouched; a changed threshold or partner reconfigures it
// in place; the assembler is never replaced.
func TestReloadRebuildsRulesOnlyWhenTheyChange(t *testing.T) {
	dir := t.TempDir()
	cfgPath := scenarioConfig(t, dir, "")
	g1, err := loadGeneration(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{}
	d.gen.Store(g1)
	st := newAnalysisStage(d)
	same, err := loadGeneration(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st.applyReload(same)
	if st.enginesBuilt != 0 || st.p.Blocklist() != g1.Blocklist || st.p.Generation() != same {
		t.Errorf("unchanged configuration rebuilt the rules engine")
	}
	base, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, append(base, []byte("thresholds: {bombing: {calls: 3}}\n")...), 0o644)
	changed, err := loadGeneration(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st.applyReload(changed)
	if st.enginesBuilt != 1 || st.p.Blocklist() != changed.Blocklist {
		t.Errorf("changed threshold did not reconfigure the rules engine in place")
	}
}

// TestDaemonAlertOutputs wires every alert output from the configuration:
// syslog over UDP and a webhook on loopback receive the alerts that pass a
// per-rule rate limit, and the held-back ones are counted.
func TestDaemonAlertOutputs(t *testing.T) {
	if _, err := os.Stat(scenarioPcap); err != nil {
		t.Fatalf("%s: %v", scenarioPcap, err)
	}
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	os.MkdirAll(spool, 0o755)
	syslogConn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer syslogConn.Close()
	syslogMsgs := make(chan string, 1000)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := syslogConn.ReadFrom(buf)
			if err != nil {
				return
			}
			syslogMsgs <- string(buf[:n])
		}
	}()
	hooks := make(chan string, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hooks <- string(b)
	}))
	defer srv.Close()
	metricsAddr := freePort(t)
	cfgPath := scenarioConfig(t, dir, fmt.Sprintf(`daemon:
  pcap_dir: spool
  pcap_settle: 10ms
  pcap_poll: 10ms
  data_dir: data
  retention: {min_free_mib: -1}
  listen: {metrics: %q}
  alerts:
    rate_limit:
      cli.nonconforming: {per_second: 0.0001, burst: 1}
    syslog: {network: udp, address: %q}
    webhook: {url: %q}
`, metricsAddr, syslogConn.LocalAddr().String(), srv.URL))
	_, _, wantAlerts := reference(t, cfgPath, scenarioPcap)
	d := mustStart(t, cfgPath, slog.New(slog.NewTextHandler(io.Discard, nil)))
	stopped := false
	defer func() {
		if !stopped {
			d.stop(context.Background())
		}
	}()
	copyFile(t, scenarioPcap, filepath.Join(spool, "a.pcap"))
	waitMetric(t, metricsAddr, "the file", func(m map[string]float64) bool {
		return m[`gatewarden_pcap_files_total{result="done"}`] == 1
	})
	if err := d.stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped = true
	sinks, limited := d.alerts.Stats()
	var stored uint64
	for _, n := range d.stage.published.alerts {
		stored += n
	}
	if stored != wantAlerts {
		t.Errorf("%d alerts raised, replay %d", stored, wantAlerts)
	}
	if limited["cli.nonconforming"] == 0 {
		t.Fatalf("cli.nonconforming was not rate limited: %v", limited)
	}
	// Besides the alerts, the store's signed checkpoints (at least the seal
	// at stop) reach every sink.
	var hooked []string
	for len(hooks) > 0 {
		hooked = append(hooked, <-hooks)
	}
	cps := 0
	for _, h := range hooked {
		if strings.Contains(h, "store.checkpoint") {
			cps++
		}
	}
	if cps == 0 {
		t.Errorf("no checkpoint reached the webhook")
	}
	want := int(wantAlerts-limited["cli.nonconforming"]) + cps
	for _, s := range sinks {
		if int(s.Delivered) != want || s.Failed != 0 || s.Dropped != 0 {
			t.Errorf("sink %+v, want %d delivered", s, want)
		}
	}
	deadline := time.After(5 * time.Second)
	for got := 0; got < want; got++ {
		select {
		case m := <-syslogMsgs:
			if !strings.HasPrefix(m, "<") || !strings.Contains(m, "[gatewarden@32473 rule=") {
				t.Fatalf("syslog message %q", m)
			}
		case <-deadline:
			t.Fatalf("syslog received %d of %d", got, want)
		}
	}
	if len(hooked) != want {
		t.Errorf("webhook received %d of %d", len(hooked), want)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to+".tmp", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(to+".tmp", to); err != nil {
		t.Fatal(err)
	}
}

// TestPcapDirLateFileSortingFirst: a complete file whose name sorts before
// one already processed (a late arrival) is processed once, logged and
// counted; a restart then processes nothing again.
func TestPcapDirLateFileSortingFirst(t *testing.T) {
	if _, err := os.Stat(scenarioPcap); err != nil {
		t.Fatalf("%s: %v", scenarioPcap, err)
	}
	dir := t.TempDir()
	staging, spool := filepath.Join(dir, "staging"), filepath.Join(dir, "spool")
	os.MkdirAll(staging, 0o755)
	os.MkdirAll(spool, 0o755)
	cfgPath := scenarioConfig(t, dir, `daemon:
  pcap_dir: spool
  pcap_settle: 10ms
  pcap_poll: 10ms
  data_dir: data
  retention: {min_free_mib: -1}
  listen: {metrics: ""}
`)
	wantMsgs, _, _ := reference(t, cfgPath, scenarioPcap)
	parts := splitCapture(t, scenarioPcap, staging, 3)
	os.Rename(parts[1], filepath.Join(spool, "b.pcap"))
	os.Rename(parts[2], filepath.Join(spool, "c.pcap"))
	var logBuf syncBuffer
	log := slog.New(slog.NewJSONHandler(&logBuf, nil))
	d := mustStart(t, cfgPath, log)
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				d.stop(context.Background())
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitFor("b and c", func() bool { return d.dir.filesDone.Load() == 2 })
	os.Rename(parts[0], filepath.Join(spool, "a-late.pcap"))
	waitFor("the late file", func() bool { return d.dir.filesDone.Load() == 3 })
	if err := d.stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d.dir.filesLate.Load() != 1 || !strings.Contains(logBuf.String(), "file sorts before one already processed; processing it") {
		t.Errorf("late file not counted (%d) or not logged", d.dir.filesLate.Load())
	}
	// A restart finds every file done.
	d = mustStart(t, cfgPath, log)
	time.Sleep(100 * time.Millisecond)
	if err := d.stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := d.stage.final.frames; n != 0 {
		t.Errorf("the restart analysed %d frames again", n)
	}
	msgs, _, _ := finishStored(t, cfgPath, filepath.Join(dir, "data", "store"))
	if uint64(msgs) != wantMsgs {
		t.Errorf("store holds %d messages, the capture %d", msgs, wantMsgs)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger writing from goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDaemonUpgradeTakesOverProgress: the first start of this version on a
// data directory of an earlier one (pcap_dir.progress, no commit) neither
// repeats nor skips a frame.
func TestDaemonUpgradeTakesOverProgress(t *testing.T) {
	if _, err := os.Stat(scenarioPcap); err != nil {
		t.Fatalf("%s: %v", scenarioPcap, err)
	}
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	os.MkdirAll(filepath.Join(dir, "data"), 0o755)
	os.MkdirAll(spool, 0o755)
	cfgPath := scenarioConfig(t, dir, `daemon:
  pcap_dir: spool
  pcap_settle: 10ms
  pcap_poll: 10ms
  data_dir: data
  retention: {min_free_mib: -1}
  listen: {metrics: ""}
`)
	parts := splitCapture(t, scenarioPcap, spool, 3)
	count := func(path string) (n uint64) {
		f, err := capture.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var fr decode.Frame
		for f.Next(&fr) == nil {
			n++
		}
		return n
	}
	const partialFrames = 100
	os.WriteFile(filepath.Join(dir, "data", "pcap_dir.progress"),
		[]byte(`{"last_done":"trace-000.pcap","partial":"trace-001.pcap","partial_frames":100}`), 0o644)
	var logBuf syncBuffer
	d := mustStart(t, cfgPath, slog.New(slog.NewJSONHandler(&logBuf, nil)))
	for deadline := time.Now().Add(20 * time.Second); d.dir.filesDone.Load() < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			d.stop(context.Background())
			t.Fatal("timed out")
		}
	}
	if err := d.stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := count(parts[1]) - partialFrames + count(parts[2])
	if got := d.stage.final.frames; got != want {
		t.Errorf("analysed %d frames, want %d (the rest of trace-001 and trace-002)", got, want)
	}
	if !strings.Contains(logBuf.String(), "progress of an earlier version taken over") {
		t.Errorf("the take-over is not logged")
	}
}
