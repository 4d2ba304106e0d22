package decode

import (
	"encoding/binary"
	"net/netip"
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
	dst = appendTimestamp(dst, m.TS)
	dst = append(dst, `","frame":`...)
	dst = appendUint(dst, m.Frame)
	dst = append(dst, `,"file":`...)
	dst = appendJSONString(dst, file)
	return appendJSONBody(dst, m, nil)
}

// JSONEncoder appends messages exactly as AppendJSON does, for a stream of
// them: it remembers the escaped file name and the text of the last whole
// second, which repeat from one line to the next. The zero value is ready.
type JSONEncoder struct {
	file    string
	fileEsc []byte
	sec     int64
	secText []byte // `YYYY-MM-DDThh:mm:ss.` for sec
	// The link part of lines formatted lately (transport … sls), by a hash
	// of its key: a link carries many messages, both ways, between those of
	// other links. Two ways per set, so two busy links that hash alike do
	// not evict each other on every line (with one way, 128 link parts in
	// 256 slots missed on a quarter of the lines).
	links [linkSets][2]linkText
	// linkOld says which way of each set to replace next (the one used
	// less recently).
	linkOld [linkSets]uint8
}

// linkSets is the number of sets of the link-part cache (a power of two):
// 1 024 link parts, about 200 KiB with their text.
const linkSets = 512

// linkKey is everything the link part of a line depends on.
type linkKey struct {
	src, dst  netip.AddrPort
	label     Label
	transport Transport
	protocol  Protocol
}

// linkText is a link part and its formatted text.
type linkText struct {
	key  linkKey
	text []byte
}

// linkPart returns the cached link part of m's line, formatting it when it
// is not cached. It reads m's fields in place: a linkKey is built only on a
// miss.
func (e *JSONEncoder) linkPart(m *Message) []byte {
	l := &m.Label
	x := uint64(l.OPC)<<32 | uint64(l.DPC)
	y := uint64(m.Src.Port())<<48 | uint64(m.Dst.Port())<<32 | uint64(l.SLS)<<24 | uint64(l.NI)<<16 | uint64(m.Transport)<<8 | uint64(m.Protocol)
	h := (x*0x9E3779B97F4A7C15 ^ y) * 0xC2B2AE3D27D4EB4F
	if m.Src.Addr().Is4() && m.Dst.Addr().Is4() {
		// Links that share a label and ports (ASPs load-sharing one
		// route) differ in their addresses.
		s, d := m.Src.Addr().As4(), m.Dst.Addr().As4()
		h = (h ^ uint64(binary.LittleEndian.Uint32(s[:]))<<32 ^ uint64(binary.LittleEndian.Uint32(d[:]))) * 0x165667B19E3779F9
	}
	set := h >> (64 - linkSetBits)
	ways := &e.links[set]
	if w := &ways[0]; w.text != nil && w.key.is(m) {
		e.linkOld[set] = 1
		return w.text
	}
	if w := &ways[1]; w.text != nil && w.key.is(m) {
		e.linkOld[set] = 0
		return w.text
	}
	old := e.linkOld[set]
	w := &ways[old]
	e.linkOld[set] = old ^ 1
	w.key = linkKey{src: m.Src, dst: m.Dst, label: m.Label, transport: m.Transport, protocol: m.Protocol}
	w.text = appendLinkPart(w.text[:0], m)
	return w.text
}

// is reports whether m's line has link part k, cheapest field first.
func (k *linkKey) is(m *Message) bool {
	return k.label == m.Label && k.transport == m.Transport && k.protocol == m.Protocol && k.src == m.Src && k.dst == m.Dst
}

// linkSetBits is log2(linkSets).
const linkSetBits = 9

// Append appends m as one JSON object, like AppendJSON.
func (e *JSONEncoder) Append(dst []byte, m *Message, file string) []byte {
	dst = append(dst, `{"ts":"`...)
	sec, frac := m.TS/1e9, m.TS%1e9
	if frac < 0 {
		sec, frac = sec-1, frac+1e9
	}
	if e.secText == nil || sec != e.sec {
		e.secText = appendTimestamp(e.secText[:0], sec*1e9)
		e.secText = e.secText[:len(e.secText)-len("000000000Z")]
		e.sec = sec
	}
	dst = append(dst, e.secText...)
	dst = appendNanos(dst, frac)
	dst = append(dst, `Z","frame":`...)
	dst = appendUint(dst, m.Frame)
	dst = append(dst, `,"file":`...)
	if e.fileEsc == nil || file != e.file {
		e.file, e.fileEsc = file, appendJSONString(e.fileEsc[:0], file)
	}
	dst = append(dst, e.fileEsc...)
	return appendJSONBody(dst, m, e)
}

// appendEndpoint appends key, ap and a closing quote; nothing for an invalid
// ap (SS7 link types have no IP endpoints).
func appendEndpoint(dst []byte, key string, ap netip.AddrPort) []byte {
	if !ap.IsValid() {
		return dst
	}
	dst = append(dst, key...)
	dst = ap.AppendTo(dst)
	return append(dst, '"')
}

