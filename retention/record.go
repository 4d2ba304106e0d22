package retention

import (
	"net/netip"
	"strconv"

	"github.com/gatewarden/gatewarden/decode"
)

// Ref locates one stored message: the sequence number of its partition and its
// ordinal within that partition. A call is named by the Ref of its IAM.
type Ref uint64

// MakeRef builds a Ref from a partition sequence number and an ordinal.
func MakeRef(seq, ord uint32) Ref { return Ref(uint64(seq)<<32 | uint64(ord)) }

// Seq is the partition sequence number.
func (r Ref) Seq() uint32 { return uint32(r >> 32) }

// Ord is the message ordinal within its partition.
func (r Ref) Ord() uint32 { return uint32(r) }

// Role is the part a number plays in a message.
type Role uint8

const (
	RoleCalling Role = iota
	RoleCalled
	RoleRedirecting
	RoleOriginalCalled
	RoleGeneric
	RoleRedirection // redirection number (ACM/CPG/REL)
	numRoles
)

var roleNames = [numRoles]string{"calling", "called", "redirecting", "original_called", "generic", "redirection"}

func (r Role) String() string {
	if r < numRoles {
		return roleNames[r]
	}
	return "unknown"
}

// ParseRole accepts the names String returns.
func ParseRole(s string) (Role, bool) {
	for i, n := range roleNames {
		if n == s {
			return Role(i), true
		}
	}
	return 0, false
}

// RoleMask selects roles (bit 1<<Role); zero means any role.
type RoleMask uint8

// Has reports whether the mask selects r (a zero mask selects every role).
func (m RoleMask) Has(r Role) bool { return m == 0 || m&(1<<r) != 0 }

// Message is one stored ISUP message as read back from the store.
type Message struct {
	Ref  Ref `json:"-"`
	Call Ref `json:"-"` // Ref of the IAM that opened its call, or its own Ref

	TS        int64            `json:"ts"`
	Source    string           `json:"source"` // capture file or interface
	Frame     uint64           `json:"frame"`
	Transport decode.Transport `json:"-"`
	Src       netip.AddrPort   `json:"src"`
	Dst       netip.AddrPort   `json:"dst"`
	VTag      uint32           `json:"-"`
	Stream    uint16           `json:"stream"`
	TSN       uint32           `json:"-"`
	SSN       uint16           `json:"-"` // SCTP stream sequence number (0 in stores older than it)
	PPID      uint32           `json:"-"` // SCTP payload protocol identifier as sent (0: not kept)
	Link      uint16           `json:"link,omitempty"`

	RoutingContext    uint32 `json:"rc,omitempty"`
	NetworkAppearance uint32 `json:"na,omitempty"`
	HasRC             bool   `json:"-"`
	HasNA             bool   `json:"-"`

	Label decode.Label `json:"-"`
	CIC   uint32       `json:"cic"`
	Type  uint8        `json:"-"`

	// MTP3 is the SIO, routing label and ISUP message, as on an MTP2 link.
	MTP3 []byte `json:"-"`
}

// Protocol is the call control the message belongs to: by its transport and
// ISUP body for SIP, by its service indicator otherwise.
func (m *Message) Protocol() decode.Protocol {
	if m.Transport.IsSIP() {
		if m.Type != 0 {
			return decode.ProtocolSIPI
		}
		return decode.ProtocolSIP
	}
	return decode.ProtocolOfSI(m.Label.SI)
}

// IsSIP reports whether the message is SIP (its MTP3 field then holds the
// whole SIP message).
func (m *Message) IsSIP() bool { return m.Transport.IsSIP() }

// TypeName names the message for a ladder: the ISUP/BICC message type; for
// SIP the method or the status code and phrase, with the ISUP body's type
// after a "/" (e.g. "INVITE/IAM", "180 Ringing/ACM").
func (m *Message) TypeName() string {
	if !m.Transport.IsSIP() {
		return decode.MessageTypeName(m.Type)
	}
	var s decode.SIP
	if decode.ParseSIP(m.MTP3, m.Transport != decode.TransportTCP, &s) != decode.ReasonNone {
		return "SIP"
	}
	name := string(s.MethodText)
	if !s.Request {
		name = strconv.Itoa(int(s.Status))
		if len(s.Phrase) > 0 {
			name += " " + string(s.Phrase)
		}
	}
	if m.Type != 0 {
		name += "/" + decode.MessageTypeName(m.Type)
	}
	return name
}

// number is one indexed number of a message.
type number struct {
	role   Role
	digits []byte
}

// walMessage is a message as logged, with what the index needs.
type walMessage struct {
	Message
	numbers []number
}

