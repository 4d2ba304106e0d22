package analysis

import (
	"net/netip"
	"strconv"

	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/internal/fnv1a"
)

// Calls from SIP dialogs (RFC 3261), with the outcomes, ring and talk times
// and releasing side of ISUP calls: INVITE opens the call (IAM), 180 Ringing
// alerts (ACM/CPG), 2xx to INVITE answers (ANM), BYE releases (REL) and its
// 2xx ends the call (RLC); an error response to INVITE releases it from the
// called side, a CANCEL from the calling side, and the ACK ends it. With an
// application/ISUP body (SIP-I) the numbers come from the IAM and the ISUP
// messages refine alerting and causes; otherwise from the headers.

// SIP status codes and causes the dialog logic names.
const (
	sipRinging          = 180
	sipOK               = 200
	sipFirstError       = 300
	causeSIPUnspecified = 31 // normal, unspecified (Q.850), for an unmapped SIP status
)

// sipCallKey is the circuit key of a SIP call: the dialog's Call-ID, hashed
// (the same way in every process, so a saved state keeps its keys).
func (a *Assembler) sipCallKey(callID []byte) circuitKey {
	h := fnv1a.Sum64(callID)
	return circuitKey{proto: decode.ProtocolSIP, pcLo: uint32(h), pcHi: uint32(h >> 32)}
}

func (a *Assembler) feedSIP(m *decode.Message) {
	s := &m.SIP
	key := a.sipCallKey(s.CallID)
	oc := a.open[key]
	if s.Request && s.Method == decode.SIPInvite && oc == nil {
		if !s.IsInitialInvite() {
			a.stats.Orphans++ // a re-INVITE of a dialog we did not see start
			return
		}
		a.openSIP(key, m)
		return
	}
	if oc == nil {
		if !(s.Request && s.Method == decode.SIPAck) {
			a.stats.Orphans++
		}
		return
	}
	c := &oc.call
	c.Messages++
	a.touch(oc, m.TS)
	if m.HasISUP && m.Protocol == decode.ProtocolSIPI {
		c.Protocol = decode.ProtocolSIPI
	}
	if s.Request {
		switch s.Method {
		case decode.SIPAck:
			if oc.released {
				a.close(oc, m.TS) // the ACK of an error response ends the INVITE transaction
			}
		case decode.SIPBye:
			a.completeSetup(oc)
			side := SideCalled
			if oc.callerTag == fnv1a.Sum64(s.From.Tag) {
				side = SideCalling
			}
			a.releaseSIP(oc, m, side, causeNormalClearing)
		case decode.SIPCancel:
			a.completeSetup(oc)
			oc.cancelled = true
			a.releaseSIP(oc, m, SideCalling, causeNormalClearing)
		}
		return
	}
	switch s.Method {
	case decode.SIPInvite:
		a.completeSetup(oc)
		switch st := s.Status; {
		case st < sipOK:
			if c.Alerting == 0 && sipAlerting(m) {
				c.Alerting = m.TS
			}
		case st < sipFirstError:
			if c.Answer == 0 && !oc.released {
				c.Answer = m.TS
			}
		default:
			// A final error: the called side (or the network) refused, or
			// the caller's CANCEL took effect (487).
			side := SideCalled
			if oc.cancelled {
				side = SideCalling
			}
			a.releaseSIP(oc, m, side, sipCause(s.Status))
		}
	case decode.SIPBye:
		if s.Status >= sipOK {
			a.close(oc, m.TS)
		}
	}
}

// sipAlerting: a provisional response alerts the called party when it is 180
// Ringing, or carries an ISUP ACM (subscriber free) or CPG (alerting).
func sipAlerting(m *decode.Message) bool {
	if m.SIP.Status == sipRinging {
		return true
	}
	if !m.HasISUP {
		return false
	}
	u := &m.ISUP
	switch u.Type {
	case msgACM:
		return !u.HasBackwardCallIndicators || (u.BackwardCallIndicators>>2)&3 == 1
	case msgCPG:
		return u.HasEventInformation && u.EventInformation&0x7f == 1
	}
	return false
}

// releaseSIP records the release of the call (REL): the cause from a Q.850
// Reason header (RFC 3326), else the encapsulated ISUP REL, else def.
func (a *Assembler) releaseSIP(oc *openCall, m *decode.Message, side Side, def uint8) {
	c := &oc.call
	if c.Release != 0 {
		return
	}
	c.Release = m.TS
	c.ReleasedBy = side
	switch {
	case m.SIP.HasReasonCause:
		c.Cause = m.SIP.ReasonCause
	case m.HasISUP && m.ISUP.Type == msgREL && m.ISUP.Cause.Present:
		c.Cause = m.ISUP.Cause.Value
	default:
		c.Cause = def
	}
	oc.released = true
	a.releases.pushBack(oc, true)
}

// sipCause maps a final SIP error status to a Q.850 cause (RFC 3398 8.2.6.1,
// Q.1912.5 table 8) for responses without a Reason header.
func sipCause(status uint16) uint8 {
	switch status {
	case 400, 481, 500, 503:
		return 41
	case 401, 402, 403, 407, 603:
		return 21
	case 404, 485, 604:
		return 1
	case 405, 406, 415, 501:
		return 79
	case 408, 504:
		return 102
	case 410:
		return 22
	case 480:
		return causeNoUserResponse
	case 482, 483:
		return 25
	case 484:
		return 28
	case 486, 600:
		return causeUserBusy
	case 487:
		return causeNormalClearing
	case 502:
		return 38
	case 580:
		return 47
	case 606:
		return 58
	}
	return causeSIPUnspecified
}