// appendNanos appends frac (0 to 999 999 999) as exactly nine digits.
func appendNanos(dst []byte, frac int64) []byte {
	var f [9]byte
	v := uint64(frac)
	for i := 7; i > 0; i -= 2 {
		q := v / 100
		r := (v - q*100) * 2
		f[i], f[i+1] = digitPairs[r], digitPairs[r+1]
		v = q
	}
	f[0] = byte('0' + v)
	return append(dst, f[:]...)
}

// appendLinkHead appends transport, protocol and the IP endpoints.
func appendLinkHead(dst []byte, m *Message) []byte {
	dst = append(dst, `,"transport":"`...)
	dst = append(dst, m.Transport.String()...)
	dst = append(dst, `","protocol":"`...)
	dst = append(dst, m.Protocol.String()...)
	dst = append(dst, '"')
	// SS7 link types have no IP endpoints: Src/Dst stay invalid.
	dst = appendEndpoint(dst, `,"src":"`, m.Src)
	return appendEndpoint(dst, `,"dst":"`, m.Dst)
}

// appendSIPBody appends a SIP message's fields and, for SIP-I/SIP-T, its
// ISUP body, and closes the object.
func appendSIPBody(dst []byte, m *Message) []byte {
	dst = appendSIPJSON(dst, &m.SIP)
	if !m.HasISUP {
		return append(dst, '}')
	}
	// The ISUP body: no routing label, no CIC (RFC 3204).
	dst = append(dst, `,"type":"`...)
	dst = append(dst, MessageTypeName(m.ISUP.Type)...)
	dst = append(dst, '"')
	return appendISUPParams(dst, &m.ISUP)
}

// appendLinkPart appends what a line says of an SS7 link: transport,
// protocol, endpoints and MTP3 routing label.
func appendLinkPart(dst []byte, m *Message) []byte {
	dst = appendLinkHead(dst, m)
	l := &m.Label
	dst = appendUintField(dst, `,"opc":`, uint64(l.OPC))
	dst = appendUintField(dst, `,"dpc":`, uint64(l.DPC))
	dst = append(dst, `,"opc_pc":"`...)
	dst = AppendPC(dst, l.OPC, l.PCBits)
	dst = append(dst, `","dpc_pc":"`...)
	dst = AppendPC(dst, l.DPC, l.PCBits)
	dst = append(dst, '"')
	dst = appendUintField(dst, `,"ni":`, uint64(l.NI))
	return appendUintField(dst, `,"sls":`, uint64(l.SLS))
}

// appendJSONBody appends everything after the file name and closes the
// object; e, when not nil, caches formatted link parts.
func appendJSONBody(dst []byte, m *Message, e *JSONEncoder) []byte {
	if m.Transport.IsSIP() {
		// Per message, not per link: nothing to cache.
		return appendSIPBody(appendLinkHead(dst, m), m)
	}
	if e == nil {
		dst = appendLinkPart(dst, m)
	} else {
		dst = append(dst, e.linkPart(m)...)
	}

	u := &m.ISUP
	dst = appendUintField(dst, `,"cic":`, uint64(u.CIC))
	dst = append(dst, `,"type":"`...)
	dst = append(dst, MessageTypeName(u.Type)...)
	dst = append(dst, '"')
	if m.HasRC {
		dst = appendUintField(dst, `,"rc":`, uint64(m.RoutingContext))
	}
	return appendISUPParams(dst, u)
}

