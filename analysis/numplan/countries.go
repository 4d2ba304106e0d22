package numplan

import (
	"bytes"
	_ "embed"
	"fmt"

	"gopkg.in/yaml.v3"
)

//go:embed countries.yaml
var builtinCountries []byte

// maxCountryPrefix is the longest prefix the country table may hold: a
// country code plus a NANP area code (1 + 3 digits).
const maxCountryPrefix = 4

// Countries maps E.164 numbers to the ISO 3166-1 alpha-2 code of the country
// they belong to, by longest prefix. It is immutable and safe for
// concurrent use.
type Countries struct {
	byPrefix map[string]string
}

// BuiltinCountries returns the table compiled into the binary (countries.yaml).
func BuiltinCountries() *Countries {
	c, err := ParseCountries(builtinCountries, "builtin:countries")
	if err != nil {
		panic(err) // the embedded file is checked by the tests
	}
	return c
}

// ParseCountries reads a table in the format of countries.yaml; name is used
// in error messages.
func ParseCountries(data []byte, name string) (*Countries, error) {
	var f struct {
		Countries map[string]string `yaml:"countries"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &Countries{byPrefix: make(map[string]string, len(f.Countries))}
	for prefix, iso := range f.Countries {
		if prefix == "" || len(prefix) > maxCountryPrefix || !isDigits(prefix) {
			return nil, fmt.Errorf("%s: key countries.%s: want 1 to %d digits", name, prefix, maxCountryPrefix)
		}
		if len(iso) != 2 || iso[0] < 'A' || iso[0] > 'Z' || iso[1] < 'A' || iso[1] > 'Z' {
			return nil, fmt.Errorf("%s: key countries.%s: %q is not an ISO 3166-1 alpha-2 code", name, prefix, iso)
		}
		c.byPrefix[prefix] = iso
	}
	return c, nil
}

// Of returns the country of an E.164 number (digits, no '+'), or "" when no
// prefix of it is in the table. It does not allocate.
func (c *Countries) Of(e164 []byte) string {
	for n := min(len(e164), maxCountryPrefix); n > 0; n-- {
		if iso, ok := c.byPrefix[string(e164[:n])]; ok {
			return iso
		}
	}
	return ""
}

// CountryCodes lists the plan's country codes in increasing order of length,
// then value.
func (p *Plan) CountryCodes() []string {
	var out []string
	for l := 1; l < len(p.ccKnown); l++ {
		for v, ok := range p.ccKnown[l] {
			if ok {
				out = append(out, fmt.Sprintf("%0*d", l, v))
			}
		}
	}
	return out
}
