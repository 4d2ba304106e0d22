package web

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatewarden/gatewarden/retention"
	"github.com/gatewarden/gatewarden/web/internal/fixture"
)

// TestSIPCallPage: a SIP-I call from pcaps/sipi-udp.pcap is found by its
// calling number; its page has the SIP ladder between the two addresses,
// each message decoded again with its SIP headers and ISUP body.
func TestSIPCallPage(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gatewarden.yaml")
	os.WriteFile(cfg, []byte("home_country_code: \"86\"\nnumbering_plan: cn\npartners:\n  - name: intl-carrier\n    kind: international\n    match: {ips: [\"192.0.2.50\"]}\n"), 0o644)
	st, err := retention.Open(filepath.Join(dir, "data"), retention.Options{NoSync: true, MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fixture.Replay(st, filepath.Join(fixture.RepoRoot(), "pcaps", "sipi-udp.pcap"), cfg); err != nil {
		t.Fatal(err)
	}
	srv, err := New(st, testOptions(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer func() { ts.Close(); srv.Close(); st.Close() }()
	e := &env{t: t, store: st, srv: srv, ts: ts}

	var list struct {
		Calls []CallSummary `json:"calls"`
	}
	e.getJSON("/api/calls?partner=intl-carrier&limit=100", bearer(testToken), 200, &list)
	var id string
	for _, c := range list.Calls {
		if strings.HasPrefix(strings.Join(c.Sequence, " "), "INVITE/IAM 100 Trying 180 Ringing/ACM 200 OK/ANM") {
			id = c.ID
			break
		}
	}
	if id == "" {
		t.Fatalf("no answered SIP-I call among %+v", list.Calls)
	}
	var d CallDetail
	e.getJSON("/api/calls/"+id, bearer(testToken), 200, &d)
	if d.Points[0] != "192.0.2.50:5060" || d.Points[1] != "10.20.0.7:5060" || d.Ingress["protocol"] != "sip-i" {
		t.Fatalf("points %v ingress %v", d.Points, d.Ingress)
	}
	for i, m := range d.Ladder {
		if !strings.HasPrefix(m.Protocol, "sip") || m.Transport != "udp" || m.DecodeErr != "" || !strings.Contains(string(m.Decoded), `"call_id":`) {
			t.Fatalf("ladder %d: %+v", i, m)
		}
		if m.OPCText != m.Src || m.DPCText != m.Dst {
			t.Errorf("ladder %d: ends %s>%s, addresses %s>%s", i, m.OPCText, m.DPCText, m.Src, m.Dst)
		}
	}
	if iam := string(d.Ladder[0].Decoded); !strings.Contains(iam, `"protocol":"sip-i"`) || !strings.Contains(iam, `"type":"IAM"`) || !strings.Contains(iam, `"calling":{"digits":`) {
		t.Errorf("INVITE decoded %s", iam)
	}
}
