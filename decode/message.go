// Package decode turns captured frames into ISUP messages:
// link layer → IP → SCTP → M3UA/M2PA/M2UA (or MTP2/MTP3 link types) → MTP3 → ISUP.
//
// One file per layer, in the style of gopacket. The hot path (Decoder.Decode)
// allocates nothing per message in steady state: a Message is reused between
// calls and every slice in it points into the frame or into decoder-owned
// scratch space, valid only until the handler returns.
package decode

import (
	"net/netip"
)

// Transport is the adaptation layer that carried an MTP3 message.
type Transport uint8

const (
	TransportNone Transport = iota
	TransportM3UA
	TransportM2PA
	TransportM2UA
	TransportMTP2 // MTP2 link types (139, 140)
	TransportMTP3 // raw MTP3 link type (141)
	TransportUDP  // SIP over UDP
	TransportTCP  // SIP over TCP
	TransportSCTP // SIP directly over SCTP (RFC 4168)
)

var transportNames = [...]string{"", "m3ua", "m2pa", "m2ua", "mtp2", "mtp3", "udp", "tcp", "sctp"}

// IsSIP reports whether t carries SIP rather than SS7.
func (t Transport) IsSIP() bool { return t >= TransportUDP }

func (t Transport) String() string {
	if int(t) < len(transportNames) {
		return transportNames[t]
	}
	return "unknown"
}

// Protocol is the call-control protocol a message belongs to: ISUP (Q.763),
// BICC (Q.1902.4: the ISUP formats with a 32-bit call instance code in place
// of the CIC), or ISUP carried in a SIP body (SIP-I, Q.1912.5; SIP-T, RFC 3372).
type Protocol uint8

const (
	ProtocolISUP Protocol = iota
	ProtocolBICC
	ProtocolSIP  // SIP without an ISUP body
	ProtocolSIPI // SIP with an ITU-T ISUP body (Q.1912.5 SIP-I; version itu-t*, or a national ITU variant)
	ProtocolSIPT // SIP with an ISUP body of another variant (RFC 3372 SIP-T, e.g. ANSI)
)

var protocolNames = [...]string{"isup", "bicc", "sip", "sip-i", "sip-t"}

func (p Protocol) String() string {
	if int(p) < len(protocolNames) {
		return protocolNames[p]
	}
	return "unknown"
}

// ProtocolOfSI is the call-control protocol of an MTP3 service indicator that
// gatewarden decodes (SIISUP or SIBICC).
func ProtocolOfSI(si uint8) Protocol {
	if si == SIBICC {
		return ProtocolBICC
	}
	return ProtocolISUP
}

// Service indicators (Q.704 14.2.1) gatewarden cares about.
const (
	SISNM  = 0
	SISNTM = 1
	SISCCP = 3
	SITUP  = 4
	SIISUP = 5
	SIBICC = 13
)

// Label is the MTP3 service information octet and routing label. For M3UA the
// values come from the Protocol Data parameter instead of an MTP3 header.
type Label struct {
	NI     uint8 // network indicator (SIO bits 7-8)
	SI     uint8 // service indicator (SIO bits 1-4; spare bits masked off)
	MP     uint8 // message priority (M3UA protocol data; SIO spare bits otherwise)
	OPC    uint32
	DPC    uint32
	SLS    uint8
	PCBits uint8 // 14 (ITU), 16 (Japan) or 24 (China/ANSI)
}

// Message is one ISUP or BICC message with everything the capture told us about it.
type Message struct {
	TS     int64  // capture timestamp, Unix nanoseconds
	Source uint16 // index of the file or interface in this run (see Decoder.SourceName)
	Frame  uint64 // 1-based frame number within its source

	Transport Transport
	Protocol  Protocol
	Src, Dst  netip.AddrPort // zero for the SS7 link types
	VTag      uint32         // SCTP verification tag
	Stream    uint16         // SCTP stream identifier
	TSN       uint32         // SCTP TSN of the (last) DATA chunk
	SSN       uint16         // SCTP stream sequence number of that chunk (0 for I-DATA)
	PPID      uint32         // SCTP payload protocol identifier as sent (even when unassigned)
	Link      uint16         // MTP2 pseudo-header link number, M2UA interface identifier

	RoutingContext    uint32 // M3UA, valid when HasRC
	NetworkAppearance uint32 // M3UA, valid when HasNA
	HasRC, HasNA      bool

	Label Label

	// MTP3 holds SIO + routing label + ISUP bytes as they would appear on an
	// MTP2 link. For M3UA the SIO and label are rebuilt from Protocol Data.
	// Valid only until the handler returns.
	MTP3 []byte

	// ISUP is the ISUP or BICC message; for SIP, the application/ISUP body
	// (then CIC is zero: RFC 3204 bodies carry no CIC) when HasISUP.
	ISUP    ISUP
	HasISUP bool

	// SIP is the SIP message when Transport.IsSIP().
	SIP SIP
}

// Handler receives each decoded ISUP message. The message and every slice it
// holds are reused after the handler returns: copy what must be kept.
type Handler func(m *Message)
