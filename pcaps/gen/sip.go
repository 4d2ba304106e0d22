package gen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// SIP-I / SIP-T traffic between an international carrier's SIP gateway and
// ours: calls with ISUP (Q.1912.5) in application/ISUP bodies, or plain SIP
// with the numbers in the headers only. The SIP text and the packets are
// written here without package decode, as the rest of the generator.

// SIP transports WriteSIP can use.
const (
	SIPOverUDP  = "udp"
	SIPOverTCP  = "tcp"
	SIPOverSCTP = "sctp"
)

// SIPOptions control a SIP capture.
type SIPOptions struct {
	Seed  int64
	Calls int
	Start time.Time
	// Transport is SIPOverUDP (default), SIPOverTCP or SIPOverSCTP.
	Transport string
	IPv6      bool
	// MTU: UDP datagrams longer than this go in IPv4 fragments (default
	// 1500; set lower to fragment the SIP-I INVITEs).
	MTU int
	// Segment bounds the TCP payload per segment, so longer messages span
	// segments (default 1460). Messages from one side due at the same time
	// share a segment.
	Segment int
	// PlainPercent of the calls carry no ISUP body (default 20; negative: none).
	PlainPercent int
}

// SIPTruth is one line of a SIP capture's truth file: one per SIP message,
// at the frame that completes it.
type SIPTruth struct {
	Frame     uint64 `json:"frame"`
	Transport string `json:"transport"`
	Protocol  string `json:"protocol"` // sip or sip-i
	Method    string `json:"method,omitempty"`
	Status    int    `json:"status,omitempty"`
	CallID    string `json:"call_id"`
	CSeq      int    `json:"cseq"`
	ISUPType  string `json:"isup_type,omitempty"`
	Calling   string `json:"calling,omitempty"` // ISUP calling party digits (IAM)
	Called    string `json:"called,omitempty"`
	// For the call's first INVITE: what the call should come to.
	Outcome    string `json:"outcome,omitempty"`
	ReleasedBy string `json:"released_by,omitempty"`
	FromUser   string `json:"from_user,omitempty"`
	PAIUser    string `json:"pai_user,omitempty"`
	Privacy    string `json:"privacy,omitempty"`
	Diversion  string `json:"diversion,omitempty"` // Diversion user
}

// SIPSummary counts what a SIP capture holds.
type SIPSummary struct {
	Packets, Messages, Calls, Fragmented, Segments uint64
}

type sipEndpoint struct {
	ip   netip.Addr
	port uint16
	mac  net.HardwareAddr
	seq  uint32 // TCP
	tsn  uint32 // SCTP
	ssn  uint16
	ipID uint16
}

type sipOut struct {
	at    int64
	order int
	from  int // 0 partner (caller side), 1 gateway
	text  []byte
	truth SIPTruth
}

type sipGen struct {
	opt   SIPOptions
	rng   *rand.Rand
	ep    [2]sipEndpoint
	pw    *pcapgo.Writer
	tw    *bufio.Writer
	frame uint64
	sum   SIPSummary
	vtag  [2]uint32
	err   error
}

