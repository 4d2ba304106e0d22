package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
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
