package decode

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// Real ISUP messages (CIC onwards), as `tshark -x` shows them.
const (
	// sng_ss7mon_test3.pcap frame 1: forwarded IAM, CIC 1054, redirecting
	// number and redirection information with original reason 12.
	hexIAMRedirected = "1e04011060010a00020907839066626098070a07831385319107000b07831079109299061302c33100"
	// sng_ss7mon_test2.pcap frame 1.
	hexIAMTest2 = "1f00011060010a00020907839079109299060a078313853191070000"
	// mod_isup_validate.pcap frame 105: calling NAI 4, payphone category, hop counter.
	hexIAMPayphone = "0100010060110f03020604031001200a0884131657550000093d011400"
	// mod_isup_m3ua_mgcp.pcap frame 48: IAM without calling number.
	hexIAMNoCalling = "0100010060100a0002000403100120"
	// xdr_tester_m2pa.pcap frame 1: called number ends in ST, category 0xE4,
	// two bytes of padding after the end of optional parameters.
	hexIAMST = "0f0001112000e400020a08839009480210210f0a0703139469183091006100"
	// isup_load_generator.pcap: IAM with an even-length calling number.
	hexIAMLoad = "0100011100000a030208060390253313500a070313406225883400"
	// sng_ss7mon_test1.pcap frames 5, 6, 7, 8, 21.
	hexACMUUI  = "1f00061604012a010100"
	hexCPGAT   = "1f002c020103041e02808800"
	hexANMUUI  = "1f0009012a010100"
	hexUnknown = "1f00e1050100"
	hexREL16   = "1f000c0200028090"
	// isup_load_generator.pcap: REL cause 19.
	hexREL19 = "01000c0200028093"
	// xdr_tester_m2pa.pcap frames 3 and 6: CPG alerting, RLC with padding.
	hexCPGAlert = "0f002c01011102163400a127"
	hexRLCPad   = "0f001000693a"
	// mod_isup_validate.pcap frame 109.
	hexACM = "010006121400"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// describeNumber renders the meaningful fields of n for comparisons.
func describeNumber(n *Number) string {
	if !n.Present {
		return "-"
	}
	var sb strings.Builder
	sb.WriteString(string(n.DigitBytes()))
	if n.Odd {
		sb.WriteString(" odd")
	}
	if n.Qualifier != 0 {
		fmt.Fprintf(&sb, " q=%d", n.Qualifier)
	}
	if n.HasNAI {
		fmt.Fprintf(&sb, " nai=%d", n.NAI)
	}
	if n.HasNPI {
		fmt.Fprintf(&sb, " npi=%d", n.NPI)
	}
	if n.HasINN {
		fmt.Fprintf(&sb, " inn=%d", n.INN)
	}
	if n.HasNI {
		fmt.Fprintf(&sb, " ni=%d", n.INN)
	}
	if n.HasAPRI {
		fmt.Fprintf(&sb, " apri=%d", n.APRI)
	}
	if n.HasSI {
		fmt.Fprintf(&sb, " si=%d", n.SI)
	}
	return sb.String()
}

func TestDecodeISUPRealMessages(t *testing.T) {
	tests := []struct {
		name  string
		hex   string
		check func(t *testing.T, u *ISUP)
	}{
		{"IAM redirected (test3)", hexIAMRedirected, func(t *testing.T, u *ISUP) {
			want(t, "cic", u.CIC, uint32(1054))
			want(t, "type", MessageTypeName(u.Type), "IAM")
			want(t, "called", describeNumber(&u.Called), "662606897 odd nai=3 npi=1 inn=1")
			want(t, "calling", describeNumber(&u.Calling), "581319700 odd nai=3 npi=1 ni=0 apri=0 si=3")
			want(t, "redirecting", describeNumber(&u.Redirecting), "970129996 odd nai=3 npi=1 apri=0")
			want(t, "redirection", u.Redirection, Redirection{Present: true, Indicator: 3, OriginalReason: 12, Counter: 1, Reason: 3})
			want(t, "category", u.Category, uint8(0x0A))
			want(t, "nature of connection", u.NatureOfConnection, uint8(0x10))
			want(t, "forward call indicators", u.ForwardCallIndicators, uint16(0x0160))
			want(t, "tmr", u.HasTransmissionMediumRequirement && u.TransmissionMediumRequirement == 0, true)
			want(t, "hop counter", u.HasHopCounter, false)
		}},
		{"IAM (test2)", hexIAMTest2, func(t *testing.T, u *ISUP) {
			want(t, "cic", u.CIC, uint32(31))
			want(t, "called", describeNumber(&u.Called), "970129996 odd nai=3 npi=1 inn=1")
			want(t, "calling", describeNumber(&u.Calling), "581319700 odd nai=3 npi=1 ni=0 apri=0 si=3")
			want(t, "redirecting", describeNumber(&u.Redirecting), "-")
			want(t, "redirection", u.Redirection.Present, false)
		}},
		{"IAM payphone NAI 4 hop counter", hexIAMPayphone, func(t *testing.T, u *ISUP) {
			want(t, "cic", u.CIC, uint32(1))
			want(t, "called", describeNumber(&u.Called), "1002 nai=3 npi=1 inn=0")
			want(t, "calling", describeNumber(&u.Calling), "61755500009 odd nai=4 npi=1 ni=0 apri=0 si=3")
			want(t, "category", u.HasCategory && u.Category == 0x0F, true)
			want(t, "hop counter", u.HasHopCounter && u.HopCounter == 20, true)
			want(t, "tmr", u.TransmissionMediumRequirement, uint8(3))
		}},
		{"IAM without calling number", hexIAMNoCalling, func(t *testing.T, u *ISUP) {
			want(t, "called", describeNumber(&u.Called), "1002 nai=3 npi=1 inn=0")
			want(t, "calling", describeNumber(&u.Calling), "-")
			want(t, "category", u.Category, uint8(0x0A))
		}},
		{"IAM called ends in ST, padded frame", hexIAMST, func(t *testing.T, u *ISUP) {
			want(t, "cic", u.CIC, uint32(15))
			want(t, "called", describeNumber(&u.Called), "9084200112F odd nai=3 npi=1 inn=1")
			want(t, "calling", describeNumber(&u.Calling), "4996810319 nai=3 npi=1 ni=0 apri=0 si=3")
			want(t, "category", u.Category, uint8(0xE4))
		}},
		{"IAM load generator", hexIAMLoad, func(t *testing.T, u *ISUP) {
			want(t, "called", describeNumber(&u.Called), "52333105 nai=3 npi=1 inn=1")
			want(t, "calling", describeNumber(&u.Calling), "0426528843 nai=3 npi=1 ni=0 apri=0 si=3")
		}},
		{"ACM with user-to-user indicators", hexACMUUI, func(t *testing.T, u *ISUP) {
			want(t, "type", MessageTypeName(u.Type), "ACM")
			want(t, "bci", u.HasBackwardCallIndicators && u.BackwardCallIndicators == 0x0416, true)
		}},
		{"CPG with access transport", hexCPGAT, func(t *testing.T, u *ISUP) {
			want(t, "type", MessageTypeName(u.Type), "CPG")
			want(t, "event", u.HasEventInformation && u.EventInformation == 2, true)
		}},
		{"CPG alerting with backward call indicators", hexCPGAlert, func(t *testing.T, u *ISUP) {
			want(t, "event", u.EventInformation, uint8(1))
			want(t, "bci", u.HasBackwardCallIndicators && u.BackwardCallIndicators == 0x3416, true)
		}},
		{"ANM with user-to-user indicators", hexANMUUI, func(t *testing.T, u *ISUP) {
			want(t, "type", MessageTypeName(u.Type), "ANM")
		}},
		{"unknown type 0xE1", hexUnknown, func(t *testing.T, u *ISUP) {
			want(t, "cic", u.CIC, uint32(31))
			want(t, "type", u.Type, uint8(0xE1))
			want(t, "name", MessageTypeName(u.Type), "0xE1")
			want(t, "known", KnownMessageType(u.Type), false)
		}},
		{"REL cause 16", hexREL16, func(t *testing.T, u *ISUP) {
			want(t, "cause", u.Cause, Cause{Present: true, Location: 0, Standard: 0, Value: 16})
		}},
		{"REL cause 19", hexREL19, func(t *testing.T, u *ISUP) {
			want(t, "cause", u.Cause.Value, uint8(19))
		}},
		{"RLC with padding", hexRLCPad, func(t *testing.T, u *ISUP) {
			want(t, "type", MessageTypeName(u.Type), "RLC")
		}},
		{"ACM", hexACM, func(t *testing.T, u *ISUP) {
			want(t, "bci", u.BackwardCallIndicators, uint16(0x1412))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := mustHex(t, tc.hex)
			var u ISUP
			if r := DecodeISUP(b, &u); r != ReasonNone {
				t.Fatalf("DecodeISUP = %v, want none", r)
			}
			if len(u.Raw) != len(b) || &u.Raw[0] != &b[0] {
				t.Errorf("Raw does not alias the input")
			}
			tc.check(t, &u)
		})
	}
}

func want[T comparable](t *testing.T, what string, got, wanted T) {
	t.Helper()
	if got != wanted {
		t.Errorf("%s = %v, want %v", what, got, wanted)
	}
}

// param builds one optional parameter.
func param(code byte, v ...byte) []byte { return append([]byte{code, byte(len(v))}, v...) }

// buildIAM builds an IAM on CIC 0x123 (NCI 0, FCI 0x2001, category 10, TMR 0)
// with the given called party number value and optional parameters.
func buildIAM(called []byte, opts ...[]byte) []byte {
	b := []byte{0x23, 0x01, ISUPIAM, 0x00, 0x20, 0x01, 0x0A, 0x00, 0x02, 0x00, byte(len(called))}
	b = append(b, called...)
	if len(opts) > 0 {
		b[9] = byte(1 + 1 + len(called)) // from the optional pointer to after the called number
		for _, o := range opts {
			b = append(b, o...)
		}
		b = append(b, 0)
	}
	return b
}

// handBuilt are crafted messages; TestAgainstTshark checks them too.
var handBuilt = []struct {
	name   string
	msg    []byte
	reason Reason
	check  func(t *testing.T, u *ISUP)
}{
	{"even count, last high nibble is a digit", buildIAM([]byte{0x03, 0x10, 0x21, 0x43, 0x65}), ReasonNone, func(t *testing.T, u *ISUP) {
		want(t, "called", describeNumber(&u.Called), "123456 nai=3 npi=1 inn=0")
	}},
	{"odd count drops the filler", buildIAM([]byte{0x83, 0x10, 0x21, 0xF3}), ReasonNone, func(t *testing.T, u *ISUP) {
		want(t, "called", describeNumber(&u.Called), "123 odd nai=3 npi=1 inn=0")
	}},
	{"even count with ST kept", buildIAM([]byte{0x03, 0x10, 0x21, 0xF3}), ReasonNone, func(t *testing.T, u *ISUP) {
		want(t, "called", string(u.Called.DigitBytes()), "123F")
	}},
	{"codes 10-15 kept as hex letters", buildIAM([]byte{0x03, 0x10, 0xCB, 0xFE, 0xA0}), ReasonNone, func(t *testing.T, u *ISUP) {
		want(t, "called", string(u.Called.DigitBytes()), "BCEF0A")
	}},
	{"odd indicator contradicting the length reads every middle nibble",
		buildIAM([]byte{0x83, 0x10, 0x21, 0x43, 0x05, 0x66}), ReasonNone, func(t *testing.T, u *ISUP) {
			want(t, "called", string(u.Called.DigitBytes()), "1234506")
		}},
	{"called without digits", buildIAM([]byte{0x83, 0x10}), ReasonNone, func(t *testing.T, u *ISUP) {
		want(t, "called", describeNumber(&u.Called), " odd nai=3 npi=1 inn=0")
	}},
	{"calling address not available, no digits",
		buildIAM([]byte{0x83, 0x10, 0x21, 0x43, 0x05}, param(ParamCallingPartyNumber, 0x00, 0x0B)), ReasonNone, func(t *testing.T, u *ISUP) {
			want(t, "calling", describeNumber(&u.Calling), " nai=0 npi=0 ni=0 apri=2 si=3")
		}},
	{"every number type",
		buildIAM([]byte{0x83, 0x90, 0x21, 0x43, 0x05},
			param(ParamCallingPartyNumber, 0x84, 0x95, 0x21, 0x43, 0x0F),
			param(ParamGenericNumber, 0x06, 0x83, 0x13, 0x21, 0x43, 0x05),
			param(ParamGenericNumber, 0x01, 0x03, 0x17, 0x99),
			param(ParamOriginalCalledNumber, 0x83, 0x14, 0x21, 0x43, 0x05),
			param(ParamRedirectingNumber, 0x04, 0x10, 0x55, 0x66),
			param(ParamRedirectionNumber, 0x03, 0x90, 0x21, 0x43),
			param(ParamLocationNumber, 0x83, 0xA6, 0x21, 0x43, 0x05),
			param(ParamConnectedNumber, 0x83, 0x1D, 0x87, 0x09),
			param(ParamRedirectionInformation, 0x14, 0x22),
			param(ParamHopCounter, 0xFF),
		), ReasonNone, func(t *testing.T, u *ISUP) {
			want(t, "called", describeNumber(&u.Called), "12345 odd nai=3 npi=1 inn=1")
			want(t, "calling", describeNumber(&u.Calling), "1234F odd nai=4 npi=1 ni=1 apri=1 si=1")
			want(t, "generic count", u.NGeneric, uint8(2))
			want(t, "generic 0", describeNumber(&u.Generic[0]), "12345 odd q=6 nai=3 npi=1 ni=0 apri=0 si=3")
			want(t, "generic 1", describeNumber(&u.Generic[1]), "99 q=1 nai=3 npi=1 ni=0 apri=1 si=3")
			want(t, "original called", describeNumber(&u.OriginalCalled), "12345 odd nai=3 npi=1 apri=1")
			want(t, "redirecting", describeNumber(&u.Redirecting), "5566 nai=4 npi=1 apri=0")
			want(t, "redirection number", describeNumber(&u.RedirectionNumber), "1234 nai=3 npi=1 inn=1")
			want(t, "location", describeNumber(&u.Location), "12345 odd nai=3 npi=2 inn=1 apri=1 si=2")
			want(t, "connected", describeNumber(&u.Connected), "789 odd nai=3 npi=1 apri=3 si=1")
			want(t, "redirection", u.Redirection, Redirection{Present: true, Indicator: 4, OriginalReason: 1, Counter: 2, Reason: 2})
			want(t, "hop counter", u.HopCounter, uint8(0x1F))
		}},
	{"charge number (ANSI code 0xEB)",
		buildIAM([]byte{0x83, 0x10, 0x21, 0x43, 0x05}, param(ParamChargeNumber, 0x03, 0x10, 0x21, 0x43)), ReasonNone, func(t *testing.T, u *ISUP) {
			want(t, "charge", describeNumber(&u.Charge), "1234 nai=3 npi=1")
		}},
	{"duplicate calling keeps the first",
		buildIAM([]byte{0x83, 0x10, 0x21, 0x43, 0x05},
			param(ParamCallingPartyNumber, 0x03, 0x13, 0x21),
			param(ParamCallingPartyNumber, 0x03, 0x13, 0x43)), ReasonNone, func(t *testing.T, u *ISUP) {
			want(t, "calling", string(u.Calling.DigitBytes()), "12")
		}},
	{"more generic numbers than MaxGeneric",
		buildIAM([]byte{0x83, 0x10, 0x21, 0x43, 0x05},
			param(ParamGenericNumber, 0x06, 0x03, 0x13, 0x11),
			param(ParamGenericNumber, 0x06, 0x03, 0x13, 0x22),
			param(ParamGenericNumber, 0x06, 0x03, 0x13, 0x33),
			param(ParamGenericNumber, 0x06, 0x03, 0x13, 0x44),
			param(ParamGenericNumber, 0x06, 0x03, 0x13, 0x55)), ReasonNone, func(t *testing.T, u *ISUP) {
			want(t, "generic count", u.NGeneric, uint8(MaxGeneric))
			want(t, "last kept", string(u.Generic[MaxGeneric-1].DigitBytes()), "44")
		}},
	{"event indicator with presentation restricted (bit 8) set", []byte{0x0F, 0x00, ISUPCPG, 0x83, 0x00}, ReasonNone, func(t *testing.T, u *ISUP) {
		// Q.763 3.21: bits 1-7 are the event indicator, bit 8 the event
		// presentation restricted indicator; tshark's isup.event_ind is 3.
		want(t, "event", u.EventInformation, uint8(3))
	}},
	{"hop counter spare bits set", []byte{0x0F, 0x00, ISUPCPG, 0x01, 0x01, ParamHopCounter, 0x01, 0xE5, 0x00}, ReasonNone, func(t *testing.T, u *ISUP) {
		// Q.763 3.80: bits 1-5 are the counter, bits 6-8 spare.
		want(t, "hop counter", u.HopCounter, uint8(5))
	}},
	{"CIC spare bits masked", []byte{0x23, 0xF1, ISUPRLC, 0x00}, ReasonNone, func(t *testing.T, u *ISUP) {
		want(t, "cic", u.CIC, uint32(0x123))
	}},
	{"SAM subsequent number", []byte{0x23, 0x01, ISUPSAM, 0x02, 0x00, 0x03, 0x81, 0x21, 0xF3}, ReasonNone, func(t *testing.T, u *ISUP) {
		want(t, "subsequent", describeNumber(&u.Subsequent), "123 odd")
	}},
	{"GRS range", []byte{0x0A, 0x00, ISUPGRS, 0x01, 0x01, 0x07}, ReasonNone, func(t *testing.T, u *ISUP) {
		// Range is the code on the wire; tshark's isup.range_indicator shows
		// the number of circuits, Range+1 (Q.763 3.43).
		want(t, "range", u.HasRange && u.Range == 7, true)
	}},
	{"GRA range and status", []byte{0x0A, 0x00, ISUPGRA, 0x01, 0x02, 0x07, 0xFF}, ReasonNone, func(t *testing.T, u *ISUP) {
		want(t, "range", u.Range, uint8(7))
	}},
	{"CGB range", []byte{0x0A, 0x00, ISUPCGB, 0x00, 0x01, 0x02, 0x07, 0x00}, ReasonNone, func(t *testing.T, u *ISUP) {
		want(t, "range", u.Range, uint8(7))
	}},
	{"cause with recommendation octet", []byte{0x01, 0x00, ISUPREL, 0x02, 0x00, 0x03, 0x02, 0x12, 0x90}, ReasonNone, func(t *testing.T, u *ISUP) {
		want(t, "cause", u.Cause, Cause{Present: true, Location: 2, Value: 16})
	}},
	{"optional part without end marker", buildIAM([]byte{0x83, 0x10, 0x21, 0x43, 0x05}, param(ParamHopCounter, 0x05))[:19], ReasonNone, func(t *testing.T, u *ISUP) {
		want(t, "hop counter", u.HasHopCounter && u.HopCounter == 5, true)
	}},
	{"message type only", []byte{0x01, 0x00, ISUPBLO}, ReasonNone, nil},

	{"empty", nil, DropISUPTruncated, nil},
	{"no message type", []byte{0x01, 0x00}, DropISUPTruncated, nil},
	{"fixed part cut", buildIAM([]byte{0x83, 0x10, 0x21})[:6], DropISUPTruncated, nil},
	{"pointer octet missing", buildIAM([]byte{0x83, 0x10, 0x21})[:8], DropISUPTruncated, nil},
	{"zero mandatory pointer", []byte{0x01, 0x00, ISUPREL, 0x00, 0x00}, DropISUPBadPointer, nil},
	{"pointer past the end", []byte{0x01, 0x00, ISUPREL, 0x09, 0x00, 0x02, 0x80, 0x90}, DropISUPBadPointer, nil},
	{"variable length past the end", []byte{0x01, 0x00, ISUPREL, 0x02, 0x00, 0x05, 0x80, 0x90}, DropISUPTruncated, nil},
	{"optional pointer into the cause", []byte{0x01, 0x00, ISUPREL, 0x01, 0x02, 0x80, 0x90}, ReasonNone, optionalError(DropISUPTruncated)},
	{"optional pointer past the end", []byte{0x01, 0x00, ISUPANM, 0x05}, ReasonNone, optionalError(DropISUPBadPointer)},
	{"optional length past the end", []byte{0x01, 0x00, ISUPANM, 0x01, ParamHopCounter, 0x04, 0x01}, ReasonNone, optionalError(DropISUPTruncated)},
	{"optional length octet missing", []byte{0x01, 0x00, ISUPANM, 0x01, ParamHopCounter}, ReasonNone, optionalError(DropISUPTruncated)},
	{"cause too short", []byte{0x01, 0x00, ISUPREL, 0x02, 0x00, 0x01, 0x80}, DropISUPBadParameter, nil},
	{"cause recommendation without value", []byte{0x01, 0x00, ISUPREL, 0x02, 0x00, 0x02, 0x00, 0x12}, DropISUPBadParameter, nil},
	{"called number one octet", buildIAM([]byte{0x83}), DropISUPBadParameter, nil},
	{"generic number without header", buildIAM([]byte{0x83, 0x10}, param(ParamGenericNumber, 0x06, 0x03)), ReasonNone, optionalError(DropISUPBadParameter)},
	// Q.763 bounds a number only by the message length: keep the first
	// MaxDigits signals (as tshark does) and mark the number truncated.
	{"too many digits", buildIAM(append([]byte{0x03, 0x10}, make([]byte, MaxDigits/2+1)...)), ReasonNone, func(t *testing.T, u *ISUP) {
		if !u.Called.Truncated || u.Called.NDigits != MaxDigits || !u.digitsTruncated() {
			t.Errorf("called: %d digits, truncated %v", u.Called.NDigits, u.Called.Truncated)
		}
	}},
	{"empty hop counter", []byte{0x01, 0x00, ISUPANM, 0x01, ParamHopCounter, 0x00, 0x00}, ReasonNone, optionalError(DropISUPBadParameter)},
	{"one-octet backward call indicators", []byte{0x01, 0x00, ISUPANM, 0x01, ParamBackwardCallIndicators, 0x01, 0x12, 0x00}, ReasonNone, optionalError(DropISUPBadParameter)},
}

// optionalError checks a message that is delivered although its optional
// part is faulty: the mandatory part identifies the call and must not be lost.
func optionalError(r Reason) func(*testing.T, *ISUP) {
	return func(t *testing.T, u *ISUP) {
		if u.OptionalError != r {
			t.Errorf("OptionalError = %v, want %v", u.OptionalError, r)
		}
	}
}

func TestDecodeISUPHandBuilt(t *testing.T) {
	for _, tc := range handBuilt {
		t.Run(tc.name, func(t *testing.T) {
			var u ISUP
			if r := DecodeISUP(tc.msg, &u); r != tc.reason {
				t.Fatalf("DecodeISUP(% x) = %v, want %v", tc.msg, r, tc.reason)
			}
			if tc.check != nil {
				tc.check(t, &u)
			}
		})
	}
}

func TestMaxDigitsExactlyFits(t *testing.T) {
	var u ISUP
	msg := buildIAM(append([]byte{0x03, 0x10}, make([]byte, MaxDigits/2)...))
	if r := DecodeISUP(msg, &u); r != ReasonNone {
		t.Fatalf("DecodeISUP = %v", r)
	}
	want(t, "digits", int(u.Called.NDigits), MaxDigits)
}

func TestDecodeISUPResets(t *testing.T) {
	var u ISUP
	if r := DecodeISUP(mustHex(t, hexIAMRedirected), &u); r != ReasonNone {
		t.Fatal(r)
	}
	if r := DecodeISUP(mustHex(t, hexREL16), &u); r != ReasonNone {
		t.Fatal(r)
	}
	if u.Called.Present || u.Calling.Present || u.Redirection.Present || u.HasCategory || u.NGeneric != 0 {
		t.Errorf("fields of the previous message survive: %+v", u)
	}
	want(t, "cause", u.Cause.Value, uint8(16))
	// A failed decode leaves nothing from the earlier message either.
	if r := DecodeISUP([]byte{0x01}, &u); r != DropISUPTruncated {
		t.Fatal(r)
	}
	if u.Cause.Present {
		t.Errorf("cause survives a failed decode")
	}
}

func TestDecodeISUPAllocs(t *testing.T) {
	msgs := [][]byte{mustHex(t, hexIAMRedirected), mustHex(t, hexREL16), mustHex(t, hexUnknown)}
	var u ISUP
	n := testing.AllocsPerRun(100, func() {
		for _, m := range msgs {
			DecodeISUP(m, &u)
		}
	})
	if n != 0 {
		t.Errorf("DecodeISUP allocates %v times", n)
	}
}

// Names follow Q.763 Table 4. tshark's Info column differs for three types
// (UBA: UBLA, USR: UUI, IRS: IDS) and shows CMR/CMC/CMRJ, reserved since the
// 1992 edition, as "Reserved"; ANSI-only types (CRA 0xE9 … EXM 0xED) are
// unknown in Q.763 and stay unknown here.
func TestMessageTypeNames(t *testing.T) {
	for code, name := range map[uint8]string{
		0x01: "IAM", 0x02: "SAM", 0x06: "ACM", 0x07: "CON", 0x09: "ANM", 0x0C: "REL", 0x10: "RLC",
		0x12: "RSC", 0x16: "UBA", 0x17: "GRS", 0x1A: "CGBA", 0x1C: "CMR", 0x29: "GRA", 0x2C: "CPG",
		0x2D: "USR", 0x2E: "UCIC", 0x37: "IRS", 0x40: "LOP", 0x41: "APM", 0x43: "SDN",
		0x0A: "0x0A", 0x3E: "0x3E", 0xE1: "0xE1", 0xE9: "0xE9", 0xED: "0xED", 0xFF: "0xFF", 0x00: "0x00",
	} {
		if got := MessageTypeName(code); got != name {
			t.Errorf("MessageTypeName(%#x) = %q, want %q", code, got, name)
		}
		if KnownMessageType(code) == strings.HasPrefix(name, "0x") {
			t.Errorf("KnownMessageType(%#x) = %v", code, KnownMessageType(code))
		}
	}
	seen := map[string]uint8{}
	for t8 := 0; t8 < 256; t8++ {
		name := MessageTypeName(uint8(t8))
		if prev, dup := seen[name]; dup {
			t.Errorf("types %#x and %#x share the name %q", prev, t8, name)
		}
		seen[name] = uint8(t8)
	}
	if n := testing.AllocsPerRun(100, func() { _ = MessageTypeName(0xE1) }); n != 0 {
		t.Errorf("MessageTypeName allocates")
	}
}

func BenchmarkDecodeISUP_IAM(b *testing.B) {
	msg := mustHex(b, hexIAMRedirected)
	var u ISUP
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if DecodeISUP(msg, &u) != ReasonNone {
			b.Fatal("decode failed")
		}
	}
}
