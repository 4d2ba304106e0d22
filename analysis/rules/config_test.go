package rules

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/config"
)

func TestFromConfig(t *testing.T) {
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
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	bl, err := cfg.NewBlocklistReloader()
	if err != nil {
		t.Fatal(err)
	}
	var r recorder
	e := New(FromConfig(cfg, bl), r.emit)
	partner := PartnerFunc(cfg)
	if p := partner(netip.Addr{}, 1000); p != "intl" {
		t.Errorf("partner by point code: %q", p)
	}
	if p := partner(netip.MustParseAddr("192.0.2.20"), 7); p != "cn24" {
		t.Errorf("partner by address: %q", p)
	}
	if m := LinkPCBits(cfg); len(m) != 1 || m[netip.MustParseAddr("192.0.2.20")] != 24 {
		t.Errorf("link pc bits %v", m)
	}
	for i := 0; i < 3; i++ {
		c := ingress("intl", num("8613912345678", 4)) // roaming mobile: exempt
		c.Start += int64(i) * 10 * s
		e.Setup(c)
	}
	if got := r.rules(); len(got) != 4 || got[0] != CallBombing || got[1] != CLIBlocklisted {
		t.Fatalf("alerts %v", got)
	}
	for _, a := range r.alerts {
		if a.Rule == CLIBlocklisted && a.Severity != analysis.SeverityInfo {
			t.Errorf("severity override not applied: %v", a.Severity)
		}
		if a.Rule == CallBombing && (a.Count != 3 || a.WindowS != 60) {
			t.Errorf("bombing threshold not applied: %+v", a)
		}
	}
}
