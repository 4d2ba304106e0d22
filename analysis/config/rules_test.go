package config_test

import (
	"slices"
	"testing"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/config"
	"github.com/gatewarden/gatewarden/analysis/rules"
)

// The configuration must accept exactly the rules the engine has, and its
// documented defaults must be the engine's.
func TestAgreesWithRules(t *testing.T) {
	if !slices.Equal(config.RuleIDs, rules.IDs) {
		t.Errorf("config.RuleIDs %v\nrules.IDs      %v", config.RuleIDs, rules.IDs)
	}
	for _, k := range []string{config.KindInternational, config.KindInterconnect, config.KindLeasedLine, config.KindInternal} {
		switch k {
		case rules.KindInternational, rules.KindInterconnect, rules.KindLeasedLine, rules.KindInternal:
		default:
			t.Errorf("kind %q unknown to rules", k)
		}
	}
	r := rules.DefaultThresholds()
	got := rules.FromConfig(config.Default(), nil).Thresholds
	if got != r {
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
