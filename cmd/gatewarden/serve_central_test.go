package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/central"
	"github.com/gatewarden/gatewarden/web"
	"golang.org/x/crypto/bcrypt"
)

// centralServe starts `serve --clickhouse dsn` with an admin (ana) and a
// viewer (vic), both with password secret-pass; it returns the base URL
// and the audit log path.
func centralServe(t *testing.T, dsn string) (base, audit string) {
	t.Helper()
	dir := t.TempDir()
	hash, _ := bcrypt.GenerateFromPassword([]byte("secret-pass"), bcrypt.MinCost)
	cfg := filepath.Join(dir, "gatewarden.yaml")
	audit = filepath.Join(dir, "audit.jsonl")
	os.WriteFile(cfg, []byte("daemon:\n  web:\n    users:\n      - {name: ana, role: admin, password_bcrypt: \""+string(hash)+
		"\"}\n      - {name: vic, role: viewer, password_bcrypt: \""+string(hash)+"\"}\n    audit_log: "+audit+"\n"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan int, 1)
	var logs bytes.Buffer
	go func() {
		done <- serveMain(ctx, []string{"--clickhouse", dsn, "--config", cfg, "--listen", "127.0.0.1:0"}, &logs, func(a string) { addrc <- a })
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve --clickhouse: exit %d after shutdown: %s", code, logs.String())
		}
	})
	select {
	case a := <-addrc:
		return "http://" + a, audit
	case code := <-done:
		t.Fatalf("serve --clickhouse exited %d: %s", code, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("serve --clickhouse did not start")
	}
	return "", ""
}

// apiGet fetches path as user and decodes the JSON body into v (when not nil).
func apiGet(t *testing.T, base, user, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.SetBasicAuth(user, "secret-pass")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if v != nil && res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("%s: %v\n%s", path, err, body)
		}
	}
	if res.StatusCode != http.StatusOK {
		t.Logf("%s as %s: %d %s", path, user, res.StatusCode, bytes.TrimSpace(body))
	}
	return res.StatusCode
}

type centralSearch struct {
	Count int               `json:"count"`
	Calls []web.CallSummary `json:"calls"`
}