// WriteSIP writes a SIP capture (Ethernet, nanosecond pcap) and its truth
// file (nil: none).
func WriteSIP(pcap, truth io.Writer, opt SIPOptions) (SIPSummary, error) {
	if opt.Start.IsZero() {
		opt.Start = DefaultStart
	}
	if opt.Transport == "" {
		opt.Transport = SIPOverUDP
	}
	if opt.Transport != SIPOverUDP && opt.Transport != SIPOverTCP && opt.Transport != SIPOverSCTP {
		return SIPSummary{}, fmt.Errorf("gen: SIP transport %q: want udp, tcp or sctp", opt.Transport)
	}
	if opt.MTU <= 0 {
		opt.MTU = 1500
	}
	if opt.Segment <= 0 {
		opt.Segment = 1460
	}
	if opt.PlainPercent == 0 {
		opt.PlainPercent = 20
	}
	g := &sipGen{opt: opt, rng: rand.New(rand.NewPCG(uint64(opt.Seed)^0x51b, uint64(opt.Seed)))}
	a, b := netip.MustParseAddr("192.0.2.50"), netip.MustParseAddr("10.20.0.7")
	if opt.IPv6 {
		a, b = netip.MustParseAddr("2001:db8::50"), netip.MustParseAddr("2001:db8:1::7")
	}
	g.ep[0] = sipEndpoint{ip: a, port: 5060, mac: net.HardwareAddr{2, 0x47, 0x57, 0, 0, 0x50}, seq: g.rng.Uint32(), tsn: g.rng.Uint32(), ipID: 1}
	g.ep[1] = sipEndpoint{ip: b, port: 5060, mac: net.HardwareAddr{2, 0x47, 0x57, 0, 0, 0x07}, seq: g.rng.Uint32(), tsn: g.rng.Uint32(), ipID: 1}
	if opt.Transport == SIPOverTCP {
		g.ep[0].port = 40000 + uint16(g.rng.IntN(20000))
	}
	g.vtag = [2]uint32{g.rng.Uint32() | 1, g.rng.Uint32() | 1}
	bw := bufio.NewWriterSize(pcap, 1<<16)
	g.pw = pcapgo.NewWriterNanos(bw)
	if err := g.pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return g.sum, err
	}
	if truth != nil {
		g.tw = bufio.NewWriter(truth)
	}
	var msgs []sipOut
	t := opt.Start.UnixNano()
	for i := 0; i < opt.Calls; i++ {
		t += int64(200+g.rng.IntN(1800)) * int64(time.Millisecond)
		msgs = append(msgs, g.call(i, t)...)
	}
	sort.SliceStable(msgs, func(i, j int) bool {
		if msgs[i].at != msgs[j].at {
			return msgs[i].at < msgs[j].at
		}
		return msgs[i].order < msgs[j].order
	})
	g.sum.Calls = uint64(opt.Calls)
	if opt.Transport == SIPOverTCP {
		g.tcpHandshake(opt.Start.UnixNano())
	}
	for i := 0; i < len(msgs); {
		// Messages from one side due at the same instant go together (one
		// TCP write); on UDP and SCTP each is its own packet anyway.
		j := i + 1
		for j < len(msgs) && msgs[j].at == msgs[i].at && msgs[j].from == msgs[i].from {
			j++
		}
		g.send(msgs[i:j])
		i = j
	}
	if err := bw.Flush(); err != nil {
		return g.sum, err
	}
	if g.tw != nil {
		if err := g.tw.Flush(); err != nil {
			return g.sum, err
		}
	}
	return g.sum, g.err
}

// sipCallPlan is one scripted call.
type sipCallPlan struct {
	id, fromTag, toTag, branch string
	caller, callee             string // E.164 digits without +
	isup                       bool
	pai                        string // P-Asserted-Identity user ("" none)
	privacy                    bool
	diversion                  string
	compact                    bool
	outcome                    string // answered, busy, no_answer (caller CANCELs), failed
	byCaller                   bool   // answered: who sends BYE
}

