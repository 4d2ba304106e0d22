package decode

import (
	"bytes"

	"github.com/gatewarden/gatewarden/internal/fnv1a"
)

// SIP (RFC 3261) messages, stateless: ParseSIP reads one whole message from a
// buffer. Framing a stream (TCP) into messages is SIPMessageLen's job and the
// reassembly state lives in tcp.go; datagrams (UDP, SCTP) carry one message
// each. Everything is a slice of the input: nothing is allocated.

// SIPMethod is a request method (also the method a response's CSeq names).
type SIPMethod uint8

const (
	SIPMethodOther SIPMethod = iota
	SIPInvite
	SIPAck
	SIPBye
	SIPCancel
	SIPRegister
	SIPOptions
	SIPPrack
	SIPUpdate
	SIPInfo
	SIPSubscribe
	SIPNotify
	SIPRefer
	SIPMessage
	SIPPublish
	numSIPMethods
)

var sipMethodNames = [numSIPMethods]string{"", "INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS",
	"PRACK", "UPDATE", "INFO", "SUBSCRIBE", "NOTIFY", "REFER", "MESSAGE", "PUBLISH"}

func (m SIPMethod) String() string {
	if m < numSIPMethods {
		return sipMethodNames[m]
	}
	return ""
}

// sipMethodOf looks a method token up (methods are case-sensitive, RFC 3261 7.1).
func sipMethodOf(b []byte) SIPMethod {
	for i := SIPInvite; i < numSIPMethods; i++ {
		if string(b) == sipMethodNames[i] {
			return i
		}
	}
	return SIPMethodOther
}

// Bounds on the repeated headers kept per message.
const (
	MaxSIPDiversion   = 4
	MaxSIPHistoryInfo = 8
	MaxSIPPAI         = 2
	// maxSIPHeaders bounds the header lines read, so a flood of tiny headers
	// cannot keep the parser busy.
	maxSIPHeaders = 256
	// MaxSIPMessage bounds one message (start line, headers and body).
	MaxSIPMessage = 65535
)

// SIPAddr is a name-addr or addr-spec header value (From, To,
// P-Asserted-Identity, Diversion, History-Info entries).
type SIPAddr struct {
	Present bool
	Display []byte // display name, quotes removed
	URI     []byte // the whole URI
	// User is the URI's user part (sip:, sips:) or the number of a tel: URI,
	// without parameters; PhoneContext is its phone-context parameter.
	User         []byte
	PhoneContext []byte
	Tel          bool   // a tel: URI, or a SIP URI with user=phone
	Tag          []byte // tag header parameter (From, To)
	Params       []byte // header parameters after the URI (";reason=…;counter=…", ";index=1.1")
}

// SIP is one SIP message. Slices alias the input and are valid only until the
// handler returns.
type SIP struct {
	Raw        []byte // the whole message, start line to the end of the body
	Request    bool
	Method     SIPMethod // the request's method, or the method in a response's CSeq
	MethodText []byte    // request method as sent
	RequestURI []byte
	RURI       SIPAddr // the Request-URI parsed like an address (User, Tel, PhoneContext)
	Status     uint16
	Phrase     []byte // reason phrase of a response

	CallID     []byte
	CSeq       uint32
	CSeqMethod []byte
	From, To   SIPAddr
	PAI        [MaxSIPPAI]SIPAddr // P-Asserted-Identity values, in order
	NPAI       uint8
	Privacy    []byte
	Diversion  [MaxSIPDiversion]SIPAddr
	NDiversion uint8
	History    [MaxSIPHistoryInfo]SIPAddr
	NHistory   uint8
	// DiversionHeader and HistoryHeader are the first such header's value as
	// sent (tshark's sip.Diversion, sip.History-Info).
	DiversionHeader, HistoryHeader []byte
	Reason                         []byte // Reason header value (RFC 3326)
	// ReasonCause is the Q.850 cause of a Reason header with protocol Q.850.
	ReasonCause    uint8
	HasReasonCause bool

	ContentType   []byte // media type and parameters, as sent
	ContentLength int    // -1 when absent
	Body          []byte

	// ISUPBody is the application/ISUP body (RFC 3204), directly or as a
	// part of a multipart body: message type onwards, no CIC. ISUPVersion
	// is its version (or base) parameter.
	ISUPBody    []byte
	ISUPVersion []byte
	HasISUP     bool
}