// TestServeCentral: the web API over the central store of two boxes shows
// each call's box, filters by box, gives the call page of either box with
// the path across them, and masks numbers for a viewer.
func TestServeCentral(t *testing.T) {
	dsn := centralDB(t, "GATEWARDEN_CLICKHOUSE")
	dir := t.TempDir()
	a := makeBox(t, dir, "gw-a", 21, 60, pathScenario[0])
	b := makeBox(t, dir, "gw-b", 22, 60, pathScenario[1])
	shipBox(t, a, dsn)
	shipBox(t, b, dsn)
	base, audit := centralServe(t, dsn)

	var all centralSearch
	if c := apiGet(t, base, "ana", "/api/calls?limit=1000", &all); c != 200 {
		t.Fatalf("/api/calls: %d", c)
	}
	perBox := map[string]int{}
	for _, c := range all.Calls {
		perBox[c.Box]++
	}
	if len(perBox) != 2 || perBox["gw-a"] != a.calls || perBox["gw-b"] != b.calls {
		t.Errorf("calls per box %v, the boxes stored %d and %d", perBox, a.calls, b.calls)
	}
	for i := 1; i < len(all.Calls); i++ {
		if all.Calls[i].Start > all.Calls[i-1].Start {
			t.Fatalf("not newest first at %d: %s after %s", i, all.Calls[i].Start, all.Calls[i-1].Start)
		}
	}
	var onlyB centralSearch
	apiGet(t, base, "ana", "/api/calls?limit=1000&box=gw-b", &onlyB)
	if onlyB.Count != b.calls {
		t.Errorf("box=gw-b: %d calls, box stored %d", onlyB.Count, b.calls)
	}
	for _, c := range onlyB.Calls {
		if c.Box != "gw-b" {
			t.Fatalf("box=gw-b returned a call of %q", c.Box)
		}
	}
	var none centralSearch
	if apiGet(t, base, "ana", "/api/calls?box=gw-nowhere", &none); none.Count != 0 {
		t.Errorf("box=gw-nowhere: %d calls", none.Count)
	}

	// The call seen by both boxes: found at each, and its page shows the path.
	var hop centralSearch
	apiGet(t, base, "ana", "/api/calls?number=13812345678&role=called", &hop)
	if hop.Count != 2 || hop.Calls[0].Box != "gw-b" || hop.Calls[1].Box != "gw-a" {
		t.Fatalf("called 13812345678: %+v", hop.Calls)
	}
	for _, c := range hop.Calls {
		var d web.CallDetail
		page := "/api/calls/" + c.ID + "?box=" + url.QueryEscape(c.Box)
		if code := apiGet(t, base, "ana", page, &d); code != 200 {
			t.Fatalf("%s: %d", page, code)
		}
		if d.Box != c.Box || len(d.Ladder) == 0 || d.Ladder[0].Type != "IAM" || d.CallID != c.CallID {
			t.Errorf("%s: box %q, %d messages, call %s (search said %s)", page, d.Box, len(d.Ladder), d.CallID, c.CallID)
		}
		p := d.Path
		if len(p) != 2 || p[0].Box != "gw-a" || p[1].Box != "gw-b" || p[0].Calling != "85291234567" || p[1].Calling != "95588" ||
			p[0].CallerIDChanged || !p[1].CallerIDChanged {
			t.Errorf("%s path: %+v", page, p)
		}
		// A viewer sees the same page with the numbers masked, the box in clear.
		var masked map[string]any
		if code := apiGet(t, base, "vic", page, &masked); code != 200 {
			t.Fatalf("%s as viewer: %d", page, code)
		}
		mp, _ := masked["path"].([]any)
		if masked["box"] != c.Box || len(mp) != 2 {
			t.Fatalf("viewer page: box %v, path %v", masked["box"], masked["path"])
		}
		h0, h1 := mp[0].(map[string]any), mp[1].(map[string]any)
		if h0["calling"] != "852******67" || h1["calling"] != "*****" || h0["called"] != "138******78" ||
			h0["box"] != "gw-a" || h1["caller_id_changed"] != true {
			t.Errorf("viewer path: %v", mp)
		}
		if _, ok := masked["ladder"].([]any)[0].(map[string]any)["mtp3"]; ok {
			t.Errorf("viewer got raw bytes")
		}
	}
	var vs map[string]any
	apiGet(t, base, "vic", "/api/calls?number=13812345678&role=called", &vs)
	for _, c := range vs["calls"].([]any) {
		m := c.(map[string]any)
		if m["box"] == "" || strings.Contains(m["called"].(string), "12345") || strings.Contains(m["calling"].(string), "91234") {
			t.Errorf("viewer search row: %v", m)
		}
	}

	// What the central store cannot answer says so.
	for path, want := range map[string]int{
		"/api/calls/" + hop.Calls[0].ID:                     400, // no box
		"/api/calls/" + hop.Calls[0].ID + "?box=gw-nowhere": 404,
		"/api/calls?rule=blocklist":                         400,
		"/api/alerts":                                       501,
		"/api/pcap?number=13812345678":                      501,
	} {
		if code := apiGet(t, base, "ana", path, nil); code != want {
			t.Errorf("%s: %d, want %d", path, code, want)
		}
	}
	log, _ := os.ReadFile(audit)
	if !bytes.Contains(log, []byte(`"box":"gw-b"`)) {
		t.Errorf("audit log lacks the box searched:\n%s", log)
	}
}

// TestServeCentralStoreDown: when the central store fails, a search is a
// server error (500), not the investigator's bad request, also where the
// failure comes while reading the time range (its default end is the
// store's newest call).
func TestServeCentralStoreDown(t *testing.T) {
	dsn := centralDB(t, "GATEWARDEN_CLICKHOUSE")
	o, err := central.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	c, err := central.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	c.Close() // every query now fails
	dir := t.TempDir()
	hash, _ := bcrypt.GenerateFromPassword([]byte("secret-pass"), bcrypt.MinCost)
	h, err := web.NewCentral(c, web.Options{Config: web.Config{
		Users:    []web.User{{Name: "ana", Role: web.RoleAdmin, PasswordHash: string(hash)}},
		AuditLog: filepath.Join(dir, "audit.jsonl"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ts := httptest.NewServer(h)
	defer ts.Close()
	for _, path := range []string{"/api/calls?number=13812345678", "/api/calls?from=2026-03-01&to=2026-03-03"} {
		if code := apiGet(t, ts.URL, "ana", path, nil); code != http.StatusInternalServerError {
			t.Errorf("%s with the central store down: %d, want 500", path, code)
		}
	}
}
