// Package e2e drives the investigator UI in real headless Chromium over the
// DevTools protocol. It runs only with GATEWARDEN_BROWSER=1 (see
// .ci/browser-test.sh), so plain `go test ./...` skips it.
package e2e

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/pcaps/gen"
	"github.com/gatewarden/gatewarden/retention"
	"github.com/gatewarden/gatewarden/web"
	"github.com/gatewarden/gatewarden/web/internal/fixture"
	"golang.org/x/crypto/bcrypt"
)

const (
	user     = "ivy"
	password = "night-shift-password"
	// pcaps/scenarios.expected.jsonl: the restricted-CLI call 13850000002 -> 13950000003.
	number = "13950000003"
)

func TestBrowser(t *testing.T) {
	bin := browserBin(t)
	pcap, cfg := fixture.Scenarios()
	if !fixture.Exists(pcap) {
		t.Fatal("pcaps/scenarios.pcap is absent")
	}
	dir := t.TempDir()

	// Replay the committed capture into a fresh store and serve it.
	st, err := retention.Open(filepath.Join(dir, "data"), retention.Options{NoSync: true, MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := fixture.Replay(st, pcap, cfg); err != nil {
		t.Fatal(err)
	}
	// Transit calls two hours later the same day, for the transit call page.
	tpcap := filepath.Join(dir, "transit.pcap")
	tstart := gen.DefaultStart.Add(2 * time.Hour)
	tcalls, _ := gen.TransitScenarios(tstart.Add(time.Minute))
	tf, err := os.Create(tpcap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gen.Write(tf, nil, gen.Options{Seed: 2, Start: tstart, File: tpcap, Partners: gen.DefaultPartners(14),
		Source: gen.NewSliceSource(tcalls)}); err != nil {
		t.Fatal(err)
	}
	if err := tf.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := fixture.Replay(st, tpcap, cfg); err != nil {
		t.Fatal(err)
	}
	stripped, err := st.QueryCalls(retention.Query{Rule: "cli.intl_marking_stripped", Limit: 1})
	if err != nil || len(stripped) != 1 {
		t.Fatalf("transit calls in the store: %d, %v", len(stripped), err)
	}
	// SIP-I calls (SIP over UDP with ISUP bodies) from an international
	// carrier, for the SIP ladder.
	sipCfg := filepath.Join(dir, "sip.yaml")
	if err := os.WriteFile(sipCfg, []byte("home_country_code: \"86\"\nnumbering_plan: cn\npartners:\n  - name: intl-carrier\n    kind: international\n    match: {ips: [\"192.0.2.50\"]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := fixture.Replay(st, filepath.Join(fixture.RepoRoot(), "pcaps", "sipi-udp.pcap"), sipCfg); err != nil {
		t.Fatal(err)
	}
	sipCalls, err := st.QueryCalls(retention.Query{Partner: "intl-carrier"})
	if err != nil {
		t.Fatal(err)
	}
	var sipCall *retention.CallResult
	for i := range sipCalls {
		if l := sipCalls[i].Ladder; len(l) >= 4 && l[0].TypeName() == "INVITE/IAM" && sipCalls[i].Call != nil && sipCalls[i].Call.Outcome == analysis.OutcomeAnswered {
			sipCall = &sipCalls[i]
			break
		}
	}
	if sipCall == nil {
		t.Fatalf("no answered SIP-I call among %d intl-carrier calls", len(sipCalls))
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	h, err := web.New(st, web.Options{Config: web.Config{
		Users: []web.User{
			{Name: user, Role: web.RoleInvestigator, PasswordHash: string(hash)},
			{Name: "vera", Role: web.RoleViewer, PasswordHash: string(hash)},
			{Name: "root", Role: web.RoleAdmin, PasswordHash: string(hash)},
		},
		AuditLog:        filepath.Join(dir, "audit.jsonl"),
		HomeCountryCode: "86",
		DisplayZone:     "Asia/Shanghai",
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	base := serve(t, h)

	pg := openPage(t, bin, dir)
	pc, must, navigate, screenshot, downloads := pg.cdpConn, pg.must, pg.navigate, pg.screenshot, pg.downloads

	// 1. Not signed in: the app sends us to the login page.
	navigate(base + "/")
	// Wait for login.js too, or the form would submit natively.
	must(pc.waitFor(`location.pathname === "/login" && document.readyState === "complete"`, 15*time.Second))

	// 2. A wrong password is refused with a message; the right one signs in.
	must(pc.evaluate(fmt.Sprintf(`document.getElementById("user").value = %q; document.getElementById("password").value = "wrong"; document.getElementById("login-form").requestSubmit(); true`, user), nil))
	must(pc.waitFor(`!document.getElementById("login-error").hidden`, 10*time.Second))
	must(pc.evaluate(fmt.Sprintf(`document.getElementById("password").value = %q; document.getElementById("login-form").requestSubmit(); true`, password), nil))
	must(pc.waitFor(`location.pathname === "/" && document.body.dataset.ready === "1" && document.getElementById("search-form")`, 15*time.Second))
	var who string
	must(pc.evaluate(`document.getElementById("who").textContent`, &who))
	if !strings.Contains(who, user) {
		t.Errorf("header shows %q", who)
	}
	// The session cookie is HttpOnly: page scripts cannot read it.
	var cookie string
	must(pc.evaluate(`document.cookie`, &cookie))
	if strings.Contains(cookie, "gw_session") {
		t.Errorf("session cookie visible to scripts: %q", cookie)
	}

	// 3. Search by number through the form, with a wide range.
	must(pc.evaluate(fmt.Sprintf(`
		document.getElementById("f-number").value = %q;
		document.getElementById("f-from").value = "2020-01-01T00:00";
		document.getElementById("f-to").value = "2026-03-03T00:00";
		document.getElementById("search-button").click(); true`, number), nil))
	// A range beyond 92 days is refused with a readable error, not a crash.
	must(pc.waitFor(`document.getElementById("search-error") || document.querySelector("#results-table tbody tr")`, 15*time.Second))
	var errText string
	pc.evaluate(`(document.getElementById("search-error") || {}).textContent || ""`, &errText)
	if !strings.Contains(errText, "longer than") {
		t.Errorf("a 6-year range: error %q, want the range limit explained", errText)
	}
	must(pc.evaluate(`document.getElementById("f-from").value = "2026-03-01T00:00"; document.getElementById("search-button").click(); true`, nil))
	must(pc.waitFor(`document.querySelector("#results-table tbody tr")`, 15*time.Second))
	var rows []string
	must(pc.evaluate(`[...document.querySelectorAll("#results-table tbody tr")].map(r => r.textContent)`, &rows))
	if len(rows) == 0 || !strings.Contains(rows[0], number) || !strings.Contains(rows[0], "13850000002") || !strings.Contains(rows[0], "cli.restricted") {
		t.Fatalf("results %q", rows)
	}
	screenshot("search.png")
	searchURL := ""
	must(pc.evaluate(`location.href`, &searchURL))

	// 4. Download the pcap of the search result with the button.
	must(pc.evaluate(`document.querySelector("#pcap-download button").click(); true`, nil))
	pcapPath := waitDownload(t, downloads, 20*time.Second)
	types := readPcap(t, pcapPath)
	if len(types) < 2 || types[0] != "IAM" {
		t.Errorf("downloaded pcap holds %v", types)
	}

	// 5. Open the call: the ladder and every decoded parameter.
	must(pc.evaluate(`document.querySelector("#results-table tbody tr a").click(); true`, nil))
	must(pc.waitFor(`document.querySelectorAll("#ladder svg .msg").length >= 2 && document.getElementById("params")`, 15*time.Second))
	var ladder []string
	must(pc.evaluate(`[...document.querySelectorAll("#ladder svg .msg .name")].map(n => n.textContent)`, &ladder))
	if len(ladder) < 2 || ladder[0] != "IAM" {
		t.Errorf("ladder %v", ladder)
	}
	var params string
	must(pc.evaluate(`document.getElementById("params").textContent`, &params))
	for _, want := range []string{"called.digits", number, "calling.digits", "category", "cic"} {
		if !strings.Contains(params, want) {
			t.Errorf("parameter panel lacks %q: %.300s", want, params)
		}
	}
	var summary string
	must(pc.evaluate(`document.getElementById("call-summary").textContent`, &summary))
	if !strings.Contains(summary, "ic-telecom") {
		t.Errorf("call summary %q lacks the partner", summary)
	}
	screenshot("call.png")

	// Coded values carry their Q.763/Q.850 names beside the code.
	var names map[string]string
	must(pc.evaluate(`Object.fromEntries([...document.querySelectorAll("#params tr[data-param]")].filter(r => r.querySelector(".vname")).map(r => [r.dataset.param, r.querySelector(".vname").textContent]))`, &names))
	for _, k := range []string{"calling.nai", "called.nai", "category", "calling.apri"} {
		if names[k] == "" {
			t.Errorf("parameter %s shows no name beside its code: %v", k, names)
		}
	}
	if names["calling.apri"] != "presentation restricted" { // the restricted-CLI call
		t.Errorf("calling.apri named %q, want presentation restricted", names["calling.apri"])
	}
	if os.Getenv("GATEWARDEN_SCREENSHOTS") != "" {
		must(pc.evaluate(`document.querySelector('#params tr[data-param="calling.nai"]').scrollIntoView(); true`, nil))
		screenshot("params.png")
		must(pc.evaluate(`window.scrollTo(0, 0); true`, nil))
	}
	// Times are in the display zone (Asia/Shanghai), UTC one click away.
	var startLabel string
	must(pc.evaluate(`document.getElementById("call-summary").textContent`, &startLabel))
	if !strings.Contains(startLabel, "Start (Asia/Shanghai)") {
		t.Errorf("call summary %q: times not labelled with the display zone", startLabel)
	}

	// 6. Clicking another message shows its parameters.
	must(pc.evaluate(`document.querySelectorAll("#ladder svg .msg")[1].dispatchEvent(new MouseEvent("click", {bubbles: true})); true`, nil))
	must(pc.waitFor(fmt.Sprintf(`document.querySelector("#params h3").textContent.startsWith(%q)`, ladder[1]), 5*time.Second))

	// The REL names its cause.
	must(pc.evaluate(`(() => { const i = [...document.querySelectorAll("#ladder svg .msg .name")].findIndex(n => n.textContent === "REL"); if (i >= 0) document.querySelectorAll("#ladder svg .msg")[i].dispatchEvent(new MouseEvent("click", {bubbles: true})); return i; })()`, nil))
	if err := pc.waitFor(`document.querySelector("#params h3").textContent.startsWith("REL")`, 5*time.Second); err == nil {
		var cause string
		must(pc.evaluate(`(document.querySelector('#params tr[data-param="cause.value"] .vname') || {}).textContent || ""`, &cause))
		if cause == "" {
			t.Error("REL cause shows no Q.850 name")
		}
	}

	// 6b. A SIP-I call's ladder: each arrow names the SIP method or response
	// with the ISUP message its body carries, between the two SIP addresses,
	// and the parameter panel shows the SIP headers, the ISUP body's fields
	// and the SIP message as text.
	navigate(base + "/#/call/" + web.CallID(sipCall.Ref))
	must(pc.waitFor(`document.querySelectorAll("#ladder svg .msg").length >= 4 && document.getElementById("params") && document.querySelector("#params h3").textContent.startsWith("INVITE/IAM")`, 15*time.Second))
	var sipLadder []struct {
		Name string
		Rev  bool
		Sub  string
	}
	must(pc.evaluate(`[...document.querySelectorAll("#ladder svg .msg")].map(g => ({Name: g.querySelector(".name").textContent, Rev: g.classList.contains("rev"), Sub: g.querySelector(".cic").textContent}))`, &sipLadder))
	sipNames := make([]string, len(sipLadder))
	for i, m := range sipLadder {
		sipNames[i] = m.Name
	}
	want := map[string]bool{"INVITE/IAM": false, "180 Ringing/ACM": true, "200 OK/ANM": true} // name: reverse direction
	for _, m := range sipLadder {
		if rev, ok := want[m.Name]; ok {
			if m.Rev != rev {
				t.Errorf("SIP ladder: %s drawn reverse=%v, want %v", m.Name, m.Rev, rev)
			}
			if !strings.HasPrefix(m.Sub, "Call-ID ") || len(m.Sub) <= len("Call-ID ") {
				t.Errorf("SIP ladder: %s sub-label %q, want its Call-ID", m.Name, m.Sub)
			}
			delete(want, m.Name)
		}
	}
	t.Logf("SIP-I ladder: %v", sipNames)
	if len(want) > 0 || sipNames[0] != "INVITE/IAM" {
		t.Errorf("SIP-I ladder %v lacks %v", sipNames, want)
	}
	var sipNodes string
	must(pc.evaluate(`[...document.querySelectorAll("#ladder svg .node")].map(n => n.textContent).join(" | ")`, &sipNodes))
	if !strings.Contains(sipNodes, "192.0.2.50:5060") || !strings.Contains(sipNodes, "10.20.0.7:5060") || !strings.Contains(sipNodes, "SIP udp") {
		t.Errorf("SIP ladder ends %q, want the two SIP addresses over udp", sipNodes)
	}
	var sipParams map[string]string
	must(pc.evaluate(`Object.fromEntries([...document.querySelectorAll("#params tr[data-param]")].map(r => [r.dataset.param, r.children[1].textContent]))`, &sipParams))
	if sipParams["protocol"] != "sip-i" || sipParams["sip.method"] != "INVITE" || sipParams["sip.call_id"] == "" || sipParams["type"] != "IAM" || sipParams["calling.digits"] == "" {
		t.Errorf("INVITE/IAM parameters: protocol %q sip.method %q sip.call_id %q type %q calling.digits %q",
			sipParams["protocol"], sipParams["sip.method"], sipParams["sip.call_id"], sipParams["type"], sipParams["calling.digits"])
	}
	var sipText string
	must(pc.evaluate(`(document.querySelector("#params pre.hex") || {}).textContent || ""`, &sipText))
	if !strings.HasPrefix(sipText, "INVITE sip:") {
		t.Errorf("SIP message text %.80q", sipText)
	}
	// Clicking the 200 OK shows its ISUP body: an ANM.
	must(pc.evaluate(`(() => { const i = [...document.querySelectorAll("#ladder svg .msg .name")].findIndex(n => n.textContent === "200 OK/ANM"); document.querySelectorAll("#ladder svg .msg")[i].dispatchEvent(new MouseEvent("click", {bubbles: true})); return i; })()`, nil))
	must(pc.waitFor(`document.querySelector("#params h3").textContent.startsWith("200 OK/ANM")`, 5*time.Second))
	must(pc.evaluate(`Object.fromEntries([...document.querySelectorAll("#params tr[data-param]")].map(r => [r.dataset.param, r.children[1].textContent]))`, &sipParams))
	if sipParams["sip.status"] != "200" || sipParams["type"] != "ANM" {
		t.Errorf("200 OK/ANM parameters: sip.status %q type %q", sipParams["sip.status"], sipParams["type"])
	}
	if os.Getenv("GATEWARDEN_SCREENSHOTS") != "" {
		screenshot("call-sip.png")
	}

	// 7. Alerts and partner pages render; the filters come from the URL in
	// every time format the API accepts, and are kept when filtering again.
	navigate(base + "/#/alerts")
	must(pc.waitFor(`document.querySelector("#alerts table tbody tr")`, 15*time.Second))
	var allAlerts int
	must(pc.evaluate(`document.querySelectorAll("#alerts table tbody tr").length`, &allAlerts))
	navigate(base + "/#/alerts?from=2026-03-02&to=2026-03-02&severity=critical")
	must(pc.waitFor(`document.getElementById("f-severity").value === "critical" && document.getElementById("alerts-pager")`, 15*time.Second))
	var form struct{ From, To, Severity string }
	must(pc.evaluate(`({From: document.getElementById("f-from").value, To: document.getElementById("f-to").value, Severity: document.getElementById("f-severity").value})`, &form))
	// 2026-03-02 00:00 UTC is 08:00 in Shanghai; a date as "to" is the end of that day.
	if form.From != "2026-03-02T08:00" || form.To != "2026-03-03T08:00" || form.Severity != "critical" {
		t.Errorf("alert filters from a date-only URL: %+v", form)
	}
	var sevs []string
	must(pc.evaluate(`[...document.querySelectorAll("#alerts table tbody tr")].map(r => r.children[2].textContent)`, &sevs))
	if len(sevs) == 0 || len(sevs) >= allAlerts {
		t.Errorf("severity=critical shows %d of %d alerts", len(sevs), allAlerts)
	}
	for _, sv := range sevs {
		if sv != "critical" {
			t.Errorf("severity=critical shows a %q alert", sv)
		}
	}
	// Filtering again keeps the range and adds the rule.
	must(pc.evaluate(`document.getElementById("f-rule").value = "call.bombing"; document.getElementById("alerts-button").click(); true`, nil))
	must(pc.waitFor(`location.hash.includes("rule=call.bombing") && document.getElementById("f-rule").value === "call.bombing" && document.getElementById("alerts-pager")`, 15*time.Second))
	var frag string
	must(pc.evaluate(`decodeURIComponent(location.hash)`, &frag))
	if !strings.Contains(frag, "from=2026-03-02T00:00:00Z") || !strings.Contains(frag, "to=2026-03-03T00:00:00Z") || !strings.Contains(frag, "severity=critical") {
		t.Errorf("filtering again lost the range: %s", frag)
	}
	if os.Getenv("GATEWARDEN_SCREENSHOTS") != "" {
		screenshot("alerts.png")
	}
	// Paging: pages of 8 walk back through the feed and forward again.
	// The pager appears when a page has loaded: the old one is removed
	// before each move, so a wait never reads the previous page.
	dropPager := `(document.getElementById("alerts-pager") || document.createElement("i")).remove(); true`
	must(pc.evaluate(dropPager, nil))
	navigate(base + "/#/alerts?limit=8")
	must(pc.waitFor(`location.hash.endsWith("limit=8") && document.getElementById("alerts-pager")`, 15*time.Second))
	var firstPage []string
	must(pc.evaluate(`[...document.querySelectorAll("#alerts table tbody tr")].map(r => r.textContent)`, &firstPage))
	seenRows := map[string]bool{}
	for _, r := range firstPage {
		seenRows[r] = true
	}
	for page := 1; ; page++ {
		var older bool
		must(pc.evaluate(`!!document.getElementById("alerts-older")`, &older))
		if !older {
			break
		}
		must(pc.evaluate(`document.getElementById("alerts-older").click(); `+dropPager, nil))
		must(pc.waitFor(fmt.Sprintf(`location.hash.includes("offset=%d") && document.getElementById("alerts-pager")`, page*8), 15*time.Second))
		var rowsNow []string
		must(pc.evaluate(`[...document.querySelectorAll("#alerts table tbody tr")].map(r => r.textContent)`, &rowsNow))
		for _, r := range rowsNow {
			if seenRows[r] {
				t.Errorf("page %d repeats an alert: %.80s", page, r)
			}
			seenRows[r] = true
		}
	}
	if len(seenRows) != allAlerts || len(firstPage) != 8 {
		t.Errorf("paging by 8 showed %d alerts (first page %d), the feed has %d", len(seenRows), len(firstPage), allAlerts)
	}
	must(pc.evaluate(`document.getElementById("alerts-newer").click(); `+dropPager, nil))
	must(pc.waitFor(`document.getElementById("alerts-older") && document.getElementById("alerts-pager")`, 15*time.Second))

	// RFC 3339 with an offset and a time without one (UTC) fill the search form too.
	for _, c := range []struct{ param, want string }{
		{"2026-03-02T09:00:00%2B08:00", "2026-03-02T09:00"},
		{"2026-03-02T01:00", "2026-03-02T09:00"},
		{"2026-03-02T01:00:00Z", "2026-03-02T09:00"},
	} {
		must(pc.evaluate(`(document.getElementById("search-form") || document.createElement("i")).remove(); true`, nil))
		navigate(base + "/#/search?number=" + number + "&from=" + c.param)
		must(pc.waitFor(`document.getElementById("search-form") && document.readyState === "complete"`, 15*time.Second))
		var got string
		must(pc.evaluate(`document.getElementById("f-from").value`, &got))
		if got != c.want {
			t.Errorf("search from=%s fills %q, want %q", c.param, got, c.want)
		}
	}
	// UTC is one click away.
	must(pc.evaluate(`document.getElementById("tz-toggle").click(); true`, nil))
	must(pc.waitFor(`document.querySelector('label[for="f-from"]').textContent.startsWith("From (UTC)")`, 10*time.Second))
	var utcFrom string
	must(pc.evaluate(`document.getElementById("f-from").value`, &utcFrom))
	if utcFrom != "2026-03-02T01:00" {
		t.Errorf("in UTC the search form shows from %q", utcFrom)
	}
	must(pc.evaluate(`document.getElementById("tz-toggle").click(); true`, nil))
	navigate(base + "/#/alerts")
	must(pc.waitFor(`document.querySelector("#alerts table tbody tr")`, 15*time.Second))
	navigate(base + "/#/partner/ic-telecom")
	must(pc.waitFor(`document.querySelector("#scorecard") && document.querySelector(".chart svg rect.bar")`, 15*time.Second))
	// Route quality: a row per link and direction, and the hourly ASR/NER chart.
	must(pc.waitFor(`document.querySelector("#route-kpi table tbody tr") && document.querySelector("#route-kpi svg polyline.kpi.asr")`, 15*time.Second))

	// A transit call's page names its other leg and what the gateway changed;
	// the link leads to the ingress leg, whose page points back.
	navigate(base + "/#/call/" + web.CallID(stripped[0].Ref))
	must(pc.waitFor(`document.querySelector("#call-transit tr.changed") && document.querySelector("#call-transit a")`, 15*time.Second))
	var transitText string
	must(pc.evaluate(`document.getElementById("call-transit").textContent + document.getElementById("call-summary").textContent`, &transitText))
	for _, want := range []string{"this is the egress leg", "calling nai", "intl-pacific", "Origin country"} {
		if !strings.Contains(transitText, want) {
			t.Errorf("transit call page lacks %q: %q", want, transitText)
		}
	}
	must(pc.evaluate(`document.querySelector("#call-transit a").click(); true`, nil))
	must(pc.waitFor(`document.querySelector("#call-transit h3") && document.querySelector("#call-transit h3").textContent.includes("ingress leg")`, 15*time.Second))
	if os.Getenv("GATEWARDEN_SCREENSHOTS") != "" {
		screenshot("scorecard.png")
	}

	// 8. Sign out; a viewer sees the same call with masked numbers and no pcap button.
	signIn := func(name string) {
		t.Helper()
		must(pc.evaluate(`document.getElementById("logout").click(); true`, nil))
		must(pc.waitFor(`location.pathname === "/login" && document.readyState === "complete"`, 15*time.Second))
		pg.login(base, name, password)
	}
	signIn("vera")
	navigate(searchURL)
	must(pc.waitFor(`document.querySelector("#results-table tbody tr")`, 15*time.Second))
	must(pc.evaluate(`[...document.querySelectorAll("#results-table tbody tr")].map(r => r.textContent)`, &rows))
	var hasPcap bool
	must(pc.evaluate(`!!document.getElementById("pcap-download")`, &hasPcap))
	if len(rows) == 0 || strings.Contains(rows[0], number) || !strings.Contains(rows[0], web.MaskNumber(number)) || hasPcap {
		t.Errorf("viewer sees %q (pcap button %v)", rows, hasPcap)
	}

	// 9. The admin reads the audit log in the UI: the investigator's search is there.
	signIn("root")
	navigate(base + "/#/audit")
	must(pc.waitFor(`document.querySelector("#audit table tbody tr")`, 15*time.Second))
	var audit []string
	must(pc.evaluate(`[...document.querySelectorAll("#audit table tbody tr")].map(r => r.textContent)`, &audit))
	found := false
	for _, row := range audit {
		found = found || (strings.Contains(row, user) && strings.Contains(row, "/api/calls") && strings.Contains(row, "number="+number))
	}
	if !found {
		t.Errorf("audit page lacks ivy's search: %q", audit)
	}
	if os.Getenv("GATEWARDEN_SCREENSHOTS") != "" {
		screenshot("audit.png")
	}

	pg.checkErrors()
}

func waitDownload(t *testing.T, dir string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".pcapng") {
				return filepath.Join(dir, e.Name())
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no .pcapng downloaded into %s", dir)
	return ""
}

// readPcap reads the file with the project's capture and decode packages.
func readPcap(t *testing.T, path string) []string {
	t.Helper()
	r, err := capture.OpenFiles([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var types []string
	dec := decode.New(decode.Config{}, func(m *decode.Message) { types = append(types, decode.MessageTypeName(m.ISUP.Type)) })
	var f decode.Frame
	for r.Next(&f) != io.EOF {
		dec.Decode(&f)
	}
	if errs := r.Errors(); len(errs) > 0 {
		t.Errorf("downloaded pcap: %v", errs)
	}
	return types
}
