package analysis

import (
	"net/netip"
	"strconv"
	"unsafe"

	"github.com/gatewarden/gatewarden/decode"
)

// ISUP message types (Q.763 table 4) the assembler acts on.
const (
	msgIAM = 0x01
	msgSAM = 0x02
	msgACM = 0x06
	msgCON = 0x07
	msgANM = 0x09
	msgREL = 0x0c
	msgRLC = 0x10
	msgRSC = 0x12
	msgGRS = 0x17
	msgCPG = 0x2c
)

// Q.850 cause values the outcome depends on.
const (
	causeNormalClearing = 16
	causeUserBusy       = 17
	causeNoUserResponse = 18
	causeNoAnswer       = 19
)

const second = int64(1e9)

// AssemblerConfig bounds the assembler. Zero fields take the defaults.
type AssemblerConfig struct {
	// MaxOpenCalls caps calls held at once; beyond it the least recently
	// active call is closed and counted as evicted (default 1<<20).
	MaxOpenCalls int
	// ReleaseTimeout closes a released call whose RLC never came (default 30 s).
	ReleaseTimeout int64
	// IdleTimeout closes a call with no message for this long (default 4 h):
	// long enough for real calls, short enough to free circuits whose
	// release was not captured.
	IdleTimeout int64
	// Partner names the partner owning an address or point code, "" if none.
	// Either argument may be zero/invalid. Nil means no partners.
	Partner func(addr netip.Addr, pc uint32) string
	// SIPPartner names the partner owning a SIP endpoint (address and
	// port); nil means Partner with the address alone.
	SIPPartner func(ap netip.AddrPort) string
	// Open is called when an IAM has opened a call and filled its record
	// (the called number may still grow by SAMs). The call is open.
	Open func(*Call)
	// Setup is called once per call when its setup is complete: at the first
	// message after IAM/SAM, or at close if none came. The call is open.
	Setup func(*Call)
	// Close is called for every closed call. The record and what it points to
	// are reused afterwards: copy what must be kept.
	Close func(*Call)
}

// AssemblerStats counts what the assembler did. All counters only grow.
type AssemblerStats struct {
	Messages       uint64 // ISUP messages fed
	Calls          uint64 // calls opened (IAMs accepted)
	Closed         uint64 // calls closed and emitted
	DualSeizures   uint64 // IAMs from both ends on one idle circuit (Q.764 2.10.1.4)
	Superseded     uint64 // unreleased calls closed by a new IAM on their circuit
	Resets         uint64 // calls closed by RSC/GRS
	ReleaseTimeout uint64 // released calls closed without RLC
	IdleTimeout    uint64 // calls closed after IdleTimeout without messages
	Evicted        uint64 // calls closed because MaxOpenCalls was reached
	Orphans        uint64 // call messages for a circuit with no known call
}

// circuitKey names one circuit: the unordered pair of signalling points and
// the CIC, within a network (NI) and a link context. The link context is the
// unordered SIGTRAN address pair, or the MTP2 link number for SS7 link types;
// the capture source is left out so a call split across rotated files stays one.
type circuitKey struct {
	pcLo, pcHi     uint32
	cic            uint32
	addrLo, addrHi netip.Addr
	link           uint16
	ni             uint8
	// proto keeps an ISUP CIC and a BICC call instance code with the same
	// value between the same points apart.
	proto decode.Protocol
}

// openCall is an assembler slot: the call record, storage for its numbers and
// the intrusive list links used for timeouts and eviction.
type openCall struct {
	key      circuitKey
	call     Call
	numbers  [4]PartyNumber // calling, called, redirecting, original called
	generic  [decode.MaxGeneric]PartyNumber
	lastSeen int64
	setup    bool
	released bool // REL seen, waiting for RLC

	// SIP dialogs: the caller's From tag (hashed), whether the caller
	// cancelled, and the header identity of a SIP-I call.
	callerTag uint64
	cancelled bool
	header    PartyNumber

	prev, next   *openCall // activity list (least recent first)
	rprev, rnext *openCall // release list (oldest REL first)
}

type callList struct{ head, tail *openCall }

