package tsharkref

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// ISUP parameter codes (Q.763 table 5) whose values a Record carries.
const (
	paramCategory          = 9
	paramCalled            = 4
	paramCalling           = 10
	paramRedirecting       = 11
	paramRedirectionNumber = 12
	paramCause             = 18
	paramRedirectionInfo   = 19
	paramOriginalCalled    = 40
	paramLocation          = 63
	paramGeneric           = 192
	paramSubsequent        = 5
	paramConnected         = 33
	paramEvent             = 36
	paramHopCounter        = 61
)

// digitFields are the PDML fields holding a number's address signals.
var digitFields = map[string]bool{
	"isup.called":                 true,
	"isup.calling":                true,
	"isup.redirecting":            true,
	"isup.redirection_number":     true,
	"isup.original_called_number": true,
	"isup.location_number":        true,
	"isup.generic_number":         true,
	"isup.subsequent_number":      true,
	"isup.connected_number":       true,
}

// ParsePDML reads tshark's PDML output as a stream and calls emit once per ISUP
// message, in frame order. The record passed to emit is owned by the callee.
func ParsePDML(r io.Reader, emit func(*Record) error) error {
	p := &pdmlParser{emit: emit}
	dec := xml.NewDecoder(r)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if p.depth != 0 {
				return errors.New("tsharkref: PDML ends inside an element")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("tsharkref: PDML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := p.start(t); err != nil {
				return err
			}
		case xml.EndElement:
			if err := p.end(t); err != nil {
				return err
			}
		}
	}
}

// pdmlAttrs are the attributes of a PDML proto or field element.
type pdmlAttrs struct {
	name, show, value, unmasked string
	pos, size                   int
}

func attrsOf(t xml.StartElement) (a pdmlAttrs, err error) {
	for _, at := range t.Attr {
		switch at.Name.Local {
		case "name":
			a.name = at.Value
		case "show":
			a.show = at.Value
		case "value":
			a.value = at.Value
		case "unmaskedvalue":
			a.unmasked = at.Value
		case "pos":
			a.pos, err = strconv.Atoi(at.Value)
		case "size":
			a.size, err = strconv.Atoi(at.Value)
		}
		if err != nil {
			return a, fmt.Errorf("tsharkref: PDML attribute %s=%q: %w", at.Name.Local, at.Value, err)
		}
	}
	return a, nil
}

// packetState is what the lower layers of the current packet said so far. Each
// adaptation layer or MTP3 header overwrites the label, so an ISUP proto pairs
// with the m3ua/mtp3 proto just before it (SCTP bundling puts several in one
// packet).
type packetState struct {
	frame        uint64
	index        int
	iface, link  *uint32
	dir          *uint8
	srcIP, dstIP string
	srcPort      string
	dstPort      string
	sipTransport string // udp or tcp when SIP rides on it
	vtag         *uint32
	stream       *uint16
	tsn          *uint32
	fsn          *uint32
	rc           *uint32
	transport    string
	sawMTP2      bool
	opc, dpc     uint32
	si, ni, sls  uint8
	// ANSI and Chinese labels repeat the point codes in several forms;
	// the first mtp3.opc/mtp3.dpc of a header is the integer.
	opcSeen, dpcSeen bool
}

// isupState collects one ISUP proto.
type isupState struct {
	rec       Record
	pos, size int
	depth     int // element depth of the isup proto

	// Byte reconstruction from the ranges tshark reports.
	spans    []span
	pointers []byte

	// Parameter group being read (a direct child of the proto).
	groupCode  int // -1 until the group's isup.parameter_type is seen
	groupNum   *Number
	groupRedir *Redirection
	groupCause *Cause
}

type span struct {
	pos   int
	bytes []byte
}

type pdmlParser struct {
	emit   func(*Record) error
	depth  int
	protos []string // names of the open proto elements, innermost last
	pkt    packetState
	isup   *isupState
	// sip is the SIP message being read; an ISUP proto inside it (its
	// application/ISUP body) fills the same record.
	sip      *Record
	sipDepth int
}

