package pipeline

import (
	"fmt"
	"net/netip"
	"reflect"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/config"
	"github.com/gatewarden/gatewarden/analysis/rules"
)

// Generation is what one configuration gives the stages: the rules'
// settings, point-code widths and the blocklist. A reload (SIGHUP) builds a
// new one and hands it to Pipeline.Reload.
type Generation struct {
	Config     *config.Config
	Blocklist  *config.Reloader // nil: no blocklist_file
	Rules      rules.Settings
	PCBits     uint8
	LinkPCBits map[netip.Addr]uint8
}

// LoadGeneration reads the configuration at path ("" for the built-in
// defaults) and the blocklist it names.
func LoadGeneration(path string) (*Generation, error) {
	cfg := config.Default()
	if path != "" {
		var err error
		if cfg, err = config.Load(path); err != nil {
			return nil, err
		}
	}
	return NewGeneration(cfg)
}

// NewGeneration builds the generation of a loaded configuration.
func NewGeneration(cfg *config.Config) (*Generation, error) {
	g := &Generation{Config: cfg, PCBits: cfg.PointCodeBits, LinkPCBits: LinkPCBits(cfg)}
	var bl rules.Blocklist
	if cfg.BlocklistFile != "" {
		r, err := cfg.NewBlocklistReloader()
		if err != nil {
			return nil, fmt.Errorf("%s: blocklist_file: %w", cfg.File, err)
		}
		g.Blocklist, bl = r, r
	}
	g.Rules = RulesSettings(cfg, bl)
	return g, nil
}

// sameRules reports whether two generations give the rules the same
// settings (the blocklist compared by file, not by reloader).
func sameRules(a, b *Generation) bool {
	if a.Config.BlocklistFile != b.Config.BlocklistFile {
		return false
	}
	sa, sb := a.Rules, b.Rules
	sa.Blocklist, sb.Blocklist = nil, nil
	return reflect.DeepEqual(sa, sb)
}

func sameWidths(a, b *Generation) bool {
	if a.PCBits != b.PCBits || len(a.LinkPCBits) != len(b.LinkPCBits) {
		return false
	}
	for k, v := range a.LinkPCBits {
		if b.LinkPCBits[k] != v {
			return false
		}
	}
	return true
}

// RulesSettings builds the rules engine's settings of a loaded
// configuration. blocklist may be nil (no blocklist).
func RulesSettings(cfg *config.Config, blocklist rules.Blocklist) rules.Settings {
	th := cfg.Thresholds
	s := rules.Settings{
		Plan:      cfg.Plan,
		Protected: cfg.ProtectedNumbers,
		Blocklist: blocklist,
		Thresholds: rules.Thresholds{
			OneRingCalls: th.OneRing.Calls, OneRingWindow: int64(th.OneRing.Window), OneRingMaxRing: int64(th.OneRing.RingMax),
			BombingCalls: th.Bombing.Calls, BombingWindow: int64(th.Bombing.Window),
			HighFreqCalls: th.HighFrequency.Calls, HighFreqWindow: int64(th.HighFrequency.Window),
			RelayCalls: th.Relay.Calls, RelayWindow: int64(th.Relay.Window),
			LoopCounter:   th.FwdLoopCounter,
			TransitWindow: int64(th.Transit.Window), TransitMaxPending: th.Transit.MaxPending,
			ASRFloor: th.ASRDrop.Floor, ASRFraction: th.ASRDrop.Fraction, ASRMinSeizures: th.ASRDrop.MinSeizures,
			ASRSettle:    int64(th.ASRDrop.Settle),
			ShortMaxTalk: int64(th.ShortCalls.MaxTalk), ShortShare: th.ShortCalls.Share,
			ShortMinAnswered: th.ShortCalls.MinAnswered, ShortWindow: int64(th.ShortCalls.Window),
		},
		Severity: make(map[string]analysis.Severity, len(cfg.Severity)),
	}
	if cfg.Plan == nil {
		s.Plan = nil // keep the interface nil, not a typed nil pointer
	}
	for id, name := range cfg.Severity {
		switch name {
		case "info":
			s.Severity[id] = analysis.SeverityInfo
		case "warning":
			s.Severity[id] = analysis.SeverityWarning
		case "critical":
			s.Severity[id] = analysis.SeverityCritical
		}
	}
	for _, p := range cfg.Partners {
		s.Partners = append(s.Partners, rules.Partner{
			Name: p.Name, Kind: p.Kind, AllowedCLI: p.AllowedCLI, Forwarding: p.Forwarding,
			RoamingMobileExempt: p.RoamingMobileExempt, ProtectedAllowed: p.ProtectedAllowed,
			Country: p.Country, CLIChangeAllowed: p.CLIChangeAllowed,
		})
	}
	return s
}

// LinkPCBits maps each partner address whose point-code width differs from
// the configuration's default to that width (decode.Config.LinkPCBits).
func LinkPCBits(cfg *config.Config) map[netip.Addr]uint8 {
	var m map[netip.Addr]uint8
	for _, p := range cfg.Partners {
		if p.PCBits == 0 || p.PCBits == cfg.PointCodeBits {
			continue
		}
		for _, a := range p.IPs {
			if m == nil {
				m = make(map[netip.Addr]uint8)
			}
			m[a] = p.PCBits
		}
	}
	return m
}
