package config

import (
	"net/netip"
	"strings"
	"testing"
)

// TestSIPEndpoints: partners behind one SBC address are told apart by the
// SIP port (match.sip); an address alone (match.ips) names its partner for
// SIP on any port; bad and doubly claimed endpoints are reported.
func TestSIPEndpoints(t *testing.T) {
	c, err := Parse([]byte(`partners:
  - name: carrier-a
    kind: international
    match: {sip: ["192.0.2.50:5060", "[2001:db8::50]:5060"]}
  - name: carrier-b
    kind: international
    match: {sip: ["192.0.2.50:5070"]}
  - name: ic
    kind: interconnect
    match: {ips: ["192.0.2.60"]}
`), "sip.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for ap, want := range map[string]string{
		"192.0.2.50:5060": "carrier-a", "[2001:db8::50]:5060": "carrier-a", "192.0.2.50:5070": "carrier-b",
		"192.0.2.50:5080": "", "192.0.2.60:5060": "ic", "192.0.2.60:40000": "ic", "[::ffff:192.0.2.50]:5070": "carrier-b",
	} {
		if got := c.SIPPartnerName(netip.MustParseAddrPort(ap)); got != want {
			t.Errorf("%s: partner %q, want %q", ap, got, want)
		}
	}
	_, err = Parse([]byte(`partners:
  - name: a
    kind: international
    match: {sip: ["192.0.2.50"]}
  - name: b
    kind: international
    match: {sip: ["192.0.2.51:5060"]}
  - name: c
    kind: international
    match: {sip: ["192.0.2.51:5060"]}
`), "bad.yaml")
	for _, want := range []string{`partners[0].match.sip[0]: "192.0.2.50" is not an IP address and port`,
		`partners[2].match.sip[0]: 192.0.2.51:5060 is already claimed by partner "b"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
