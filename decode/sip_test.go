package decode

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// crlf turns a readable message with \n line ends into the wire form.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

// sipINVITE is a SIP-I INVITE (Q.1912.5): multipart/mixed with SDP and an
// ITU-T ISUP IAM (the IAM of sng_ss7mon_test3.pcap frame 1 without its CIC).
func sipINVITE(t testing.TB) []byte {
	t.Helper()
	iam := mustHex(t, hexIAMRedirected)[2:]
	head := crlf(`INVITE sip:+8613912345678@gw.example.cn;user=phone SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds
Max-Forwards: 70
f: "Alice" <sip:+85223456789@carrier.example.hk;user=phone>;tag=1928301774
t: <tel:+8613912345678>
i: a84b4c76e66710@192.0.2.10
CSeq: 314159 INVITE
P-Asserted-Identity: "Alice" <sip:+85223456789@carrier.example.hk;user=phone>, <tel:+85223456789>
Privacy: none
Diversion: <sip:+8613800000001@gw.example.cn>;reason=unconditional;counter=1
History-Info: <sip:+8613800000001@gw.example.cn>;index=1, <sip:+8613912345678@gw.example.cn?Reason=SIP%3Bcause%3D302>;index=1.1
Content-Type: multipart/mixed;boundary=unique-boundary-1
MIME-Version: 1.0
`)
	body := crlf(`--unique-boundary-1
Content-Type: application/sdp

v=0
o=- 0 0 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
m=audio 40000 RTP/AVP 8
--unique-boundary-1
Content-Type: application/ISUP;version=itu-t92+
Content-Disposition: signal;handling=required

`)
	body = append(body, iam...)
	body = append(body, crlf("\n--unique-boundary-1--\n")...)
	var b bytes.Buffer
	b.Write(head)
	b.WriteString("Content-Length: ")
	b.WriteString(itoa(len(body)))
	b.WriteString("\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}

func itoa(n int) string { return string(appendUint(nil, uint64(n))) }

func TestParseSIPInviteSIPI(t *testing.T) {
	msg := sipINVITE(t)
	var s SIP
	if r := ParseSIP(msg, false, &s); r != ReasonNone {
		t.Fatalf("ParseSIP: %v", r)
	}
	eq := func(name string, got []byte, want string) {
		t.Helper()
		if string(got) != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if !s.Request || s.Method != SIPInvite || s.CSeq != 314159 {
		t.Errorf("request %v method %v cseq %d", s.Request, s.Method, s.CSeq)
	}
	eq("ruri", s.RequestURI, "sip:+8613912345678@gw.example.cn;user=phone")
	eq("ruri user", s.RURI.User, "+8613912345678")
	eq("call-id (compact i)", s.CallID, "a84b4c76e66710@192.0.2.10")
	eq("from user (compact f)", s.From.User, "+85223456789")
	eq("from display", s.From.Display, "Alice")
	eq("from tag", s.From.Tag, "1928301774")
	eq("to user (tel:)", s.To.User, "+8613912345678")
	if !s.To.Tel || !s.From.Tel {
		t.Errorf("tel: to %v from %v (user=phone)", s.To.Tel, s.From.Tel)
	}
	if s.NPAI != 2 {
		t.Fatalf("%d PAI values", s.NPAI)
	}
	eq("pai[1]", s.PAI[1].URI, "tel:+85223456789")
	eq("privacy", s.Privacy, "none")
	if s.PrivacyID() {
		t.Error("Privacy: none read as id")
	}
	if s.NDiversion != 1 || s.NHistory != 2 {
		t.Fatalf("diversion %d history %d", s.NDiversion, s.NHistory)
	}
	eq("diversion user", s.Diversion[0].User, "+8613800000001")
	eq("diversion params", s.Diversion[0].Params, ";reason=unconditional;counter=1")
	eq("history[1] params", s.History[1].Params, ";index=1.1")
	if !s.HasISUP {
		t.Fatal("no ISUP part found")
	}
	eq("isup version", s.ISUPVersion, "itu-t92+")
	if want := mustHex(t, hexIAMRedirected)[2:]; !bytes.Equal(s.ISUPBody, want) {
		t.Errorf("ISUP body % x, want % x", s.ISUPBody, want)
	}
	var u ISUP
	if r := DecodeISUPBody(s.ISUPBody, &u); r != ReasonNone || u.Type != 1 || u.CIC != 0 || string(u.Calling.DigitBytes()) != "581319700" {
		t.Errorf("ISUP body: %v type %d cic %d calling %q", r, u.Type, u.CIC, u.Calling.DigitBytes())
	}
}

func TestParseSIPResponseAndForms(t *testing.T) {
	cases := []struct {
		name  string
		msg   []byte
		dgram bool
		want  Reason
		check func(t *testing.T, s *SIP)
	}{
		{"486 with Q.850 reason", crlf("SIP/2.0 486 Busy Here\nVia: SIP/2.0/UDP h;branch=z9\nFrom: <sip:1@a>;tag=1\nTo: <sip:2@b>;tag=2\nCall-ID: x\nCSeq: 1 INVITE\nReason: Q.850;cause=17;text=\"User busy\"\nContent-Length: 0\n\n"), true, ReasonNone,
			func(t *testing.T, s *SIP) {
				if s.Request || s.Status != 486 || string(s.Phrase) != "Busy Here" || s.Method != SIPInvite || !s.HasReasonCause || s.ReasonCause != 17 || s.To.Tag == nil {
					t.Errorf("%+v", s)
				}
			}},
		{"lower-case names, LF only, no Content-Length on UDP", []byte("BYE sip:b@h SIP/2.0\ncall-id: y\ncseq: 2 BYE\nfrom: sip:a@h;tag=9\nto: sip:b@h\n\nbody"), true, ReasonNone,
			func(t *testing.T, s *SIP) {
				if s.Method != SIPBye || string(s.Body) != "body" || string(s.From.Tag) != "9" || string(s.From.URI) != "sip:a@h" {
					t.Errorf("method %v body %q from %+v", s.Method, s.Body, s.From)
				}
			}},
		{"no Content-Length on a stream: no body", crlf("ACK sip:b@h SIP/2.0\nCall-ID: y\nCSeq: 2 ACK\n\n"), false, ReasonNone,
			func(t *testing.T, s *SIP) {
				if s.Method != SIPAck || len(s.Body) != 0 {
					t.Errorf("%+v", s)
				}
			}},
		{"folded header", crlf("INVITE sip:b@h SIP/2.0\nCall-ID: y\nCSeq: 1\n INVITE\nFrom: <sip:1@a>\n\n"), true, ReasonNone,
			func(t *testing.T, s *SIP) {
				if s.CSeq != 1 || string(trimSpace(s.CSeqMethod)) != "INVITE" {
					t.Errorf("cseq %d %q", s.CSeq, s.CSeqMethod)
				}
			}},
		{"privacy id", crlf("INVITE sip:b@h SIP/2.0\nCall-ID: y\nCSeq: 1 INVITE\nPrivacy: id;critical\n\n"), true, ReasonNone,
			func(t *testing.T, s *SIP) {
				if !s.PrivacyID() {
					t.Error("Privacy: id;critical not read as id")
				}
			}},
		{"tel with phone-context", crlf("INVITE tel:85212345;phone-context=+86 SIP/2.0\nCall-ID: y\nCSeq: 1 INVITE\n\n"), true, ReasonNone,
			func(t *testing.T, s *SIP) {
				if string(s.RURI.User) != "85212345" || string(s.RURI.PhoneContext) != "+86" || !s.RURI.Tel {
					t.Errorf("%+v", s.RURI)
				}
			}},
		{"ISUP body alone, ANSI", append(crlf("INVITE sip:b@h SIP/2.0\nCall-ID: y\nCSeq: 1 INVITE\nContent-Type: application/isup; version=ansi00\nContent-Length: 3\n\n"), 1, 2, 3), true, ReasonNone,
			func(t *testing.T, s *SIP) {
				if !s.HasISUP || string(s.ISUPVersion) != "ansi00" || len(s.ISUPBody) != 3 {
					t.Errorf("%+v", s)
				}
			}},
		{"missing Call-ID", crlf("INVITE sip:b@h SIP/2.0\nCSeq: 1 INVITE\n\n"), true, DropSIPMissingHeader, nil},
		{"bad CSeq", crlf("INVITE sip:b@h SIP/2.0\nCall-ID: y\nCSeq: x INVITE\n\n"), true, DropSIPBadHeader, nil},
		{"bad status", crlf("SIP/2.0 99 Low\nCall-ID: y\nCSeq: 1 INVITE\n\n"), true, DropSIPBadStartLine, nil},
		{"bad version", crlf("INVITE sip:b@h SIP/1.0\nCall-ID: y\nCSeq: 1 INVITE\n\n"), true, DropSIPBadStartLine, nil},
		{"no blank line", crlf("INVITE sip:b@h SIP/2.0\nCall-ID: y\n"), true, DropSIPTruncated, nil},
		{"body shorter than Content-Length", crlf("INVITE sip:b@h SIP/2.0\nCall-ID: y\nCSeq: 1 INVITE\nContent-Length: 10\n\nabc"), true, DropSIPTruncated, nil},
		{"header without colon", crlf("INVITE sip:b@h SIP/2.0\nCall-ID: y\nCSeq 1 INVITE\n\n"), true, DropSIPBadHeader, nil},
		{"multipart without boundary", crlf("INVITE sip:b@h SIP/2.0\nCall-ID: y\nCSeq: 1 INVITE\nContent-Type: multipart/mixed\nContent-Length: 3\n\nabc"), true, DropSIPBadBody, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s SIP
			if r := ParseSIP(c.msg, c.dgram, &s); r != c.want {
				t.Fatalf("reason %v, want %v", r, c.want)
			}
			if c.check != nil {
				c.check(t, &s)
			}
		})
	}
}

func TestSIPMessageLen(t *testing.T) {
	inv := sipINVITE(t)
	if n, r := SIPMessageLen(inv); n != len(inv) || r != ReasonNone {
		t.Errorf("whole: %d %v, want %d", n, r, len(inv))
	}
	if n, r := SIPMessageLen(inv[:len(inv)-1]); n != 0 || r != ReasonNone {
		t.Errorf("one byte short: %d %v", n, r)
	}
	two := append(append([]byte(nil), inv...), inv...)
	if n, _ := SIPMessageLen(two); n != len(inv) {
		t.Errorf("two messages: first is %d, want %d", n, len(inv))
	}
	if _, r := SIPMessageLen(crlf("INVITE sip:b@h SIP/2.0\nContent-Length: x\n\n")); r != DropSIPBadHeader {
		t.Errorf("bad length: %v", r)
	}
	if _, r := SIPMessageLen(bytes.Repeat([]byte("a"), MaxSIPMessage+1)); r != DropSIPTooLong {
		t.Errorf("no header end in 64 KiB: %v", r)
	}
}

func TestSIPJSON(t *testing.T) {
	var m Message
	m.Transport, m.Protocol = TransportUDP, ProtocolSIPI
	if r := ParseSIP(sipINVITE(t), true, &m.SIP); r != ReasonNone {
		t.Fatal(r)
	}
	if r := DecodeISUPBody(m.SIP.ISUPBody, &m.ISUP); r != ReasonNone {
		t.Fatal(r)
	}
	m.HasISUP = true
	b := AppendJSON(nil, &m, "x.pcap")
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if obj["protocol"] != "sip-i" || obj["transport"] != "udp" || obj["type"] != "IAM" || obj["cic"] != nil || obj["opc"] != nil {
		t.Errorf("%s", b)
	}
	sip := obj["sip"].(map[string]any)
	if sip["method"] != "INVITE" || sip["call_id"] != "a84b4c76e66710@192.0.2.10" || sip["isup_version"] != "itu-t92+" {
		t.Errorf("%s", b)
	}
	if c := obj["calling"].(map[string]any); c["digits"] != "581319700" {
		t.Errorf("calling %v", c)
	}
}

// TestParseSIPAllocatesNothing: parsing a SIP-I INVITE with a multipart body,
// and decoding its ISUP part, allocates nothing.
func TestParseSIPAllocatesNothing(t *testing.T) {
	msg := sipINVITE(t)
	var s SIP
	var u ISUP
	allocs := testing.AllocsPerRun(1000, func() {
		if ParseSIP(msg, true, &s) != ReasonNone || DecodeISUPBody(s.ISUPBody, &u) != ReasonNone {
			t.Fatal("parse failed")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per message, want 0", allocs)
	}
}

func BenchmarkParseSIP(b *testing.B) {
	msg := sipINVITE(b)
	var s SIP
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		ParseSIP(msg, true, &s)
	}
}
