package deliver

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
)

const t0 = int64(1_772_442_000_000_000_000) // 2026-03-02T09:00:00Z

func alert(rule string, ts int64) *analysis.Alert {
	return &analysis.Alert{TS: ts, Rule: rule, Severity: analysis.SeverityCritical, Partner: "intl-hk",
		Direction: analysis.DirectionIngress, Calling: "8613800138000", Called: "10086", CallID: "0:12:7", Detail: `quote " and ] here`}
}

func event(a *analysis.Alert) *Event {
	return &Event{Alert: *a, JSON: analysis.AppendAlertJSON(nil, a)}
}

func TestTokenBucket(t *testing.T) {
	b := NewTokenBucket(2, 3) // 2/s, burst 3
	allowed := 0
	for i := 0; i < 10; i++ {
		if b.Allow(t0) {
			allowed++
		}
	}
	if allowed != 3 {
		t.Fatalf("burst: %d allowed", allowed)
	}
	if b.Allow(t0 + 400e6) {
		t.Error("token before 500 ms")
	}
	if !b.Allow(t0 + 500e6) {
		t.Error("no token after 500 ms")
	}
	if b.Allow(t0 - 10e9) {
		t.Error("time going backwards refilled the bucket")
	}
	if n := 0; true {
		for i := 0; i < 100; i++ {
			if b.Allow(t0 + 100e9) {
				n++
			}
		}
		if n != 3 {
			t.Errorf("after a long pause: %d allowed, want the burst 3", n)
		}
	}
}

func TestRotatingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "alerts.jsonl")
	s, err := NewFileSink(path, 600, 2)
	if err != nil {
		t.Fatal(err)
	}
	var written []string
	for i := 0; i < 12; i++ {
		a := alert("cli.missing", t0+int64(i)*1e9)
		a.CIC = uint32(i)
		e := event(a)
		written = append(written, string(e.JSON))
		if err := s.Deliver(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, name := range []string{path + ".2", path + ".1", path} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 600 || len(b) < 300 {
			t.Errorf("%s: %d bytes, want two lines within the limit 600", name, len(b))
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if !json.Valid([]byte(l)) {
				t.Errorf("%s: invalid line %q", name, l)
			}
			kept = append(kept, l)
		}
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("a third rotated file exists (keep 2): %v", err)
	}
	// The kept files hold the newest lines, in order, none lost between them.
	tail := written[len(written)-len(kept):]
	if strings.Join(kept, "\n") != strings.Join(tail, "\n") {
		t.Errorf("kept lines are not the newest %d in order", len(kept))
	}
	// Reopening appends.
	s2, _ := NewFileSink(path, 1<<20, 2)
	s2.Deliver(context.Background(), event(alert("x", t0)))
	s2.Close()
	b, _ := os.ReadFile(path)
	if !strings.HasSuffix(string(b), `"rule":"x"`+string(b[strings.LastIndex(string(b), `"rule":"x"`)+10:])) || strings.Count(string(b), "\n") < 2 {
		t.Errorf("reopen did not append: %q", b)
	}
}

// parse5424 splits an RFC 5424 message into PRI, header fields, SD and MSG.
func parse5424(t *testing.T, msg string) (pri int, fields []string, sd, body string) {
	t.Helper()
	if !strings.HasPrefix(msg, "<") {
		t.Fatalf("no PRI: %q", msg)
	}
	end := strings.IndexByte(msg, '>')
	pri, err := strconv.Atoi(msg[1:end])
	if err != nil {
		t.Fatalf("PRI: %q", msg)
	}
	rest := msg[end+1:]
	fields = strings.SplitN(rest, " ", 7) // VERSION TS HOST APP PROCID MSGID rest
	if len(fields) != 7 || fields[0] != "1" {
		t.Fatalf("header: %q", rest)
	}
	rest = fields[6]
	fields = fields[:6]
	// SD runs to the first ']' not escaped.
	i := 1
	for ; i < len(rest); i++ {
		if rest[i] == '\\' {
			i++
			continue
		}
		if rest[i] == ']' {
			break
		}
	}
	return pri, fields, rest[:i+1], rest[i+2:]
}

