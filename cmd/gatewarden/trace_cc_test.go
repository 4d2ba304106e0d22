package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestTraceCountryCodeFromConfig: trace takes the one country code of the
// configuration (home_country_code) when given --config, as web search and
// the blocklist do; --cc still wins.
func TestTraceCountryCodeFromConfig(t *testing.T) {
	dir, calling, _ := retainedCapture(t)
	cfg := filepath.Join(t.TempDir(), "gw.yaml")
	if err := os.WriteFile(cfg, []byte("home_country_code: \"44\"\nnumbering_plan: e164\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	count := func(args ...string) int {
		t.Helper()
		code, out, stderr := run(t, traceRun, append([]string{"--data", dir, "--number", "0086" + calling, "--format", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("trace %v: exit %d: %s", args, code, stderr)
		}
		var got []traceCall
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n := count(); n == 0 {
		t.Fatalf("0086%s: no calls with the default country code 86", calling)
	}
	if n := count("--config", cfg); n != 0 {
		t.Errorf("with home_country_code 44, 0086%s found %d calls", calling, n)
	}
	if n := count("--config", cfg, "--cc", "86"); n == 0 {
		t.Error("--cc 86 did not override the config")
	}
}