func (g *sipGen) call(i int, t0 int64) []sipOut {
	r := g.rng
	foreign := []string{"85223", "6591", "4420", "1212", "8190"}
	c := sipCallPlan{
		id:      fmt.Sprintf("%08x-%04x@192.0.2.50", r.Uint32(), i),
		fromTag: strconv.FormatUint(uint64(r.Uint32()), 16), toTag: strconv.FormatUint(uint64(r.Uint32()), 16),
		branch: "z9hG4bK" + strconv.FormatUint(r.Uint64(), 36),
		caller: foreign[r.IntN(len(foreign))] + digits(r, 6),
		callee: "86139" + digits(r, 8),
		isup:   g.opt.PlainPercent < 0 || r.IntN(100) >= g.opt.PlainPercent,
	}
	c.compact = r.IntN(4) == 0
	if r.IntN(10) == 0 {
		c.caller = "86138" + digits(r, 8) // a home mobile number from abroad: spoofed
	}
	switch x := r.IntN(10); {
	case x < 3:
		c.pai = c.caller
	case x == 3:
		c.pai, c.privacy = c.caller, true
	case x == 4 && c.isup:
		c.pai = "86138" + digits(r, 8) // the headers show another number than the ISUP
	}
	if r.IntN(8) == 0 {
		c.diversion = "86135" + digits(r, 8)
	}
	// Every third call is answered and rings at once: its 100 Trying and
	// 180 Ringing go in one write (one TCP segment).
	fastRing := i%3 == 0
	switch x := r.IntN(10); {
	case x < 6 || fastRing:
		c.outcome, c.byCaller = "answered", r.IntN(2) == 0
	case x < 8:
		c.outcome = "busy"
	case x < 9:
		c.outcome = "no_answer"
	default:
		c.outcome = "failed"
	}
	ms := func(lo, hi int) int64 { return int64(lo+r.IntN(hi-lo+1)) * int64(time.Millisecond) }
	var out []sipOut
	add := func(at int64, from int, text []byte, tr SIPTruth) {
		tr.CallID, tr.Transport = c.id, g.opt.Transport
		tr.Protocol = "sip"
		if tr.ISUPType != "" {
			tr.Protocol = "sip-i"
		}
		out = append(out, sipOut{at: at, order: len(out), from: from, text: text, truth: tr})
	}
	invite, tr := g.invite(&c)
	switch c.outcome {
	case "answered":
		tr.ReleasedBy = "called"
		if c.byCaller {
			tr.ReleasedBy = "calling"
		}
	case "no_answer":
		tr.ReleasedBy = "calling"
	case "busy", "failed":
		tr.ReleasedBy = "called"
	}
	add(t0, 0, invite, tr)
	t := t0 + ms(10, 40)
	trying := g.response(&c, 100, "Trying", 1, "INVITE", false, nil, "")
	ringAt := t + ms(300, 3000)
	if fastRing {
		ringAt = t
	}
	add(t, 1, trying, SIPTruth{Status: 100, CSeq: 1})
	switch c.outcome {
	case "answered":
		add(ringAt, 1, g.response(&c, 180, "Ringing", 1, "INVITE", true, g.isupBody(&c, TypeACM, 0), ""), isupTruth(&c, 180, 1, TypeACM))
		ans := ringAt + ms(2000, 9000)
		add(ans, 1, g.response(&c, 200, "OK", 1, "INVITE", true, g.isupBody(&c, TypeANM, 0), "sdp"), isupTruth(&c, 200, 1, TypeANM))
		add(ans+ms(20, 60), 0, g.request(&c, "ACK", 1, true, nil), SIPTruth{Method: "ACK", CSeq: 1})
		bye := ans + ms(5000, 90000)
		if c.byCaller {
			add(bye, 0, g.request(&c, "BYE", 2, true, g.isupBody(&c, TypeREL, 16)), isupReq(&c, "BYE", 2, TypeREL))
			add(bye+ms(10, 40), 1, g.response(&c, 200, "OK", 2, "BYE", true, g.isupBody(&c, TypeRLC, 0), ""), isupTruth(&c, 200, 2, TypeRLC))
		} else {
			add(bye, 1, g.calleeBye(&c), isupReq(&c, "BYE", 1, TypeREL))
			add(bye+ms(10, 40), 0, g.calleeByeOK(&c), isupTruth(&c, 200, 1, TypeRLC))
		}
	case "busy":
		at := t + ms(100, 800)
		add(at, 1, g.response(&c, 486, "Busy Here", 1, "INVITE", true, g.isupBody(&c, TypeREL, 17), "Q.850;cause=17"), isupTruth(&c, 486, 1, TypeREL))
		add(at+ms(10, 40), 0, g.request(&c, "ACK", 1, true, nil), SIPTruth{Method: "ACK", CSeq: 1})
	case "no_answer":
		add(ringAt, 1, g.response(&c, 180, "Ringing", 1, "INVITE", true, g.isupBody(&c, TypeACM, 0), ""), isupTruth(&c, 180, 1, TypeACM))
		cancel := ringAt + ms(3000, 20000)
		add(cancel, 0, g.request(&c, "CANCEL", 1, false, nil), SIPTruth{Method: "CANCEL", CSeq: 1})
		add(cancel+ms(10, 30), 1, g.response(&c, 200, "OK", 1, "CANCEL", true, nil, ""), SIPTruth{Status: 200, CSeq: 1})
		add(cancel+ms(40, 80), 1, g.response(&c, 487, "Request Terminated", 1, "INVITE", true, g.isupBody(&c, TypeREL, 16), "Q.850;cause=16"), isupTruth(&c, 487, 1, TypeREL))
		add(cancel+ms(90, 140), 0, g.request(&c, "ACK", 1, true, nil), SIPTruth{Method: "ACK", CSeq: 1})
	case "failed":
		at := t + ms(50, 400)
		add(at, 1, g.response(&c, 404, "Not Found", 1, "INVITE", true, g.isupBody(&c, TypeREL, 1), "Q.850;cause=1"), isupTruth(&c, 404, 1, TypeREL))
		add(at+ms(10, 40), 0, g.request(&c, "ACK", 1, true, nil), SIPTruth{Method: "ACK", CSeq: 1})
	}
	return out
}