// Assembler turns ISUP messages into calls. It is not safe for concurrent use.
type Assembler struct {
	cfg      AssemblerConfig
	open     map[circuitKey]*openCall
	free     []*openCall
	active   callList
	releases callList
	now      int64
	stats    AssemblerStats
	idBuf    []byte
	strs     strArena
	// links caches each link's name so calls on one link share the string.
	links map[linkName]string
	ref   uint64 // Ref of the message being fed (FeedRef)
}

// linkName identifies a link as Call.Link names it (the IAM's direction).
type linkName struct {
	src, dst  netip.AddrPort
	link      uint16
	transport decode.Transport
}

// maxLinkNames bounds the link-name cache; it is emptied when full.
const maxLinkNames = 4096

// NewAssembler returns an assembler with cfg's bounds and callbacks.
func NewAssembler(cfg AssemblerConfig) *Assembler {
	if cfg.MaxOpenCalls <= 0 {
		cfg.MaxOpenCalls = 1 << 20
	}
	if cfg.ReleaseTimeout <= 0 {
		cfg.ReleaseTimeout = 30 * second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 4 * 3600 * second
	}
	return &Assembler{cfg: cfg, open: make(map[circuitKey]*openCall)}
}

// Stats returns the counters so far.
func (a *Assembler) Stats() AssemblerStats { return a.stats }

// EachOpen calls fn with each call in progress (least recently active
// first). The call stays the assembler's.
func (a *Assembler) EachOpen(fn func(*Call)) {
	for oc := a.active.head; oc != nil; oc = oc.next {
		fn(&oc.call)
	}
}

// OpenCalls is the number of calls in progress.
func (a *Assembler) OpenCalls() int { return len(a.open) }

func keyOf(m *decode.Message, cic uint32) circuitKey {
	k := circuitKey{cic: cic, ni: m.Label.NI, pcLo: m.Label.OPC, pcHi: m.Label.DPC, proto: m.Protocol}
	if k.pcLo > k.pcHi {
		k.pcLo, k.pcHi = k.pcHi, k.pcLo
	}
	switch m.Transport {
	case decode.TransportMTP2, decode.TransportMTP3:
		k.link = m.Link
	default:
		k.addrLo, k.addrHi = m.Src.Addr(), m.Dst.Addr()
		if k.addrHi.Less(k.addrLo) {
			k.addrLo, k.addrHi = k.addrHi, k.addrLo
		}
	}
	return k
}

// CallOf is the Ref of the call in progress m belongs to (see Call.Ref), 0
// when m opens a call (an IAM) or no call is in progress on its circuit.
// The pipeline asks before storing m, so the stored message names its call.
func (a *Assembler) CallOf(m *decode.Message) uint64 {
	if m.Transport.IsSIP() {
		if m.SIP.IsInitialInvite() {
			return 0
		}
		if oc := a.open[a.sipCallKey(m.SIP.CallID)]; oc != nil {
			return oc.call.Ref
		}
		return 0
	}
	if m.ISUP.Type == msgIAM {
		return 0
	}
	if oc := a.open[keyOf(m, m.ISUP.CIC)]; oc != nil {
		return oc.call.Ref
	}
	return 0
}

// FeedRef is Feed for a message the pipeline stored under ref: a call that
// m opens (an IAM) carries ref as its Call.Ref.
func (a *Assembler) FeedRef(m *decode.Message, ref uint64) {
	a.ref = ref
	a.Feed(m)
	a.ref = 0
}

// Feed processes one message. m is not retained.
func (a *Assembler) Feed(m *decode.Message) {
	a.stats.Messages++
	if m.TS > a.now {
		a.now = m.TS
		a.expire()
	}
	if m.Transport.IsSIP() {
		a.feedSIP(m)
		return
	}
	isup := &m.ISUP
	switch isup.Type {
	case msgIAM:
		a.iam(m)
	case msgGRS:
		// Q.763: the range field is one less than the number of circuits.
		n := uint32(0)
		if isup.HasRange {
			n = uint32(isup.Range)
		}
		for i := uint32(0); i <= n; i++ {
			a.reset(keyOf(m, isup.CIC+i))
		}
	case msgRSC:
		a.reset(keyOf(m, isup.CIC))
	case msgSAM, msgACM, msgCON, msgANM, msgCPG, msgREL, msgRLC:
		oc := a.open[keyOf(m, isup.CIC)]
		if oc == nil {
			if isup.Type != msgRLC {
				a.stats.Orphans++
			}
			return
		}
		a.progress(oc, m)
	default:
		// Other circuit messages (COT, SUS/RES, blocking, ...) keep a call alive.
		if oc := a.open[keyOf(m, isup.CIC)]; oc != nil {
			oc.call.Messages++
			a.touch(oc, m.TS)
		}
	}
}