// appendISUPParams appends the decoded parameters of u and closes the object.
func appendISUPParams(dst []byte, u *ISUP) []byte {
	dst = appendNumberField(dst, `,"called":`, &u.Called)
	dst = appendNumberField(dst, `,"calling":`, &u.Calling)
	dst = appendNumberField(dst, `,"redirecting":`, &u.Redirecting)
	dst = appendNumberField(dst, `,"original_called":`, &u.OriginalCalled)
	dst = appendNumberField(dst, `,"redirection_number":`, &u.RedirectionNumber)
	dst = appendNumberField(dst, `,"location":`, &u.Location)
	dst = appendNumberField(dst, `,"connected":`, &u.Connected)
	dst = appendNumberField(dst, `,"charge":`, &u.Charge)
	dst = appendNumberField(dst, `,"subsequent":`, &u.Subsequent)
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
		dst = appendUint(dst, uint64(r.Indicator))
		dst = appendUintField(dst, `,"original_reason":`, uint64(r.OriginalReason))
		dst = appendUintField(dst, `,"counter":`, uint64(r.Counter))
		dst = appendUintField(dst, `,"reason":`, uint64(r.Reason))
		dst = append(dst, '}')
	}
	if u.HasCategory {
		dst = appendUintField(dst, `,"category":`, uint64(u.Category))
	}
	if c := &u.Cause; c.Present {
		dst = append(dst, `,"cause":{"value":`...)
		dst = appendUint(dst, uint64(c.Value))
		dst = appendUintField(dst, `,"location":`, uint64(c.Location))
		dst = append(dst, '}')
	}
	if u.HasHopCounter {
		dst = appendUintField(dst, `,"hop_counter":`, uint64(u.HopCounter))
	}
	if u.HasEventInformation {
		dst = appendUintField(dst, `,"event":`, uint64(u.EventInformation))
	}
	if u.OptionalError != ReasonNone {
		dst = append(dst, `,"optional_error":"`...)
		dst = append(dst, u.OptionalError.String()...)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// appendUintField appends key (`,"name":`, written out whole at the call so
// it is one copy) and v.
func appendUintField(dst []byte, key string, v uint64) []byte {
	dst = append(dst, key...)
	return appendUint(dst, v)
}

// appendUint is strconv.AppendUint without its generality: two digits at a
// time from a table, which matters because a JSON line is mostly integers.
func appendUint(dst []byte, v uint64) []byte {
	switch {
	case v < 10:
		return append(dst, byte('0'+v))
	case v < 100:
		return append(dst, digitPairs[v*2], digitPairs[v*2+1])
	case v < 1000:
		q := v / 100
		r := (v - q*100) * 2
		return append(dst, byte('0'+q), digitPairs[r], digitPairs[r+1])
	case v < 10000:
		q := v / 100
		r := (v - q*100) * 2
		return append(dst, digitPairs[q*2], digitPairs[q*2+1], digitPairs[r], digitPairs[r+1])
	}
	var buf [20]byte
	i := len(buf)
	for v >= 100 {
		q := v / 100
		r := (v - q*100) * 2
		i -= 2
		buf[i], buf[i+1] = digitPairs[r], digitPairs[r+1]
		v = q
	}
	if v >= 10 {
		i -= 2
		buf[i], buf[i+1] = digitPairs[v*2], digitPairs[v*2+1]
	} else {
		i--
		buf[i] = byte('0' + v)
	}
	return append(dst, buf[i:]...)
}

const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// appendTimestamp appends ns (Unix nanoseconds) in tsLayout, in UTC. It does
// the calendar arithmetic itself because time.Time.AppendFormat was a third of
// the cost of a whole JSON line; years outside 0000-9999 fall back to it.
func appendTimestamp(dst []byte, ns int64) []byte {
	sec, frac := ns/1e9, ns%1e9
	if frac < 0 {
		sec, frac = sec-1, frac+1e9
	}
	days, rem := sec/86400, sec%86400
	if rem < 0 {
		days, rem = days-1, rem+86400
	}
	y, mo, d := civilFromDays(days)
	if y < 0 || y > 9999 {
		return time.Unix(0, ns).UTC().AppendFormat(dst, tsLayout)
	}
	dst = append(dst,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+mo/10), byte('0'+mo%10), '-',
		byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+rem/36000), byte('0'+rem/3600%10), ':',
		byte('0'+rem%3600/600), byte('0'+rem%3600/60%10), ':',
		byte('0'+rem%60/10), byte('0'+rem%10), '.')
	dst = appendNanos(dst, frac)
	return append(dst, 'Z')
}

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian date,
// counting in 400-year eras that start on 1 March so leap days fall last.
func civilFromDays(days int64) (year, month, day int64) {
	z := days + 719468 // days from 0000-03-01 to 1970-01-01
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097                                  // day of era [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // year of era [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // day of year from 1 March [0, 365]
	mp := (5*doy + 2) / 153                                // month from March [0, 11]
	day = doy - (153*mp+2)/5 + 1
	month = mp + 3
	if month > 12 {
		month -= 12
	}
	year = yoe + era*400
	if month <= 2 {
		year++
	}
	return year, month, day
}

func appendNumberField(dst []byte, key string, n *Number) []byte {
	if !n.Present {
		return dst
	}
	dst = append(dst, key...)
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
		dst = appendUintField(dst, `,"qualifier":`, uint64(n.Qualifier))
	}
	if n.HasNAI {
		dst = appendUintField(dst, `,"nai":`, uint64(n.NAI))
	}
	if n.HasNPI {
		dst = appendUintField(dst, `,"npi":`, uint64(n.NPI))
	}
	if n.HasINN {
		dst = appendUintField(dst, `,"inn":`, uint64(n.INN))
	}
	if n.HasNI {
		dst = appendUintField(dst, `,"ni":`, uint64(n.INN))
	}
	if n.HasAPRI {
		dst = appendUintField(dst, `,"apri":`, uint64(n.APRI))
	}
	if n.HasSI {
		dst = appendUintField(dst, `,"si":`, uint64(n.SI))
	}
	if n.Truncated {
		dst = append(dst, `,"truncated":true`...)
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

// linkSets must be 1<<linkSetBits.
var _ = [1]struct{}{}[linkSets-1<<linkSetBits]