func (p *pdmlParser) inProto() string {
	if len(p.protos) == 0 {
		return ""
	}
	return p.protos[len(p.protos)-1]
}

func (p *pdmlParser) start(t xml.StartElement) error {
	p.depth++
	switch t.Name.Local {
	case "packet":
		p.pkt = packetState{}
		p.protos = p.protos[:0]
		return nil
	case "proto":
		a, err := attrsOf(t)
		if err != nil {
			return err
		}
		p.protos = append(p.protos, a.name)
		return p.startProto(a)
	case "field":
		a, err := attrsOf(t)
		if err != nil {
			return err
		}
		if p.isup != nil {
			return p.isupField(a)
		}
		if p.sip != nil {
			return p.sipField(a)
		}
		return p.lowerField(a)
	}
	return nil
}

func (p *pdmlParser) end(t xml.EndElement) error {
	defer func() { p.depth-- }()
	if t.Name.Local != "proto" {
		return nil
	}
	if len(p.protos) > 0 {
		p.protos = p.protos[:len(p.protos)-1]
	}
	if p.isup != nil && p.depth == p.isup.depth {
		rec := p.finishISUP()
		p.isup = nil
		if p.sip != nil {
			p.sip.addISUP(rec)
			return nil
		}
		return p.emit(rec)
	}
	if p.sip != nil && p.depth == p.sipDepth {
		rec := p.sip
		p.sip = nil
		return p.emit(rec)
	}
	return nil
}

func (p *pdmlParser) startProto(a pdmlAttrs) error {
	switch a.name {
	case "sctp":
		// A new DATA chunk (bundled chunks get one sctp proto each).
		p.pkt.tsn, p.pkt.stream = nil, nil
		p.pkt.sipTransport = ""
	case "m3ua", "m2pa", "m2ua":
		p.pkt.transport = a.name
		p.pkt.rc = nil
		p.pkt.opcSeen, p.pkt.dpcSeen = false, false
	case "mtp2":
		p.pkt.sawMTP2 = true
		p.pkt.fsn = nil
	case "mtp3":
		p.pkt.opcSeen, p.pkt.dpcSeen = false, false
	case "udp", "tcp":
		p.pkt.sipTransport = a.name
	case "sip":
		if p.sip != nil || p.isup != nil {
			return fmt.Errorf("tsharkref: frame %d: SIP nested in SIP or ISUP", p.pkt.frame)
		}
		rec := p.contextRecord()
		rec.Transport = p.pkt.sipTransport
		if rec.Transport == "" {
			rec.Transport = "sctp"
		}
		rec.Protocol = ProtocolSIP
		rec.SIP = &SIP{}
		p.sip, p.sipDepth = &rec, p.depth
		p.pkt.index++
	case "isup", "bicc":
		if p.isup != nil {
			return fmt.Errorf("tsharkref: frame %d: ISUP nested in ISUP", p.pkt.frame)
		}
		p.isup = &isupState{pos: a.pos, size: a.size, depth: p.depth, groupCode: -1}
		p.isup.rec = p.contextRecord()
		if a.name == "bicc" {
			p.isup.rec.Protocol = ProtocolBICC
		}
		if p.sip == nil {
			p.pkt.index++
		}
	}
	return nil
}

// contextRecord fills the lower-layer part of a record from the packet state.
func (p *pdmlParser) contextRecord() Record {
	s := &p.pkt
	r := Record{
		Frame: s.frame, Index: s.index,
		VTag: s.vtag, Stream: s.stream, TSN: s.tsn,
		Iface: s.iface, Link: s.link, Dir: s.dir, FSN: s.fsn, RC: s.rc,
		OPC: s.opc, DPC: s.dpc, SI: s.si, NI: s.ni, SLS: s.sls,
	}
	switch {
	case s.transport != "":
		r.Transport = s.transport
	case s.sawMTP2:
		r.Transport = "mtp2"
	default:
		r.Transport = "mtp3"
	}
	if s.srcIP != "" && s.srcPort != "" {
		r.Src = net.JoinHostPort(s.srcIP, s.srcPort)
		r.Dst = net.JoinHostPort(s.dstIP, s.dstPort)
	}
	return r
}

