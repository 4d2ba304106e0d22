package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gatewarden/gatewarden/internal/tsharkref"
	"github.com/gatewarden/gatewarden/pcaps/gen"
	"github.com/gatewarden/gatewarden/retention"
)

const sipPartnerConfig = `home_country_code: "86"
numbering_plan: cn
partners:
  - name: intl-carrier
    kind: international
    match: {ips: ["192.0.2.50", "2001:db8::50"]}
    forwarding: false
`

// TestReplaySIPCalls: SIP-I and plain SIP calls over UDP, TCP and SCTP give
// the outcome and releasing side the generator scripted; the numbers come
// from the ISUP body or the headers; Privacy: id is presentation restricted;
// cli.identity_mismatch fires exactly for the calls whose P-Asserted-Identity
// differs from the ISUP calling number; trace shows the SIP ladder and
// exports it for Wireshark.
func TestReplaySIPCalls(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "gatewarden.yaml")
	if err := os.WriteFile(config, []byte(sipPartnerConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, o := range []gen.SIPOptions{
		{Seed: 31, Calls: 60, Transport: gen.SIPOverUDP, MTU: 700},
		{Seed: 32, Calls: 40, Transport: gen.SIPOverTCP, Segment: 500},
		{Seed: 33, Calls: 40, Transport: gen.SIPOverSCTP, IPv6: true},
	} {
		t.Run(o.Transport, func(t *testing.T) {
			sub := filepath.Join(dir, o.Transport)
			os.MkdirAll(sub, 0o755)
			pcap := filepath.Join(sub, "sip.pcap")
			var p, tr bytes.Buffer
			if _, err := gen.WriteSIP(&p, &tr, o); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(pcap, p.Bytes(), 0o644)
			truth, err := gen.ReadSIPTruth(&tr)
			if err != nil {
				t.Fatal(err)
			}
			data, callsPath, alertsPath := filepath.Join(sub, "data"), filepath.Join(sub, "calls.jsonl"), filepath.Join(sub, "alerts.jsonl")
			_, stderr, code := runReplayArgs(t, "--config", config, "--data", data, "--calls", callsPath, "--alerts", alertsPath, pcap)
			if code != 0 {
				t.Fatalf("replay exit %d: %s", code, stderr)
			}
			calls, alerts := readJSONLines(t, callsPath), readJSONLines(t, alertsPath)
			byID := map[string]map[string]any{}
			for _, c := range calls {
				byID[c["call_id"].(string)] = c
			}
			rulesOf := map[string]map[string]bool{}
			for _, a := range alerts {
				id, _ := a["call_id"].(string)
				if rulesOf[id] == nil {
					rulesOf[id] = map[string]bool{}
				}
				rulesOf[id][a["rule"].(string)] = true
			}
			invites, mismatches := 0, 0
			counts := map[string]int{}
			for _, w := range truth {
				if w.Method != "INVITE" {
					continue
				}
				invites++
				id := "0:" + strconv.FormatUint(w.Frame, 10) + ":sip"
				c := byID[id]
				if c == nil {
					t.Fatalf("no call %s for the INVITE at frame %d", id, w.Frame)
				}
				if c["outcome"] != w.Outcome || c["released_by"] != w.ReleasedBy || c["partner"] != "intl-carrier" || c["direction"] != "ingress" {
					t.Errorf("call %s: outcome %v released by %v partner %v, want %s by %s", id, c["outcome"], c["released_by"], c["partner"], w.Outcome, w.ReleasedBy)
				}
				wantProto := "sip"
				if w.ISUPType != "" {
					wantProto = "sip-i"
				}
				if c["protocol"] != wantProto {
					t.Errorf("call %s: protocol %v, want %s", id, c["protocol"], wantProto)
				}
				calling, _ := c["calling"].(map[string]any)
				wantCalling := w.Calling
				if wantCalling == "" {
					wantCalling = strings.TrimPrefix(w.PAIUser, "+")
					if wantCalling == "" {
						wantCalling = strings.TrimPrefix(w.FromUser, "+")
					}
				}
				if calling == nil || calling["digits"] != wantCalling || calling["nai"].(float64) != 4 {
					t.Errorf("call %s: calling %v, want %s (NAI 4)", id, calling, wantCalling)
				}
				restricted := calling != nil && calling["apri"] != nil && calling["apri"].(float64) == 1
				if restricted != (w.Privacy == "id") || rulesOf[id]["cli.restricted"] != restricted {
					t.Errorf("call %s: privacy %q, apri restricted %v, cli.restricted %v", id, w.Privacy, restricted, rulesOf[id]["cli.restricted"])
				}
				// The rules an ISUP call meets apply the same way: a home
				// number from the international partner, a forwarded call
				// from a partner not registered for forwarding.
				spoofed := strings.HasPrefix(wantCalling, "86")
				if rulesOf[id]["cli.intl_spoofed_domestic"] != spoofed {
					t.Errorf("call %s: caller %s: cli.intl_spoofed_domestic %v", id, wantCalling, rulesOf[id]["cli.intl_spoofed_domestic"])
				}
				if rulesOf[id]["fwd.unregistered"] != (w.Diversion != "") {
					t.Errorf("call %s: diversion %q: fwd.unregistered %v", id, w.Diversion, rulesOf[id]["fwd.unregistered"])
				}
				if redir, _ := c["redirecting"].(map[string]any); w.Diversion != "" && (redir == nil || "+"+redir["digits"].(string) != w.Diversion) {
					t.Errorf("call %s: redirecting %v, diversion %s", id, redir, w.Diversion)
				}
				counts["spoofed"] += b2i(spoofed)
				counts["forwarded"] += b2i(w.Diversion != "")
				mismatch := w.ISUPType != "" && w.PAIUser != "" && w.PAIUser != "+"+w.Calling
				if mismatch {
					mismatches++
				}
				if rulesOf[id]["cli.identity_mismatch"] != mismatch {
					t.Errorf("call %s: PAI %s, ISUP calling %s: cli.identity_mismatch %v", id, w.PAIUser, w.Calling, rulesOf[id]["cli.identity_mismatch"])
				}
			}
			if invites != len(calls) || invites < 40 || mismatches == 0 || counts["spoofed"] == 0 || counts["forwarded"] == 0 {
				t.Fatalf("%d INVITEs, %d calls, %d identity mismatches, %v", invites, len(calls), mismatches, counts)
			}

			// The report counts the partner's calls by protocol.
			code, repOut, stderr0 := run(t, reportRun, "--data", data, "--format", "json")
			if code != 0 {
				t.Fatalf("report exit %d: %s", code, stderr0)
			}
			var rep struct{ Rows []retention.ReportRow }
			if err := json.Unmarshal([]byte(repOut), &rep); err != nil {
				t.Fatal(err)
			}
			byProto := map[string]int{}
			for _, r := range rep.Rows {
				for p, n := range r.ByProtocol {
					byProto[p] += n
				}
			}
			if byProto["sip-i"]+byProto["sip"] != invites || byProto["sip-i"] == 0 || byProto["sip"] == 0 {
				t.Errorf("report by protocol %v for %d calls", byProto, invites)
			}

			// Trace a SIP-I call: ladder of SIP methods and responses with their ISUP.
			var target string
			for _, w := range truth {
				if w.Method == "INVITE" && w.ISUPType != "" && w.Outcome == "answered" {
					target = w.Calling
					break
				}
			}
			pcapOut := filepath.Join(sub, "trace.pcap")
			code, out, stderr := run(t, traceRun, "--data", data, "--number", target, "--role", "calling", "--format", "json", "--pcap", pcapOut)
			if code != 0 {
				t.Fatalf("trace exit %d: %s", code, stderr)
			}
			var traced []traceCall
			if err := json.Unmarshal([]byte(out), &traced); err != nil {
				t.Fatal(err)
			}
			if len(traced) == 0 || traced[0].Ingress == nil || traced[0].Ingress.Protocol != "sip-i" || traced[0].Ingress.Partner != "intl-carrier" {
				t.Fatalf("traced %+v", traced)
			}
			var names []string
			for _, m := range traced[0].Ladder {
				names = append(names, m.Type)
			}
			seq := strings.Join(names, " ")
			if !strings.HasPrefix(seq, "INVITE/IAM 100 Trying 180 Ringing/ACM 200 OK/ANM ACK BYE/REL 200 OK/RLC") ||
				traced[0].Ladder[0].Calling == nil || traced[0].Ladder[0].Calling.Digits != target {
				t.Fatalf("ladder %q, IAM %+v", seq, traced[0].Ladder[0])
			}
			b, err := os.ReadFile(pcapOut)
			if err != nil {
				t.Fatal(err)
			}
			// pcapng: an interface of link type 252 (exported PDU) follows the section header.
			if binary.LittleEndian.Uint32(b) != 0x0a0d0d0a || !bytes.Contains(b, []byte{1, 0, 0, 0}) ||
				!bytes.Contains(b, binary.LittleEndian.AppendUint16(nil, retention.LinkTypeUpperPDU)) {
				t.Fatal("export is not pcapng with exported-PDU packets")
			}
			if !tsharkref.Available() {
				t.Log("tshark not installed: the exported pcap is not dissected")
				return
			}
			cmd := exec.Command(tsharkref.Binary(), "-n", "-r", pcapOut, "-Y", "sip", "-T", "fields", "-e", "sip.Call-ID", "-e", "isup.message_type")
			cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+t.TempDir())
			res, err := cmd.Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			lines := strings.Split(strings.TrimSpace(string(res)), "\n")
			if len(lines) != len(traced[0].Ladder) || !strings.Contains(lines[0], "\t1") {
				t.Fatalf("tshark reads %d SIP messages from the export (ladder %d): %q", len(lines), len(traced[0].Ladder), lines)
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