func checkSyslog(t *testing.T, msg string) {
	t.Helper()
	pri, f, sd, body := parse5424(t, msg)
	if pri != 10*8+2 { // facility 10, critical
		t.Errorf("PRI %d", pri)
	}
	if f[1] != "2026-03-02T09:00:00.000000Z" || f[2] != "probe" || f[3] != "gatewarden" || f[5] != "cli.blocklisted" {
		t.Errorf("header fields %q", f)
	}
	if !strings.HasPrefix(sd, "[gatewarden@32473 rule=\"cli.blocklisted\"") || !strings.Contains(sd, `calling="8613800138000"`) {
		t.Errorf("SD %q", sd)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil || got["rule"] != "cli.blocklisted" || got["detail"] != `quote " and ] here` {
		t.Errorf("MSG %q: %v", body, err)
	}
}

func TestSyslogUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s, err := NewSyslog("udp", pc.LocalAddr().String(), 10, "probe", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Deliver(context.Background(), event(alert("cli.blocklisted", t0))); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	checkSyslog(t, string(buf[:n]))
}

func TestSyslogTCPOctetCountingAndReconnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	msgs := make(chan string, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					lenText, err := r.ReadString(' ')
					if err != nil {
						return
					}
					n, err := strconv.Atoi(strings.TrimSuffix(lenText, " "))
					if err != nil {
						msgs <- "bad frame length " + lenText
						return
					}
					b := make([]byte, n)
					if _, err := io.ReadFull(r, b); err != nil {
						return
					}
					msgs <- string(b)
					if strings.Contains(string(b), `"cic":1,`) {
						return // the collector drops the connection after the second message
					}
				}
			}(c)
		}
	}()
	s, err := NewSyslog("tcp", ln.Addr().String(), 10, "probe", "gatewarden")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 4; i++ {
		a := alert("cli.blocklisted", t0)
		a.CIC = uint32(i)
		if err := s.Deliver(context.Background(), event(a)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if i == 1 {
			time.Sleep(100 * time.Millisecond) // let the server close; the next write finds out
		}
	}
	got := 0
	timeout := time.After(5 * time.Second)
	for got < 4 {
		select {
		case m := <-msgs:
			checkSyslog(t, m)
			got++
		case <-timeout:
			t.Fatalf("received %d of 4 messages", got)
		}
	}
}

func TestWebhookRetriesWithBackoff(t *testing.T) {
	var calls atomic.Int32
	var mu sync.Mutex
	var times []time.Time
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer t" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		body, _ = io.ReadAll(r.Body)
		mu.Unlock()
	}))
	defer srv.Close()
	w := NewWebhook(srv.URL, time.Second, 3, 20*time.Millisecond, 30*time.Millisecond, map[string]string{"Authorization": "Bearer t"})
	if err := w.Deliver(context.Background(), event(alert("call.bombing", t0))); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 {
		t.Fatalf("%d attempts", calls.Load())
	}
	if d1, d2 := times[1].Sub(times[0]), times[2].Sub(times[1]); d1 < 20*time.Millisecond || d2 < 30*time.Millisecond {
		t.Errorf("backoff %v then %v, want >= 20ms then >= 30ms (doubled, capped)", d1, d2)
	}
	var got map[string]any
	if json.Unmarshal(body, &got) != nil || got["rule"] != "call.bombing" {
		t.Errorf("body %s", body)
	}

	// 4xx other than 429 is final; exhausted retries are an error.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadRequest) }))
	defer bad.Close()
	calls.Store(0)
	w2 := NewWebhook(bad.URL, time.Second, 3, time.Millisecond, time.Millisecond, nil)
	if err := w2.Deliver(context.Background(), event(alert("x", t0))); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("400: %v", err)
	}
	down := NewWebhook("http://127.0.0.1:1/", 200*time.Millisecond, 2, time.Millisecond, 2*time.Millisecond, nil)
	if err := down.Deliver(context.Background(), event(alert("x", t0))); err == nil || !strings.Contains(err.Error(), "3 attempts") {
		t.Errorf("unreachable: %v", err)
	}
}

