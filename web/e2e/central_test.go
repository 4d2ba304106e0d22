package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/central"
	"github.com/gatewarden/gatewarden/pcaps/gen"
	"github.com/gatewarden/gatewarden/retention"
	"github.com/gatewarden/gatewarden/web"
	"github.com/gatewarden/gatewarden/web/internal/fixture"
	"golang.org/x/crypto/bcrypt"
)

// centralStore ships a store per box of gen.PathScenario (gw-a, gw-b) to a fresh database
// on the server GATEWARDEN_CLICKHOUSE names, dropped when the test ends.
func centralStore(t *testing.T, dir string) *central.Client {
	t.Helper()
	dsn := os.Getenv("GATEWARDEN_CLICKHOUSE")
	if dsn == "" {
		t.Skip("GATEWARDEN_CLICKHOUSE not set: no ClickHouse server (eval \"$(bash .ci/clickhouse.sh start)\")")
	}
	o, err := central.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("GATEWARDEN_CLICKHOUSE: %v", err)
	}
	o.Database = fmt.Sprintf("gwtest_browser_central_%d", rand.Uint32())
	ctx := context.Background()
	c, err := central.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Conn().Exec(context.Background(), "DROP DATABASE IF EXISTS "+o.Database)
		c.Close()
	})
	_, cfg := fixture.Scenarios()
	for i, box := range []string{"gw-a", "gw-b"} {
		calls, err := gen.LoadScenario(strings.NewReader(gen.PathScenario[i]), gen.DefaultStart)
		if err != nil {
			t.Fatal(err)
		}
		pcap := filepath.Join(dir, box+".pcap")
		f, err := os.Create(pcap)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gen.Write(f, nil, gen.Options{Seed: 3, Start: gen.DefaultStart, File: pcap, Partners: gen.DefaultPartners(14),
			Source: gen.NewSliceSource(calls)}); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		st, err := retention.Open(filepath.Join(dir, box), retention.Options{NoSync: true, MinFreeBytes: -1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fixture.Replay(st, pcap, cfg); err != nil {
			t.Fatal(err)
		}
		sh := &central.Shipper{Store: st, Client: c, Box: box}
		err = sh.ShipAll(ctx)
		sh.Close()
		st.Close()
		if err != nil {
			t.Fatalf("ship %s: %v", box, err)
		}
	}
	return c
}

// TestBrowserCentral drives the UI served over the central store: the box
// column and filter in search, the box and the path across gateways on the
// call page with the caller-ID change marked, and the path masked for a
// viewer.
func TestBrowserCentral(t *testing.T) {
	bin := browserBin(t)
	dir := t.TempDir()
	c := centralStore(t, dir)
	hash, _ := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	h, err := web.NewCentral(c, web.Options{Config: web.Config{
		Users: []web.User{
			{Name: user, Role: web.RoleInvestigator, PasswordHash: string(hash)},
			{Name: "vera", Role: web.RoleViewer, PasswordHash: string(hash)},
		},
		AuditLog: filepath.Join(dir, "audit.jsonl"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	base := serve(t, h)

	pg := openPage(t, bin, dir)
	must := pg.must
	pg.login(base, user, password)
	var navHidden bool
	must(pg.evaluate(`document.querySelector("[data-nav=alerts]").hidden && document.querySelector("[data-nav=partners]").hidden`, &navHidden))
	if !navHidden {
		t.Errorf("alerts and partners pages offered over the central store")
	}

	// Search by the called number: one call per box, each with its box.
	search := func(box string) []string {
		t.Helper()
		must(pg.evaluate(`(document.getElementById("results-table") || document.createElement("i")).remove(); true`, nil))
		must(pg.evaluate(fmt.Sprintf(`
			document.getElementById("f-number").value = "13812345678";
			document.getElementById("f-from").value = "2026-03-01T00:00";
			document.getElementById("f-to").value = "2026-03-03T00:00";
			document.getElementById("f-box").value = %q;
			document.getElementById("search-button").click(); true`, box), nil))
		must(pg.waitFor(`document.querySelector("#results-table tbody tr")`, 15*time.Second))
		var boxes []string
		must(pg.evaluate(`[...document.querySelectorAll("#results-table tbody tr")].map(r => r.dataset.box + " " + r.textContent)`, &boxes))
		return boxes
	}
	rows := search("")
	if len(rows) != 2 || !strings.HasPrefix(rows[0], "gw-b ") || !strings.HasPrefix(rows[1], "gw-a ") ||
		!strings.Contains(rows[1], "85291234567") || !strings.Contains(rows[0], "95588") {
		t.Fatalf("results %q", rows)
	}
	var head string
	must(pg.evaluate(`document.querySelector("#results-table thead").textContent`, &head))
	if !strings.Contains(head, "Box") {
		t.Errorf("results header %q has no Box column", head)
	}
	if rows := search("gw-b"); len(rows) != 1 || !strings.HasPrefix(rows[0], "gw-b ") {
		t.Errorf("box gw-b: %q", rows)
	}

	// Box A's call: its page shows the box and the path with the change marked.
	search("")
	must(pg.evaluate(`document.querySelector('#results-table tbody tr[data-box="gw-a"] a').click(); true`, nil))
	must(pg.waitFor(`document.querySelectorAll("#call-path tbody tr").length === 2 && document.querySelectorAll("#ladder svg .msg").length >= 2`, 15*time.Second))
	var summary string
	must(pg.evaluate(`document.getElementById("call-summary").textContent`, &summary))
	if !strings.Contains(summary, "Boxgw-a") {
		t.Errorf("call summary %q lacks the box", summary)
	}
	var hops []string
	must(pg.evaluate(`[...document.querySelectorAll("#call-path tbody tr")].map(r => r.className + "|" + r.textContent)`, &hops))
	if !strings.HasPrefix(hops[0], " this|") || !strings.Contains(hops[0], "gw-a") || !strings.Contains(hops[0], "85291234567") ||
		strings.Contains(hops[0], "caller ID changed") ||
		!strings.HasPrefix(hops[1], "changed|") || !strings.Contains(hops[1], "gw-b") || !strings.Contains(hops[1], "95588") ||
		!strings.Contains(hops[1], "caller ID changed") {
		t.Errorf("path rows %q", hops)
	}
	pg.screenshot("central-call.png")
	var callURL string
	must(pg.evaluate(`location.href`, &callURL))

	// A viewer gets the same page, numbers masked.
	must(pg.evaluate(`document.getElementById("logout").click(); true`, nil))
	must(pg.waitFor(`location.pathname === "/login" && document.readyState === "complete"`, 15*time.Second))
	pg.login(base, "vera", password)
	pg.navigate(callURL)
	must(pg.waitFor(`document.querySelectorAll("#call-path tbody tr").length === 2`, 15*time.Second))
	var masked string
	must(pg.evaluate(`document.getElementById("call-path").textContent`, &masked))
	if strings.Contains(masked, "85291234567") || !strings.Contains(masked, web.MaskNumber("85291234567")) || !strings.Contains(masked, "gw-b") {
		t.Errorf("viewer's path %q", masked)
	}
	pg.checkErrors()
}