// Extensions that may follow a message record's numbers, and a block's
// MTP3 bytes: a tag, then its fields. Records and blocks written before an
// extension existed simply end earlier, so old stores read as before (the
// fields are zero); a reader stops at a tag it does not know.
const (
	extSCTP = 1 // SCTP payload protocol identifier and stream sequence number
)

// Flag bits of a stored message.
const (
	flagHasRC = 1 << iota
	flagHasNA
)

// appendMessageRecord encodes m for the write-ahead log without allocating.
func appendMessageRecord(b []byte, m *decode.Message, source string, call Ref) []byte {
	b = append(b, recMessage)
	b = appendUvarint(b, uint64(call))
	b = appendVarint(b, m.TS)
	b = appendString(b, source)
	b = appendUvarint(b, m.Frame)
	b = append(b, byte(m.Transport))
	b = appendAddrPort(b, m.Src)
	b = appendAddrPort(b, m.Dst)
	b = appendUvarint(b, uint64(m.VTag))
	b = appendUvarint(b, uint64(m.Stream))
	b = appendUvarint(b, uint64(m.TSN))
	b = appendUvarint(b, uint64(m.Link))
	b = appendUvarint(b, uint64(m.RoutingContext))
	b = appendUvarint(b, uint64(m.NetworkAppearance))
	var flags byte
	if m.HasRC {
		flags |= flagHasRC
	}
	if m.HasNA {
		flags |= flagHasNA
	}
	l := &m.Label
	b = append(b, flags, l.NI, l.SI, l.MP, l.SLS, l.PCBits)
	b = appendUvarint(b, uint64(l.OPC))
	b = appendUvarint(b, uint64(l.DPC))
	if m.Transport.IsSIP() {
		b = appendSIPRecord(b, m)
	} else {
		b = appendUvarint(b, uint64(m.ISUP.CIC))
		b = append(b, m.ISUP.Type)
		b = appendBytes(b, m.MTP3)
		b = appendNumbers(b, &m.ISUP)
	}
	if m.PPID != 0 || m.SSN != 0 {
		b = append(b, extSCTP)
		b = appendUvarint(b, uint64(m.PPID))
		b = appendUvarint(b, uint64(m.SSN))
	}
	return b
}

// appendSIPRecord writes the rest of a SIP message's record: the dialog code
// where an ISUP message has its CIC, the ISUP body's type (0 without one),
// the whole SIP message where an ISUP message has its MTP3 bytes, and the
// numbers to index: the ISUP body's, else an initial INVITE's header numbers.
func appendSIPRecord(b []byte, m *decode.Message) []byte {
	s := &m.SIP
	b = appendUvarint(b, uint64(decode.SIPDialogCode(s.CallID)))
	var typ uint8
	if m.HasISUP {
		typ = m.ISUP.Type
	}
	b = append(b, typ)
	b = appendBytes(b, s.Raw)
	if m.HasISUP || !s.IsInitialInvite() {
		if !m.HasISUP {
			return append(b, 0)
		}
		return appendNumbers(b, &m.ISUP)
	}
	caller := &s.From
	if s.NPAI > 0 {
		caller = &s.PAI[0]
	}
	var nums [3]struct {
		role Role
		a    *decode.SIPAddr
	}
	nums[0].role, nums[0].a = RoleCalling, caller
	nums[1].role, nums[1].a = RoleCalled, &s.RURI
	n := 2
	if s.NDiversion > 0 {
		nums[2].role, nums[2].a = RoleRedirecting, &s.Diversion[0]
		n = 3
	}
	count := 0
	for i := 0; i < n; i++ {
		if sipDigits(nums[i].a.User) != nil {
			count++
		}
	}
	b = append(b, byte(count))
	for i := 0; i < n; i++ {
		if d := sipDigits(nums[i].a.User); d != nil {
			b = append(b, byte(nums[i].role))
			b = appendBytes(b, d)
		}
	}
	return b
}

// sipDigits is a URI user part as digits to index ("+" and visual
// separators dropped; it aliases u), or nil when it is not a number.
func sipDigits(u []byte) []byte {
	if len(u) > 0 && u[0] == '+' {
		u = u[1:]
	}
	if len(u) == 0 {
		return nil
	}
	for _, c := range u {
		if c < '0' || c > '9' {
			return nil // separators are rare: such a number is left unindexed
		}
	}
	return u
}

