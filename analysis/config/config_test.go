package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExampleLoads(t *testing.T) {
	c, err := Load("../../deploy/gatewarden.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.HomeCountryCode != "86" || c.Plan == nil || c.Plan.CountryCode() != "86" || c.PointCodeBits != 24 {
		t.Errorf("home %q plan %v bits %d", c.HomeCountryCode, c.Plan, c.PointCodeBits)
	}
	hk := c.PartnerByAddr(netip.MustParseAddr("192.0.2.10"))
	if hk == nil || hk.Name != "intl-hk" || hk.Kind != KindInternational || !hk.RoamingMobileExempt || !hk.Forwarding {
		t.Fatalf("192.0.2.10: %+v", hk)
	}
	// "2-10-2" as a 24-bit code is 2<<16 | 10<<8 | 2.
	if p := c.PartnerByPC(2<<16 | 10<<8 | 2); p != hk {
		t.Errorf("PartnerByPC(2-10-2) = %v", p)
	}
	if p := c.PartnerByPC(133633); p != hk {
		t.Errorf("PartnerByPC(133633) = %v", p)
	}
	for _, q := range []struct {
		addr string
		pc   uint32
		want string
	}{{"192.0.2.10", 0, "intl-hk"}, {"203.0.113.9", 1<<16 | 1<<8 | 1, "core"}, {"198.51.100.7", 133633, "bank-leased-line"}, {"203.0.113.9", 4, ""}} {
		if got := c.PartnerName(netip.MustParseAddr(q.addr), q.pc); got != q.want {
			t.Errorf("PartnerName(%s, %d) = %q, want %q", q.addr, q.pc, got, q.want)
		}
	}
	if got := c.PartnerName(netip.Addr{}, 133633); got != "intl-hk" {
		t.Errorf("PartnerName(invalid, 133633) = %q", got)
	}
	bank := c.PartnerByName("bank-leased-line")
	if hk.Country != "HK" {
		t.Errorf("intl-hk country %q", hk.Country)
	}
	if bank == nil || bank.Forwarding || bank.CLIChangeAllowed || len(bank.AllowedCLI) != 2 || bank.ProtectedAllowed[0] != "95588" {
		t.Errorf("bank: %+v", bank)
	}
	if c.Severity["cli.restricted"] != "info" {
		t.Errorf("severity: %v", c.Severity)
	}
	if c.Thresholds != DefaultThresholds() {
		t.Errorf("example thresholds %+v differ from the defaults it documents", c.Thresholds)
	}
}

