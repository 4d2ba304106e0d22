package analysis

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// tsLayout is RFC 3339 with a fixed nine-digit fraction, as in `gatewarden decode`.
const tsLayout = "2006-01-02T15:04:05.000000000Z07:00"

// AppendTS appends capture time ts (Unix ns) in the public timestamp format.
func AppendTS(dst []byte, ts int64) []byte {
	return time.Unix(0, ts).UTC().AppendFormat(dst, tsLayout)
}

// AppendAlertJSON appends a as one JSON object (no newline) with the public
// contract fields: ts, rule, severity, partner, direction, calling, called,
// redirecting, opc, dpc, cic, call_id, outcome, count and window_s (behaviour
// alerts only), link (route alerts only), origin_country (international
// calls only) and detail.
func AppendAlertJSON(dst []byte, a *Alert) []byte {
	dst = append(dst, `{"ts":"`...)
	dst = AppendTS(dst, a.TS)
	dst = append(dst, '"')
	dst = appendStrField(dst, "rule", a.Rule)
	dst = appendStrField(dst, "severity", a.Severity.String())
	dst = appendStrField(dst, "partner", a.Partner)
	dst = appendStrField(dst, "direction", a.Direction.String())
	dst = appendStrField(dst, "calling", a.Calling)
	dst = appendStrField(dst, "called", a.Called)
	dst = appendStrField(dst, "redirecting", a.Redirecting)
	dst = appendUintField(dst, "opc", uint64(a.OPC))
	dst = appendUintField(dst, "dpc", uint64(a.DPC))
	dst = appendUintField(dst, "cic", uint64(a.CIC))
	dst = appendStrField(dst, "call_id", a.CallID)
	dst = appendStrField(dst, "outcome", a.Outcome.String())
	if a.WindowS > 0 {
		dst = appendUintField(dst, "count", uint64(a.Count))
		dst = appendUintField(dst, "window_s", uint64(a.WindowS))
	}
	if a.Link != "" {
		dst = appendStrField(dst, "link", a.Link)
	}
	if a.OriginCountry != "" {
		dst = appendStrField(dst, "origin_country", a.OriginCountry)
	}
	dst = appendStrField(dst, "detail", a.Detail)
	return append(dst, '}')
}

// AppendCallJSON appends c as one JSON object (no newline). Times are RFC 3339;
// durations are milliseconds.
func AppendCallJSON(dst []byte, c *Call) []byte {
	dst = append(dst, `{"call_id":`...)
	dst = appendString(dst, c.ID)
	dst = appendTSField(dst, "start", c.Start)
	dst = appendTSField(dst, "alerting", c.Alerting)
	dst = appendTSField(dst, "answer", c.Answer)
	dst = appendTSField(dst, "release", c.Release)
	dst = appendTSField(dst, "end", c.End)
	dst = appendUintField(dst, "ring_ms", uint64(c.RingNanos()/1e6))
	dst = appendUintField(dst, "talk_ms", uint64(c.TalkNanos()/1e6))
	dst = appendStrField(dst, "outcome", c.Outcome.String())
	dst = appendUintField(dst, "cause", uint64(c.Cause))
	dst = appendStrField(dst, "released_by", c.ReleasedBy.String())
	dst = appendStrField(dst, "partner", c.Partner)
	dst = appendStrField(dst, "direction", c.Direction.String())
	dst = appendStrField(dst, "link", c.Link)
	dst = appendStrField(dst, "protocol", c.Protocol.String())
	dst = appendUintField(dst, "opc", uint64(c.OPC))
	dst = appendUintField(dst, "dpc", uint64(c.DPC))
	dst = appendUintField(dst, "cic", uint64(c.CIC))
	if c.RC != 0 {
		dst = appendUintField(dst, "rc", uint64(c.RC))
	}
	dst = appendNumberField(dst, "calling", c.Calling)
	dst = appendNumberField(dst, "called", c.Called)
	dst = appendNumberField(dst, "redirecting", c.Redirecting)
	dst = appendNumberField(dst, "original_called", c.OriginalCalled)
	if len(c.Generic) > 0 {
		dst = append(dst, `,"generic":[`...)
		for i := range c.Generic {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendNumber(dst, &c.Generic[i])
		}
		dst = append(dst, ']')
	}
	dst = appendUintField(dst, "category", uint64(c.Category))
	if c.Redirected {
		dst = append(dst, `,"redirected":true`...)
		dst = appendUintField(dst, "redirection_counter", uint64(c.RedirCounter))
	}
	dst = appendNumberField(dst, "header_calling", c.HeaderCalling)
	dst = appendUintField(dst, "messages", uint64(c.Messages))
	if c.TransitOf != "" {
		dst = appendStrField(dst, "transit_of", c.TransitOf)
	}
	if c.TransitTo != "" {
		dst = appendStrField(dst, "transit_to", c.TransitTo)
	}
	if c.OriginCountry != "" {
		dst = appendStrField(dst, "origin_country", c.OriginCountry)
	}
	return append(dst, '}')
}

func appendTSField(dst []byte, name string, ts int64) []byte {
	if ts == 0 {
		return dst
	}
	dst = append(dst, `,"`...)
	dst = append(dst, name...)
	dst = append(dst, `":"`...)
	dst = AppendTS(dst, ts)
	return append(dst, '"')
}

func appendNumberField(dst []byte, name string, p *PartyNumber) []byte {
	if p == nil {
		return dst
	}
	dst = append(dst, `,"`...)
	dst = append(dst, name...)
	dst = append(dst, `":`...)
	return appendNumber(dst, p)
}

func appendNumber(dst []byte, p *PartyNumber) []byte {
	dst = append(dst, `{"digits":`...)
	dst = appendString(dst, p.Digits)
	dst = appendUintField(dst, "nai", uint64(p.NAI))
	if p.APRI != 0 {
		dst = appendUintField(dst, "apri", uint64(p.APRI))
	}
	if p.E164 != "" {
		dst = appendStrField(dst, "e164", p.E164)
	}
	return append(dst, '}')
}

func appendStrField(dst []byte, name, v string) []byte {
	dst = append(dst, `,"`...)
	dst = append(dst, name...)
	dst = append(dst, `":`...)
	return appendString(dst, v)
}

func appendUintField(dst []byte, name string, v uint64) []byte {
	dst = append(dst, `,"`...)
	dst = append(dst, name...)
	dst = append(dst, `":`...)
	return strconv.AppendUint(dst, v, 10)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping what JSON requires and
// replacing invalid UTF-8.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case b == '"' || b == '\\':
				dst = append(dst, '\\', b)
			case b < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&15])
			default:
				dst = append(dst, b)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