func isupTruth(c *sipCallPlan, status, cseq int, typ uint8) SIPTruth {
	t := SIPTruth{Status: status, CSeq: cseq}
	if c.isup {
		t.ISUPType = TypeName(typ)
	}
	return t
}

func isupReq(c *sipCallPlan, method string, cseq int, typ uint8) SIPTruth {
	t := SIPTruth{Method: method, CSeq: cseq}
	if c.isup {
		t.ISUPType = TypeName(typ)
	}
	return t
}

func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// The gateway's and the partner's SIP hosts.
const (
	sipPartnerHost = "sbc.carrier.example"
	sipGatewayHost = "gw.example.cn"
)

func (g *sipGen) hdr(c *sipCallPlan, long, compact string) string {
	if c.compact && compact != "" {
		return compact
	}
	return long
}

// invite writes the call's INVITE: SDP, and with ISUP a multipart body
// carrying the IAM (application/ISUP; version=itu-t92+).
func (g *sipGen) invite(c *sipCallPlan) ([]byte, SIPTruth) {
	var b strings.Builder
	fmt.Fprintf(&b, "INVITE sip:+%s@%s;user=phone SIP/2.0\r\n", c.callee, sipGatewayHost)
	fmt.Fprintf(&b, "%s: SIP/2.0/%s %s;branch=%s\r\n", g.hdr(c, "Via", "v"), strings.ToUpper(g.opt.Transport), hostPort(g.ep[0]), c.branch)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "%s: <sip:+%s@%s;user=phone>;tag=%s\r\n", g.hdr(c, "From", "f"), c.caller, sipPartnerHost, c.fromTag)
	fmt.Fprintf(&b, "%s: <tel:+%s>\r\n", g.hdr(c, "To", "t"), c.callee)
	fmt.Fprintf(&b, "%s: %s\r\n", g.hdr(c, "Call-ID", "i"), c.id)
	b.WriteString("CSeq: 1 INVITE\r\n")
	fmt.Fprintf(&b, "%s: <sip:%s>\r\n", g.hdr(c, "Contact", "m"), hostPort(g.ep[0]))
	if c.pai != "" {
		fmt.Fprintf(&b, "P-Asserted-Identity: <sip:+%s@%s;user=phone>, <tel:+%s>\r\n", c.pai, sipPartnerHost, c.pai)
	}
	if c.privacy {
		b.WriteString("Privacy: id\r\n")
	}
	if c.diversion != "" {
		fmt.Fprintf(&b, "Diversion: <sip:+%s@%s;user=phone>;reason=unconditional;counter=1\r\n", c.diversion, sipGatewayHost)
	}
	tr := SIPTruth{Method: "INVITE", CSeq: 1, Outcome: c.outcome, FromUser: "+" + c.caller}
	if c.pai != "" {
		tr.PAIUser = "+" + c.pai
	}
	if c.privacy {
		tr.Privacy = "id"
	}
	if c.diversion != "" {
		tr.Diversion = "+" + c.diversion
	}
	sdp := g.sdp(0)
	if !c.isup {
		return g.finish(&b, "application/sdp", sdp), tr
	}
	iam := g.isupBody(c, TypeIAM, 0)
	tr.ISUPType, tr.Calling, tr.Called = "IAM", c.caller, c.callee
	b.WriteString("MIME-Version: 1.0\r\n")
	return g.finish(&b, "multipart/mixed;boundary="+sipBoundary, multipart(sdp, iam)), tr
}

const sipBoundary = "gw-boundary-1"

func multipart(sdp, isup []byte) []byte {
	var b []byte
	b = append(b, "--"+sipBoundary+"\r\nContent-Type: application/sdp\r\n\r\n"...)
	b = append(b, sdp...)
	b = append(b, "\r\n--"+sipBoundary+"\r\nContent-Type: application/ISUP;version=itu-t92+;base=itu-t92+\r\nContent-Disposition: signal;handling=required\r\n\r\n"...)
	b = append(b, isup...)
	return append(b, "\r\n--"+sipBoundary+"--\r\n"...)
}

