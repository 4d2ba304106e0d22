package gen

import (
	"fmt"
	"time"
)

// TransitScenarios scripts transit calls through the gateway from start on:
// each an ingress leg from the international partner (or the interconnect)
// and the egress leg the gateway sends 150 ms later to the interconnect (or
// the leased line), with the alerts they must raise on the egress leg. Half
// keep the caller's number as they should and must raise nothing. The policy
// is ScenarioConfigYAML's, with the leased line allowed to change calling
// numbers in transit (cli_change_allowed). About 2 minutes of capture time.
func TransitScenarios(start time.Time) ([]Call, []ExpectedAlert) {
	var calls []Call
	var want []ExpectedAlert
	at := start
	serial := 0
	called := func() string { serial++; return fmt.Sprintf("139%08d", 60000000+serial) }
	num := func(d string, nai uint8) *scenarioNumber {
		return &scenarioNumber{Digits: d, NAI: nai, SI: SIUserPassed}
	}
	transit := func(name, rule, inPartner, outPartner string, inCalling, outCalling *scenarioNumber, drop bool) {
		at = at.Add(7 * time.Second)
		dest := called()
		in := Call{Start: at, Partner: inPartner, Direction: Ingress,
			ACM: time.Second, Alerting: time.Second, Answer: 4 * time.Second, Release: 40 * time.Second,
			ReleasedBy: SideCalling, Cause: Cause{Value: CauseNormal},
			IAM: IAM{ForwardCallIndicators: 0x0161, Category: CategoryOrdinary, Calling: inCalling.number(),
				Called: Number{Digits: "86" + dest, NAI: NAIInternational, NPI: NPIISDN}}}
		if inPartner != scenarioIntl {
			in.IAM.ForwardCallIndicators = 0x0160
			in.IAM.Called = Number{Digits: dest, NAI: NAINational, NPI: NPIISDN}
		}
		tr := &scenarioTransit{Partner: outPartner, Delay: 150 * time.Millisecond, Called: num(dest, NAINational),
			Calling: outCalling, DropCalling: drop}
		out, err := transitLeg(in, tr)
		if err != nil {
			panic(err) // fixed script: a defect here is a bug in this function
		}
		out.Start = in.Start.Add(tr.Delay)
		calls = append(calls, in, out)
		if rule == "" {
			return
		}
		w := ExpectedAlert{Rule: rule, Partner: outPartner, Direction: "egress", Called: dest, Scenario: name}
		switch {
		case drop:
		case outCalling == nil:
			w.Calling = inCalling.Digits
		default:
			w.Calling = outCalling.Digits
		}
		want = append(want, w)
	}
	hk := num("85291234567", NAIInternational)
	// handled correctly
	transit("international caller kept", "", scenarioIntl, scenarioIC, hk, nil, false)
	transit("international caller with 00 under unknown NAI", "", scenarioIntl, scenarioIC, hk, num("0085291234567", NAIUnknown), false)
	transit("domestic caller in international form", "", scenarioIC, scenarioIC, num("13812345670", NAINational), num("8613812345670", NAIInternational), false)
	transit("replacement allowed for the leased line", "", scenarioIntl, scenarioLeased, num("442079460123", NAIInternational), num("1065880001", NAINational), false)
	// marking stripped
	transit("country code removed, national NAI", "cli.intl_marking_stripped", scenarioIntl, scenarioIC, hk, num("91234567", NAINational), false)
	transit("international digits relabelled national", "cli.intl_marking_stripped", scenarioIntl, scenarioIC,
		num("6598765432", NAIInternational), num("6598765432", NAINational), false)
	transit("country code removed, trunk prefix", "cli.intl_marking_stripped", scenarioIntl, scenarioIC,
		num("447700900777", NAIInternational), num("07700900777", NAIUnknown), false)
	// number altered
	transit("replaced by a domestic mobile", "cli.altered_in_transit", scenarioIntl, scenarioIC, hk, num("13800138000", NAINational), false)
	transit("truncated", "cli.altered_in_transit", scenarioIntl, scenarioIC, num("85291234568", NAIInternational), num("8529123456", NAIInternational), false)
	transit("removed", "cli.altered_in_transit", scenarioIntl, scenarioIC, num("85291234569", NAIInternational), nil, true)
	transit("domestic caller replaced", "cli.altered_in_transit", scenarioIC, scenarioIC, num("13812345671", NAINational), num("13812345679", NAINational), false)
	return calls, want
}
