package web

import (
	"encoding/json"
	"fmt"
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

// structuralKeys hold strings that carry digits but no subscriber number:
// times, call and record ids, point codes, addresses and links, partner and
// rule names, capture sources. Every other
// string is free text, and digit runs in it are masked.
var structuralKeys = map[string]bool{
	"ts": true, "t": true, "start": true, "alerting": true, "answer": true, "release": true, "end": true,
	"from": true, "to": true, "oldest": true, "newest": true,
	"id": true, "call": true, "call_id": true,
	"opc_pc": true, "dpc_pc": true, "points": true, "rc": true,
	"src": true, "dst": true, "peer": true, "local": true, "link": true, "links": true,
	// names from the configuration and the capture, not from subscribers
	"partner": true, "rule": true, "box": true, "source": true, "transport": true, "protocol": true,
	"limit": true, "offset": true, // echoed query parameters
	"transit_of": true, "transit_to": true, "other_call_id": true, "other": true, "other_link": true,
	"hour": true,
}

// minTextDigits is the shortest digit run in free text taken for a number:
// short enough for "protected number 12345", long enough to leave counts
// and durations ("3 calls in 60 s") readable.
const minTextDigits = 4

// digitRun finds numbers embedded in free text: runs of digits, with the
// filler digits B-F an ISUP number may carry after the first.
var digitRun = regexp.MustCompile(fmt.Sprintf("[0-9][0-9A-F]{%d,}", minTextDigits-1))

// maskText masks each number in free text by the field rule (MaskNumber).
func maskText(s string) string { return digitRun.ReplaceAllStringFunc(s, MaskNumber) }

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

// maskWalk masks strings under number keys whole, and the digit runs inside
// every other string (alert details, reasons, any text added later) by the
// same rule; only structural strings (times, ids, point codes, addresses)
// are left alone.
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
		case structuralKeys[key]:
			return t
		}
		return maskText(t)
	}
	return g
}
