package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatewarden/gatewarden/retention"
)

// TestReplayIntoStoreThenTrace is the investigator's path end to end: replay a
// capture with every rule scenario into a store, then trace each alert's
// calling number and find its call with the alert and the message ladder.
func TestReplayIntoStoreThenTrace(t *testing.T) {
	fx := writeScenarioFixture(t, 14)
	data := filepath.Join(fx.dir, "store")
	out, stderr, code := runReplayArgs(t, "--config", fx.config, "--data", data, fx.pcap)
	if code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "dropped=0") {
		t.Errorf("store summary missing or dropping: %s", stderr)
	}
	alerts := parseAlerts(t, out)
	if len(alerts) == 0 {
		t.Fatal("no alerts")
	}
	traced := 0
	for _, a := range alerts {
		if a.Calling == "" || a.CallID == "" || a.Count != 0 {
			continue // behaviour alerts and missing CLIs have no single call to trace by number
		}
		var o, e bytes.Buffer
		code := traceMain([]string{"--data", data, "--number", a.Calling, "--role", "calling",
			"--from", "2000-01-01", "--to", "2100-01-01", "--format", "json"}, &o, &e)
		if code != 0 {
			t.Fatalf("trace %s: exit %d: %s", a.Calling, code, e.String())
		}
		if !strings.Contains(o.String(), a.Rule) {
			t.Errorf("trace %s: alert %s not in the result", a.Calling, a.Rule)
		}
		var res []map[string]any
		dec := json.NewDecoder(&o)
		for dec.More() {
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("trace %s: bad JSON: %v", a.Calling, err)
			}
			switch x := v.(type) {
			case []any:
				for _, c := range x {
					res = append(res, c.(map[string]any))
				}
			case map[string]any:
				res = append(res, x)
			}
		}
		if len(res) == 0 {
			t.Errorf("trace %s: no call found", a.Calling)
		}
		traced++
	}
	if traced < 5 {
		t.Fatalf("only %d alerts were traceable by calling number", traced)
	}
}

// TestReplaySameCaptureTwice: replaying a capture the store already holds
// (same content, whatever its name) stores nothing again and says so;
// --force stores it again.
func TestReplaySameCaptureTwice(t *testing.T) {
	fx := writeScenarioFixture(t, 14)
	data := filepath.Join(fx.dir, "store")
	stored := func() (msgs, calls, alerts int) {
		t.Helper()
		st, err := retention.Open(data, retention.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range st.Partitions() {
			msgs, calls, alerts = msgs+p.Messages, calls+p.Calls, alerts+p.Alerts
		}
		return
	}
	if _, stderr, code := runReplayArgs(t, "--config", fx.config, "--data", data, fx.pcap); code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr)
	}
	m1, c1, a1 := stored()
	if m1 == 0 || c1 == 0 || a1 == 0 {
		t.Fatalf("first replay stored %d messages, %d calls, %d alerts", m1, c1, a1)
	}
	// The same bytes under another name.
	renamed := filepath.Join(fx.dir, "renamed.pcap")
	copyFile(t, fx.pcap, renamed)
	out, stderr, code := runReplayArgs(t, "--config", fx.config, "--data", data, renamed)
	if code != 0 || !strings.Contains(stderr, "already holds this capture") || !strings.Contains(stderr, "--force") || out != "" {
		t.Fatalf("second replay: exit %d, stdout %d bytes, stderr %s", code, len(out), stderr)
	}
	if m, c, a := stored(); m != m1 || c != c1 || a != a1 {
		t.Errorf("second replay changed the store: %d/%d/%d, was %d/%d/%d", m, c, a, m1, c1, a1)
	}
	if _, stderr, code := runReplayArgs(t, "--config", fx.config, "--data", data, "--force", renamed); code != 0 {
		t.Fatalf("--force replay exit %d: %s", code, stderr)
	}
	if m, c, _ := stored(); m != 2*m1 || c != 2*c1 {
		t.Errorf("--force stored %d messages and %d calls in all, want %d and %d", m, c, 2*m1, 2*c1)
	}
}
