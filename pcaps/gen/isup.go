package gen

import "encoding/binary"

// ISUP message types (Q.763 table 4) the generator writes.
const (
	TypeIAM = 0x01
	TypeSAM = 0x02
	TypeACM = 0x06
	TypeANM = 0x09
	TypeREL = 0x0c
	TypeRLC = 0x10
	TypeCPG = 0x2c
)

// TypeName is the abbreviation `gatewarden decode` prints for an ISUP type.
func TypeName(t uint8) string {
	switch t {
	case TypeIAM:
		return "IAM"
	case TypeSAM:
		return "SAM"
	case TypeACM:
		return "ACM"
	case TypeANM:
		return "ANM"
	case TypeREL:
		return "REL"
	case TypeRLC:
		return "RLC"
	case TypeCPG:
		return "CPG"
	}
	return "unknown"
}

// alertingEvent is the CPG event information value "alerting" (Q.763 3.21).
const alertingEvent = 0x01

// ISUP optional parameter codes (Q.763 table 5).
const (
	parCalling           = 0x0a
	parRedirecting       = 0x0b
	parRedirectionNumber = 0x0c
	parRedirectionInfo   = 0x13
	parOriginalCalled    = 0x28
	parHopCounter        = 0x3d
	parLocation          = 0x3f
	parGeneric           = 0xc0
)

// Nature of address indicators (Q.763 3.9) and common values of other fields.
const (
	NAISubscriber    = 1
	NAIUnknown       = 2
	NAINational      = 3
	NAIInternational = 4
	NPIISDN          = 1 // E.164

	APRIAllowed    = 0
	APRIRestricted = 1

	SIUserNotScreened = 0
	SIUserPassed      = 1
	SINetworkProvided = 3

	// Generic number qualifiers (Q.763 3.26).
	QualifierAdditionalCalled  = 1
	QualifierAdditionalCalling = 6

	CategoryOrdinary = 0x0a
	CategoryPriority = 0x0b
	CategoryTest     = 0x0d
	CategoryPayphone = 0x0f

	// Q.850 cause values.
	CauseUnallocated    = 1
	CauseNoRoute        = 3
	CauseNormal         = 16
	CauseBusy           = 17
	CauseNoAnswer       = 19
	CauseRejected       = 21
	CauseRedirected     = 23
	CauseInvalidFormat  = 28
	CauseNormalUnspec   = 31
	CauseNoCircuit      = 34
	CauseTemporary      = 41
	CauseCongestion     = 42
	LocationUser        = 0
	LocationPrivateNet  = 1
	LocationPublicLocal = 2
	LocationTransit     = 3
	LocationPublicRem   = 4
	LocationIntl        = 7
)

// Number is an ISUP address as the generator writes it. Only the fields the
// parameter has are encoded (see the parameter encoders below).
type Number struct {
	Digits    string // '0'-'9', 'A'-'F' (F = ST)
	NAI       uint8
	NPI       uint8
	INN       uint8 // called, redirection, location
	NI        uint8 // calling, generic: number incomplete
	APRI      uint8
	SI        uint8
	Qualifier uint8 // generic number
}

// Redirection is the redirection information parameter (Q.763 3.45).
type Redirection struct {
	Indicator      uint8 `json:"indicator"`
	OriginalReason uint8 `json:"original_reason"`
	Counter        uint8 `json:"counter"`
	Reason         uint8 `json:"reason"`
}

// Cause is the cause indicators parameter (coding standard ITU-T).
type Cause struct {
	Value    uint8 `json:"value"`
	Location uint8 `json:"location"`
}

func digitNibble(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return 0
}

// AppendBCD packs digits two per octet, first digit in the low nibble, and
// a zero filler nibble after an odd count. It reports whether the count is odd.
func AppendBCD(b []byte, digits string) ([]byte, bool) {
	for i := 0; i < len(digits); i += 2 {
		v := digitNibble(digits[i])
		if i+1 < len(digits) {
			v |= digitNibble(digits[i+1]) << 4
		}
		b = append(b, v)
	}
	return b, len(digits)%2 == 1
}

func oddBit(odd bool) byte {
	if odd {
		return 0x80
	}
	return 0
}

// numberKind selects the Q.763 layout of an address parameter's second octet.
type numberKind uint8

const (
	kindCalled      numberKind = iota // INN, NPI (called, redirection number)
	kindCalling                       // NI, NPI, APRI, SI (calling, generic)
	kindRedirecting                   // NPI, APRI (redirecting, original called)
	kindLocation                      // INN, NPI, APRI, SI
	kindGeneric                       // qualifier, then as calling
	kindSubsequent                    // digits only (SAM)
)

// appendNumberValue writes the value of an address parameter (no length).
func appendNumberValue(b []byte, n *Number, kind numberKind) []byte {
	if kind == kindGeneric {
		b = append(b, n.Qualifier)
		kind = kindCalling
	}
	first := len(b)
	b = append(b, n.NAI&0x7f)
	var second byte
	switch kind {
	case kindCalled:
		second = n.INN<<7 | (n.NPI&7)<<4
	case kindCalling:
		second = n.NI<<7 | (n.NPI&7)<<4 | (n.APRI&3)<<2 | n.SI&3
	case kindRedirecting:
		second = (n.NPI&7)<<4 | (n.APRI&3)<<2
	case kindLocation:
		second = n.INN<<7 | (n.NPI&7)<<4 | (n.APRI&3)<<2 | n.SI&3
	}
	b = append(b, second)
	b, odd := AppendBCD(b, n.Digits)
	b[first] |= oddBit(odd)
	return b
}