func (a *Assembler) progress(oc *openCall, m *decode.Message) {
	c := &oc.call
	isup := &m.ISUP
	c.Messages++
	a.touch(oc, m.TS)
	if isup.Type == msgSAM {
		if !oc.setup && isup.Subsequent.Present {
			if c.Called == nil {
				c.Called = &oc.numbers[1]
			}
			appendDigits(c.Called, isup.Subsequent.DigitBytes())
		}
		return
	}
	a.completeSetup(oc)
	switch isup.Type {
	case msgACM:
		// Called party's status "subscriber free" (or no indicators at all)
		// means the called party is being alerted.
		if c.Alerting == 0 && (!isup.HasBackwardCallIndicators || (isup.BackwardCallIndicators>>2)&3 == 1) {
			c.Alerting = m.TS
		}
	case msgCPG:
		if c.Alerting == 0 && isup.HasEventInformation && isup.EventInformation&0x7f == 1 {
			c.Alerting = m.TS
		}
	case msgANM, msgCON:
		if c.Answer == 0 {
			c.Answer = m.TS
		}
	case msgREL:
		if c.Release == 0 {
			c.Release = m.TS
			if isup.Cause.Present {
				c.Cause = isup.Cause.Value
			}
			if m.Label.OPC == c.OPC {
				c.ReleasedBy = SideCalling
			} else {
				c.ReleasedBy = SideCalled
			}
			oc.released = true
			a.releases.pushBack(oc, true)
		}
	case msgRLC:
		if c.Release == 0 {
			// RLC without REL (e.g. answering a reset we did not see).
			c.Release = m.TS
			c.ReleasedBy = SideReset
		}
		a.close(oc, m.TS)
	}
}

func (a *Assembler) iam(m *decode.Message) {
	isup := &m.ISUP
	key := keyOf(m, isup.CIC)
	if old := a.open[key]; old != nil {
		oc := &old.call
		if !old.released && oc.OPC != m.Label.OPC && oc.Answer == 0 && oc.Alerting == 0 && !old.setup {
			// Dual seizure: both exchanges seized the circuit. The exchange
			// with the higher point code controls even CICs and the other
			// the odd ones; the controlling exchange's call proceeds.
			a.stats.DualSeizures++
			higher := m.Label.OPC > oc.OPC
			newWins := higher == (isup.CIC%2 == 0)
			if !newWins {
				old.call.Messages++
				return
			}
			a.closeReset(old, m.TS)
		} else {
			if !old.released {
				a.stats.Superseded++
				a.closeReset(old, m.TS)
			} else {
				a.close(old, m.TS)
			}
		}
	}
	if len(a.open) >= a.cfg.MaxOpenCalls {
		a.stats.Evicted++
		a.closeReset(a.active.head, m.TS)
	}
	oc := a.alloc()
	oc.key = key
	a.fill(oc, m)
	a.open[key] = oc
	a.stats.Calls++
	a.touch(oc, m.TS)
	if a.cfg.Open != nil {
		a.cfg.Open(&oc.call)
	}
}

func (a *Assembler) alloc() *openCall {
	if n := len(a.free); n > 0 {
		oc := a.free[n-1]
		a.free = a.free[:n-1]
		*oc = openCall{}
		return oc
	}
	return &openCall{}
}

