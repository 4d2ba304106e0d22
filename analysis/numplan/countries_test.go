package numplan_test

import (
	"testing"

	"github.com/gatewarden/gatewarden/analysis/numplan"
)

func TestCountries(t *testing.T) {
	c := numplan.BuiltinCountries()
	for num, want := range map[string]string{
		"85291234567":   "HK",
		"8613912345678": "CN",
		"14165550123":   "CA", // NANP area code 416
		"12125550123":   "US",
		"18765550123":   "JM",
		"74951234567":   "RU",
		"77011234567":   "KZ",
		"442079460000":  "GB",
		"4791234567":    "NO",
		"80012345678":   "", // global service: no country
		"":              "",
	} {
		if got := c.Of([]byte(num)); got != want {
			t.Errorf("Of(%s) = %q, want %q", num, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { c.Of([]byte("85291234567")) }); n != 0 {
		t.Errorf("Of allocates %v times", n)
	}
}

// Every country code of the built-in E.164 plan that belongs to a country
// has an entry, so no international caller goes without an origin.
func TestCountriesCoverPlan(t *testing.T) {
	c := numplan.BuiltinCountries()
	p, err := numplan.Builtin("e164")
	if err != nil {
		t.Fatal(err)
	}
	global := map[string]bool{"800": true, "808": true, "870": true, "878": true, "881": true, "882": true, "883": true, "888": true, "979": true, "991": true}
	for _, cc := range p.CountryCodes() {
		if global[cc] {
			continue
		}
		if c.Of([]byte(cc+"1234567")) == "" {
			t.Errorf("country code %s has no ISO code in countries.yaml", cc)
		}
	}
}

func TestParseCountriesRejects(t *testing.T) {
	for _, bad := range []string{"countries: {\"12345\": US}", "countries: {\"44\": gb}", "countries: {\"4a\": GB}", "countrys: {}"} {
		if _, err := numplan.ParseCountries([]byte(bad), "t"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
