package decode

import "net/netip"

// Link types (pcap LINKTYPE_* values) the decoder accepts.
const (
	LinkTypeNull         = 0
	LinkTypeEthernet     = 1
	LinkTypeRaw          = 101 // raw IPv4/IPv6
	LinkTypeLoop         = 108
	LinkTypeLinuxSLL     = 113
	LinkTypeMTP2WithPHdr = 139
	LinkTypeMTP2         = 140
	LinkTypeMTP3         = 141
	LinkTypeIPv4         = 228
	LinkTypeIPv6         = 229
	LinkTypeLinuxSLL2    = 276
)

// Frame is one captured frame handed to the decoder. Data is only read during
// Decode and may be reused by the caller afterwards.
type Frame struct {
	TS       int64 // Unix nanoseconds
	LinkType uint16
	Source   uint16 // file or interface index in this run
	Frame    uint64 // 1-based frame number within the source
	Iface    uint16 // pcapng interface id, or live interface index
	// FCSLen is the number of trailing frame-check-sequence bytes on the frame
	// (pcapng if_fcslen); -1 means unknown, in which case Config.MTP2FCSLen applies
	// to the MTP2 link types.
	FCSLen int8
	Data   []byte
}

// Config controls decoding. The zero value decodes ITU 14-bit point codes.
type Config struct {
	// PCBits is the MTP3 point-code width used when nothing more specific
	// applies: 14 (ITU, default) or 24 (China, ANSI).
	PCBits uint8
	// LinkPCBits overrides PCBits for associations where either IP address
	// matches (SIGTRAN), keyed by peer address.
	LinkPCBits map[netip.Addr]uint8
	// SourcePCBits overrides PCBits for a whole source (e.g. an E1 capture
	// file or an MTP2 interface), keyed by Frame.Source.
	SourcePCBits map[uint16]uint8
	// MTP2FCSLen is the FCS length to strip from MTP2 frames when the capture
	// does not say (0 or 2; 4 for high-speed links).
	MTP2FCSLen int8
	// MaxPendingFragments bounds SCTP and IPv4 fragments held for reassembly
	// across all associations (default 4096); beyond it the oldest are dropped
	// and counted.
	MaxPendingFragments int
	// FragmentTimeout expires incomplete reassemblies, in nanoseconds of
	// capture time (default 30 s).
	FragmentTimeout int64
	// VerifySCTPChecksums computes each SCTP packet's CRC32c and counts bad
	// ones (Stats.SCTPBadChecksum). Off by default: a tap sees packets whose
	// checksum the sender's NIC had yet to fill, packets are decoded either
	// way, and the check costs about 6% of decoding.
	VerifySCTPChecksums bool
	// SIP decodes SIP over UDP, TCP (stream reassembly) and SCTP, with an
	// application/ISUP body decoded as SIP-I/SIP-T. Off, UDP and TCP are
	// counted as not_sctp as before.
	SIP bool
	// MaxTCPStreams bounds the TCP stream table (default DefaultMaxTCPStreams);
	// the least recently used stream is evicted beyond it.
	MaxTCPStreams int
}

// ErrorHandler is told about every dropped frame or message, with the reason;
// it is for diagnostics (stderr with file and frame) and must not retain detail.
type ErrorHandler func(source uint16, frame uint64, reason Reason)