func (g *sipGen) sdp(side int) []byte {
	ip := g.ep[side].ip
	fam := "IP4"
	if ip.Is6() {
		fam = "IP6"
	}
	return []byte(fmt.Sprintf("v=0\r\no=- 0 0 IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\nm=audio %d RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n",
		fam, ip, fam, ip, 20000+2*g.rng.IntN(5000)))
}

// isupBody is an ISUP message for an application/ISUP body: the generator's
// own encoding with its CIC octets taken off (RFC 3204 bodies carry none).
func (g *sipGen) isupBody(c *sipCallPlan, typ uint8, cause uint8) []byte {
	if !c.isup {
		return nil
	}
	var m []byte
	switch typ {
	case TypeIAM:
		iam := IAM{NatureOfConnection: 0x00, ForwardCallIndicators: 0x2001, Category: CategoryOrdinary,
			Called:  Number{Digits: c.callee, NAI: NAIInternational, NPI: NPIISDN},
			Calling: &Number{Digits: c.caller, NAI: NAIInternational, NPI: NPIISDN, SI: SINetworkProvided}, HopCounter: 25}
		if c.privacy {
			iam.Calling.APRI = 1
		}
		if c.diversion != "" {
			iam.Redirecting = &Number{Digits: c.diversion, NAI: NAIInternational, NPI: NPIISDN}
			iam.Redirection = &Redirection{Indicator: 3, OriginalReason: 0, Counter: 1, Reason: 1}
		}
		m = AppendIAM(nil, 0, &iam)
	case TypeACM:
		m = AppendACM(nil, 0, 0x1416)
	case TypeANM:
		m = AppendANM(nil, 0)
	case TypeREL:
		m = AppendREL(nil, 0, Cause{Value: cause, Location: 3}, nil, nil)
	case TypeRLC:
		m = AppendRLC(nil, 0)
	}
	return m[2:]
}

func hostPort(e sipEndpoint) string { return netip.AddrPortFrom(e.ip, e.port).String() }

// finish adds Content-Type and Content-Length and the body.
func (g *sipGen) finish(b *strings.Builder, ct string, body []byte) []byte {
	if len(body) > 0 {
		b.WriteString("Content-Type: " + ct + "\r\n")
	}
	fmt.Fprintf(b, "Content-Length: %d\r\n\r\n", len(body))
	return append([]byte(b.String()), body...)
}

// response is a response from the gateway to the partner's request.
func (g *sipGen) response(c *sipCallPlan, status int, phrase string, cseq int, method string, withToTag bool, isup []byte, reason string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", status, phrase)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=%s\r\n", strings.ToUpper(g.opt.Transport), hostPort(g.ep[0]), c.branch)
	fmt.Fprintf(&b, "From: <sip:+%s@%s;user=phone>;tag=%s\r\n", c.caller, sipPartnerHost, c.fromTag)
	to := fmt.Sprintf("<tel:+%s>", c.callee)
	if withToTag {
		to += ";tag=" + c.toTag
	}
	fmt.Fprintf(&b, "To: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n", to, c.id, cseq, method)
	if reason != "" {
		fmt.Fprintf(&b, "Reason: %s\r\n", reason)
	}
	switch {
	case isup != nil && status == 200 && method == "INVITE":
		b.WriteString("MIME-Version: 1.0\r\n")
		return g.finish(&b, "multipart/mixed;boundary="+sipBoundary, multipart(g.sdp(1), isup))
	case isup != nil:
		return g.finish(&b, "application/ISUP;version=itu-t92+", isup)
	case status == 200 && method == "INVITE":
		return g.finish(&b, "application/sdp", g.sdp(1))
	}
	return g.finish(&b, "", nil)
}

// request is an in-dialog or INVITE-transaction request from the caller.
func (g *sipGen) request(c *sipCallPlan, method string, cseq int, withToTag bool, isup []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s sip:+%s@%s;user=phone SIP/2.0\r\n", method, c.callee, sipGatewayHost)
	branch := c.branch
	if method == "BYE" {
		branch += "b"
	}
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=%s\r\nMax-Forwards: 70\r\n", strings.ToUpper(g.opt.Transport), hostPort(g.ep[0]), branch)
	fmt.Fprintf(&b, "From: <sip:+%s@%s;user=phone>;tag=%s\r\n", c.caller, sipPartnerHost, c.fromTag)
	to := fmt.Sprintf("<tel:+%s>", c.callee)
	if withToTag {
		to += ";tag=" + c.toTag
	}
	fmt.Fprintf(&b, "To: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n", to, c.id, cseq, method)
	if isup != nil {
		b.WriteString("Reason: Q.850;cause=16\r\n")
		return g.finish(&b, "application/ISUP;version=itu-t92+", isup)
	}
	return g.finish(&b, "", nil)
}

