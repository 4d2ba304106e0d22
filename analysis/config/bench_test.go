package config

import (
	"net/netip"
	"os"
	"testing"
)

func BenchmarkPartnerByAddr(b *testing.B) {
	c, err := Load("../../deploy/gatewarden.example.yaml")
	if err != nil {
		b.Fatal(err)
	}
	addrs := []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("203.0.113.1")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.PartnerByAddr(addrs[i&1])
	}
}

func BenchmarkPartnerByPC(b *testing.B) {
	c, err := Load("../../deploy/gatewarden.example.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.PartnerByPC(uint32(133633 + i&1))
	}
}

func BenchmarkBlocklistContains(b *testing.B) {
	var body []byte
	for i := range 100000 {
		body = append(body, []byte("138"+pad8(i)+"\n")...)
	}
	bl, err := ParseBlocklist(body, "bl.txt", "86")
	if err != nil {
		b.Fatal(err)
	}
	nums := [][]byte{[]byte("8613800012345"), []byte("8613900012345")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		bl.Contains(nums[i&1])
	}
}

func pad8(i int) string {
	s := "00000000" + itoa(i)
	return s[len(s)-8:]
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("../../deploy/gatewarden.example.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("partners:\n  - {name: a, kind: interconnect, match: {point_codes: [\"1-2-3\", 5]}}\n"))
	f.Add([]byte("thresholds: {one_ring: {window: 5s}}\nseverity: {cli.missing: info}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err == nil && (c.Plan == nil || c.Thresholds.Bombing.Calls <= 0) {
			t.Fatalf("accepted an unusable configuration: %+v", c)
		}
	})
}

func FuzzParseBlocklist(f *testing.F) {
	f.Add([]byte("# c\n13800138000\n+447911123456\n0085291234567\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBlocklist(data, "bl.txt", "86")
		if err != nil {
			return
		}
		for k := range b.numbers {
			if !isNumber(k) {
				t.Fatalf("non-numeric entry %q", k)
			}
		}
	})
}