// lowerField takes what a record needs from the layers below ISUP.
func (p *pdmlParser) lowerField(a pdmlAttrs) error {
	s := &p.pkt
	var err error
	switch p.inProto() {
	case "frame":
		switch a.name {
		case "frame.number":
			s.frame, err = strconv.ParseUint(a.show, 10, 64)
		case "frame.interface_id":
			s.iface, err = u32p(a.show)
		case "frame.link_nr":
			s.link, err = u32p(a.show)
		case "frame.p2p_dir":
			s.dir, err = u8p(a.show)
		}
	case "ip", "ipv6":
		// The first address pair is the outer header; tunnels and ICMP
		// quotes come later and are not SIGTRAN associations.
		switch a.name {
		case "ip.src", "ipv6.src":
			if s.srcIP == "" {
				s.srcIP = a.show
			}
		case "ip.dst", "ipv6.dst":
			if s.dstIP == "" {
				s.dstIP = a.show
			}
		}
	case "udp", "tcp":
		switch a.name {
		case "udp.srcport", "tcp.srcport":
			s.srcPort = a.show
		case "udp.dstport", "tcp.dstport":
			s.dstPort = a.show
		}
	case "sctp":
		switch a.name {
		case "sctp.srcport":
			s.srcPort = a.show
		case "sctp.dstport":
			s.dstPort = a.show
		case "sctp.verification_tag":
			s.vtag, err = u32p(a.show)
		case "sctp.data_tsn_raw":
			s.tsn, err = u32p(a.show)
		case "sctp.data_sid":
			var v uint64
			v, err = parseShow(a.show, 16)
			u := uint16(v)
			s.stream = &u
		}
	case "mtp2":
		if a.name == "mtp2.fsn" {
			s.fsn, err = u32p(a.show)
		}
	case "m2pa":
		if a.name == "m2pa.fsn" {
			s.fsn, err = u32p(a.show)
		}
	case "m2ua":
		if a.name == "m2ua.interface_identifier_int" {
			s.link, err = u32p(a.show)
		}
	case "m3ua":
		switch a.name {
		case "m3ua.routing_context":
			if s.rc == nil {
				s.rc, err = u32p(a.show)
			}
		case "m3ua.protocol_data_opc":
			s.opc, err = u32(a.show)
		case "m3ua.protocol_data_dpc":
			s.dpc, err = u32(a.show)
		case "m3ua.protocol_data_si":
			s.si, err = u8(a.show)
		case "m3ua.protocol_data_ni":
			s.ni, err = u8(a.show)
		case "m3ua.protocol_data_sls":
			s.sls, err = u8(a.show)
		}
	case "mtp3":
		switch a.name {
		case "mtp3.opc":
			if !s.opcSeen {
				s.opc, err = u32(a.show)
				s.opcSeen = true
			}
		case "mtp3.dpc":
			if !s.dpcSeen {
				s.dpc, err = u32(a.show)
				s.dpcSeen = true
			}
		case "mtp3.sls":
			s.sls, err = u8(a.show)
		case "mtp3.network_indicator":
			s.ni, err = u8(a.show)
		case "mtp3.service_indicator":
			s.si, err = u8(a.show)
		}
	}
	if err != nil {
		return fmt.Errorf("tsharkref: frame %d: field %s=%q: %w", s.frame, a.name, a.show, err)
	}
	return nil
}

