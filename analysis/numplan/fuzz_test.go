package numplan

import "testing"

// FuzzNormalise checks that any digits under any NAI give a consistent verdict
// without panicking.
func FuzzNormalise(f *testing.F) {
	for _, n := range benchNumbers {
		f.Add(n.d, n.nai)
	}
	f.Add([]byte("00"), uint8(4))
	f.Add([]byte("138B0138000F"), uint8(3))
	f.Add([]byte("447911123456789012345678"), uint8(2))
	p, err := Builtin("cn")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, digits []byte, nai uint8) {
		var r Result
		p.Normalise(digits, nai, &r)
		if r.Conforms != (r.Reason == "") {
			t.Fatalf("%q nai %d: conforms %v with reason %q", digits, nai, r.Conforms, r.Reason)
		}
		if r.NE164 > MaxE164 || r.CCLen > r.NE164 {
			t.Fatalf("%q nai %d: NE164 %d CCLen %d", digits, nai, r.NE164, r.CCLen)
		}
		for _, c := range r.Bytes() {
			if c < '0' || c > '9' {
				t.Fatalf("%q nai %d: E164 %q has a non-digit", digits, nai, r.Bytes())
			}
		}
	})
}

// FuzzParseCountries: any bytes are a table or a clear error; a table only
// ever answers two capital letters or nothing.
func FuzzParseCountries(f *testing.F) {
	f.Add(builtinCountries, []byte("85291234567"))
	f.Add([]byte("countries: {\"1\": US, \"1876\": JM}"), []byte("18765550123"))
	f.Add([]byte("countries: {\"12345\": US}"), []byte("1"))
	f.Add([]byte("countries: [1, 2]"), []byte(""))
	f.Fuzz(func(t *testing.T, data, number []byte) {
		c, err := ParseCountries(data, "fuzz")
		if err != nil {
			return
		}
		if iso := c.Of(number); iso != "" && (len(iso) != 2 || iso[0] < 'A' || iso[0] > 'Z' || iso[1] < 'A' || iso[1] > 'Z') {
			t.Fatalf("Of(%q) = %q", number, iso)
		}
	})
}
