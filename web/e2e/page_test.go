package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/web"
)

// browserBin returns the Chromium to drive, or skips the test.
func browserBin(t *testing.T) string {
	t.Helper()
	if os.Getenv("GATEWARDEN_BROWSER") != "1" {
		t.Skip("browser test: set GATEWARDEN_BROWSER=1 with Chromium installed (.ci/browser-test.sh does both)")
	}
	bin := findChromium()
	if bin == "" {
		t.Skip("browser test: no chromium on PATH (apt-get install -y chromium, or set CHROMIUM)")
	}
	return bin
}

// serve serves h on a loopback port until the test ends; it returns the base URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := web.NewHTTPServer(ln.Addr().String(), h, nil)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

// page is one tab of a headless Chromium started for a test; page errors
// (exceptions, console errors, CSP violations) are collected for
// checkErrors. Browser and tab close when the test ends.
type page struct {
	*cdpConn
	t          *testing.T
	downloads  string // where downloads land
	shots      string // where screenshots go
	mu         sync.Mutex
	pageErrors []string
}

func openPage(t *testing.T, bin, dir string) *page {
	t.Helper()
	pg := &page{t: t}
	// The profile lives outside t.TempDir: Chromium's helpers may still be
	// flushing it for a moment after they are killed.
	profile, err := os.MkdirTemp("", "gatewarden-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 20 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	b, err := startBrowser(bin, profile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.stop)
	bc, err := dialCDP(b.wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bc.close)
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := bc.call("Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		t.Fatal(err)
	}
	pg.downloads = filepath.Join(dir, "downloads")
	os.MkdirAll(pg.downloads, 0o755)
	if err := bc.call("Browser.setDownloadBehavior", map[string]any{"behavior": "allow", "downloadPath": pg.downloads}, nil); err != nil {
		t.Fatal(err)
	}
	onEvent := func(method string, params json.RawMessage) {
		switch method {
		case "Runtime.exceptionThrown":
			pg.mu.Lock()
			pg.pageErrors = append(pg.pageErrors, "exception: "+string(params))
			pg.mu.Unlock()
		case "Runtime.consoleAPICalled", "Log.entryAdded":
			s := string(params)
			// Refused logins and bad searches are expected 4xx responses.
			if strings.Contains(s, `"source":"network"`) {
				return
			}
			if strings.Contains(s, `"type":"error"`) || strings.Contains(s, `"level":"error"`) {
				pg.mu.Lock()
				pg.pageErrors = append(pg.pageErrors, method+": "+s)
				pg.mu.Unlock()
			}
		}
	}
	pageURL := b.wsURL[:strings.Index(b.wsURL, "/devtools/")] + "/devtools/page/" + target.TargetID
	pc, err := dialCDP(pageURL, onEvent)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pc.close)
	pg.cdpConn = pc
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable"} {
		pg.must(pc.call(m, nil, nil))
	}
	pg.must(pc.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": 1440, "height": 1000, "deviceScaleFactor": 1, "mobile": false}, nil))
	pg.shots = os.Getenv("GATEWARDEN_SCREENSHOTS") // directory for docs/*.png; default a temp dir
	if pg.shots == "" {
		pg.shots = dir
	}
	return pg
}

func (pg *page) must(err error) {
	pg.t.Helper()
	if err != nil {
		pg.t.Fatal(err)
	}
}

func (pg *page) navigate(url string) {
	pg.t.Helper()
	pg.must(pg.call("Page.navigate", map[string]any{"url": url}, nil))
}

func (pg *page) screenshot(name string) {
	pg.t.Helper()
	time.Sleep(300 * time.Millisecond) // let layout settle
	var res struct {
		Data string `json:"data"`
	}
	pg.must(pg.call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": false}, &res))
	png, err := base64.StdEncoding.DecodeString(res.Data)
	pg.must(err)
	if len(png) < 10000 {
		pg.t.Errorf("%s: screenshot only %d bytes", name, len(png))
	}
	pg.must(os.WriteFile(filepath.Join(pg.shots, name), png, 0o644))
	pg.t.Logf("screenshot %s (%d bytes)", filepath.Join(pg.shots, name), len(png))
}

// login signs in through the login page at base.
func (pg *page) login(base, name, password string) {
	pg.t.Helper()
	pg.navigate(base + "/login")
	// Wait for login.js too, or the form would submit natively.
	pg.must(pg.waitFor(`location.pathname === "/login" && document.readyState === "complete"`, 15*time.Second))
	pg.must(pg.evaluate(fmt.Sprintf(`document.getElementById("user").value = %q; document.getElementById("password").value = %q; document.getElementById("login-form").requestSubmit(); true`, name, password), nil))
	pg.must(pg.waitFor(`location.pathname === "/" && document.body.dataset.ready === "1"`, 15*time.Second))
}

// checkErrors fails the test for every page error seen.
func (pg *page) checkErrors() {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	for _, e := range pg.pageErrors {
		pg.t.Errorf("page error: %.400s", e)
	}
}