func TestDefaultsWhenKeysAbsent(t *testing.T) {
	c, err := Parse([]byte("partners:\n  - {name: ll, kind: leased_line, match: {ips: [\"10.0.0.1\"]}}\n  - {name: ic, kind: interconnect, match: {point_codes: [5]}}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if c.HomeCountryCode != "86" || c.NumberingPlan != "cn" || c.PointCodeBits != 14 || c.Thresholds != d.Thresholds {
		t.Errorf("defaults not applied: %+v", c)
	}
	if strings.Join(c.ProtectedNumbers, ",") != strings.Join(DefaultProtectedNumbers, ",") {
		t.Errorf("protected %v", c.ProtectedNumbers)
	}
	if c.Partners[0].Forwarding || !c.Partners[1].Forwarding {
		t.Errorf("forwarding defaults: leased_line %v, interconnect %v", c.Partners[0].Forwarding, c.Partners[1].Forwarding)
	}
	if c.Partners[1].PCBits != 14 {
		t.Errorf("partner PCBits %d", c.Partners[1].PCBits)
	}
	empty, err := Parse([]byte("protected_numbers: []\n"), "t.yaml")
	if err != nil || len(empty.ProtectedNumbers) != 0 {
		t.Errorf("explicit empty protected list: %v, %v", empty.ProtectedNumbers, err)
	}
	if _, err := Parse(nil, "empty.yaml"); err != nil {
		t.Errorf("empty file: %v", err)
	}
}

// Numbers written without quotes are read as the digits written.
func TestUnquotedNumbers(t *testing.T) {
	c, err := Parse([]byte("home_country_code: 86\nprotected_numbers: [110, 95588]\npartners:\n  - {name: a, kind: leased_line, allowed_cli: [10, 95588], protected_allowed: [95588], match: {point_codes: [1]}}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.HomeCountryCode != "86" || strings.Join(c.ProtectedNumbers, ",") != "110,95588" || strings.Join(c.Partners[0].AllowedCLI, ",") != "10,95588" {
		t.Errorf("read %q %v %v", c.HomeCountryCode, c.ProtectedNumbers, c.Partners[0].AllowedCLI)
	}
}

func TestThresholdOverrides(t *testing.T) {
	c, err := Parse([]byte("thresholds:\n  one_ring: {ring_max: 3s}\n  bombing: {calls: 5, window: 1m}\n  fwd_loop_counter: 3\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultThresholds()
	want.OneRing.RingMax = 3 * time.Second
	want.Bombing = Window{Calls: 5, Window: time.Minute}
	want.FwdLoopCounter = 3
	if c.Thresholds != want {
		t.Errorf("thresholds %+v, want %+v", c.Thresholds, want)
	}
}

func TestTransitAndRouteOverrides(t *testing.T) {
	c, err := Parse([]byte(`partners:
  - {name: hk, kind: international, country: HK, cli_change_allowed: true, match: {ips: ["192.0.2.1"]}}
thresholds:
  transit: {window: 5s, max_pending: 100}
  asr_drop: {floor: 0.1, fraction: 0.4, min_seizures: 50, settle: 15m}
  short_calls: {max_talk: 6s, share: 0.7, min_answered: 40, window: 30m}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultThresholds()
	want.Transit = Transit{Window: 5 * time.Second, MaxPending: 100}
	want.ASRDrop = ASRDrop{Floor: 0.1, Fraction: 0.4, MinSeizures: 50, Settle: 15 * time.Minute}
	want.ShortCalls = ShortCalls{MaxTalk: 6 * time.Second, Share: 0.7, MinAnswered: 40, Window: 30 * time.Minute}
	if c.Thresholds != want {
		t.Errorf("thresholds %+v, want %+v", c.Thresholds, want)
	}
	if p := c.Partners[0]; p.Country != "HK" || !p.CLIChangeAllowed {
		t.Errorf("partner %+v", p)
	}
}

func TestPointCodeForms(t *testing.T) {
	c, err := Parse([]byte(`point_code_bits: 14
partners:
  - {name: itu, kind: interconnect, match: {point_codes: ["2-100-3", 16383]}}
  - {name: cn, kind: interconnect, point_code_bits: 24, match: {point_codes: ["255-255-255", "1.2.3"]}}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for pc, name := range map[uint32]string{2<<11 | 100<<3 | 3: "itu", 16383: "itu", 1<<24 - 1: "cn", 1<<16 | 2<<8 | 3: "cn"} {
		if p := c.PartnerByPC(pc); p == nil || p.Name != name {
			t.Errorf("PartnerByPC(%d) = %v, want %s", pc, p, name)
		}
	}
	if c.PartnerByPC(7) != nil {
		t.Error("PartnerByPC(7) found a partner")
	}
}

func TestPartnerLookupsAllocateNothing(t *testing.T) {
	c, err := Load("../../deploy/gatewarden.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v4 := netip.MustParseAddr("198.51.100.7")
	mapped := netip.AddrFrom16(v4.As16()) // ::ffff:198.51.100.7, as dual-stack sockets report it
	allocs := testing.AllocsPerRun(100, func() {
		if c.PartnerByAddr(v4) == nil || c.PartnerByAddr(mapped) == nil || c.PartnerByPC(133633) == nil {
			t.Fatal("lookup failed")
		}
	})
	if allocs != 0 {
		t.Errorf("lookups allocate %.1f times", allocs)
	}
}

func TestPlanSelection(t *testing.T) {
	dir := t.TempDir()
	c, err := Parse([]byte("home_country_code: \"44\"\nnumbering_plan: e164\n"), filepath.Join(dir, "c.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Plan.CountryCode() != "44" {
		t.Errorf("e164 plan home %q", c.Plan.CountryCode())
	}
	// A plan file relative to the configuration's directory.
	data, err := os.ReadFile("../numplan/cn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "myplan.yaml", string(data))
	c, err = Parse([]byte("numbering_plan: myplan.yaml\n"), filepath.Join(dir, "c.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Plan.Name() != "cn" || c.Plan.CountryCode() != "86" {
		t.Errorf("plan %s/%s", c.Plan.Name(), c.Plan.CountryCode())
	}
}

// TestValidationErrors checks each message: file, key and reason.
func TestValidationErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "bad-blocklist.txt", "13800138000\nnot-a-number\n")
	const file = "gw.yaml"
	partner := func(extra string) string {
		return "partners:\n  - name: a\n    kind: interconnect\n    match: {ips: [\"192.0.2.1\"]}\n" + extra
	}
	cases := []struct {
		name, body, want string
	}{
		{"bad IP", "partners:\n  - {name: a, kind: interconnect, match: {ips: [\"192.0.2.1\"]}}\n  - {name: b, kind: interconnect, match: {ips: [\"192.0.2.2\"]}}\n  - {name: c, kind: interconnect, match: {ips: [\"300.1.1.1\"]}}\n",
			`key partners[2].match.ips[0]: "300.1.1.1" is not an IP address`},
		{"duplicate name", partner("  - {name: a, kind: interconnect, match: {ips: [\"192.0.2.2\"]}}\n"),
			`key partners[1].name: "a" is already the name of partners[0]`},
		{"missing name", "partners:\n  - {kind: interconnect, match: {point_codes: [1]}}\n", `key partners[0].name: missing`},
		{"IP claimed twice", partner("  - {name: b, kind: interconnect, match: {ips: [\"192.0.2.1\"]}}\n"),
			`key partners[1].match.ips[0]: 192.0.2.1 is already claimed by partner "a"`},
		{"mapped IP claimed twice", partner("  - {name: b, kind: interconnect, match: {ips: [\"::ffff:192.0.2.1\"]}}\n"),
			`key partners[1].match.ips[0]: 192.0.2.1 is already claimed by partner "a"`},
		{"point code claimed twice", "partners:\n  - {name: a, kind: interconnect, match: {point_codes: [\"0-1-2\"]}}\n  - {name: b, kind: interconnect, match: {point_codes: [10]}}\n",
			`key partners[1].match.point_codes[0]: point code 10 is already claimed by partner "a"`},
		{"unknown kind", "partners:\n  - {name: a, kind: peering, match: {point_codes: [1]}}\n",
			`key partners[0].kind: "peering" is not one of international, interconnect, leased_line, internal`},
		{"no match", "partners:\n  - {name: a, kind: interconnect}\n", `key partners[0].match: no ips, point_codes or sip`},
		{"point code too big", "partners:\n  - {name: a, kind: interconnect, match: {point_codes: [16384]}}\n",
			`key partners[0].match.point_codes[0]: 16384 does not fit in 14 bits`},
		{"point code bad form", "partners:\n  - {name: a, kind: interconnect, match: {point_codes: [\"1-2\"]}}\n",
			`key partners[0].match.point_codes[0]: "1-2" is not a point code`},
		{"point code field too big", "partners:\n  - {name: a, kind: interconnect, match: {point_codes: [\"8-1-1\"]}}\n",
			`key partners[0].match.point_codes[0]: "8-1-1" is not a 14-bit point code (3-8-3)`},
		{"point code not scalar", "partners:\n  - {name: a, kind: interconnect, match: {point_codes: [[1]]}}\n",
			`key partners[0].match.point_codes[0]: line 2: not a point code`},
		{"partner point code bits", partner("    point_code_bits: 16\n"), `key partners[0].point_code_bits: 16 is not 14 or 24`},
		{"point code bits", "point_code_bits: 32\n", `key point_code_bits: 32 is not 14 or 24`},
		{"allowed_cli not digits", partner("    allowed_cli: [\"+8610\"]\n"), `key partners[0].allowed_cli[0]: "+8610" is not a number prefix`},
		{"protected_allowed not digits", partner("    protected_allowed: [\"11O\"]\n"), `key partners[0].protected_allowed[0]: "11O" is not a number`},
		{"protected_allowed not protected", partner("    protected_allowed: [\"10086\"]\n"), `key partners[0].protected_allowed[0]: "10086" is not in protected_numbers`},
		{"allowed_cli with trunk prefix", partner("    allowed_cli: [\"010\"]\n"), `key partners[0].allowed_cli[0]: "010" starts with 0`},
		{"protected with trunk prefix", "protected_numbers: [\"0110\"]\n", `key protected_numbers[0]: "0110" starts with 0`},
		{"partner country not ISO", partner("    country: hk\n"), `key partners[0].country: "hk" is not an ISO 3166-1 alpha-2 code`},
		{"asr floor not a fraction", "thresholds:\n  asr_drop: {floor: 20}\n", `key thresholds.asr_drop.floor: 20 must be a fraction in (0, 1]`},
		{"short share zero", "thresholds:\n  short_calls: {share: 0}\n", `key thresholds.short_calls.share: 0 must be a fraction in (0, 1]`},
		{"transit window", "thresholds:\n  transit: {window: 3}\n", `key thresholds.transit.window: "3" is not a duration`},
		{"protected_allowed with trunk prefix", partner("    protected_allowed: [\"0110\"]\n"), `key partners[0].protected_allowed[0]: "0110" starts with 0`},
		{"protected not digits", "protected_numbers: [\"110\", \"\"]\n", `key protected_numbers[1]: "" is not a number`},
		{"threshold zero", "thresholds:\n  bombing: {calls: 0}\n", `key thresholds.bombing.calls: 0 must be greater than 0`},
		{"threshold negative window", "thresholds:\n  relay: {window: -5s}\n", `key thresholds.relay.window: -5s must be greater than 0`},
		{"threshold bad duration", "thresholds:\n  one_ring: {window: 600}\n", `key thresholds.one_ring.window: "600" is not a duration`},
		{"ring max zero", "thresholds:\n  one_ring: {ring_max: 0s}\n", `key thresholds.one_ring.ring_max: 0s must be greater than 0`},
		{"high frequency", "thresholds:\n  high_frequency: {calls: -1}\n", `key thresholds.high_frequency.calls: -1 must be greater than 0`},
		{"loop counter zero", "thresholds:\n  fwd_loop_counter: 0\n", `key thresholds.fwd_loop_counter: 0 must be greater than 0`},
		{"loop counter unreachable", "thresholds:\n  fwd_loop_counter: 8\n", `key thresholds.fwd_loop_counter: 8 can never be reached`},
		{"unknown rule", "severity: {cli.spoofed: critical}\n", `key severity.cli.spoofed: "cli.spoofed" is not a rule ID`},
		{"unknown severity", "severity: {cli.missing: urgent}\n", `key severity.cli.missing: "urgent" is not one of info, warning, critical`},
		{"home mismatch", "home_country_code: \"44\"\n", `key home_country_code: "44" does not match numbering plan cn (country code 86)`},
		{"home not digits", "home_country_code: \"+86\"\n", `key home_country_code: "+86" is not a country code`},
		{"home unassigned for e164", "home_country_code: \"999\"\nnumbering_plan: e164\n", `key home_country_code: numplan: "999" is not a known country code`},
		{"plan missing", "numbering_plan: nowhere.yaml\n", `key numbering_plan: numplan: open ` + filepath.Join(dir, "nowhere.yaml")},
		{"plan empty", "numbering_plan: \"\"\n", `key numbering_plan: empty`},
		{"blocklist invalid", "blocklist_file: bad-blocklist.txt\n", `key blocklist_file: ` + filepath.Join(dir, "bad-blocklist.txt") + `:2: "not-a-number" is not a number`},
		{"blocklist missing", "blocklist_file: absent.txt\n", `key blocklist_file: open ` + filepath.Join(dir, "absent.txt")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, file)
			_, err := Parse([]byte(c.body), path)
			if err == nil {
				t.Fatal("accepted")
			}
			if want := path + ": " + c.want; !strings.Contains(err.Error(), want) {
				t.Fatalf("error\n  %s\nwant it to contain\n  %s", err, want)
			}
		})
	}
}

func TestYAMLErrors(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"unknown top-level key", "home_country: \"86\"\n", "gw.yaml: key home_country: unknown key (line 1)"},
		{"unknown nested key", "partners:\n  - name: a\n    kind: interconnect\n    colour: red\n", "gw.yaml: key partners[0].colour: unknown key (line 4)"},
		{"unknown threshold", "thresholds:\n  one_ring: {calls: 1, windw: 5s}\n", "gw.yaml: key thresholds.one_ring.windw: unknown key (line 2)"},
		{"wrong type", "point_code_bits: fourteen\n", `gw.yaml: key point_code_bits: "fourteen" is not an integer (line 1)`},
		{"wrong type long value", "thresholds:\n  relay: {calls: twenty-five-thousand}\n", `gw.yaml: key thresholds.relay.calls: "twenty-..." is not an integer (line 2)`},
		{"wrong type in list", "partners:\n  - name: a\n    match: {ips: [\"192.0.2.1\"]}\n    forwarding: maybe\n", `gw.yaml: key partners[0].forwarding: "maybe" is not true or false (line 4)`},
		{"list instead of mapping", "thresholds: [1, 2]\n", "gw.yaml: key thresholds: must be a mapping (line 1)"},
		{"scalar instead of list", "partners:\n  - name: a\n    allowed_cli: 10\n", `gw.yaml: key partners[0].allowed_cli: "10" is not a list (line 3)`},
		{"two problems", "colour: red\npoint_code_bits: x\n", "gw.yaml: key colour: unknown key (line 1)\ngw.yaml: key point_code_bits: \"x\" is not an integer (line 2)"},
		{"syntax", "partners: [\n", "gw.yaml: yaml:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.body), "gw.yaml")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestAllProblemsReported(t *testing.T) {
	_, err := Parse([]byte("point_code_bits: 9\nthresholds: {bombing: {calls: 0}}\nseverity: {x: info}\n"), "gw.yaml")
	if err == nil {
		t.Fatal("accepted")
	}
	if n := strings.Count(err.Error(), "gw.yaml: key "); n != 3 {
		t.Errorf("%d problems reported, want 3:\n%s", n, err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	if err == nil || !strings.Contains(err.Error(), "none.yaml") {
		t.Errorf("error %v", err)
	}
}

// The scenario capture's configuration (pcaps/scenarios.yaml, generated by
// cmd/gatewarden gen) must stay loadable.
func TestScenarioConfigLoads(t *testing.T) {
	const path = "../../pcaps/scenarios.yaml"
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s absent: %v", path, err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.NewBlocklistReloader()
	if err != nil || r == nil || r.Blocklist().Len() == 0 {
		t.Fatalf("scenario blocklist: %v, %v", r, err)
	}
}

// An unknown key no longer hides the other problems, and every problem says
// its file, key and line.
func TestUnknownKeyDoesNotHideOtherProblems(t *testing.T) {
	body := "colour: red\n" + // 1
		"point_code_bits: 9\n" + // 2
		"partners:\n" + // 3
		"  - name: a\n" + // 4
		"    kind: peering\n" + // 5
		"    match: {ips: [\"192.0.2.1\"]}\n" + // 6
		"thresholds: {bombing: {calls: 0}}\n" + // 7
		"numbering_plan: cnn\n" // 8
	_, err := Parse([]byte(body), "gw.yaml")
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		"gw.yaml: key colour: unknown key (line 1)",
		"gw.yaml: key point_code_bits: 9 is not 14 or 24 (line 2)",
		`gw.yaml: key partners[0].kind: "peering" is not one of international, interconnect, leased_line, internal (line 5)`,
		"gw.yaml: key thresholds.bombing.calls: 0 must be greater than 0 (line 7)",
		`gw.yaml: key numbering_plan: "cnn" is not a built-in plan (cn, e164) nor a plan file`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
	if !strings.Contains(err.Error(), "(line 8)") {
		t.Errorf("numbering_plan problem has no line:\n%s", err)
	}
}

// A missing setting is reported at its parent's line.
func TestLineOfMissingKey(t *testing.T) {
	_, err := Parse([]byte("home_country_code: \"86\"\npartners:\n  - {kind: interconnect, match: {point_codes: [1]}}\n"), "gw.yaml")
	if err == nil || !strings.Contains(err.Error(), "key partners[0].name: missing (line 3)") {
		t.Errorf("error %v", err)
	}
}