// isupField handles a field inside the ISUP proto.
func (p *pdmlParser) isupField(a pdmlAttrs) error {
	st := p.isup
	rel := p.depth - st.depth // 1 = direct child of the proto
	if strings.HasPrefix(a.name, "_ws.") {
		// Expert items carry no bytes; isup.empty_number sits under one.
	} else if a.name == "isup.mandatory_variable_parameter_pointer" {
		// tshark reports these at a wrong offset; they fill the gaps later.
		if b, err := hex.DecodeString(a.value); err == nil && len(b) == 1 {
			st.pointers = append(st.pointers, b[0])
		}
	} else if a.size > 0 {
		h := a.unmasked
		if h == "" {
			h = a.value
		}
		if len(h) == 2*a.size {
			if b, err := hex.DecodeString(h); err == nil {
				st.spans = append(st.spans, span{pos: a.pos, bytes: b})
			}
		}
	}

	var err error
	if rel == 1 {
		st.closeGroup()
		switch a.name {
		case "isup.cic", "bicc.cic":
			st.rec.CIC, err = u32(a.show)
		case "isup.message_type":
			st.rec.Type, err = u8(a.show)
		case "":
			st.groupCode = -1 // a parameter group; its type follows
		}
		return p.fieldErr(a, err)
	}
	if a.name == "isup.parameter_type" && rel == 2 && st.groupCode < 0 {
		code, err := parseShow(a.show, 8)
		if err != nil {
			return p.fieldErr(a, err)
		}
		st.openGroup(int(code))
		return nil
	}
	switch {
	case st.groupNum != nil:
		err = st.groupNum.set(a)
	case st.groupRedir != nil:
		err = st.groupRedir.set(a)
	case st.groupCause != nil:
		err = st.groupCause.set(a)
	case st.groupCode == paramCategory && a.name == "isup.calling_partys_category":
		st.rec.Category, err = u8p(a.show)
	case st.groupCode == paramEvent && a.name == "isup.event_ind" && st.rec.Event == nil:
		st.rec.Event, err = u8p(a.show)
	case st.groupCode == paramHopCounter && a.name == "isup.hop_counter" && st.rec.HopCounter == nil:
		st.rec.HopCounter, err = u8p(a.show)
	}
	return p.fieldErr(a, err)
}

func (p *pdmlParser) fieldErr(a pdmlAttrs, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("tsharkref: frame %d ISUP: field %s=%q: %w", p.pkt.frame, a.name, a.show, err)
}

// openGroup starts collecting a parameter whose code tshark just showed. A
// repeated parameter keeps the first occurrence, except generic numbers.
func (st *isupState) openGroup(code int) {
	st.groupCode = code
	r := &st.rec
	num := func(dst **Number) {
		if *dst == nil {
			*dst = &Number{}
			st.groupNum = *dst
		}
	}
	switch code {
	case paramCalled:
		num(&r.Called)
	case paramCalling:
		num(&r.Calling)
	case paramRedirecting:
		num(&r.Redirecting)
	case paramOriginalCalled:
		num(&r.OriginalCalled)
	case paramRedirectionNumber:
		num(&r.RedirectionNumber)
	case paramLocation:
		num(&r.Location)
	case paramSubsequent:
		num(&r.Subsequent)
	case paramConnected:
		num(&r.Connected)
	case paramGeneric:
		r.Generic = append(r.Generic, Number{})
		st.groupNum = &r.Generic[len(r.Generic)-1]
	case paramRedirectionInfo:
		if r.Redirection == nil {
			r.Redirection = &Redirection{}
			st.groupRedir = r.Redirection
		}
	case paramCause:
		if r.Cause == nil {
			r.Cause = &Cause{}
			st.groupCause = r.Cause
		}
	}
}

func (st *isupState) closeGroup() {
	st.groupCode = -1
	st.groupNum, st.groupRedir, st.groupCause = nil, nil, nil
}