// appendNumbers writes the indexed numbers of an ISUP message.
func appendNumbers(b []byte, is *decode.ISUP) []byte {
	count := 0
	countNum := func(n *decode.Number) {
		if n.Present && n.NDigits > 0 {
			count++
		}
	}
	countNum(&is.Calling)
	countNum(&is.Called)
	countNum(&is.Redirecting)
	countNum(&is.OriginalCalled)
	countNum(&is.RedirectionNumber)
	ng := int(is.NGeneric)
	if ng > len(is.Generic) {
		ng = len(is.Generic)
	}
	for i := 0; i < ng; i++ {
		countNum(&is.Generic[i])
	}
	b = append(b, byte(count))
	b = appendNumber(b, RoleCalling, &is.Calling)
	b = appendNumber(b, RoleCalled, &is.Called)
	b = appendNumber(b, RoleRedirecting, &is.Redirecting)
	b = appendNumber(b, RoleOriginalCalled, &is.OriginalCalled)
	b = appendNumber(b, RoleRedirection, &is.RedirectionNumber)
	for i := 0; i < ng; i++ {
		b = appendNumber(b, RoleGeneric, &is.Generic[i])
	}
	return b
}

func appendNumber(b []byte, role Role, n *decode.Number) []byte {
	if !n.Present || n.NDigits == 0 {
		return b
	}
	b = append(b, byte(role))
	return appendBytes(b, n.DigitBytes())
}

// decodeMessageRecord parses what appendMessageRecord wrote (after the type byte).
// Slices alias b.
// lastSource interns the source name, which rarely changes between records.
func decodeMessageRecord(b []byte, w *walMessage, lastSource *string) error {
	r := reader{b: b}
	w.Call = Ref(r.uvarint())
	w.TS = r.varint()
	if src := r.bytes(); string(src) != *lastSource {
		*lastSource = string(src)
	}
	w.Source = *lastSource
	w.Frame = r.uvarint()
	w.Transport = decode.Transport(r.byte1())
	w.Src = r.addrPort()
	w.Dst = r.addrPort()
	w.VTag = uint32(r.uvarint())
	w.Stream = uint16(r.uvarint())
	w.TSN = uint32(r.uvarint())
	w.Link = uint16(r.uvarint())
	w.RoutingContext = uint32(r.uvarint())
	w.NetworkAppearance = uint32(r.uvarint())
	flags := r.byte1()
	w.HasRC = flags&flagHasRC != 0
	w.HasNA = flags&flagHasNA != 0
	w.Label.NI = r.byte1()
	w.Label.SI = r.byte1()
	w.Label.MP = r.byte1()
	w.Label.SLS = r.byte1()
	w.Label.PCBits = r.byte1()
	w.Label.OPC = uint32(r.uvarint())
	w.Label.DPC = uint32(r.uvarint())
	w.CIC = uint32(r.uvarint())
	w.Type = r.byte1()
	w.MTP3 = r.bytes()
	n := int(r.byte1())
	w.numbers = w.numbers[:0]
	for i := 0; i < n && r.err == nil; i++ {
		role := Role(r.byte1())
		d := r.bytes()
		if role >= numRoles {
			return errCorrupt
		}
		w.numbers = append(w.numbers, number{role: role, digits: d})
	}
	w.PPID, w.SSN = 0, 0
	if r.err == nil && len(r.b) > 0 && r.b[0] == extSCTP {
		r.byte1()
		w.PPID = uint32(r.uvarint())
		w.SSN = uint16(r.uvarint())
	}
	return r.err
}

// DecodeSIP fills out from a stored SIP message, as the decoder did when it
// was captured: the SIP fields (aliasing m's bytes) and the ISUP body. It
// reports false, with the reason, when the stored bytes do not parse.
func DecodeSIP(m *Message, out *decode.Message) (bool, decode.Reason) {
	*out = decode.Message{TS: m.TS, Frame: m.Frame, Transport: m.Transport, Src: m.Src, Dst: m.Dst,
		VTag: m.VTag, Stream: m.Stream, TSN: m.TSN, Protocol: decode.ProtocolSIP}
	if r := decode.ParseSIP(m.MTP3, m.Transport != decode.TransportTCP, &out.SIP); r != decode.ReasonNone {
		return false, r
	}
	s := &out.SIP
	if !s.HasISUP {
		return true, decode.ReasonNone
	}
	if !decode.ITUISUPBody(s.ISUPVersion) {
		out.Protocol = decode.ProtocolSIPT
		return true, decode.ReasonNone
	}
	out.Protocol = decode.ProtocolSIPI
	if r := decode.DecodeISUPBody(s.ISUPBody, &out.ISUP); r != decode.ReasonNone {
		return true, r
	}
	out.HasISUP = true
	return true, decode.ReasonNone
}
