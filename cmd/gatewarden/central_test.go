package main

// Integration tests of the central (province) store against a real
// ClickHouse: .ci/clickhouse.sh starts two servers and exports
// GATEWARDEN_CLICKHOUSE (node 1), GATEWARDEN_CLICKHOUSE_NODE2 (node 2 alone,
// the one fault tests kill) and GATEWARDEN_CLICKHOUSE_CLUSTER (both as two
// shards). Without them the tests skip and say so.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/central"
	"github.com/gatewarden/gatewarden/pcaps/gen"
	"github.com/gatewarden/gatewarden/retention"
)

const noClickHouse = "GATEWARDEN_CLICKHOUSE not set: no ClickHouse server (eval \"$(bash .ci/clickhouse.sh start)\")"

// centralDB returns a DSN for a fresh database on the server named by env,
// dropped (on every shard) when the test ends.
func centralDB(t *testing.T, env string) string {
	t.Helper()
	base := os.Getenv(env)
	if os.Getenv("GATEWARDEN_CLICKHOUSE") == "" || base == "" {
		t.Skip(noClickHouse)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	name := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "_"))
	u.Path = fmt.Sprintf("/gwtest_%s_%d", name, rand.Uint32())
	dsn := u.String()
	t.Cleanup(func() {
		o, err := central.ParseDSN(dsn)
		if err != nil {
			return
		}
		c, err := central.Open(context.Background(), o)
		if err != nil {
			return
		}
		defer c.Close()
		shards, _ := c.Shards(context.Background())
		for _, sh := range shards {
			so := o
			so.Addr, so.Cluster = []string{sh.Addr}, ""
			if sc, err := central.Open(context.Background(), so); err == nil {
				sc.Conn().Exec(context.Background(), "DROP DATABASE IF EXISTS "+o.Database)
				sc.Close()
			}
		}
	})
	return dsn
}