// fill starts the call record from its IAM.
func (a *Assembler) fill(oc *openCall, m *decode.Message) {
	isup := &m.ISUP
	c := &oc.call
	c.Start = m.TS
	c.OPC, c.DPC, c.CIC = m.Label.OPC, m.Label.DPC, isup.CIC
	c.Protocol = m.Protocol
	if m.HasRC {
		c.RC = m.RoutingContext
	}
	c.Messages = 1
	c.Ref = a.ref
	a.idBuf = strconv.AppendUint(a.idBuf[:0], uint64(m.Source), 10)
	a.idBuf = append(a.idBuf, ':')
	a.idBuf = strconv.AppendUint(a.idBuf, m.Frame, 10)
	a.idBuf = append(a.idBuf, ':')
	a.idBuf = strconv.AppendUint(a.idBuf, uint64(isup.CIC), 10)
	c.ID = a.strs.string(a.idBuf)
	c.Link = a.linkName(m)

	if a.cfg.Partner != nil {
		if p := a.cfg.Partner(m.Src.Addr(), m.Label.OPC); p != "" {
			c.Partner, c.Direction = p, DirectionIngress
		} else if p := a.cfg.Partner(m.Dst.Addr(), m.Label.DPC); p != "" {
			c.Partner, c.Direction = p, DirectionEgress
		}
	}
	a.fillNumbers(oc, isup)
}

// fillNumbers takes the call's numbers, category and redirection from an IAM.
func (a *Assembler) fillNumbers(oc *openCall, isup *decode.ISUP) {
	c := &oc.call
	c.Calling = a.setNumber(&oc.numbers[0], &isup.Calling)
	c.Called = a.setNumber(&oc.numbers[1], &isup.Called)
	c.Redirecting = a.setNumber(&oc.numbers[2], &isup.Redirecting)
	c.OriginalCalled = a.setNumber(&oc.numbers[3], &isup.OriginalCalled)
	n := int(isup.NGeneric)
	if n > len(oc.generic) {
		n = len(oc.generic)
	}
	for i := 0; i < n; i++ {
		a.setNumber(&oc.generic[i], &isup.Generic[i])
	}
	c.Generic = oc.generic[:n]
	if isup.HasCategory {
		c.Category = isup.Category
	}
	if isup.Redirection.Present {
		c.Redirected = true
		c.RedirCounter = isup.Redirection.Counter
	}
	if c.Redirecting != nil || c.OriginalCalled != nil {
		c.Redirected = true
	}
}

func (a *Assembler) linkName(m *decode.Message) string {
	ln := linkName{transport: m.Transport}
	switch m.Transport {
	case decode.TransportMTP2, decode.TransportMTP3:
		ln.link = m.Link
	default:
		ln.src, ln.dst = m.Src, m.Dst
	}
	if name, ok := a.links[ln]; ok {
		return name
	}
	a.idBuf = a.idBuf[:0]
	if ln.src.IsValid() || ln.dst.IsValid() {
		a.idBuf = m.Src.AppendTo(a.idBuf)
		a.idBuf = append(a.idBuf, '>')
		a.idBuf = m.Dst.AppendTo(a.idBuf)
	} else {
		a.idBuf = append(a.idBuf, "link:"...)
		a.idBuf = strconv.AppendUint(a.idBuf, uint64(m.Link), 10)
	}
	name := string(a.idBuf)
	if a.links == nil || len(a.links) >= maxLinkNames {
		a.links = make(map[linkName]string)
	}
	a.links[ln] = name
	return name
}

func (a *Assembler) setNumber(dst *PartyNumber, n *decode.Number) *PartyNumber {
	if !n.Present {
		return nil
	}
	*dst = PartyNumber{Digits: a.strs.string(n.DigitBytes()), NAI: n.NAI, APRI: n.APRI}
	return dst
}

// strArena makes the strings of call records (IDs, digits) from large
// blocks, so a call costs no allocation of its own. Bytes are only ever
// appended to a block, never changed, so the strings stay immutable; a block
// is freed by the GC once no record refers to it.
type strArena struct{ block []byte }

const strArenaBlock = 64 << 10

func (s *strArena) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(s.block)+len(b) > cap(s.block) {
		s.block = make([]byte, 0, max(strArenaBlock, len(b)))
	}
	off := len(s.block)
	s.block = append(s.block, b...)
	return unsafe.String(&s.block[off], len(b))
}