func (n *Number) set(a pdmlAttrs) error {
	var err error
	switch a.name {
	case "isup.isdn_odd_even_indicator":
		n.Odd, err = u8p(a.show)
	case "isup.called_party_nature_of_address_indicator", "isup.calling_party_nature_of_address_indicator":
		n.NAI, err = u8p(a.show)
	case "isup.numbering_plan_indicator":
		n.NPI, err = u8p(a.show)
	case "isup.inn_indicator":
		n.INN, err = u8p(a.show)
	case "isup.ni_indicator":
		n.NI, err = u8p(a.show)
	case "isup.address_presentation_restricted_indicator":
		n.APRI, err = u8p(a.show)
	case "isup.screening_indicator", "isup.screening_indicator_enhanced":
		n.SI, err = u8p(a.show)
	case "isup.number_qualifier_indicator":
		n.Qualifier, err = u8p(a.show)
	case "isup.empty_number":
		n.Empty = true
	default:
		if digitFields[a.name] {
			n.Digits = a.show
		}
	}
	return err
}

func (r *Redirection) set(a pdmlAttrs) error {
	var err error
	switch a.name {
	case "isup.redirecting_ind":
		r.Indicator, err = u8p(a.show)
	case "isup.original_redirection_reason":
		r.OriginalReason, err = u8p(a.show)
	case "isup.redirection_counter":
		r.Counter, err = u8p(a.show)
	case "isup.redirection_reason":
		r.Reason, err = u8p(a.show)
	}
	return err
}

func (c *Cause) set(a pdmlAttrs) error {
	var err error
	switch a.name {
	case "isup.cause_indicator":
		if c.Value == nil {
			c.Value, err = u8p(a.show)
		}
	case "q931.cause_location":
		if c.Location == nil {
			c.Location, err = u8p(a.show)
		}
	case "q931.coding_standard":
		if c.Standard == nil {
			c.Standard, err = u8p(a.show)
		}
	}
	return err
}

// finishISUP rebuilds the ISUP bytes from the spans tshark reported and
// returns the completed record.
func (p *pdmlParser) finishISUP() *Record {
	st := p.isup
	rec := st.rec
	rec.ISUPLen = st.size
	buf, known, partial := rebuild(st.pos, st.size, st.spans, st.pointers)
	rec.ISUPPartial = partial
	rec.ISUPHex = hexKnown(buf, known)
	rec.ISUPHash = hashBytes(buf, known, partial)
	return &rec
}

// rebuild lays the reported byte spans over the proto's range. tshark gives
// the mandatory-variable pointers a wrong offset, so they fill the first
// uncovered bytes in order (the pointers follow the fixed part, Q.763 1.1.2).
// Bytes still uncovered (trailing octets tshark does not show, unknown message
// types) or covered by two disagreeing spans leave the result partial.
func rebuild(pos, size int, spans []span, pointers []byte) (buf []byte, known []bool, partial bool) {
	if size <= 0 {
		return nil, nil, false
	}
	buf = make([]byte, size)
	known = make([]bool, size)
	for _, s := range spans {
		off := s.pos - pos
		if off < 0 || off+len(s.bytes) > size {
			continue
		}
		for i, b := range s.bytes {
			j := off + i
			if known[j] && buf[j] != b {
				partial = true
			}
			buf[j], known[j] = b, true
		}
	}
	next := 0
	for i := range known {
		if known[i] {
			continue
		}
		if next < len(pointers) {
			buf[i], known[i] = pointers[next], true
			next++
			continue
		}
		partial = true
	}
	if next < len(pointers) {
		partial = true
	}
	return buf, known, partial
}

// hexKnown spells the bytes in hex with "??" for the ones tshark did not show.
func hexKnown(buf []byte, known []bool) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(buf))
	for i, b := range buf {
		if known[i] {
			out[2*i], out[2*i+1] = digits[b>>4], digits[b&15]
		} else {
			out[2*i], out[2*i+1] = '?', '?'
		}
	}
	return string(out)
}