// SIPDialogCode is a 32-bit FNV-1a hash of a Call-ID: SIP calls carry it
// where ISUP calls carry their CIC, so the store can link a dialog's
// messages, call record and alerts.
func SIPDialogCode(callID []byte) uint32 { return fnv1a.Sum32(callID) }

// IsInitialInvite reports whether s opens a dialog: an INVITE without a To tag.
func (s *SIP) IsInitialInvite() bool { return s.Request && s.Method == SIPInvite && s.To.Tag == nil }

// PrivacyID reports whether the Privacy header asks for the identity to be
// withheld (RFC 3323 "id", or "user"/"header" hiding the From).
func (s *SIP) PrivacyID() bool {
	for v := s.Privacy; len(v) > 0; {
		var tok []byte
		tok, v = nextToken(v, ';')
		tok = trimSpace(tok)
		if equalFold(tok, "id") || equalFold(tok, "user") || equalFold(tok, "header") {
			return true
		}
	}
	return false
}

// looksLikeSIP is a cheap first test of a payload: a response status line, or
// a request whose method token is followed by a space and then, on the same
// line, " SIP/2.0".
func looksLikeSIP(b []byte) bool {
	if hasPrefixFold(b, "SIP/2.0 ") {
		return true
	}
	sp := -1
	for i := 0; i < len(b) && i < 17; i++ {
		c := b[i]
		if c == ' ' {
			sp = i
			break
		}
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	if sp <= 0 {
		return false
	}
	eol := indexByte(b, '\n')
	if eol < 0 {
		eol = len(b)
	}
	line := trimCR(b[:eol])
	return len(line) > 8 && string(line[len(line)-8:]) == " SIP/2.0"
}

// SIPMessageLen frames a stream: it returns the length of the first message
// in b, or 0 when b does not hold all of it yet. A message without
// Content-Length has no body (RFC 3261 18.3 makes it mandatory on streams).
func SIPMessageLen(b []byte) (int, Reason) {
	hdrEnd, bodyStart := headerEnd(b)
	if hdrEnd < 0 {
		if len(b) > MaxSIPMessage {
			return 0, DropSIPTooLong
		}
		return 0, ReasonNone
	}
	cl := 0
	lines := b[:hdrEnd]
	for len(lines) > 0 {
		var line []byte
		line, lines = nextLine(lines)
		name, value, ok := splitHeader(line)
		if !ok {
			continue
		}
		if sipHeaderOf(name) == hdrContentLength {
			n, ok := atoi(trimSpace(value))
			if !ok {
				return 0, DropSIPBadHeader
			}
			cl = n
		}
	}
	total := bodyStart + cl
	if total > MaxSIPMessage {
		return 0, DropSIPTooLong
	}
	if total > len(b) {
		return 0, ReasonNone
	}
	return total, ReasonNone
}

// ParseSIP parses the SIP message in b into out (reset first). datagram says b
// is a whole UDP or SCTP payload: without Content-Length the body is the rest
// of it. It returns ReasonNone or why the message was rejected.
func ParseSIP(b []byte, datagram bool, out *SIP) Reason {
	*out = SIP{ContentLength: -1}
	if len(b) > MaxSIPMessage {
		return DropSIPTooLong
	}
	hdrEnd, bodyStart := headerEnd(b)
	if hdrEnd < 0 {
		return DropSIPTruncated
	}
	lines := b[:hdrEnd]
	var start []byte
	start, lines = nextLine(lines)
	if r := parseStartLine(start, out); r != ReasonNone {
		return r
	}
	var ct []byte
	n := 0
	for len(lines) > 0 {
		var line []byte
		line, lines = nextLine(lines)
		// Folded continuation lines (RFC 3261 7.3.1) extend the header.
		for len(lines) > 0 && (lines[0] == ' ' || lines[0] == '\t') {
			var cont []byte
			cont, lines = nextLine(lines)
			line = line[:len(line)+int(sliceGap(line, cont))+len(cont)]
		}
		if n++; n > maxSIPHeaders {
			return DropSIPBadHeader
		}
		name, value, ok := splitHeader(line)
		if !ok {
			return DropSIPBadHeader
		}
		value = trimSpace(value)
		switch sipHeaderOf(name) {
		case hdrCallID:
			out.CallID = value
		case hdrCSeq:
			num, rest := nextWord(value)
			v, ok := atoi(num)
			if !ok || v > 1<<31-1 {
				return DropSIPBadHeader
			}
			out.CSeq = uint32(v)
			out.CSeqMethod = trimSpace(rest)
		case hdrFrom:
			parseAddr(value, &out.From)
		case hdrTo:
			parseAddr(value, &out.To)
		case hdrPAI:
			eachValue(value, func(v []byte) {
				if out.NPAI < MaxSIPPAI {
					parseAddr(v, &out.PAI[out.NPAI])
					out.NPAI++
				}
			})
		case hdrPrivacy:
			out.Privacy = value
		case hdrDiversion:
			if out.DiversionHeader == nil {
				out.DiversionHeader = value
			}
			eachValue(value, func(v []byte) {
				if out.NDiversion < MaxSIPDiversion {
					parseAddr(v, &out.Diversion[out.NDiversion])
					out.NDiversion++
				}
			})
		case hdrHistoryInfo:
			if out.HistoryHeader == nil {
				out.HistoryHeader = value
			}
			eachValue(value, func(v []byte) {
				if out.NHistory < MaxSIPHistoryInfo {
					parseAddr(v, &out.History[out.NHistory])
					out.NHistory++
				}
			})
		case hdrReason:
			if out.Reason == nil {
				out.Reason = value
				out.ReasonCause, out.HasReasonCause = q850Cause(value)
			}
		case hdrContentType:
			ct = value
		case hdrContentLength:
			v, ok := atoi(value)
			if !ok {
				return DropSIPBadHeader
			}
			out.ContentLength = v
		}
	}
	if out.CallID == nil || out.CSeqMethod == nil {
		return DropSIPMissingHeader
	}
	if !out.Request {
		out.Method = sipMethodOf(out.CSeqMethod)
	}
	body := b[bodyStart:]
	if out.ContentLength >= 0 {
		if out.ContentLength > len(body) {
			return DropSIPTruncated
		}
		body = body[:out.ContentLength]
	} else if !datagram {
		body = nil
	}
	out.Body = body
	out.Raw = b[:bodyStart+len(body)]
	out.ContentType = ct
	if len(body) > 0 && ct != nil {
		return findISUP(ct, body, out)
	}
	return ReasonNone
}

// parseStartLine reads a request line or a status line.
func parseStartLine(line []byte, out *SIP) Reason {
	if hasPrefixFold(line, "SIP/2.0 ") {
		rest := line[8:]
		if len(rest) < 3 {
			return DropSIPBadStartLine
		}
		v, ok := atoi(rest[:3])
		if !ok || v < 100 || v > 699 || (len(rest) > 3 && rest[3] != ' ') {
			return DropSIPBadStartLine
		}
		out.Status = uint16(v)
		if len(rest) > 4 {
			out.Phrase = rest[4:]
		}
		return ReasonNone
	}
	method, rest := nextToken(line, ' ')
	uri, version := nextToken(rest, ' ')
	if len(method) == 0 || len(uri) == 0 || string(version) != "SIP/2.0" {
		return DropSIPBadStartLine
	}
	for _, c := range method {
		if c <= ' ' || c >= 0x7f {
			return DropSIPBadStartLine
		}
	}
	out.Request = true
	out.MethodText = method
	out.Method = sipMethodOf(method)
	out.RequestURI = uri
	out.RURI.Present = true
	out.RURI.URI = uri
	parseURI(uri, &out.RURI)
	return ReasonNone
}

// Header names gatewarden reads.
const (
	hdrOther = iota
	hdrCallID
	hdrCSeq
	hdrFrom
	hdrTo
	hdrPAI
	hdrPrivacy
	hdrDiversion
	hdrHistoryInfo
	hdrReason
	hdrContentType
	hdrContentLength
	hdrContentDisposition
)

// sipHeaderOf names a header, long or compact form (RFC 3261 7.3.3),
// case-insensitively.
func sipHeaderOf(name []byte) int {
	if len(name) == 1 {
		switch name[0] | 0x20 {
		case 'i':
			return hdrCallID
		case 'f':
			return hdrFrom
		case 't':
			return hdrTo
		case 'c':
			return hdrContentType
		case 'l':
			return hdrContentLength
		}
		return hdrOther
	}
	switch {
	case equalFold(name, "Call-ID"):
		return hdrCallID
	case equalFold(name, "CSeq"):
		return hdrCSeq
	case equalFold(name, "From"):
		return hdrFrom
	case equalFold(name, "To"):
		return hdrTo
	case equalFold(name, "P-Asserted-Identity"):
		return hdrPAI
	case equalFold(name, "Privacy"):
		return hdrPrivacy
	case equalFold(name, "Diversion"):
		return hdrDiversion
	case equalFold(name, "History-Info"):
		return hdrHistoryInfo
	case equalFold(name, "Reason"):
		return hdrReason
	case equalFold(name, "Content-Type"):
		return hdrContentType
	case equalFold(name, "Content-Length"):
		return hdrContentLength
	case equalFold(name, "Content-Disposition"):
		return hdrContentDisposition
	}
	return hdrOther
}

// parseAddr reads `"Display" <URI>;params` or `URI;params` into a.
func parseAddr(v []byte, a *SIPAddr) {
	*a = SIPAddr{Present: true}
	v = trimSpace(v)
	if lt := indexByteOutsideQuotes(v, '<'); lt >= 0 {
		disp := trimSpace(v[:lt])
		if len(disp) >= 2 && disp[0] == '"' && disp[len(disp)-1] == '"' {
			disp = disp[1 : len(disp)-1]
		}
		if len(disp) > 0 {
			a.Display = disp
		}
		rest := v[lt+1:]
		gt := indexByte(rest, '>')
		if gt < 0 {
			a.URI = rest
			parseURI(a.URI, a)
			return
		}
		a.URI = rest[:gt]
		a.Params = trimSpace(rest[gt+1:])
	} else {
		// addr-spec: parameters after the URI belong to the header (RFC 3261 20.10).
		semi := indexByte(v, ';')
		if semi < 0 {
			a.URI = v
		} else {
			a.URI, a.Params = v[:semi], v[semi:]
		}
	}
	parseURI(a.URI, a)
	a.Tag = paramValue(a.Params, "tag")
}

// parseURI fills User, Tel and PhoneContext from a sip:, sips: or tel: URI.
func parseURI(uri []byte, a *SIPAddr) {
	switch {
	case hasPrefixFold(uri, "tel:"):
		rest := uri[4:]
		semi := indexByte(rest, ';')
		if semi < 0 {
			a.User = rest
		} else {
			a.User = rest[:semi]
			a.PhoneContext = paramValue(rest[semi:], "phone-context")
		}
		a.Tel = true
	case hasPrefixFold(uri, "sip:"), hasPrefixFold(uri, "sips:"):
		rest := uri[indexByte(uri, ':')+1:]
		at := indexByte(rest, '@')
		if at < 0 {
			return // no user part
		}
		user := rest[:at]
		if semi := indexByte(user, ';'); semi >= 0 {
			a.PhoneContext = paramValue(user[semi:], "phone-context")
			user = user[:semi]
		}
		if colon := indexByte(user, ':'); colon >= 0 {
			user = user[:colon] // password
		}
		a.User = user
		hostpart := rest[at+1:]
		if semi := indexByte(hostpart, ';'); semi >= 0 {
			if equalFold(paramValue(hostpart[semi:], "user"), "phone") {
				a.Tel = true
			}
		}
	}
}

// paramValue finds ;name=value in params (case-insensitive name); quotes stay.
func paramValue(params []byte, name string) []byte {
	for p := params; len(p) > 0; {
		var item []byte
		item, p = nextToken(p, ';')
		item = trimSpace(item)
		eq := indexByte(item, '=')
		if eq < 0 {
			continue
		}
		if equalFold(trimSpace(item[:eq]), name) {
			return trimSpace(item[eq+1:])
		}
	}
	return nil
}

// q850Cause reads `Q.850;cause=16;text="…"` (RFC 3326); the first protocol in
// a comma list that is Q.850 wins.
func q850Cause(v []byte) (uint8, bool) {
	var cause uint8
	found := false
	eachValue(v, func(x []byte) {
		if found {
			return
		}
		proto, params := nextToken(x, ';')
		if !equalFold(trimSpace(proto), "Q.850") {
			return
		}
		n, ok := atoi(paramValue(params, "cause"))
		if ok && n <= 127 {
			cause, found = uint8(n), true
		}
	})
	return cause, found
}

// findISUP looks for an application/ISUP body, directly or in a multipart one.
func findISUP(ct, body []byte, out *SIP) Reason {
	media, params := nextToken(ct, ';')
	media = trimSpace(media)
	if equalFold(media, "application/isup") {
		setISUP(params, body, out)
		return ReasonNone
	}
	if !hasPrefixFold(media, "multipart/") {
		return ReasonNone
	}
	boundary := unquote(paramValue(params, "boundary"))
	if len(boundary) == 0 {
		return DropSIPBadBody
	}
	partParams, part, r := isupPart(body, boundary)
	if r == ReasonNone && part != nil {
		setISUP(partParams, part, out)
	}
	return r
}

func setISUP(params, body []byte, out *SIP) {
	out.HasISUP = true
	out.ISUPBody = body
	out.ISUPVersion = unquote(paramValue(params, "version"))
	if out.ISUPVersion == nil {
		out.ISUPVersion = unquote(paramValue(params, "base"))
	}
}

// maxMIMEParts bounds the parts of a multipart body looked at.
const maxMIMEParts = 16

// isupPart walks a multipart body (RFC 2046 5.1.1) for the first
// application/ISUP part: each part begins after a "--boundary" line, has its
// own headers and ends at the line break before the next delimiter. It
// returns the part's Content-Type parameters and body, or a nil body.
func isupPart(body, boundary []byte) (params, part []byte, r Reason) {
	pos := findDelimiter(body, boundary, 0)
	if pos < 0 {
		return nil, nil, DropSIPBadBody
	}
	for n := 0; n < maxMIMEParts; n++ {
		after := pos + 2 + len(boundary)
		if after+2 <= len(body) && body[after] == '-' && body[after+1] == '-' {
			return nil, nil, ReasonNone // close delimiter
		}
		eol := indexByte(body[after:], '\n')
		if eol < 0 {
			return nil, nil, DropSIPBadBody
		}
		start := after + eol + 1
		next := findDelimiter(body, boundary, start)
		end := next
		if next < 0 {
			end = len(body) // no close delimiter: the rest
		}
		// The line break before a delimiter belongs to the delimiter.
		if end > start && body[end-1] == '\n' {
			end--
			if end > start && body[end-1] == '\r' {
				end--
			}
		}
		p := body[start:end]
		// A part without headers is text/plain (RFC 2046 5.1): not ISUP.
		if hdrEnd, bodyStart := headerEnd(p); hdrEnd >= 0 {
			for lines := p[:hdrEnd]; len(lines) > 0; {
				var line []byte
				line, lines = nextLine(lines)
				name, value, ok := splitHeader(line)
				if !ok || sipHeaderOf(name) != hdrContentType {
					continue
				}
				media, mp := nextToken(trimSpace(value), ';')
				if equalFold(trimSpace(media), "application/isup") {
					return mp, p[bodyStart:], ReasonNone
				}
			}
		}
		if next < 0 {
			return nil, nil, ReasonNone
		}
		pos = next
	}
	return nil, nil, ReasonNone
}

// findDelimiter finds "--boundary" at the start of a line at or after from.
func findDelimiter(b, boundary []byte, from int) int {
	for i := from; i+2+len(boundary) <= len(b); {
		j := bytes.Index(b[i:], boundary)
		if j < 0 {
			return -1
		}
		at := i + j - 2 // where "--" must be
		if at >= 0 && b[at] == '-' && b[at+1] == '-' && (at == 0 || b[at-1] == '\n') && at >= from {
			return at
		}
		i += j + 1
	}
	return -1
}

// headerEnd finds the blank line ending the headers: it returns the offset of
// the line break before it (the end of the last header line) and where the
// body begins, or -1.
func headerEnd(b []byte) (hdrEnd, bodyStart int) {
	for i := 0; i < len(b); i++ {
		k := bytes.IndexByte(b[i:], '\n')
		if k < 0 {
			return -1, -1
		}
		i += k
		j := i + 1
		if j < len(b) && b[j] == '\r' {
			j++
		}
		if j < len(b) && b[j] == '\n' {
			return i + 1, j + 1
		}
		if i == 0 || (i == 1 && b[0] == '\r') {
			return 0, i + 1
		}
	}
	return -1, -1
}

// nextLine splits off the first line (without its CR LF).
func nextLine(b []byte) (line, rest []byte) {
	i := indexByte(b, '\n')
	if i < 0 {
		return trimCR(b), nil
	}
	return trimCR(b[:i]), b[i+1:]
}

// sliceGap is how many bytes lie between the end of a and the start of b when
// b follows a in the same buffer (the line break of a folded header).
func sliceGap(a, b []byte) int {
	if len(b) == 0 {
		return 0
	}
	end := cap(a) - cap(b) - len(a)
	if end < 0 {
		return 0
	}
	return end
}

func splitHeader(line []byte) (name, value []byte, ok bool) {
	colon := indexByte(line, ':')
	if colon <= 0 {
		return nil, nil, false
	}
	name = trimSpace(line[:colon])
	if len(name) == 0 {
		return nil, nil, false
	}
	return name, line[colon+1:], true
}

// eachValue calls f with each comma-separated value, ignoring commas inside
// quotes and angle brackets.
func eachValue(v []byte, f func([]byte)) {
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' && (i == 0 || v[i-1] != '\\'):
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>':
			if depth > 0 {
				depth--
			}
		case c == ',' && depth == 0:
			if x := trimSpace(v[start:i]); len(x) > 0 {
				f(x)
			}
			start = i + 1
		}
	}
	if x := trimSpace(v[start:]); len(x) > 0 {
		f(x)
	}
}

func nextToken(b []byte, sep byte) (tok, rest []byte) {
	i := indexByte(b, sep)
	if i < 0 {
		return b, nil
	}
	return b[:i], b[i+1:]
}

// nextWord splits at the first run of linear white space (SP, HT, or a
// folded line break).
func nextWord(b []byte) (word, rest []byte) {
	for i, c := range b {
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			return b[:i], trimSpace(b[i:])
		}
	}
	return b, nil
}

func indexByte(b []byte, c byte) int { return bytes.IndexByte(b, c) }

func indexByteOutsideQuotes(b []byte, c byte) int {
	quoted := false
	for i, x := range b {
		switch {
		case x == '"' && (i == 0 || b[i-1] != '\\'):
			quoted = !quoted
		case x == c && !quoted:
			return i
		}
	}
	return -1
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}

func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}

func unquote(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}

// equalFold compares ASCII case-insensitively without allocating.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func hasPrefixFold(b []byte, s string) bool { return len(b) >= len(s) && equalFold(b[:len(s)], s) }

// atoi reads a non-negative decimal of at most 9 digits.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
