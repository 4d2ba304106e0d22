package analysis_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/decode"
)

func sipMessage(t *testing.T, ts int64, src, dst string, text string) *decode.Message {
	t.Helper()
	m := &decode.Message{TS: ts, Frame: uint64(ts), Transport: decode.TransportUDP, Protocol: decode.ProtocolSIP,
		Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst)}
	if r := decode.ParseSIP([]byte(strings.ReplaceAll(text, "\n", "\r\n")), true, &m.SIP); r != decode.ReasonNone {
		t.Fatalf("%v: %s", r, text)
	}
	return m
}

// TestSIPCallHeaders: a plain SIP call takes its partner from the SIP
// endpoint (port included), its caller from P-Asserted-Identity, its called
// number from the Request-URI with the NAI its form implies
// (phone-context), its redirecting number from History-Info; CANCEL then
// 487 is released by the caller after alerting: no answer.
func TestSIPCallHeaders(t *testing.T) {
	var got []analysis.Call
	cfg := analysis.AssemblerConfig{
		SIPPartner: func(ap netip.AddrPort) string {
			if ap == netip.MustParseAddrPort("192.0.2.50:5070") {
				return "carrier-b"
			}
			return ""
		},
		Close: func(c *analysis.Call) {
			k := *c
			cp := func(p *analysis.PartyNumber) *analysis.PartyNumber {
				if p == nil {
					return nil
				}
				x := *p
				return &x
			}
			k.Calling, k.Called, k.Redirecting, k.OriginalCalled = cp(c.Calling), cp(c.Called), cp(c.Redirecting), cp(c.OriginalCalled)
			got = append(got, k)
		},
	}
	asm := analysis.NewAssembler(cfg)
	a, b := "192.0.2.50:5070", "10.20.0.7:5060"
	hdr := "Call-ID: c1\nFrom: <sip:anonymous@anonymous.invalid>;tag=f1\nTo: <tel:85212345;phone-context=+852>\n"
	asm.Feed(sipMessage(t, 1e9, a, b, "INVITE tel:85212345;phone-context=+852 SIP/2.0\n"+hdr+
		"CSeq: 1 INVITE\nP-Asserted-Identity: <tel:+44-20-7946-0000>\nPrivacy: id\n"+
		"History-Info: <sip:+85299990000@hk.example>;index=1, <tel:85212345;phone-context=+852>;index=1.1\n\n"))
	asm.Feed(sipMessage(t, 2e9, b, a, "SIP/2.0 180 Ringing\n"+hdr+"CSeq: 1 INVITE\n\n"))
	// A restart in the middle: the dialog continues from the saved state.
	asm = analysis.NewAssembler(cfg)
	if err := asm.RestoreState(saved(t, cfg, func(x *analysis.Assembler) {
		x.Feed(sipMessage(t, 1e9, a, b, "INVITE tel:85212345;phone-context=+852 SIP/2.0\n"+hdr+
			"CSeq: 1 INVITE\nP-Asserted-Identity: <tel:+44-20-7946-0000>\nPrivacy: id\n"+
			"History-Info: <sip:+85299990000@hk.example>;index=1, <tel:85212345;phone-context=+852>;index=1.1\n\n"))
		x.Feed(sipMessage(t, 2e9, b, a, "SIP/2.0 180 Ringing\n"+hdr+"CSeq: 1 INVITE\n\n"))
	})); err != nil {
		t.Fatal(err)
	}
	asm.Feed(sipMessage(t, 5e9, a, b, "CANCEL tel:85212345;phone-context=+852 SIP/2.0\n"+hdr+"CSeq: 1 CANCEL\n\n"))
	asm.Feed(sipMessage(t, 5.01e9, b, a, "SIP/2.0 200 OK\n"+hdr+"CSeq: 1 CANCEL\n\n"))
	asm.Feed(sipMessage(t, 5.02e9, b, a, "SIP/2.0 487 Request Terminated\n"+hdr+"CSeq: 1 INVITE\n\n"))
	asm.Feed(sipMessage(t, 5.03e9, a, b, "ACK tel:85212345;phone-context=+852 SIP/2.0\n"+hdr+"CSeq: 1 ACK\n\n"))
	if len(got) != 1 {
		t.Fatalf("%d calls closed", len(got))
	}
	c := got[0]
	if c.Partner != "carrier-b" || c.Direction != analysis.DirectionIngress || c.Protocol != decode.ProtocolSIP {
		t.Errorf("partner %q direction %v protocol %v", c.Partner, c.Direction, c.Protocol)
	}
	if c.Calling == nil || c.Calling.Digits != "442079460000" || c.Calling.NAI != 4 || c.Calling.APRI != 1 {
		t.Errorf("calling %+v, want 442079460000 NAI 4, restricted (Privacy: id)", c.Calling)
	}
	if c.Called == nil || c.Called.Digits != "85285212345" || c.Called.NAI != 4 {
		t.Errorf("called %+v, want 85285212345 NAI 4 (phone-context +852)", c.Called)
	}
	if c.Redirecting == nil || c.Redirecting.Digits != "85299990000" || !c.Redirected {
		t.Errorf("redirecting %+v", c.Redirecting)
	}
	if c.Outcome != analysis.OutcomeNoAnswer || c.ReleasedBy != analysis.SideCalling || c.Alerting != 2e9 || c.Release != 5e9 || c.Messages != 6 {
		t.Errorf("outcome %v released by %v alerting %d release %d messages %d", c.Outcome, c.ReleasedBy, c.Alerting, c.Release, c.Messages)
	}
}

// saved is the state of a fresh assembler fed by feed.
func saved(t *testing.T, cfg analysis.AssemblerConfig, feed func(*analysis.Assembler)) []byte {
	t.Helper()
	cfg.Close = nil
	x := analysis.NewAssembler(cfg)
	feed(x)
	return x.AppendState(nil)
}
