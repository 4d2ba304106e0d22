package decode

// MaxDigits bounds the address signals kept per number. Q.763 numbers are at
// most 15 E.164 digits plus prefixes; 32 leaves room for odd national formats.
const MaxDigits = 32

// MaxGeneric is how many generic number parameters one message keeps.
const MaxGeneric = 4

// Number is any ISUP address parameter (called, calling, redirecting, original
// called, redirection, location, generic, connected, charge, subsequent).
// Fields a parameter does not carry stay zero; Has* says which are meaningful.
type Number struct {
	Present bool
	Odd     bool  // odd/even indicator: odd number of address signals
	NAI     uint8 // nature of address indicator (7 bits)
	NPI     uint8 // numbering plan indicator (3 bits)
	INN     uint8 // INN indicator (called, redirection, location) or NI indicator (calling, generic)
	APRI    uint8 // address presentation restricted indicator
	SI      uint8 // screening indicator
	// Qualifier is the number qualifier indicator of a generic number.
	Qualifier uint8

	HasNAI, HasNPI, HasINN, HasNI, HasAPRI, HasSI bool

	// Truncated says the parameter carried more than MaxDigits signals and
	// only the first MaxDigits are kept (tshark shows the same 32).
	Truncated bool

	NDigits uint8
	// Digits are ASCII: '0'-'9' for decimal signals and 'A'-'F' for the
	// others (B = code 11, C = code 12, E = code 14, F = ST, …) so nothing is lost.
	Digits [MaxDigits]byte
}

// DigitBytes returns the address signals; it aliases n and does not allocate.
func (n *Number) DigitBytes() []byte { return n.Digits[:n.NDigits] }

// DigitString returns the address signals as a string (allocates).
func (n *Number) DigitString() string { return string(n.Digits[:n.NDigits]) }

// Redirection is the redirection information parameter (Q.763 3.45).
type Redirection struct {
	Present        bool
	Indicator      uint8 // redirecting indicator (3 bits)
	OriginalReason uint8 // original redirection reason (4 bits)
	Counter        uint8 // redirection counter (3 bits)
	Reason         uint8 // redirecting reason (4 bits)
}

// Cause is the cause indicators parameter (Q.763 3.12, Q.850).
type Cause struct {
	Present  bool
	Location uint8
	Standard uint8 // coding standard
	Value    uint8
}

// ISUP is the decoded ISUP message. Only the parameters the analysis needs are
// typed; every message keeps its raw bytes in Raw.
type ISUP struct {
	CIC  uint32 // 12 bits (ITU ISUP), 32 (BICC call instance code)
	Type uint8

	// Raw is the whole ISUP message (CIC onwards). Valid until the handler returns.
	Raw []byte

	// OptionalError is the first fault found in the optional part (a
	// malformed parameter, a length past the end, a pointer outside the
	// message). The message is still delivered, with the parameters that
	// decoded: its mandatory part identifies the call, and a monitor that
	// dropped it would let one bad octet hide a call from rules and retention.
	OptionalError Reason

	Called            Number
	Calling           Number
	Redirecting       Number
	OriginalCalled    Number
	RedirectionNumber Number
	Location          Number
	Connected         Number
	Charge            Number
	Subsequent        Number // SAM subsequent number
	NGeneric          uint8
	Generic           [MaxGeneric]Number

	Redirection Redirection
	Cause       Cause

	HasCategory bool
	Category    uint8 // calling party's category

	HasNatureOfConnection bool
	NatureOfConnection    uint8

	HasForwardCallIndicators bool
	ForwardCallIndicators    uint16 // as on the wire, first octet in the low byte

	HasBackwardCallIndicators bool
	BackwardCallIndicators    uint16 // as on the wire, first octet in the low byte

	HasEventInformation bool
	EventInformation    uint8

	HasHopCounter bool
	HopCounter    uint8

	HasTransmissionMediumRequirement bool
	TransmissionMediumRequirement    uint8

	// Circuit group messages (GRS, GRA, CGB, …): range and status.
	HasRange bool
	Range    uint8
}
