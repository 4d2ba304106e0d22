package rules

import (
	"net/netip"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/config"
)

// FromConfig builds the engine settings of a loaded configuration. blocklist
// may be nil (no blocklist).
func FromConfig(cfg *config.Config, blocklist Blocklist) Settings {
	th := cfg.Thresholds
	s := Settings{
		Plan:      cfg.Plan,
		Protected: cfg.ProtectedNumbers,
		Blocklist: blocklist,
		Thresholds: Thresholds{
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
		s.Partners = append(s.Partners, Partner{
			Name: p.Name, Kind: p.Kind, AllowedCLI: p.AllowedCLI, Forwarding: p.Forwarding,
			RoamingMobileExempt: p.RoamingMobileExempt, ProtectedAllowed: p.ProtectedAllowed,
			Country: p.Country, CLIChangeAllowed: p.CLIChangeAllowed,
		})
	}
	return s
}

// PartnerFunc returns the assembler's partner lookup for cfg: the partner
// owning an address, else the one owning a point code.
func PartnerFunc(cfg *config.Config) func(addr netip.Addr, pc uint32) string {
	return cfg.PartnerName
}

// SIPPartnerFunc is the analysis.AssemblerConfig.SIPPartner of cfg.
func SIPPartnerFunc(cfg *config.Config) func(ap netip.AddrPort) string {
	return cfg.SIPPartnerName
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
