package numplan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuiltinUnknown(t *testing.T) {
	if _, err := Builtin("uk"); err == nil || !strings.Contains(err.Error(), `"uk"`) {
		t.Fatalf("Builtin(uk) error = %v", err)
	}
}

// A minimal operator plan; each error case edits one line of it.
const minimalPlan = `name: test
country_code: "86"
international_prefix: "00"
trunk_prefix: "0"
nsn_min_length: 3
nsn_max_length: 11
international_min_length: 8
international_max_length: 15
rules:
  - class: mobile
    prefixes: "130-139"
    lengths: "11"
fixed:
  subscriber_first_digits: "2-9"
  areas:
    - codes: "10"
      subscriber_lengths: "8"
`

func writePlan(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadOperatorPlan(t *testing.T) {
	path := writePlan(t, strings.Replace(minimalPlan, `"2-9"`, `"23456789"`, 1))
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var r Result
	p.Normalise([]byte("13900139000"), NAINational, &r)
	if !r.Conforms || r.Class != ClassMobile {
		t.Errorf("13900139000: %+v", r)
	}
	// 150 is allocated in the built-in plan but not in this file.
	p.Normalise([]byte("15000150000"), NAINational, &r)
	if r.Conforms || r.Reason != ReasonUnallocatedPrefix {
		t.Errorf("15000150000: conforms %v reason %q", r.Conforms, r.Reason)
	}
	// The country code table defaults to the built-in ITU list.
	p.Normalise([]byte("447911123456"), NAIInternational, &r)
	if !r.Conforms || r.Class != ClassInternational {
		t.Errorf("447911123456: %+v", r)
	}
}

func TestLoadErrors(t *testing.T) {
	fixed := strings.Replace(minimalPlan, `"2-9"`, `"23456789"`, 1)
	cases := []struct {
		name, from, to, want string
	}{
		{"bad first digits", `"23456789"`, `"2-9"`, `key fixed.subscriber_first_digits: "2-9" is not a digit string`},
		{"unknown key", "name: test", "name: test\ncolour: red", "field colour not found"},
		{"missing name", "name: test", "name: \"\"", "key name: missing"},
		{"bad class", "class: mobile", "class: cellular", `key rules[0].class: "cellular" is not one of`},
		{"bad prefix", `"130-139"`, `"13x"`, `key rules[0].prefixes: "13x" is not a digit string`},
		{"backwards range", `"130-139"`, `"139-130"`, `key rules[0].prefixes: range "139-130" runs backwards`},
		{"uneven range", `"130-139"`, `"13-139"`, `key rules[0].prefixes: "13-139" is not a digit string`},
		{"huge range", `"130-139"`, `"000000-999999"`, `expands to more than`},
		{"bad lengths", `lengths: "11"`, `lengths: "eleven"`, `key rules[0].lengths: "eleven" is not a length`},
		{"zero length", `lengths: "11"`, `lengths: "0"`, `key rules[0].lengths: "0" is not a length`},
		{"duplicate prefix", `"130-139"`, `"130-139,10"`, `key fixed.areas[0].codes: prefix 10 is already in rules[0]`},
		{"bad area lengths", `subscriber_lengths: "8"`, `subscriber_lengths: ""`, `key fixed.areas[0].subscriber_lengths: empty`},
		{"bad country code", `country_code: "86"`, `country_code: "999"`, `key country_code: "999" is not in the country code table`},
		{"bad intl prefix", `international_prefix: "00"`, `international_prefix: "+"`, `key international_prefix: "+" is not a digit string`},
		{"bad trunk prefix", `trunk_prefix: "0"`, `trunk_prefix: "O"`, `key trunk_prefix: "O" is not a digit string`},
		{"bad nsn lengths", "nsn_max_length: 11", "nsn_max_length: 2", "key nsn_min_length: lengths 3..2"},
		{"bad intl lengths", "international_max_length: 15", "international_max_length: 21", "key international_min_length: lengths 8..21"},
		{"country codes not prefix-free", "rules:", "country_codes: [\"1,86,861\"]\nrules:", "key country_codes: country code 861 starts with country code 86"},
		{"country code with 0", "rules:", "country_codes: [\"01\"]\nrules:", `key country_codes[0]: "01" is not a country code`},
		{"wrong type", "nsn_max_length: 11", "nsn_max_length: many", "cannot unmarshal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := strings.Replace(fixed, c.from, c.to, 1)
			if body == fixed {
				t.Fatalf("edit %q not applied", c.from)
			}
			path := writePlan(t, body)
			_, err := Load(path)
			if err == nil {
				t.Fatalf("loaded without error")
			}
			if !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want %q prefixed by the file name", err, c.want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "absent.yaml")); err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Errorf("missing file: %v", err)
	}
}
