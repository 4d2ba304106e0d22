package web

import (
	"encoding/json"
	"regexp"
)

// MaskNumber keeps the first 3 and last 2 digits of a number and replaces
// the rest with '*', so a viewer can tell calls apart without learning who
// called whom. Numbers of 5 or fewer digits are masked whole.
func MaskNumber(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	if len(b) <= 5 {
		for i := range b {
			b[i] = '*'
		}
		return string(b)
	}
	for i := 3; i < len(b)-2; i++ {
		b[i] = '*'
	}
	return string(b)
}

// numberKeys are the JSON keys whose string values are subscriber numbers
// anywhere in an API response.
var numberKeys = map[string]bool{
	"digits": true, "e164": true, "calling": true, "called": true, "redirecting": true,
	"original_called": true, "redirection_number": true, "number": true,
	"location": true, "connected": true, "charge": true, "subsequent": true, "generic": true,
}

// rawKeys carry bytes that contain the numbers: a viewer does not get them.
var rawKeys = map[string]bool{"mtp3": true}

// digitRun finds numbers embedded in free text (alert details).
var digitRun = regexp.MustCompile(`[0-9A-F]{6,}`)

// maskValue returns v as generic JSON with every number masked: it works on
// the encoded form, so no field added later can leak past it.
func maskValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var g any
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, err
	}
	return maskWalk(g, ""), nil
}

// maskWalk masks strings under number keys, and digit runs inside free text
// (alert details); other strings (times, links) are left alone.
func maskWalk(g any, key string) any {
	switch t := g.(type) {
	case map[string]any:
		for k, v := range t {
			if rawKeys[k] {
				delete(t, k)
				continue
			}
			t[k] = maskWalk(v, k)
		}
		return t
	case []any:
		for i := range t {
			t[i] = maskWalk(t[i], key)
		}
		return t
	case string:
		switch {
		case numberKeys[key]:
			return MaskNumber(t)
		case key == "detail":
			return digitRun.ReplaceAllStringFunc(t, MaskNumber)
		}
		return t
	}
	return g
}