func TestDispatcherQueueOverflowAndRateLimit(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 100)
	var received atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release // a stuck receiver
		received.Add(1)
	}))
	defer srv.Close()
	dir := t.TempDir()
	file, err := NewFileSink(filepath.Join(dir, "a.jsonl"), 1<<20, 1)
	if err != nil {
		t.Fatal(err)
	}
	hook := NewWebhook(srv.URL, 10*time.Second, 0, time.Millisecond, time.Millisecond, nil)
	d := NewDispatcher(Options{QueueLen: 4, PerRule: map[string]Limit{"call.bombing": {PerSecond: 1, Burst: 2}}}, file, hook)
	stats := func(name string) SinkStats {
		sinks, _ := d.Stats()
		for _, s := range sinks {
			if s.Name == name {
				return s
			}
		}
		t.Fatalf("no sink %s", name)
		return SinkStats{}
	}
	sent := 0
	// send waits until the file sink has written the alert, so only the
	// stuck webhook's queue can overflow.
	send := func(a *analysis.Alert) bool {
		ok := d.Send(a)
		if ok {
			sent++
			deadline := time.Now().Add(5 * time.Second)
			for stats("file").Delivered != uint64(sent) {
				if time.Now().After(deadline) {
					t.Fatalf("file sink stuck at %+v", stats("file"))
				}
				time.Sleep(time.Millisecond)
			}
		}
		return ok
	}
	send(alert("cli.missing", t0))
	<-entered // the webhook now holds one alert in flight
	for i := 1; i < 10; i++ {
		if !send(alert("cli.missing", t0+int64(i)*1e8)) {
			t.Fatal("unlimited rule was limited")
		}
	}
	// call.bombing: burst 2, then one per second of capture time.
	passed := 0
	for i := 0; i < 10; i++ {
		if send(alert("call.bombing", t0+int64(i)*1e8)) {
			passed++
		}
	}
	if passed != 2 {
		t.Errorf("call.bombing passed %d in 1 s, want the burst of 2", passed)
	}
	if !send(alert("call.bombing", t0+3e9)) {
		t.Error("call.bombing still limited 2 s later")
	}
	_, limited := d.Stats()
	if limited["call.bombing"] != 8 || limited["cli.missing"] != 0 {
		t.Errorf("rate limited %v", limited)
	}
	if fs := stats("file"); fs.Delivered != 13 || fs.Dropped != 0 {
		t.Errorf("file %+v", fs)
	}
	// 13 alerts: one in flight, 4 queued, 8 dropped and counted.
	if ws := stats("webhook"); ws.Dropped != 8 || ws.Queued != 4 || ws.Capacity != 4 {
		t.Errorf("webhook %+v", ws)
	}
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if ws := stats("webhook"); ws.Delivered != 5 || received.Load() != 5 {
		t.Errorf("after drain: %+v, server got %d", ws, received.Load())
	}
	b, _ := os.ReadFile(filepath.Join(dir, "a.jsonl"))
	if n := strings.Count(string(b), "\n"); n != 13 {
		t.Errorf("file has %d lines", n)
	}
	d.Send(alert("cli.missing", t0))
	if fs := stats("file"); fs.Dropped != 1 {
		t.Errorf("send after close not counted: %+v", fs)
	}
}

func TestDispatcherCloseAbandonsRetries(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer srv.Close()
	var errs atomic.Int32
	d := NewDispatcher(Options{OnError: func(string, error) { errs.Add(1) }},
		NewWebhook(srv.URL, time.Second, 1000, time.Second, time.Minute, nil))
	d.Send(alert("cli.missing", t0))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	d.Close(ctx)
	if time.Since(start) > 3*time.Second {
		t.Errorf("Close took %v despite its deadline", time.Since(start))
	}
	sinks, _ := d.Stats()
	if sinks[0].Failed != 1 || errs.Load() != 1 {
		t.Errorf("abandoned alert not counted: %+v", sinks[0])
	}
}
