package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatewarden/gatewarden/pcaps/gen"
)

// writeCallsCapture generates seed's random calls with the softswitch
// partner, over BICC or (the same relation, same calls) over ISUP, and a
// configuration naming the partner.
func writeCallsCapture(t *testing.T, dir string, bicc bool) (pcap, config string) {
	t.Helper()
	partners := gen.BICCPartners(24)
	for i := range partners[0].Links {
		partners[0].Links[i].BICC = bicc
	}
	name := "isup.pcap"
	if bicc {
		name = "bicc.pcap"
	}
	pcap = filepath.Join(dir, name)
	f, err := os.Create(pcap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gen.Write(f, nil, gen.Options{Seed: 11, Calls: 300, PCBits: 24, Partners: partners, File: name}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	block := filepath.Join(dir, "blocklist.txt")
	if err := os.WriteFile(block, []byte(gen.ScenarioBlocklistFile()), 0o644); err != nil {
		t.Fatal(err)
	}
	config = filepath.Join(dir, "gatewarden.yaml")
	if err := os.WriteFile(config, []byte(gen.ScenarioConfigYAML(partners, 24, block)), 0o644); err != nil {
		t.Fatal(err)
	}
	return pcap, config
}

func readJSONLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestBICCCallsAndRulesAsISUP: the same calls signalled over BICC and over
// ISUP give the same call records (outcome, ring and talk time, releasing
// side, numbers, partner, direction) and the same alerts; only the protocol
// and the circuit code (32-bit call instance code for BICC) differ. The BICC
// calls reach the store, and trace shows them with their protocol.
func TestBICCCallsAndRulesAsISUP(t *testing.T) {
	type result struct {
		calls, alerts []map[string]any
		data          string
	}
	var res [2]result
	for i, bicc := range []bool{false, true} {
		dir := t.TempDir()
		pcap, config := writeCallsCapture(t, dir, bicc)
		res[i].data = filepath.Join(dir, "data")
		callsPath, alertsPath := filepath.Join(dir, "calls.jsonl"), filepath.Join(dir, "alerts.jsonl")
		_, stderr, code := runReplayArgs(t, "--config", config, "--data", res[i].data, "--calls", callsPath, "--alerts", alertsPath, pcap)
		if code != 0 {
			t.Fatalf("replay exit %d: %s", code, stderr)
		}
		res[i].calls, res[i].alerts = readJSONLines(t, callsPath), readJSONLines(t, alertsPath)
	}
	isup, bicc := res[0], res[1]
	if len(isup.calls) < 250 || len(bicc.calls) != len(isup.calls) {
		t.Fatalf("%d ISUP calls, %d BICC calls", len(isup.calls), len(bicc.calls))
	}
	if len(isup.alerts) == 0 || len(bicc.alerts) != len(isup.alerts) {
		t.Fatalf("%d ISUP alerts, %d BICC alerts", len(isup.alerts), len(bicc.alerts))
	}
	t.Logf("%d calls, %d alerts each way", len(isup.calls), len(isup.alerts))
	const base = 100000 // gen.BICCPartners: call instance code = base + circuit
	for i := range isup.calls {
		ic, bc := isup.calls[i], bicc.calls[i]
		if ic["protocol"] != "isup" || bc["protocol"] != "bicc" {
			t.Fatalf("call %d: protocols %v, %v", i, ic["protocol"], bc["protocol"])
		}
		if bc["cic"].(float64) != ic["cic"].(float64)+base {
			t.Fatalf("call %d: BICC cic %v, ISUP cic %v", i, bc["cic"], ic["cic"])
		}
		for _, k := range []string{"start", "alerting", "answer", "release", "end", "ring_ms", "talk_ms", "outcome", "cause",
			"released_by", "partner", "direction", "calling", "called", "redirecting", "category", "messages"} {
			if a, b := jsonText(ic[k]), jsonText(bc[k]); a != b {
				t.Errorf("call %d %s: ISUP %s, BICC %s", i, k, a, b)
			}
		}
	}
	for i := range isup.alerts {
		ia, ba := isup.alerts[i], bicc.alerts[i]
		for _, k := range []string{"ts", "rule", "partner", "calling", "called", "outcome", "count", "detail"} {
			if a, b := jsonText(ia[k]), jsonText(ba[k]); a != b {
				t.Errorf("alert %d %s: ISUP %s, BICC %s", i, k, a, b)
			}
		}
	}

	// Trace a BICC call from the store.
	var calling string
	for _, c := range bicc.calls {
		if p, ok := c["calling"].(map[string]any); ok && c["outcome"] == "answered" {
			calling = p["digits"].(string)
			break
		}
	}
	if calling == "" {
		t.Fatal("no answered call with a calling number")
	}
	code, out, stderr := run(t, traceRun, "--data", bicc.data, "--number", calling, "--role", "calling", "--format", "json")
	if code != 0 {
		t.Fatalf("trace exit %d: %s", code, stderr)
	}
	var traced []traceCall
	if err := json.Unmarshal([]byte(out), &traced); err != nil {
		t.Fatal(err)
	}
	if len(traced) == 0 || traced[0].Ingress == nil || traced[0].Ingress.Protocol != "bicc" || traced[0].Ingress.CIC < base {
		t.Fatalf("traced %+v", traced)
	}
	for _, m := range traced[0].Ladder {
		if m.Protocol != "bicc" || m.CIC < base || !strings.HasPrefix(m.MTP3, "8d") {
			t.Fatalf("ladder message %+v", m)
		}
	}
	if traced[0].Ladder[0].Type != "IAM" || traced[0].Ladder[0].Calling == nil || traced[0].Ladder[0].Calling.Digits != calling {
		t.Fatalf("IAM %+v", traced[0].Ladder[0])
	}
	code, out, _ = run(t, traceRun, "--data", bicc.data, "--number", calling, "--role", "calling", "--format", "table")
	if code != 0 || !strings.Contains(out, "bicc IAM") {
		t.Fatalf("table: %d %s", code, out)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