// appendVar writes a length-prefixed value produced by fn.
func appendVar(b []byte, fn func([]byte) []byte) []byte {
	at := len(b)
	b = append(b, 0)
	b = fn(b)
	b[at] = byte(len(b) - at - 1)
	return b
}

func appendOptNumber(b []byte, code byte, n *Number, kind numberKind) []byte {
	if n == nil {
		return b
	}
	b = append(b, code)
	return appendVar(b, func(b []byte) []byte { return appendNumberValue(b, n, kind) })
}

func appendCause(b []byte, c Cause) []byte {
	// extension bits set, coding standard ITU-T (0)
	return append(b, 2, 0x80|c.Location&0x0f, 0x80|c.Value&0x7f)
}

// IAM is everything an initial address message carries.
type IAM struct {
	NatureOfConnection    uint8
	ForwardCallIndicators uint16 // first octet in the low byte
	Category              uint8
	TransmissionMedium    uint8
	Called                Number
	Calling               *Number
	Redirecting           *Number
	OriginalCalled        *Number
	Redirection           *Redirection
	Location              *Number
	Generic               []Number
	HopCounter            uint8 // 0: absent
}

// AppendBICC appends the BICC message (Q.1902.4) with the type and
// parameters of the ISUP message isup: its 2-octet CIC replaced by a 4-octet
// call instance code, least significant octet first.
func AppendBICC(b []byte, cic uint32, isup []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, cic)
	return append(b, isup[2:]...)
}

func appendHeader(b []byte, cic uint16, typ uint8) []byte {
	b = binary.LittleEndian.AppendUint16(b, cic&0x0fff)
	return append(b, typ)
}

// endOptional closes an optional part, or clears its pointer when empty.
func endOptional(b []byte, ptrAt, optStart int) []byte {
	if len(b) == optStart {
		b[ptrAt] = 0
		return b
	}
	b[ptrAt] = byte(optStart - ptrAt)
	return append(b, 0)
}

// AppendIAM encodes an IAM (Q.763 table 32).
func AppendIAM(b []byte, cic uint16, m *IAM) []byte {
	b = appendHeader(b, cic, TypeIAM)
	b = append(b, m.NatureOfConnection, byte(m.ForwardCallIndicators), byte(m.ForwardCallIndicators>>8),
		m.Category, m.TransmissionMedium, 2, 0)
	optPtr := len(b) - 1
	b = appendVar(b, func(b []byte) []byte { return appendNumberValue(b, &m.Called, kindCalled) })
	opt := len(b)
	b = appendOptNumber(b, parCalling, m.Calling, kindCalling)
	b = appendOptNumber(b, parRedirecting, m.Redirecting, kindRedirecting)
	b = appendOptNumber(b, parOriginalCalled, m.OriginalCalled, kindRedirecting)
	if r := m.Redirection; r != nil {
		b = append(b, parRedirectionInfo, 2, r.OriginalReason<<4|r.Indicator&7, r.Reason<<4|r.Counter&7)
	}
	b = appendOptNumber(b, parLocation, m.Location, kindLocation)
	for i := range m.Generic {
		b = appendOptNumber(b, parGeneric, &m.Generic[i], kindGeneric)
	}
	if m.HopCounter != 0 {
		b = append(b, parHopCounter, 1, m.HopCounter&0x1f)
	}
	return endOptional(b, optPtr, opt)
}

// AppendSAM encodes a subsequent address message with the remaining digits.
func AppendSAM(b []byte, cic uint16, digits string) []byte {
	b = appendHeader(b, cic, TypeSAM)
	b = append(b, 2, 0)
	return appendVar(b, func(b []byte) []byte {
		at := len(b)
		b = append(b, 0)
		b, odd := AppendBCD(b, digits)
		b[at] = oddBit(odd)
		return b
	})
}

// AppendACM encodes an address complete message with backward call indicators.
func AppendACM(b []byte, cic uint16, bci uint16) []byte {
	b = appendHeader(b, cic, TypeACM)
	return append(b, byte(bci), byte(bci>>8), 0)
}

// AppendCPG encodes a call progress message with the event information.
func AppendCPG(b []byte, cic uint16, event uint8) []byte {
	b = appendHeader(b, cic, TypeCPG)
	return append(b, event, 0)
}

// AppendANM encodes an answer message without optional parameters.
func AppendANM(b []byte, cic uint16) []byte {
	return append(appendHeader(b, cic, TypeANM), 0)
}

// AppendREL encodes a release; a redirection number and information may
// accompany cause 23.
func AppendREL(b []byte, cic uint16, c Cause, redirNumber *Number, redir *Redirection) []byte {
	b = appendHeader(b, cic, TypeREL)
	b = append(b, 2, 0)
	optPtr := len(b) - 1
	b = appendCause(b, c)
	opt := len(b)
	b = appendOptNumber(b, parRedirectionNumber, redirNumber, kindCalled)
	if redir != nil {
		b = append(b, parRedirectionInfo, 2, redir.OriginalReason<<4|redir.Indicator&7, redir.Reason<<4|redir.Counter&7)
	}
	return endOptional(b, optPtr, opt)
}

// AppendRLC encodes a release complete.
func AppendRLC(b []byte, cic uint16) []byte {
	return append(appendHeader(b, cic, TypeRLC), 0)
}
