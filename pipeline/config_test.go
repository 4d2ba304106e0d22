package pipeline_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/config"
	"github.com/gatewarden/gatewarden/analysis/rules"
	"github.com/gatewarden/gatewarden/pipeline"
)

func TestNewGeneration(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "block.txt"), []byte("+8613912345678\n"), 0o644)
	path := filepath.Join(dir, "gw.yaml")
	os.WriteFile(path, []byte(`
point_code_bits: 14
partners:
  - name: intl
    kind: international
    match: {ips: ["192.0.2.10"], point_codes: [1000]}
    roaming_mobile_exempt: true
  - name: cn24
    kind: interconnect
    point_code_bits: 24
    match: {ips: ["192.0.2.20"]}
blocklist_file: block.txt
thresholds:
  bombing: {calls: 3, window: 60s}
severity:
  cli.blocklisted: info
`), 0o644)
	g, err := pipeline.LoadGeneration(path)
	if err != nil {
		t.Fatal(err)
	}
	if p := g.Config.PartnerName(netip.Addr{}, 1000); p != "intl" {
		t.Errorf("partner by point code: %q", p)
	}
	if m := g.LinkPCBits; len(m) != 1 || m[netip.MustParseAddr("192.0.2.20")] != 24 {
		t.Errorf("link pc bits %v", m)
	}
	s := g.Rules
	if s.Thresholds.BombingCalls != 3 || s.Thresholds.BombingWindow != int64(60*time.Second) {
		t.Errorf("bombing threshold not applied: %+v", s.Thresholds)
	}
	if s.Severity[rules.CLIBlocklisted] != analysis.SeverityInfo {
		t.Errorf("severity override not applied: %v", s.Severity)
	}
	if s.Blocklist == nil || !s.Blocklist.Contains([]byte("8613912345678")) {
		t.Errorf("blocklist not loaded")
	}
	if len(s.Partners) != 2 || !s.Partners[0].RoamingMobileExempt || s.Partners[0].Kind != rules.KindInternational {
		t.Errorf("partners %+v", s.Partners)
	}
}

// The configuration's documented threshold defaults must be the engine's.
func TestConfigDefaultsAgreeWithRules(t *testing.T) {
	r := rules.DefaultThresholds()
	if got := pipeline.RulesSettings(config.Default(), nil).Thresholds; got != r {
		t.Errorf("config defaults %+v\nrules defaults  %+v", got, r)
	}
	for _, sev := range config.Severities {
		found := false
		for s := analysis.SeverityInfo; s <= analysis.SeverityCritical; s++ {
			if s.String() == sev {
				found = true
			}
		}
		if !found {
			t.Errorf("severity %q has no analysis.Severity", sev)
		}
	}
}