// calleeBye is the gateway's BYE (the called party hung up) and calleeByeOK
// the partner's answer to it.
func (g *sipGen) calleeBye(c *sipCallPlan) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "BYE sip:%s SIP/2.0\r\n", hostPort(g.ep[0]))
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=%sg\r\nMax-Forwards: 70\r\n", strings.ToUpper(g.opt.Transport), hostPort(g.ep[1]), c.branch)
	fmt.Fprintf(&b, "From: <tel:+%s>;tag=%s\r\nTo: <sip:+%s@%s;user=phone>;tag=%s\r\nCall-ID: %s\r\nCSeq: 1 BYE\r\n",
		c.callee, c.toTag, c.caller, sipPartnerHost, c.fromTag, c.id)
	if c.isup {
		b.WriteString("Reason: Q.850;cause=16\r\n")
		return g.finish(&b, "application/ISUP;version=itu-t92+", g.isupBody(c, TypeREL, 16))
	}
	return g.finish(&b, "", nil)
}

func (g *sipGen) calleeByeOK(c *sipCallPlan) []byte {
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\n")
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=%sg\r\n", strings.ToUpper(g.opt.Transport), hostPort(g.ep[1]), c.branch)
	fmt.Fprintf(&b, "From: <tel:+%s>;tag=%s\r\nTo: <sip:+%s@%s;user=phone>;tag=%s\r\nCall-ID: %s\r\nCSeq: 1 BYE\r\n",
		c.callee, c.toTag, c.caller, sipPartnerHost, c.fromTag, c.id)
	if c.isup {
		return g.finish(&b, "application/ISUP;version=itu-t92+", g.isupBody(c, TypeRLC, 0))
	}
	return g.finish(&b, "", nil)
}

// send writes messages due together from one side.
func (g *sipGen) send(msgs []sipOut) {
	from := msgs[0].from
	at := msgs[0].at
	switch g.opt.Transport {
	case SIPOverUDP:
		for _, m := range msgs {
			g.udp(from, at, m.text)
			g.truth(m.truth)
		}
	case SIPOverSCTP:
		for _, m := range msgs {
			g.sctp(from, at, m.text)
			g.truth(m.truth)
		}
	case SIPOverTCP:
		var stream []byte
		var ends []int
		for _, m := range msgs {
			stream = append(stream, m.text...)
			ends = append(ends, len(stream))
		}
		k := 0
		for off := 0; off < len(stream); {
			end := min(off+g.opt.Segment, len(stream))
			g.tcp(from, at, 0, stream[off:end])
			at += int64(time.Microsecond)
			off = end
			for k < len(msgs) && ends[k] <= off {
				g.truth(msgs[k].truth)
				k++
			}
		}
	}
	g.sum.Messages += uint64(len(msgs))
}

func (g *sipGen) truth(t SIPTruth) {
	t.Frame = g.frame
	if g.tw == nil {
		return
	}
	b, _ := json.Marshal(t)
	g.tw.Write(b)
	g.tw.WriteByte('\n')
}

func (g *sipGen) ipLayer(from int, proto layers.IPProtocol) (gopacket.SerializableLayer, gopacket.NetworkLayer, layers.EthernetType) {
	src, dst := g.ep[from], g.ep[1-from]
	if src.ip.Is6() {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.ip.AsSlice(), DstIP: dst.ip.AsSlice()}
		return ip, ip, layers.EthernetTypeIPv6
	}
	g.ep[from].ipID++
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, Id: g.ep[from].ipID, Flags: layers.IPv4DontFragment,
		SrcIP: src.ip.AsSlice(), DstIP: dst.ip.AsSlice()}
	return ip, ip, layers.EthernetTypeIPv4
}

func (g *sipGen) eth(from int, et layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: g.ep[from].mac, DstMAC: g.ep[1-from].mac, EthernetType: et}
}