// openSIP opens a call from an initial INVITE.
func (a *Assembler) openSIP(key circuitKey, m *decode.Message) {
	if len(a.open) >= a.cfg.MaxOpenCalls {
		a.stats.Evicted++
		a.closeReset(a.active.head, m.TS)
	}
	oc := a.alloc()
	oc.key = key
	s := &m.SIP
	c := &oc.call
	c.Start = m.TS
	c.Protocol = m.Protocol
	c.CIC = decode.SIPDialogCode(s.CallID)
	c.Messages = 1
	c.Ref = a.ref
	a.idBuf = strconv.AppendUint(a.idBuf[:0], uint64(m.Source), 10)
	a.idBuf = append(a.idBuf, ':')
	a.idBuf = strconv.AppendUint(a.idBuf, m.Frame, 10)
	a.idBuf = append(a.idBuf, ":sip"...)
	c.ID = a.strs.string(a.idBuf)
	c.Link = a.linkName(m)
	oc.callerTag = fnv1a.Sum64(s.From.Tag)
	partner := a.cfg.SIPPartner
	if partner == nil && a.cfg.Partner != nil {
		partner = func(ap netip.AddrPort) string { return a.cfg.Partner(ap.Addr(), 0) }
	}
	if partner != nil {
		if p := partner(m.Src); p != "" {
			c.Partner, c.Direction = p, DirectionIngress
		} else if p := partner(m.Dst); p != "" {
			c.Partner, c.Direction = p, DirectionEgress
		}
	}
	identity := &s.From
	if s.NPAI > 0 {
		identity = &s.PAI[0]
		for i := 0; i < int(s.NPAI); i++ {
			if s.PAI[i].Tel { // a tel: URI (or user=phone) states the number itself
				identity = &s.PAI[i]
				break
			}
		}
	}
	if m.HasISUP && m.ISUP.Type == msgIAM {
		a.fillNumbers(oc, &m.ISUP)
		c.HeaderCalling = a.sipNumber(&oc.header, identity)
	} else {
		c.Calling = a.sipNumber(&oc.numbers[0], identity)
		c.Called = a.sipNumber(&oc.numbers[1], &s.RURI)
		if c.Called == nil {
			c.Called = a.sipNumber(&oc.numbers[1], &s.To)
		}
		switch {
		case s.NDiversion > 0:
			c.Redirecting = a.sipNumber(&oc.numbers[2], &s.Diversion[0])
		case s.NHistory > 1:
			// History-Info (RFC 7044): the entries before the last are the
			// targets the call was retargeted from; the first is the original.
			c.Redirecting = a.sipNumber(&oc.numbers[2], &s.History[s.NHistory-2])
			c.OriginalCalled = a.sipNumber(&oc.numbers[3], &s.History[0])
		}
		c.Redirected = c.Redirecting != nil
	}
	// Privacy: id (RFC 3325) withholds the identity: presentation restricted.
	if s.PrivacyID() && c.Calling != nil && c.Calling.APRI == 0 {
		c.Calling.APRI = 1
	}
	a.open[key] = oc
	a.stats.Calls++
	a.touch(oc, m.TS)
	if a.cfg.Open != nil {
		a.cfg.Open(&oc.call)
	}
}

// NAIs inferred for a number from a SIP URI.
const (
	naiUnknown       = 2
	naiInternational = 4
)

// sipNumber makes a party number from a URI's user part: "+CC…" (a global
// number, RFC 3966) is international; a local number with a global
// phone-context "+CC" is the international number CC+local; other user parts
// of digits are of unknown nature (the plan decides). Visual separators are
// dropped; a user part that is not a number (e.g. "anonymous") gives none.
func (a *Assembler) sipNumber(dst *PartyNumber, u *decode.SIPAddr) *PartyNumber {
	if !u.Present || len(u.User) == 0 {
		return nil
	}
	user := u.User
	nai := uint8(naiUnknown)
	buf := a.idBuf[:0]
	switch {
	case user[0] == '+':
		nai, user = naiInternational, user[1:]
	case len(u.PhoneContext) > 1 && u.PhoneContext[0] == '+':
		nai = naiInternational
		buf = appendDialDigits(buf, u.PhoneContext[1:])
	}
	n := len(buf)
	buf = appendDialDigits(buf, user)
	a.idBuf = buf
	if len(buf) == n || len(buf) == 0 || !allDigits(user) {
		return nil
	}
	*dst = PartyNumber{Digits: a.strs.string(buf), NAI: nai}
	return dst
}

// appendDialDigits appends the digits of b, dropping the visual separators
// of RFC 3966 (-, ., ( and )).
func appendDialDigits(dst, b []byte) []byte {
	for _, c := range b {
		if c >= '0' && c <= '9' {
			dst = append(dst, c)
		}
	}
	return dst
}

func allDigits(b []byte) bool {
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9', c == '-', c == '.', c == '(', c == ')':
		default:
			return false
		}
	}
	return true
}
