package numplan

import (
	"testing"
)

type normCase struct {
	name     string
	digits   string
	nai      uint8
	e164     string
	class    Class
	home     bool
	conforms bool
	reason   string
	label    string
}

func runCases(t *testing.T, p *Plan, cases []normCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r Result
			p.Normalise([]byte(c.digits), c.nai, &r)
			if got := r.E164String(); got != c.e164 {
				t.Errorf("E164 = %q, want %q", got, c.e164)
			}
			if r.Class != c.class {
				t.Errorf("Class = %v, want %v", r.Class, c.class)
			}
			if r.Home != c.home {
				t.Errorf("Home = %v, want %v", r.Home, c.home)
			}
			if r.Conforms != c.conforms || r.Reason != c.reason {
				t.Errorf("Conforms, Reason = %v, %q; want %v, %q", r.Conforms, r.Reason, c.conforms, c.reason)
			}
			if r.Label != c.label {
				t.Errorf("Label = %q, want %q", r.Label, c.label)
			}
		})
	}
}

func mustBuiltin(t testing.TB, name string) *Plan {
	t.Helper()
	p, err := Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNormaliseCN(t *testing.T) {
	p := mustBuiltin(t, "cn")
	if p.CountryCode() != "86" || p.Name() != "cn" {
		t.Fatalf("cn plan: country code %q name %q", p.CountryCode(), p.Name())
	}
	runCases(t, p, []normCase{
		// Mobile under every NAI.
		{"mobile national", "13800138000", NAINational, "8613800138000", ClassMobile, true, true, "", ""},
		{"mobile international", "8613800138000", NAIInternational, "8613800138000", ClassMobile, true, true, "", ""},
		{"mobile unknown 0086", "008613800138000", NAIUnknown, "8613800138000", ClassMobile, true, true, "", ""},
		{"mobile unknown bare 86", "8613800138000", NAIUnknown, "8613800138000", ClassMobile, true, true, "", ""},
		{"mobile unknown plain", "13800138000", NAIUnknown, "8613800138000", ClassMobile, true, true, "", ""},
		{"mobile subscriber", "13800138000", NAISubscriber, "8613800138000", ClassMobile, true, true, "", ""},
		{"mobile national-specific NAI", "13800138000", 5, "8613800138000", ClassMobile, true, true, "", ""},
		{"mobile trailing ST", "13800138000F", NAINational, "8613800138000", ClassMobile, true, true, "", ""},
		{"mobile 10 digits", "1380013800", NAINational, "861380013800", ClassMobile, true, false, ReasonWrongLength, ""},
		{"mobile 12 digits", "138001380001", NAINational, "86138001380001", ClassMobile, true, false, ReasonWrongLength, ""},
		{"mobile unallocated 154", "15412345678", NAINational, "8615412345678", ClassUnknown, true, false, ReasonUnallocatedPrefix, ""},
		{"mobile unallocated 179", "17912345678", NAINational, "8617912345678", ClassUnknown, true, false, ReasonUnallocatedPrefix, ""},
		{"satellite 174", "17400000000", NAINational, "8617400000000", ClassMobile, true, true, "", "satellite"},
		{"satellite 1349", "13491234567", NAINational, "8613491234567", ClassMobile, true, true, "", "satellite"},
		{"satellite 1619", "16191234567", NAINational, "8616191234567", ClassMobile, true, true, "", "satellite"},
		{"134 not satellite", "13481234567", NAINational, "8613481234567", ClassMobile, true, true, "", ""},
		{"virtual 170", "17012345678", NAINational, "8617012345678", ClassMobile, true, true, "", "virtual_operator"},
		{"national number sent as international reads as NANP", "16512345678", NAIInternational, "16512345678", ClassInternational, false, true, "", ""},
		{"virtual 165", "16512345678", NAINational, "8616512345678", ClassMobile, true, true, "", "virtual_operator"},
		{"virtual 162 national", "16212345678", NAINational, "8616212345678", ClassMobile, true, true, "", "virtual_operator"},
		{"leading zero national", "013800138000", NAINational, "8613800138000", ClassMobile, true, false, ReasonLeadingZeroNational, ""},
		{"86 under national", "8613800138000", NAINational, "8613800138000", ClassMobile, true, false, ReasonCountryCodeInNational, ""},
		{"86110 under national", "86110", NAINational, "86110", ClassService, true, false, ReasonCountryCodeInNational, ""},
		{"861 area code is not a country code", "8612345678", NAINational, "868612345678", ClassFixed, true, true, "", ""},
		{"0086 under national", "008613800138000", NAINational, "8613800138000", ClassMobile, true, false, ReasonLeadingZeroNational, ""},

		// Fixed lines.
		{"beijing 010 unknown", "01087654321", NAIUnknown, "861087654321", ClassFixed, true, true, "", ""},
		{"beijing national", "1087654321", NAINational, "861087654321", ClassFixed, true, true, "", ""},
		{"beijing 106 is fixed at 10 digits", "1065529988", NAINational, "861065529988", ClassFixed, true, true, "", ""},
		{"beijing 7-digit subscriber", "108765432", NAINational, "86108765432", ClassFixed, true, false, ReasonWrongLength, ""},
		{"beijing subscriber starting 1", "1012345678", NAINational, "861012345678", ClassFixed, true, false, ReasonInvalidSubscriber, ""},
		{"shanghai international", "862163456789", NAIInternational, "862163456789", ClassFixed, true, true, "", ""},
		{"shenzhen 8-digit", "75523456789", NAINational, "8675523456789", ClassFixed, true, true, "", ""},
		{"3-digit area 7-digit", "5712345678", NAINational, "865712345678", ClassFixed, true, true, "", ""},
		{"3-digit area subscriber 0", "75502345678", NAINational, "8675502345678", ClassFixed, true, false, ReasonInvalidSubscriber, ""},
		{"NSN too long", "755234567890", NAINational, "86755234567890", ClassFixed, true, false, ReasonWrongLength, ""},
		{"fixed with 86 under unknown", "862087654321", NAIUnknown, "862087654321", ClassFixed, true, true, "", ""},
		{"+86 0 trunk prefix", "8601087654321", NAIInternational, "8601087654321", ClassUnknown, true, false, ReasonLeadingZeroNational, ""},
		{"local subscriber", "62345678", NAISubscriber, "", ClassFixed, false, true, "", ""},
		{"local subscriber 7 digits", "2345678", NAISubscriber, "", ClassFixed, false, true, "", ""},
		{"local under unknown", "62345678", NAIUnknown, "", ClassFixed, false, true, "", ""},
		{"subscriber with trunk prefix", "01087654321", NAISubscriber, "", ClassUnknown, false, false, ReasonLeadingZeroSubscriber, ""},
		{"subscriber too long", "2087654321", NAISubscriber, "", ClassUnknown, false, false, ReasonWrongLength, ""},
		{"subscriber too short", "2345", NAISubscriber, "", ClassUnknown, false, false, ReasonWrongLength, ""},

		// Service numbers.
		{"110 national", "110", NAINational, "86110", ClassService, true, true, "", ""},
		{"110 subscriber", "110", NAISubscriber, "86110", ClassService, true, true, "", ""},
		{"12345 national", "12345", NAINational, "8612345", ClassService, true, true, "", ""},
		{"12345 subscriber", "12345", NAISubscriber, "8612345", ClassService, true, true, "", ""},
		{"12345 international", "8612345", NAIInternational, "8612345", ClassService, true, true, "", ""},
		{"10086", "10086", NAIUnknown, "8610086", ClassService, true, true, "", ""},
		{"95588", "95588", NAINational, "8695588", ClassService, true, true, "", ""},
		{"95588 subscriber", "95588", NAISubscriber, "8695588", ClassService, true, true, "", ""},
		{"950 6-digit", "950123", NAINational, "86950123", ClassService, true, true, "", ""},
		{"96 provincial", "96166", NAINational, "8696166", ClassService, true, true, "", ""},
		{"1234 too short", "1234", NAINational, "861234", ClassService, true, false, ReasonWrongLength, ""},
		{"12 subscriber", "12", NAISubscriber, "", ClassService, false, false, ReasonWrongLength, ""},
		{"11 digits starting 12", "12345678901", NAINational, "8612345678901", ClassService, true, false, ReasonWrongLength, ""},
		{"1 alone", "1", NAINational, "861", ClassUnknown, true, false, ReasonWrongLength, ""},

		// Inbound-only and SMS ports.
		{"400", "4008123456", NAINational, "864008123456", ClassInbound, true, false, ReasonInboundOnly, ""},
		{"400 unknown with 0", "04008123456", NAIUnknown, "864008123456", ClassInbound, true, false, ReasonInboundOnly, ""},
		{"800", "8001234567", NAINational, "868001234567", ClassInbound, true, false, ReasonInboundOnly, ""},
		{"400 short", "400812345", NAINational, "86400812345", ClassInbound, true, false, ReasonWrongLength, ""},
		{"400 subscriber", "4008123456", NAISubscriber, "864008123456", ClassInbound, true, false, ReasonInboundOnly, ""},
		{"106 sms", "10690000", NAINational, "8610690000", ClassSMS, true, false, ReasonSMSPort, ""},
		{"106 sms subscriber", "10690000", NAISubscriber, "8610690000", ClassSMS, true, false, ReasonSMSPort, ""},
		{"1064 m2m", "1064812345678", NAINational, "861064812345678", ClassSMS, true, false, ReasonSMSPort, "m2m"},

		// Foreign numbers.
		{"uk mobile", "447911123456", NAIInternational, "447911123456", ClassInternational, false, true, "", ""},
		{"hong kong", "85291234567", NAIInternational, "85291234567", ClassInternational, false, true, "", ""},
		{"hong kong 00 unknown", "0085291234567", NAIUnknown, "85291234567", ClassInternational, false, true, "", ""},
		{"uk 00 national", "00447911123456", NAINational, "447911123456", ClassInternational, false, false, ReasonLeadingZeroNational, ""},
		{"00 inside international", "00447911123456", NAIInternational, "447911123456", ClassInternational, false, false, ReasonLeadingZeroInternational, ""},
		{"0 inside international", "0447911123456", NAIInternational, "", ClassUnknown, false, false, ReasonLeadingZeroInternational, ""},
		{"unknown country code", "99912345678", NAIInternational, "99912345678", ClassInternational, false, false, ReasonUnknownCountryCode, ""},
		{"foreign too short", "4479111", NAIInternational, "4479111", ClassInternational, false, false, ReasonWrongLength, ""},
		{"foreign too long", "4479111234567890", NAIInternational, "4479111234567890", ClassInternational, false, false, ReasonWrongLength, ""},
		{"foreign too long for buffer", "447911123456789012345", NAIInternational, "", ClassInternational, false, false, ReasonWrongLength, ""},
		{"foreign without 00 under unknown", "447911123456", NAIUnknown, "86447911123456", ClassFixed, true, false, ReasonWrongLength, ""},

		// Malformed.
		{"empty", "", NAINational, "", ClassUnknown, false, false, ReasonEmpty, ""},
		{"only ST", "F", NAIUnknown, "", ClassUnknown, false, false, ReasonEmpty, ""},
		{"hex digit", "138B0138000", NAINational, "", ClassUnknown, false, false, ReasonNonDecimal, ""},
		{"ST in the middle", "138F0138000", NAINational, "", ClassUnknown, false, false, ReasonNonDecimal, ""},
		{"international empty after 00", "00", NAIInternational, "", ClassUnknown, false, false, ReasonLeadingZeroInternational, ""},
		{"+86 alone", "86", NAIInternational, "86", ClassUnknown, true, false, ReasonEmpty, ""},
	})
}

func TestNormaliseE164WithHome(t *testing.T) {
	base := mustBuiltin(t, "e164")
	if base.CountryCode() != "" {
		t.Fatalf("e164 plan has home %q", base.CountryCode())
	}
	p, err := base.WithCountryCode("44")
	if err != nil {
		t.Fatal(err)
	}
	if base.CountryCode() != "" {
		t.Fatal("WithCountryCode changed the original plan")
	}
	runCases(t, p, []normCase{
		{"national", "7911123456", NAINational, "447911123456", ClassUnknown, true, true, "", ""},
		{"trunk prefix under unknown", "07911123456", NAIUnknown, "447911123456", ClassUnknown, true, true, "", ""},
		{"international home", "447911123456", NAIInternational, "447911123456", ClassUnknown, true, true, "", ""},
		{"international foreign", "8613800138000", NAIInternational, "8613800138000", ClassInternational, false, true, "", ""},
		{"national too short", "123", NAINational, "44123", ClassUnknown, true, false, ReasonWrongLength, ""},
		{"subscriber", "2345678", NAISubscriber, "", ClassUnknown, false, true, "", ""},
	})
	if _, err := base.WithCountryCode("999"); err == nil {
		t.Error("WithCountryCode(999) accepted an unassigned code")
	}
	if _, err := base.WithCountryCode("8x"); err == nil {
		t.Error("WithCountryCode(8x) accepted non-digits")
	}
}

func TestResultNational(t *testing.T) {
	p := mustBuiltin(t, "cn")
	var r Result
	p.Normalise([]byte("8613800138000"), NAIInternational, &r)
	if got := string(r.National()); got != "13800138000" {
		t.Errorf("National() = %q", got)
	}
	if got := string(r.Bytes()); got != "8613800138000" {
		t.Errorf("Bytes() = %q", got)
	}
	p.Normalise([]byte("447911123456"), NAIInternational, &r)
	if r.National() != nil || r.CCLen != 2 {
		t.Errorf("foreign number: National() = %q, CCLen %d", r.National(), r.CCLen)
	}
}

func TestClassString(t *testing.T) {
	want := map[Class]string{ClassUnknown: "unknown", ClassMobile: "mobile", ClassFixed: "fixed", ClassService: "service",
		ClassInbound: "inbound", ClassSMS: "sms", ClassInternational: "international", Class(99): "unknown"}
	for c, s := range want {
		if c.String() != s {
			t.Errorf("Class(%d).String() = %q, want %q", c, c.String(), s)
		}
	}
}

var benchNumbers = []struct {
	d   []byte
	nai uint8
}{
	{[]byte("13800138000"), NAINational},
	{[]byte("8613800138000"), NAIInternational},
	{[]byte("008613800138000"), NAIUnknown},
	{[]byte("01087654321"), NAIUnknown},
	{[]byte("447911123456"), NAIInternational},
	{[]byte("95588"), NAISubscriber},
	{[]byte("4008123456"), NAINational},
	{[]byte("8613800138000"), NAIUnknown},
}

func TestNormaliseAllocatesNothing(t *testing.T) {
	p := mustBuiltin(t, "cn")
	var r Result
	allocs := testing.AllocsPerRun(100, func() {
		for _, n := range benchNumbers {
			p.Normalise(n.d, n.nai, &r)
		}
	})
	if allocs != 0 {
		t.Fatalf("Normalise allocates %.1f times per run", allocs)
	}
}

func BenchmarkNormalise(b *testing.B) {
	p := mustBuiltin(b, "cn")
	var r Result
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		n := &benchNumbers[i%len(benchNumbers)]
		p.Normalise(n.d, n.nai, &r)
	}
}
