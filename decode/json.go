package decode

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// tsLayout is RFC 3339 with exactly nine fractional digits, so every line has
// the same width and sorts as text.
const tsLayout = "2006-01-02T15:04:05.000000000Z07:00"

// AppendJSON appends m as one JSON object (the public contract of `gatewarden
// decode`), without a trailing newline. Fields come in a fixed order and
// optional ones are left out when absent. It does not allocate beyond growing dst.
func AppendJSON(dst []byte, m *Message, file string) []byte {
	dst = append(dst, `{"ts":"`...)
	dst = time.Unix(0, m.TS).UTC().AppendFormat(dst, tsLayout)
	dst = append(dst, `","frame":`...)
	dst = strconv.AppendUint(dst, m.Frame, 10)
	dst = append(dst, `,"file":`...)
	dst = appendJSONString(dst, file)
	dst = append(dst, `,"transport":"`...)
	dst = append(dst, m.Transport.String()...)
	dst = append(dst, '"')
	// SS7 link types have no IP endpoints: Src/Dst stay invalid.
	if m.Src.IsValid() {
		dst = append(dst, `,"src":"`...)
		dst = m.Src.AppendTo(dst)
		dst = append(dst, '"')
	}
	if m.Dst.IsValid() {
		dst = append(dst, `,"dst":"`...)
		dst = m.Dst.AppendTo(dst)
		dst = append(dst, '"')
	}

	l := &m.Label
	dst = appendUintField(dst, "opc", uint64(l.OPC))
	dst = appendUintField(dst, "dpc", uint64(l.DPC))
	dst = append(dst, `,"opc_pc":"`...)
	dst = AppendPC(dst, l.OPC, l.PCBits)
	dst = append(dst, `","dpc_pc":"`...)
	dst = AppendPC(dst, l.DPC, l.PCBits)
	dst = append(dst, '"')
	dst = appendUintField(dst, "ni", uint64(l.NI))
	dst = appendUintField(dst, "sls", uint64(l.SLS))

	u := &m.ISUP
	dst = appendUintField(dst, "cic", uint64(u.CIC))
	dst = append(dst, `,"type":"`...)
	dst = append(dst, MessageTypeName(u.Type)...)
	dst = append(dst, '"')
	if m.HasRC {
		dst = appendUintField(dst, "rc", uint64(m.RoutingContext))
	}

	dst = appendNumberField(dst, "called", &u.Called)
	dst = appendNumberField(dst, "calling", &u.Calling)
	dst = appendNumberField(dst, "redirecting", &u.Redirecting)
	dst = appendNumberField(dst, "original_called", &u.OriginalCalled)
	dst = appendNumberField(dst, "redirection_number", &u.RedirectionNumber)
	dst = appendNumberField(dst, "location", &u.Location)
	dst = appendNumberField(dst, "connected", &u.Connected)
	dst = appendNumberField(dst, "charge", &u.Charge)
	dst = appendNumberField(dst, "subsequent", &u.Subsequent)
	if n := int(u.NGeneric); n > 0 {
		if n > MaxGeneric {
			n = MaxGeneric
		}
		dst = append(dst, `,"generic":[`...)
		for i := 0; i < n; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendNumber(dst, &u.Generic[i], true)
		}
		dst = append(dst, ']')
	}
	if r := &u.Redirection; r.Present {
		dst = append(dst, `,"redirection":{"indicator":`...)
		dst = strconv.AppendUint(dst, uint64(r.Indicator), 10)
		dst = appendUintField(dst, "original_reason", uint64(r.OriginalReason))
		dst = appendUintField(dst, "counter", uint64(r.Counter))
		dst = appendUintField(dst, "reason", uint64(r.Reason))
		dst = append(dst, '}')
	}
	if u.HasCategory {
		dst = appendUintField(dst, "category", uint64(u.Category))
	}
	if c := &u.Cause; c.Present {
		dst = append(dst, `,"cause":{"value":`...)
		dst = strconv.AppendUint(dst, uint64(c.Value), 10)
		dst = appendUintField(dst, "location", uint64(c.Location))
		dst = append(dst, '}')
	}
	if u.HasHopCounter {
		dst = appendUintField(dst, "hop_counter", uint64(u.HopCounter))
	}
	if u.HasEventInformation {
		dst = appendUintField(dst, "event", uint64(u.EventInformation))
	}
	return append(dst, '}')
}

// appendUintField appends `,"name":v`.
func appendUintField(dst []byte, name string, v uint64) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return strconv.AppendUint(dst, v, 10)
}

func appendNumberField(dst []byte, name string, n *Number) []byte {
	if !n.Present {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendNumber(dst, n, false)
}

// appendNumber appends a number object: digits, then the indicators the
// parameter carries.
func appendNumber(dst []byte, n *Number, withQualifier bool) []byte {
	dst = append(dst, `{"digits":`...)
	nd := int(n.NDigits)
	if nd > MaxDigits {
		nd = MaxDigits
	}
	dst = appendJSONBytes(dst, n.Digits[:nd])
	if withQualifier {
		dst = appendUintField(dst, "qualifier", uint64(n.Qualifier))
	}
	if n.HasNAI {
		dst = appendUintField(dst, "nai", uint64(n.NAI))
	}
	if n.HasNPI {
		dst = appendUintField(dst, "npi", uint64(n.NPI))
	}
	if n.HasINN {
		dst = appendUintField(dst, "inn", uint64(n.INN))
	}
	if n.HasNI {
		dst = appendUintField(dst, "ni", uint64(n.INN))
	}
	if n.HasAPRI {
		dst = appendUintField(dst, "apri", uint64(n.APRI))
	}
	if n.HasSI {
		dst = appendUintField(dst, "si", uint64(n.SI))
	}
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD (as encoding/json does).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0x0F])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSONBytes is appendJSONString for a byte slice, without converting it.
func appendJSONBytes(dst []byte, b []byte) []byte {
	for _, c := range b {
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return appendJSONString(dst, string(b)) // rare: digits are ASCII
		}
	}
	dst = append(dst, '"')
	dst = append(dst, b...)
	return append(dst, '"')
}