func openCentral(t *testing.T, dsn string) *central.Client {
	t.Helper()
	o, err := central.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	c, err := central.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// centralCounts are distinct rows per table (repeats collapsed), and rows
// after FINAL, for one box or all ("").
func centralCounts(t *testing.T, c *central.Client, box string) map[string]uint64 {
	t.Helper()
	db := c.Options().Database
	where := "1"
	if box != "" {
		where = "box = '" + box + "'"
	}
	out := map[string]uint64{}
	for table, id := range map[string]string{"messages": "box, ref", "calls": "box, uid", "calls_by_called": "box, uid", "alerts": "box, uid", "manifests": "box, seq"} {
		var n, final uint64
		if err := c.Conn().QueryRow(context.Background(), fmt.Sprintf("SELECT uniqExact(%s) FROM %s.%s WHERE %s", id, db, table, where)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := c.Conn().QueryRow(context.Background(), fmt.Sprintf("SELECT count() FROM %s.%s FINAL WHERE %s", db, table, where)).Scan(&final); err != nil {
			t.Fatal(err)
		}
		out[table], out[table+" final"] = n, final
	}
	return out
}

// boxFixture is one gateway box: a generated capture replayed into its store.
type boxFixture struct {
	name, data, config string
	messages, calls    int
	alerts             int
}

// pathScenario: the same call seen by two boxes half a second apart, the
// caller ID changed between them (85291234567 at box A, 95588 at box B).
var pathScenario = gen.PathScenario

func makeBox(t testing.TB, dir, name string, seed int64, calls int, scenario string) *boxFixture {
	t.Helper()
	b := &boxFixture{name: name, data: filepath.Join(dir, name, "store"), config: filepath.Join(dir, name, "gatewarden.yaml")}
	os.MkdirAll(filepath.Join(dir, name), 0o755)
	pcap := filepath.Join(dir, name, "capture.pcap")
	args := []string{"--seed", fmt.Sprint(seed), "--calls", fmt.Sprint(calls), "--out", pcap}
	if scenario != "" {
		sf := filepath.Join(dir, name, "scenario.yaml")
		if err := os.WriteFile(sf, []byte(scenario), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--scenario", sf)
	}
	if code := runGen(args); code != 0 {
		t.Fatalf("gen %s: exit %d", name, code)
	}
	block := filepath.Join(dir, name, "blocklist.txt")
	if err := os.WriteFile(block, []byte(gen.ScenarioBlocklistFile()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := "box: " + name + "\n" + gen.ScenarioConfigYAML(gen.DefaultPartners(14), 14, block)
	if err := os.WriteFile(b.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var rout, rerr bytes.Buffer
	code := replayMain([]string{"--config", b.config, "--data", b.data, pcap}, &rout, &rerr)
	stderr := rerr.String()
	if code != 0 {
		t.Fatalf("replay %s: exit %d: %s", name, code, stderr)
	}
	m := regexp.MustCompile(`store \S+: messages=(\d+) calls=(\d+) alerts=(\d+) dropped=0`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("replay %s: no store summary: %s", name, stderr)
	}
	fmt.Sscan(m[1], &b.messages)
	fmt.Sscan(m[2], &b.calls)
	fmt.Sscan(m[3], &b.alerts)
	t.Logf("box %s: %d messages, %d calls, %d alerts", name, b.messages, b.calls, b.alerts)
	return b
}

func shipBox(t *testing.T, b *boxFixture, dsn string, extra ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	args := append([]string{"--config", b.config, "--data", b.data, "--clickhouse", dsn}, extra...)
	if code := shipMain(args, &out, &errb); code != 0 {
		t.Fatalf("ship %s: exit %d: %s", b.name, code, errb.String())
	}
	return out.String()
}

func checkShipped(t *testing.T, c *central.Client, b *boxFixture) {
	t.Helper()
	got := centralCounts(t, c, b.name)
	want := map[string]uint64{"messages": uint64(b.messages), "calls": uint64(b.calls), "calls_by_called": uint64(b.calls), "alerts": uint64(b.alerts)}
	for table, n := range want {
		if got[table] != n || got[table+" final"] != n {
			t.Errorf("box %s: central %s: %d distinct, %d after FINAL; the box stored %d", b.name, table, got[table], got[table+" final"], n)
		}
	}
}

type tracedCall struct {
	Box     string         `json:"box"`
	CallID  string         `json:"call_id"`
	Calling string         `json:"calling"`
	Called  string         `json:"called"`
	Ladder  []any          `json:"ladder"`
	Alerts  []any          `json:"alerts"`
	Path    []central.Hop  `json:"path"`
	Ingress map[string]any `json:"ingress"`
}

func runTraceCentral(t *testing.T, dsn string, args ...string) []tracedCall {
	t.Helper()
	var out, errb bytes.Buffer
	if code := traceMain(append([]string{"--clickhouse", dsn, "--format", "json"}, args...), &out, &errb); code != 0 {
		t.Fatalf("trace --clickhouse %v: exit %d: %s", args, code, errb.String())
	}
	var calls []tracedCall
	if err := json.Unmarshal(out.Bytes(), &calls); err != nil {
		t.Fatalf("trace output: %v\n%s", err, out.String())
	}
	return calls
}

// twoBoxes ships two boxes with different captures and checks what trace
// --clickhouse finds: calls of both, and the path across them.
func twoBoxes(t *testing.T, dsn string) {
	dir := t.TempDir()
	a := makeBox(t, dir, "gw-a", 11, 400, pathScenario[0])
	b := makeBox(t, dir, "gw-b", 12, 400, pathScenario[1])
	shipBox(t, a, dsn)
	shipBox(t, b, dsn)
	c := openCentral(t, dsn)
	checkShipped(t, c, a)
	checkShipped(t, c, b)
	if out := shipBox(t, a, dsn); !strings.Contains(out, "messages=0 calls=0 alerts=0") {
		t.Errorf("shipping again sent rows: %s", out)
	}
	// Box A's cursor lost (as after a crash between insert and cursor
	// write, for the whole store): everything is sent again, and counts and
	// answers stay the same.
	o, _ := central.ParseDSN(dsn)
	if err := os.Remove(filepath.Join(a.data, central.CursorFile(o.Database))); err != nil {
		t.Fatal(err)
	}
	if out := shipBox(t, a, dsn); !strings.Contains(out, fmt.Sprintf("messages=%d ", a.messages)) {
		t.Errorf("shipping without a cursor: %s", out)
	}
	checkShipped(t, c, a)

	// Calls of each box, found by number with the box named, same ladder as the box's own trace.
	for _, bx := range []*boxFixture{a, b} {
		st, err := retention.Open(bx.data, retention.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		local, err := st.QueryCalls(retention.Query{Limit: 3, From: 1})
		st.Close()
		if err != nil || len(local) == 0 {
			t.Fatalf("box %s: local calls: %v", bx.name, err)
		}
		for _, lc := range local {
			if lc.Call == nil || lc.Call.Calling == nil {
				continue
			}
			var lo, le bytes.Buffer
			num := lc.Call.Calling.Digits
			if code := traceMain([]string{"--data", bx.data, "--number", num, "--role", "calling", "--cc", "", "--format", "json"}, &lo, &le); code != 0 {
				t.Fatalf("local trace: %s", le.String())
			}
			var want []tracedCall
			json.Unmarshal(lo.Bytes(), &want)
			got := runTraceCentral(t, dsn, "--number", num, "--role", "calling", "--cc", "", "--box", bx.name)
			if len(got) != len(want) || len(got) == 0 {
				t.Fatalf("box %s number %s: central %d calls, local %d", bx.name, num, len(got), len(want))
			}
			// Calls that start at the same instant may come in either order.
			byID := func(c []tracedCall) { sort.Slice(c, func(i, j int) bool { return c[i].CallID < c[j].CallID }) }
			byID(got)
			byID(want)
			for i := range got {
				if got[i].Box != bx.name || got[i].CallID != want[i].CallID || len(got[i].Ladder) != len(want[i].Ladder) ||
					len(got[i].Alerts) != len(want[i].Alerts) {
					t.Errorf("box %s number %s: central %s %s %d messages %d alerts, local %s %d messages %d alerts", bx.name, num,
						got[i].Box, got[i].CallID, len(got[i].Ladder), len(got[i].Alerts), want[i].CallID, len(want[i].Ladder), len(want[i].Alerts))
				}
			}
		}
	}

	// The report: per box, the same rows as the box's own report.
	for _, bx := range []*boxFixture{a, b} {
		var lo, le, co, ce bytes.Buffer
		if code := reportMain([]string{"--data", bx.data, "--format", "json"}, &lo, &le); code != 0 {
			t.Fatalf("local report: %s", le.String())
		}
		if code := reportMain([]string{"--clickhouse", dsn, "--box", bx.name, "--format", "json"}, &co, &ce); code != 0 {
			t.Fatalf("central report: %s", ce.String())
		}
		var local, cent struct{ Rows []map[string]any }
		json.Unmarshal(lo.Bytes(), &local)
		json.Unmarshal(co.Bytes(), &cent)
		alerts := 0.0
		for _, r := range cent.Rows {
			if r["box"] != bx.name {
				t.Errorf("central report row without box %s: %v", bx.name, r)
			}
			delete(r, "box")
			alerts += r["alerts"].(float64)
		}
		if len(local.Rows) == 0 || fmt.Sprint(local.Rows) != fmt.Sprint(cent.Rows) {
			t.Errorf("box %s report:\ncentral %v\nlocal   %v", bx.name, cent.Rows, local.Rows)
		}
		if int(alerts) != bx.alerts {
			t.Errorf("box %s: report counts %v alerts, the box stored %d", bx.name, alerts, bx.alerts)
		}
	}

	// The path: the called number at both boxes, hops in time order, the
	// caller ID as signalled at each hop and the change marked.
	calls := runTraceCentral(t, dsn, "--number", "13812345678", "--role", "called")
	if len(calls) != 2 || calls[0].Box != "gw-a" || calls[1].Box != "gw-b" {
		t.Fatalf("called 13812345678: %+v", calls)
	}
	for _, call := range calls {
		p := call.Path
		if len(p) != 2 || p[0].Box != "gw-a" || p[1].Box != "gw-b" {
			t.Fatalf("path of %s at %s: %+v", call.CallID, call.Box, p)
		}
		if p[0].Calling != "85291234567" || p[1].Calling != "95588" || p[0].CallerIDChanged || !p[1].CallerIDChanged {
			t.Errorf("caller ID along the path: %+v", p)
		}
		if p[0].Partner != "intl-pacific" || p[1].Partner != "ic-telecom" || p[0].Direction != "ingress" || p[0].CIC == 0 || p[0].OPC == 0 {
			t.Errorf("hop details: %+v", p)
		}
	}
	var out, errb bytes.Buffer
	if code := traceMain([]string{"--clickhouse", dsn, "--number", "13812345678", "--role", "called"}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "box=gw-a") || !strings.Contains(out.String(), "CALLER ID CHANGED") {
		t.Errorf("table output:\n%s%s", out.String(), errb.String())
	}

	// Retention: the captures are of 2026-03-02; dropping before that day
	// keeps everything, dropping before the next removes it all.
	for _, tc := range []struct {
		before string
		left   bool
	}{{"2026-03-02", true}, {"2026-03-03", false}} {
		out.Reset()
		errb.Reset()
		if code := centralMain([]string{"drop", "--clickhouse", dsn, "--before", tc.before}, &out, &errb); code != 0 {
			t.Fatalf("central drop: %s", errb.String())
		}
		n := centralCounts(t, c, "")
		if (n["messages"] > 0) != tc.left || (n["calls"] > 0) != tc.left || (n["manifests"] > 0) != tc.left {
			t.Errorf("drop --before %s: %v (%s)", tc.before, n, out.String())
		}
	}
}

func TestCentralTwoBoxes(t *testing.T) {
	dsn := centralDB(t, "GATEWARDEN_CLICKHOUSE")
	var out, errb bytes.Buffer
	if code := centralMain([]string{"init", "--clickhouse", dsn}, &out, &errb); code != 0 {
		t.Fatalf("central init: %s", errb.String())
	}
	twoBoxes(t, dsn)
}

func TestCentralTwoBoxesCluster(t *testing.T) {
	dsn := centralDB(t, "GATEWARDEN_CLICKHOUSE_CLUSTER")
	// No init: the first shipper creates the schema on both shards.
	twoBoxes(t, dsn)
	c := openCentral(t, dsn)
	shards, err := c.Shards(context.Background())
	if err != nil || len(shards) != 2 {
		t.Fatalf("shards: %v %v", shards, err)
	}
	if central.ShardFor("gw-a", 2) == central.ShardFor("gw-b", 2) {
		t.Fatalf("gw-a and gw-b map to one shard: the test would not cover two")
	}
}

// clickhouseScript runs .ci/clickhouse.sh kill/revive on node 2.
func clickhouseScript(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{"../../.ci/clickhouse.sh"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clickhouse.sh %v: %v\n%s", args, err, out)
	}
}

// shipThroughKill ships the boxes to dsn with small batches while node 2 is
// killed and revived, then compares with an uninterrupted run to ref.
func shipThroughKill(t *testing.T, dsn, ref string, boxes []*boxFixture) {
	if testing.Short() {
		t.Skip("short mode: the server-kill tests run in the full suite")
	}
	if os.Getenv("GATEWARDEN_CLICKHOUSE_DIR") == "" {
		t.Skip("GATEWARDEN_CLICKHOUSE_DIR not set: cannot kill the server (.ci/clickhouse.sh start)")
	}
	for _, b := range boxes {
		shipBox(t, b, ref)
	}
	c := openCentral(t, dsn)
	if err := c.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var shippers []*central.Shipper
	total := 0
	for _, b := range boxes {
		st, err := retention.Open(b.data, retention.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		sh := &central.Shipper{Store: st, Client: c, Box: b.name, Batch: 150}
		shippers = append(shippers, sh)
		total += b.messages
		wg.Add(1)
		go func() {
			defer wg.Done()
			sh.Run(ctx, 50*time.Millisecond, t.Logf)
		}()
	}
	shipped := func() (n uint64) {
		for _, sh := range shippers {
			n += sh.Stats().Messages
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for shipped() < uint64(total)/5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := shipped(); n == 0 || n >= uint64(total) {
		t.Fatalf("shipped %d of %d before the kill: not mid-shipping", n, total)
	}
	clickhouseScript(t, "kill", "2")
	time.Sleep(500 * time.Millisecond)
	clickhouseScript(t, "revive", "2")
	deadline = time.Now().Add(90 * time.Second)
	for {
		done := true
		for i, sh := range shippers {
			cur, err := central.LoadCursor(boxes[i].data, c.Options().Database)
			if err != nil {
				t.Fatal(err)
			}
			_, nm, _, err := sh.Store.ScanMessages(cur.Messages, 1, func(*retention.Message) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			_, nc, err := sh.Store.ScanCallRecords(cur.Calls, 1, func(retention.Ref, []byte, *analysis.Call) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			_, na, err := sh.Store.ScanAlertRecords(cur.Alerts, 1, func(retention.Ref, []byte, *analysis.Alert) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			if nm+nc+na > 0 {
				done = false
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not caught up 90 s after the restart: shipped %d of %d", shipped(), total)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	errs := uint64(0)
	for _, sh := range shippers {
		errs += sh.Stats().Errors
	}
	if errs == 0 {
		t.Errorf("no shipping error counted: the kill did not interrupt shipping")
	}
	got, want := centralCounts(t, c, ""), centralCounts(t, openCentral(t, ref), "")
	for table, n := range want {
		if got[table] != n {
			t.Errorf("%s: %d after kill and restart, %d uninterrupted", table, got[table], n)
		}
	}
	for _, b := range boxes {
		checkShipped(t, c, b)
	}
}

func TestCentralShipSurvivesServerKill(t *testing.T) {
	dsn := centralDB(t, "GATEWARDEN_CLICKHOUSE_NODE2")
	ref := centralDB(t, "GATEWARDEN_CLICKHOUSE")
	dir := t.TempDir()
	shipThroughKill(t, dsn, ref, []*boxFixture{makeBox(t, dir, "gw-k", 21, 1500, "")})
}

func TestCentralShipSurvivesShardKillCluster(t *testing.T) {
	dsn := centralDB(t, "GATEWARDEN_CLICKHOUSE_CLUSTER")
	ref := centralDB(t, "GATEWARDEN_CLICKHOUSE")
	dir := t.TempDir()
	shipThroughKill(t, dsn, ref, []*boxFixture{makeBox(t, dir, "gw-a", 31, 1200, ""), makeBox(t, dir, "gw-b", 32, 1200, "")})
}

// TestDaemonShipsWhileCentralDown: the daemon starts with the central store
// down, captures the whole input into its own store regardless (errors
// counted, nothing shipped, lag reported), and once the server is back it
// catches up to exactly what the box stored.
func TestDaemonShipsWhileCentralDown(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: the server-kill tests run in the full suite")
	}
	dsn := centralDB(t, "GATEWARDEN_CLICKHOUSE_NODE2")
	if os.Getenv("GATEWARDEN_CLICKHOUSE_DIR") == "" {
		t.Skip("GATEWARDEN_CLICKHOUSE_DIR not set: cannot kill the server (.ci/clickhouse.sh start)")
	}
	if _, err := os.Stat(scenarioPcap); err != nil {
		t.Skipf("%s: %v", scenarioPcap, err)
	}
	o, err := central.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	os.MkdirAll(spool, 0o755)
	metricsAddr := freePort(t)
	cfgPath := scenarioConfig(t, dir, fmt.Sprintf(`box: gw-daemon
central:
  clickhouse: {addr: [%q], database: %s}
daemon:
  pcap_dir: spool
  pcap_settle: 10ms
  pcap_poll: 10ms
  data_dir: data
  retention: {min_free_mib: -1}
  listen: {metrics: %q}
`, o.Addr[0], o.Database, metricsAddr))
	clickhouseScript(t, "kill", "2")
	revived := false
	defer func() {
		if !revived {
			clickhouseScript(t, "revive", "2")
		}
	}()
	copyFile(t, scenarioPcap, filepath.Join(spool, "scenarios.pcap"))
	d := mustStart(t, cfgPath, slog.New(slog.NewTextHandler(io.Discard, nil)))
	stopped := false
	defer func() {
		if !stopped {
			d.stop(context.Background())
		}
	}()
	m := waitMetric(t, metricsAddr, "the capture analysed and a shipping error", func(m map[string]float64) bool {
		return m[`gatewarden_pcap_files_total{result="done"}`] == 1 && m["gatewarden_central_errors_total"] > 0 &&
			m["gatewarden_central_lag_rows"] > 0 && m["gatewarden_central_lag_seconds"] > 0
	})
	if n := sumMetric(m, "gatewarden_central_rows_shipped_total"); n != 0 {
		t.Fatalf("shipped %v rows to a stopped server", n)
	}
	clickhouseScript(t, "revive", "2")
	revived = true
	deadline := time.Now().Add(90 * time.Second)
	var stored int
	for {
		_, n, _, err := d.store.ScanMessages(0, 1<<30, func(*retention.Message) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		stored = n
		m, err := scrape(metricsAddr)
		if err == nil && n > 0 && m[`gatewarden_central_rows_shipped_total{table="messages"}`] >= float64(n) &&
			m["gatewarden_central_lag_rows"] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not caught up 90 s after the server came back: %v", m)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := d.stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped = true
	c := openCentral(t, dsn)
	got := centralCounts(t, c, "gw-daemon")
	if got["messages"] != uint64(stored) || got["calls"] == 0 {
		t.Errorf("central holds %v; the box stored %d messages", got, stored)
	}
}

// TestCentralVerifyWitness: verify --clickhouse passes for a box whose store
// still holds what it shipped, and fails for a store rewritten consistently
// (its own chain verifies) but no longer holding the shipped partitions.
func TestCentralVerifyWitness(t *testing.T) {
	dsn := centralDB(t, "GATEWARDEN_CLICKHOUSE")
	dir := t.TempDir()
	b := makeBox(t, dir, "gw-v", 41, 300, "")
	shipBox(t, b, dsn)
	verify := func(data string, args ...string) (string, int) {
		var out, errb bytes.Buffer
		code := verifyMain(append([]string{"--data", data}, args...), &out, &errb)
		return out.String() + errb.String(), code
	}
	if out, code := verify(b.data, "--clickhouse", dsn); code != 0 || !strings.Contains(out, "central: box gw-v shipped 1 partition: 1 held") ||
		!strings.Contains(out, "signed checkpoints checked; 0 problems") {
		t.Fatalf("intact store: exit %d\n%s", code, out)
	}

	// The same box's store rebuilt from another capture: locally consistent.
	other := makeBox(t, dir, "gw-v2", 42, 300, "")
	o, _ := central.ParseDSN(dsn)
	cur, err := os.ReadFile(filepath.Join(b.data, central.CursorFile(o.Database)))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(other.data, central.CursorFile(o.Database)), cur, 0o644)
	if out, code := verify(other.data); code != 0 {
		t.Fatalf("the rewritten store must verify on its own: exit %d\n%s", code, out)
	}
	out, code := verify(other.data, "--clickhouse", dsn, "--format", "json")
	if code != 1 || !strings.Contains(out, `"kind": "diverged"`) || !strings.Contains(out, `"ok": false`) ||
		!strings.Contains(out, "signed by key") {
		t.Fatalf("rewritten store against the central witness (manifests and signed checkpoints): exit %d\n%s", code, out)
	}
	if out, code := verify(other.data, "--clickhouse", dsn, "--box", "nobody"); code != 1 || !strings.Contains(out, "no manifest of box nobody") {
		t.Errorf("unknown box: exit %d\n%s", code, out)
	}
}
