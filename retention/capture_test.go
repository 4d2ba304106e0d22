package retention

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
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
