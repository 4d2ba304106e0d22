package retention

import (
	"testing"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/decode"
)

// TestCallRecordProtocol: a call keeps its protocol through the store, and a
// record written before the protocol was stored (it ends after the message
// count) still decodes, as ISUP.
func TestCallRecordProtocol(t *testing.T) {
	c := &analysis.Call{ID: "0:12:100002", Start: t0, OPC: 5638661, DPC: 5651457, CIC: 100002,
		Protocol: decode.ProtocolBICC, Messages: 5, Outcome: analysis.OutcomeAnswered,
		HeaderCalling: &analysis.PartyNumber{Digits: "8613800000001", NAI: 4}}
	b := appendCall(nil, c)
	got, err := decodeCall(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Protocol != decode.ProtocolBICC || got.CIC != 100002 || got.Messages != 5 ||
		got.HeaderCalling == nil || got.HeaderCalling.Digits != "8613800000001" {
		t.Errorf("round trip: protocol %v cic %d messages %d header %+v", got.Protocol, got.CIC, got.Messages, got.HeaderCalling)
	}
	// The earlier format ends after the message count: no protocol octet,
	// none of the (here empty, one length octet each) transit and origin
	// strings, no header number.
	old := b[:len(b)-4-len(appendParty(nil, c.HeaderCalling))]
	got, err = decodeCall(old)
	if err != nil {
		t.Fatalf("earlier record: %v", err)
	}
	if got.Protocol != decode.ProtocolISUP || got.CIC != 100002 || got.Messages != 5 {
		t.Errorf("earlier record: protocol %v cic %d messages %d", got.Protocol, got.CIC, got.Messages)
	}
}