// hashBytes is the first 8 bytes of sha256 over the message; a partial message
// hashes each byte with a known flag so unknown bytes cannot alias known ones.
func hashBytes(buf []byte, known []bool, partial bool) string {
	h := sha256.New()
	if partial {
		for i, b := range buf {
			if known[i] {
				h.Write([]byte{1, b})
			} else {
				h.Write([]byte{0, 0})
			}
		}
	} else {
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// HashISUP is the hash a Record carries for complete ISUP bytes, for
// comparing another decoder's raw message with tshark's.
func HashISUP(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

// parseShow reads a PDML show value: decimal, 0x-prefixed hex, or a boolean.
func parseShow(s string, bits int) (uint64, error) {
	switch s {
	case "True", "true":
		return 1, nil
	case "False", "false":
		return 0, nil
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		return strconv.ParseUint(s[2:], 16, bits)
	}
	return strconv.ParseUint(s, 10, bits)
}

func u32(s string) (uint32, error) {
	v, err := parseShow(s, 32)
	return uint32(v), err
}

func u8(s string) (uint8, error) {
	v, err := parseShow(s, 8)
	return uint8(v), err
}

func u32p(s string) (*uint32, error) {
	v, err := u32(s)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func u8p(s string) (*uint8, error) {
	v, err := u8(s)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// sipField takes a sip.* field of the SIP message being read. Header fields
// repeat for repeated headers; the first is kept.
func (p *pdmlParser) sipField(a pdmlAttrs) error {
	s := p.sip.SIP
	first := func(dst *string) {
		if *dst == "" {
			*dst = a.show
		}
	}
	var err error
	switch a.name {
	case "sip.Method":
		s.Method = a.show
	case "sip.Status-Code":
		var v uint64
		v, err = parseShow(a.show, 16)
		u := uint16(v)
		s.Status = &u
	case "sip.r-uri":
		first(&s.RURI)
	case "sip.r-uri.user":
		first(&s.RURIUser)
	case "sip.Call-ID":
		first(&s.CallID)
	case "sip.CSeq.seq":
		s.CSeq, err = u32(a.show)
	case "sip.CSeq.method":
		s.CSeqMethod = a.show
	case "sip.from.addr":
		first(&s.FromAddr)
	case "sip.from.user":
		first(&s.FromUser)
	case "sip.from.tag":
		first(&s.FromTag)
	case "sip.to.addr":
		first(&s.ToAddr)
	case "sip.to.user":
		first(&s.ToUser)
	case "sip.to.tag":
		first(&s.ToTag)
	case "sip.pai.addr":
		first(&s.PAIAddr)
	case "sip.pai.user":
		first(&s.PAIUser)
	case "sip.Privacy":
		first(&s.Privacy)
	case "sip.Diversion":
		first(&s.Diversion)
	case "sip.History-Info":
		first(&s.HistoryInfo)
	case "sip.Reason":
		first(&s.Reason)
	case "sip.reason_cause_q850":
		if s.ReasonCause == nil {
			s.ReasonCause, err = u8p(a.show)
		}
	case "sip.Content-Type":
		first(&s.ContentType)
	case "sip.Content-Length":
		var v uint64
		v, err = parseShow(a.show, 31)
		n := int(v)
		s.ContentLength = &n
	}
	if err != nil {
		return fmt.Errorf("tsharkref: frame %d SIP: field %s=%q: %w", p.pkt.frame, a.name, a.show, err)
	}
	return nil
}

// addISUP puts the ISUP body's decoding into the SIP record.
func (r *Record) addISUP(isup *Record) {
	r.Protocol = ProtocolSIPI
	r.CIC, r.Type = isup.CIC, isup.Type
	r.ISUPLen, r.ISUPHash, r.ISUPPartial, r.ISUPHex = isup.ISUPLen, isup.ISUPHash, isup.ISUPPartial, isup.ISUPHex
	r.Called, r.Calling, r.Redirecting, r.OriginalCalled = isup.Called, isup.Calling, isup.Redirecting, isup.OriginalCalled
	r.RedirectionNumber, r.Location, r.Generic = isup.RedirectionNumber, isup.Location, isup.Generic
	r.Redirection, r.Cause, r.Category = isup.Redirection, isup.Cause, isup.Category
	r.Subsequent, r.Connected, r.Event, r.HopCounter = isup.Subsequent, isup.Connected, isup.Event, isup.HopCounter
}