func (g *sipGen) write(at int64, ls ...gopacket.SerializableLayer) {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		g.err = err
		return
	}
	g.writeRaw(at, buf.Bytes())
}

func (g *sipGen) writeRaw(at int64, b []byte) {
	if len(b) < minEtherFrame {
		b = append(b, make([]byte, minEtherFrame-len(b))...)
	}
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, at).UTC(), CaptureLength: len(b), Length: len(b)}
	if err := g.pw.WritePacket(ci, b); err != nil && g.err == nil {
		g.err = err
	}
	g.frame++
	g.sum.Packets++
}

// udp writes one datagram, in IPv4 fragments when it exceeds the MTU.
func (g *sipGen) udp(from int, at int64, p []byte) {
	src, dst := g.ep[from], g.ep[1-from]
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.port), DstPort: layers.UDPPort(dst.port)}
	ipL, netL, et := g.ipLayer(from, layers.IPProtocolUDP)
	udp.SetNetworkLayerForChecksum(netL)
	ip4, isV4 := ipL.(*layers.IPv4)
	if !isV4 || 20+8+len(p) <= g.opt.MTU {
		g.write(at, g.eth(from, et), ipL, udp, gopacket.Payload(p))
		return
	}
	// Serialize UDP (with its checksum) alone, then cut it into fragments.
	ub := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(ub, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, udp, gopacket.Payload(p)); err != nil {
		g.err = err
		return
	}
	whole := ub.Bytes()
	size := (g.opt.MTU - 20) &^ 7
	g.sum.Fragmented++
	for off := 0; off < len(whole); off += size {
		end := min(off+size, len(whole))
		frag := *ip4
		frag.Flags = 0
		if end < len(whole) {
			frag.Flags = layers.IPv4MoreFragments
		}
		frag.FragOffset = uint16(off / 8)
		g.write(at, g.eth(from, et), &frag, gopacket.Payload(whole[off:end]))
		at += int64(time.Microsecond)
	}
}

// tcpHandshake opens the connection (the partner connects to port 5060).
func (g *sipGen) tcpHandshake(at int64) {
	g.tcpFlags(0, at, true, false, nil)
	g.tcpFlags(1, at+int64(time.Millisecond), true, true, nil)
	g.tcpFlags(0, at+2*int64(time.Millisecond), false, true, nil)
}

func (g *sipGen) tcp(from int, at int64, _ int, p []byte) {
	g.tcpFlags(from, at, false, true, p)
	g.sum.Segments++
}

func (g *sipGen) tcpFlags(from int, at int64, syn, ack bool, p []byte) {
	src, dst := &g.ep[from], &g.ep[1-from]
	t := &layers.TCP{SrcPort: layers.TCPPort(src.port), DstPort: layers.TCPPort(dst.port), Seq: src.seq, SYN: syn, ACK: ack, PSH: len(p) > 0, Window: 65535}
	if ack {
		t.Ack = dst.seq
	}
	ipL, netL, et := g.ipLayer(from, layers.IPProtocolTCP)
	t.SetNetworkLayerForChecksum(netL)
	g.write(at, g.eth(from, et), ipL, t, gopacket.Payload(p))
	src.seq += uint32(len(p))
	if syn {
		src.seq++
	}
}

// sctp writes one SIP message as an SCTP DATA chunk on port 5060 with
// PPID 0 (RFC 4168 assigns SIP none).
func (g *sipGen) sctp(from int, at int64, p []byte) {
	src, dst := &g.ep[from], &g.ep[1-from]
	pkt := appendSCTPHeader(nil, src.port, dst.port, g.vtag[1-from])
	pkt = appendDataChunk(pkt, dataFlagBegin|dataFlagEnd, src.tsn, 0, src.ssn, 0, p)
	finishSCTP(pkt)
	src.tsn++
	src.ssn++
	ipL, _, et := g.ipLayer(from, layers.IPProtocolSCTP)
	g.write(at, g.eth(from, et), ipL, gopacket.Payload(pkt))
}

// ReadSIPTruth parses a SIP truth file.
func ReadSIPTruth(r io.Reader) ([]SIPTruth, error) {
	var out []SIPTruth
	dec := json.NewDecoder(r)
	for {
		var t SIPTruth
		if err := dec.Decode(&t); err == io.EOF {
			return out, nil
		} else if err != nil {
			return out, err
		}
		out = append(out, t)
	}
}
