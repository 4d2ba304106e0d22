package decode

import (
	"encoding/json"
	"testing"
)

// FuzzISUP feeds arbitrary bytes to DecodeISUP. It must never panic, must
// report one of the ISUP reasons, and a decoded message must satisfy the
// invariants the rest of the pipeline relies on; its JSON must parse.
func FuzzISUP(f *testing.F) {
	for _, h := range []string{hexIAMRedirected, hexIAMTest2, hexIAMPayphone, hexIAMNoCalling, hexIAMST,
		hexIAMLoad, hexACMUUI, hexCPGAT, hexANMUUI, hexUnknown, hexREL16, hexREL19, hexCPGAlert, hexRLCPad, hexACM} {
		f.Add(mustHex(f, h))
	}
	for _, tc := range handBuilt {
		f.Add(tc.msg)
	}

	var m Message
	buf := make([]byte, 0, 4096)
	f.Fuzz(func(t *testing.T, b []byte) {
		r := DecodeISUP(b, &m.ISUP)
		checkDecoded(t, &m, b, r, isupCICLen, buf[:0])
		if r == ReasonNone && m.ISUP.CIC > cicMask {
			t.Fatalf("CIC %d beyond 12 bits", m.ISUP.CIC)
		}
	})
}

// FuzzBICC feeds arbitrary bytes to DecodeBICC, with the same invariants as
// FuzzISUP; the seeds are the ISUP ones with the CIC widened to 32 bits.
func FuzzBICC(f *testing.F) {
	for _, h := range []string{hexIAMRedirected, hexIAMTest2, hexIAMPayphone, hexIAMNoCalling, hexIAMST,
		hexIAMLoad, hexACMUUI, hexCPGAT, hexANMUUI, hexUnknown, hexREL16, hexREL19, hexCPGAlert, hexRLCPad, hexACM} {
		f.Add(widenCIC(mustHex(f, h), 0x01020304))
	}
	var m Message
	m.Protocol = ProtocolBICC
	buf := make([]byte, 0, 4096)
	f.Fuzz(func(t *testing.T, b []byte) {
		r := DecodeBICC(b, &m.ISUP)
		checkDecoded(t, &m, b, r, biccCICLen, buf[:0])
	})
}

// checkDecoded checks the invariants the pipeline relies on for a message
// decoded from b with a CIC field of cicLen octets.
func checkDecoded(t *testing.T, m *Message, b []byte, r Reason, cicLen int, buf []byte) {
	t.Helper()
	u := &m.ISUP
	switch r {
	case ReasonNone, DropISUPTruncated, DropISUPBadPointer, DropISUPBadParameter:
	default:
		t.Fatalf("unexpected reason %v", r)
	}
	if len(u.Raw) != len(b) {
		t.Fatalf("Raw has %d bytes, input %d", len(u.Raw), len(b))
	}
	if r != ReasonNone {
		return
	}
	if len(b) < cicLen+1 {
		t.Fatalf("decoded a %d-byte message", len(b))
	}
	if u.Type != b[cicLen] {
		t.Fatalf("type %#x from % x", u.Type, b[:cicLen+1])
	}
	if u.NGeneric > MaxGeneric {
		t.Fatalf("NGeneric %d", u.NGeneric)
	}
	numbers := []*Number{&u.Called, &u.Calling, &u.Redirecting, &u.OriginalCalled, &u.RedirectionNumber,
		&u.Location, &u.Connected, &u.Charge, &u.Subsequent}
	for i := range u.Generic[:u.NGeneric] {
		numbers = append(numbers, &u.Generic[i])
	}
	for _, n := range numbers {
		if !n.Present {
			if n.NDigits != 0 || n.HasNAI {
				t.Fatalf("absent number has content: %+v", n)
			}
			continue
		}
		if n.NDigits > MaxDigits {
			t.Fatalf("NDigits %d > MaxDigits", n.NDigits)
		}
		for _, d := range n.DigitBytes() {
			if !('0' <= d && d <= '9' || 'A' <= d && d <= 'F') {
				t.Fatalf("digit %q in %q", d, n.DigitBytes())
			}
		}
		if n.NAI > 0x7F || n.NPI > 7 || n.INN > 1 || n.APRI > 3 || n.SI > 3 {
			t.Fatalf("indicator out of range: %+v", n)
		}
	}
	if !KnownMessageType(u.Type) && (u.Called.Present || u.Cause.Present || u.HasCategory) {
		t.Fatalf("unknown type %#x has decoded parameters", u.Type)
	}
	if c := u.Cause; c.Present && (c.Value > 0x7F || c.Location > 0x0F) {
		t.Fatalf("cause out of range: %+v", c)
	}
	if u.HasHopCounter && u.HopCounter > 0x1F {
		t.Fatalf("hop counter %d", u.HopCounter)
	}
	buf = AppendJSON(buf[:0], m, "fuzz.pcap")
	if !json.Valid(buf) {
		t.Fatalf("invalid JSON: %s", buf)
	}
}
