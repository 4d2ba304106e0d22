package retention

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
)

// Real captures: every ISUP message the decoder delivers is stored, found again
// by each of its numbers in that number's role, and comes back byte-identical
// with its capture metadata; every message is in some call's ladder.
func TestRealCapturesRoundTrip(t *testing.T) {
	shared := filepath.Join("..", "..", "shared", "pcaps")
	if _, err := os.Stat(shared); err != nil {
		t.Fatalf("real captures not available (part of the test contract: lay shared/ beside the repository): %v", err)
	}
	for _, name := range []string{"isup_load_generator.pcap", "mod_isup_validate.pcap", "mod_isup_m3ua_mgcp.pcap",
		"sng_ss7mon_test1.pcap", "sng_ss7mon_test2.pcap", "sng_ss7mon_test3.pcap", "xdr_tester_m2pa.pcap"} {
		t.Run(name, func(t *testing.T) {
			r, err := capture.OpenFiles([]string{filepath.Join(shared, name)})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			s := openTest(t, dir, Options{})
			type want struct {
				m       decode.Message
				mtp3    []byte
				numbers map[Role]string
			}
			var all []want
			dec := decode.New(decode.Config{}, func(m *decode.Message) {
				w := want{m: *m, mtp3: append([]byte(nil), m.MTP3...), numbers: map[Role]string{}}
				for role, n := range map[Role]*decode.Number{RoleCalling: &m.ISUP.Calling, RoleCalled: &m.ISUP.Called,
					RoleRedirecting: &m.ISUP.Redirecting, RoleOriginalCalled: &m.ISUP.OriginalCalled, RoleRedirection: &m.ISUP.RedirectionNumber} {
					if n.Present && n.NDigits > 0 {
						w.numbers[role] = n.DigitString()
					}
				}
				all = append(all, w)
				if err := s.AddMessage(m, r.SourceName(m.Source)); err != nil {
					t.Fatal(err)
				}
			})
			var f decode.Frame
			for r.Next(&f) == nil {
				dec.Decode(&f)
			}
			dec.Flush()
			if len(all) == 0 {
				t.Fatal("no ISUP messages decoded")
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			ro, _ := Open(dir, Options{ReadOnly: true})
			same := func(g *Message, w *want) bool {
				return g.Frame == w.m.Frame && g.TS == w.m.TS && bytes.Equal(g.MTP3, w.mtp3) && g.Src == w.m.Src &&
					g.Dst == w.m.Dst && g.Label == w.m.Label && g.CIC == w.m.ISUP.CIC && g.RoutingContext == w.m.RoutingContext &&
					g.Stream == w.m.Stream && g.Link == w.m.Link && g.Source == filepath.Join(shared, name)
			}
			everything, err := ro.QueryCalls(Query{})
			if err != nil {
				t.Fatal(err)
			}
			type at struct {
				frame uint64
				ts    int64
			}
			laddered := map[at][]*Message{}
			for _, c := range everything {
				for j := range c.Ladder {
					m := &c.Ladder[j]
					laddered[at{m.Frame, m.TS}] = append(laddered[at{m.Frame, m.TS}], m)
				}
			}
			for i := range all {
				w := &all[i]
				found := false
				for _, g := range laddered[at{w.m.Frame, w.m.TS}] {
					found = found || same(g, w)
				}
				if !found {
					t.Fatalf("message %d (frame %d type %d) in no ladder", i, w.m.Frame, w.m.ISUP.Type)
				}
				for role, num := range w.numbers {
					res, err := ro.QueryCalls(Query{Numbers: []string{num}, Roles: 1 << role})
					if err != nil {
						t.Fatal(err)
					}
					found := false
					for _, c := range res {
						for j := range c.Ladder {
							found = found || same(&c.Ladder[j], w)
						}
					}
					if !found {
						t.Fatalf("frame %d not found by %s %s", w.m.Frame, role, num)
					}
				}
			}
			t.Logf("%d messages, %d calls", len(all), len(everything))
		})
	}
}

// Wireshark's dissector reads the exported capture exactly as it reads the
// original: same times, point codes, message types, circuits, numbers, causes.
func TestExportPcapTsharkAgrees(t *testing.T) {
	original := filepath.Join("..", "..", "shared", "pcaps", "isup_load_generator.pcap")
	if _, err := os.Stat(original); err != nil {
		t.Fatalf("real captures not available (part of the test contract: lay shared/ beside the repository): %v", err)
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	r, err := capture.OpenFiles([]string{original})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	dec := decode.New(decode.Config{}, func(m *decode.Message) { s.AddMessage(m, r.SourceName(m.Source)) })
	var f decode.Frame
	for r.Next(&f) == nil {
		dec.Decode(&f)
	}
	dec.Flush()
	s.Close()
	ro, _ := Open(dir, Options{ReadOnly: true})
	out := filepath.Join(t.TempDir(), "export.pcap")
	w, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.ExportPcap(w, Query{}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	fields := func(path string) []string {
		cmd := exec.Command(tshark, "-n", "-r", path, "-Y", "isup", "-T", "fields", "-e", "frame.time_epoch", "-e", "mtp3.opc",
			"-e", "mtp3.dpc", "-e", "mtp3.sls", "-e", "isup.message_type", "-e", "isup.cic", "-e", "isup.calling", "-e", "isup.called",
			"-e", "isup.cause_indicator")
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark: %v", err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		sort.Strings(lines)
		return lines
	}
	a, b := fields(original), fields(out)
	if len(a) < 5000 || len(a) != len(b) {
		t.Fatalf("tshark sees %d ISUP messages in the original, %d in the export", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("line %d: original %q, export %q", i, a[i], b[i])
		}
	}
}

// The export keeps each message's link framing: tshark reads the exported
// pcapng to the same addresses, ports, stream, routing context and ISUP fields
// as the original frame its comment names.
func TestExportPcapLinkFramingTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	fields := []string{"ip.src", "ip.dst", "sctp.srcport", "sctp.dstport", "sctp.verification_tag", "sctp.data_sid", "sctp.data_ssn",
		"sctp.data_payload_proto_id", "m3ua.routing_context", "m3ua.protocol_data_opc", "m3ua.protocol_data_dpc",
		"mtp3.opc", "mtp3.dpc", "isup.message_type", "isup.cic", "isup.calling", "isup.called", "isup.cause_indicator"}
	// run prints the fields, then the frame's comment and number.
	run := func(path string, extra []string, filter string) []string {
		args := append([]string{"-n", "-r", path}, extra...)
		args = append(args, "-Y", filter, "-T", "fields", "-E", "separator=|")
		for _, f := range fields {
			args = append(args, "-e", f)
		}
		args = append(args, "-e", "frame.comment", "-e", "frame.number")
		b, err := exec.Command(tshark, args...).Output()
		if err != nil {
			t.Fatalf("tshark %v: %v", args, err)
		}
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	for _, c := range []struct {
		name      string
		transport string
		wantIP    bool
	}{
		{"mod_isup_m3ua_mgcp.pcap", "m3ua", true},
		{"xdr_tester_m2pa.pcap", "m2pa", true},
		{"isup_load_generator.pcap", "mtp2", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			original := filepath.Join("..", "..", "shared", "pcaps", c.name)
			if _, err := os.Stat(original); err != nil {
				t.Skipf("real captures not available: %v", err)
			}
			var extra []string
			if b, err := os.ReadFile(original + ".tshark-args"); err == nil {
				extra = strings.Fields(string(b))
			}
			r, err := capture.OpenFiles([]string{original})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			s := openTest(t, dir, Options{})
			fcs := int8(-1)
			if strings.Contains(strings.Join(extra, " "), "frame_check_sequence:TRUE") {
				fcs = 2
			}
			dec := decode.New(decode.Config{MTP2FCSLen: max(fcs, 0)}, func(m *decode.Message) { s.AddMessage(m, r.SourceName(m.Source)) })
			var f decode.Frame
			for r.Next(&f) == nil {
				dec.Decode(&f)
			}
			dec.Flush()
			s.Close()
			ro, err := Open(dir, Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "export.pcapng")
			w, _ := os.Create(out)
			n, err := ro.ExportPcap(w, Query{})
			w.Close()
			if err != nil || n == 0 {
				t.Fatalf("export: %d %v", n, err)
			}
			// The export has no MTP2 FCS (its interface says if_fcslen 0);
			// the original's other preferences apply to it too.
			var exportArgs []string
			for i := 0; i+1 < len(extra); i += 2 {
				if !strings.Contains(extra[i+1], "frame_check_sequence") {
					exportArgs = append(exportArgs, extra[i], extra[i+1])
				}
			}
			exported := run(out, exportArgs, "isup")
			if len(exported) != n {
				t.Fatalf("tshark sees %d ISUP packets in the export, %d written", len(exported), n)
			}
			byFrame := map[string][]string{} // the original, by frame number
			for _, line := range run(original, extra, "isup") {
				cols := strings.Split(line, "|")
				byFrame[cols[len(cols)-1]] = cols
			}
			frameRe := regexp.MustCompile(`frame (\d+) \(` + c.transport + `\)`)
			compared := 0
			for _, line := range exported {
				cols := strings.Split(line, "|")
				comment := cols[len(cols)-2]
				mm := frameRe.FindStringSubmatch(comment)
				if mm == nil || !strings.Contains(comment, c.name) {
					t.Fatalf("comment %q does not name the source file and frame", comment)
				}
				if c.wantIP && (cols[0] == "" || cols[2] == "" || cols[6] == "") {
					t.Fatalf("export lacks addresses, ports or PPID: %q", line)
				}
				want, ok := byFrame[mm[1]]
				if !ok || strings.Contains(want[13], ",") {
					continue // bundled messages: not one-to-one
				}
				for i, f := range fields {
					if strings.HasPrefix(f, "sctp.") {
						if strings.Contains(want[i], ",") {
							continue // bundled SACK or several chunks
						}
					}
					if want[i] != cols[i] {
						t.Errorf("frame %s %s: original %q, export %q", mm[1], f, want[i], cols[i])
					}
				}
				compared++
			}
			if compared < n/2 {
				t.Fatalf("only %d of %d frames compared", compared, n)
			}
		})
	}
}