func appendDigits(p *PartyNumber, digits []byte) {
	if len(digits) == 0 {
		return
	}
	p.Digits += string(digits)
}

func (a *Assembler) completeSetup(oc *openCall) {
	if oc.setup {
		return
	}
	oc.setup = true
	if a.cfg.Setup != nil {
		a.cfg.Setup(&oc.call)
	}
}

func (a *Assembler) reset(key circuitKey) {
	if oc := a.open[key]; oc != nil {
		a.stats.Resets++
		a.closeReset(oc, a.now)
	}
}

// closeReset closes a call that did not finish with REL/RLC.
func (a *Assembler) closeReset(oc *openCall, ts int64) {
	if oc.call.Release == 0 {
		oc.call.ReleasedBy = SideReset
	}
	a.close(oc, ts)
}

func (a *Assembler) close(oc *openCall, ts int64) {
	a.completeSetup(oc)
	c := &oc.call
	c.End = ts
	c.Outcome = outcomeOf(c)
	delete(a.open, oc.key)
	a.active.remove(oc, false)
	if oc.released {
		a.releases.remove(oc, true)
	}
	a.stats.Closed++
	if a.cfg.Close != nil {
		a.cfg.Close(c)
	}
	a.free = append(a.free, oc)
}

func outcomeOf(c *Call) Outcome {
	switch {
	case c.Answer != 0:
		return OutcomeAnswered
	case c.ReleasedBy == SideReset || c.Release == 0:
		return OutcomeFailed
	case c.Cause == causeUserBusy:
		return OutcomeBusy
	case c.Cause == causeNoUserResponse || c.Cause == causeNoAnswer:
		return OutcomeNoAnswer
	case c.ReleasedBy == SideCalling && c.Alerting != 0 && c.Cause == causeNormalClearing:
		return OutcomeNoAnswer
	case c.ReleasedBy == SideCalling:
		return OutcomeAbandoned
	}
	return OutcomeFailed
}

func (a *Assembler) touch(oc *openCall, ts int64) {
	oc.lastSeen = ts
	if a.active.tail != oc {
		a.active.remove(oc, false)
		a.active.pushBack(oc, false)
	}
}

// expire closes calls whose timers ran out by capture time a.now.
func (a *Assembler) expire() {
	for oc := a.releases.head; oc != nil && a.now-oc.call.Release > a.cfg.ReleaseTimeout; oc = a.releases.head {
		a.stats.ReleaseTimeout++
		a.close(oc, a.now)
	}
	for oc := a.active.head; oc != nil && a.now-oc.lastSeen > a.cfg.IdleTimeout; oc = a.active.head {
		a.stats.IdleTimeout++
		a.closeReset(oc, a.now)
	}
}

// Flush closes every open call (end of input), oldest activity first.
func (a *Assembler) Flush() {
	for oc := a.active.head; oc != nil; oc = a.active.head {
		if oc.call.Release == 0 {
			oc.call.ReleasedBy = SideReset
		}
		a.close(oc, a.now)
	}
}

func (l *callList) pushBack(oc *openCall, rel bool) {
	if rel {
		oc.rprev, oc.rnext = l.tail, nil
		if l.tail != nil {
			l.tail.rnext = oc
		} else {
			l.head = oc
		}
	} else {
		oc.prev, oc.next = l.tail, nil
		if l.tail != nil {
			l.tail.next = oc
		} else {
			l.head = oc
		}
	}
	l.tail = oc
}

func (l *callList) remove(oc *openCall, rel bool) {
	prev, next := &oc.prev, &oc.next
	if rel {
		prev, next = &oc.rprev, &oc.rnext
	}
	if *prev == nil && l.head != oc {
		return // not in the list
	}
	if *prev != nil {
		if rel {
			(*prev).rnext = *next
		} else {
			(*prev).next = *next
		}
	} else {
		l.head = *next
	}
	if *next != nil {
		if rel {
			(*next).rprev = *prev
		} else {
			(*next).prev = *prev
		}
	} else {
		l.tail = *prev
	}
	*prev, *next = nil, nil
}
