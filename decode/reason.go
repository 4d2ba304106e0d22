package decode

// Reason names why a frame, chunk or message did not become an ISUP, BICC or
// SIP message.
// Every reason is either a drop (something was wrong or lost) or a skip (the
// traffic is valid but is not ISUP). Both are counted; neither is silent.
type Reason uint8

const (
	ReasonNone Reason = iota

	// Link and network layers.
	DropLinkTypeUnsupported
	DropLinkTruncated
	SkipNotIP // ARP, LLDP, … on an Ethernet/SLL link
	DropIPTruncated
	DropIPBadHeader
	SkipNotSCTP // neither SCTP, UDP nor TCP (ICMP, OSPF, …)
	DropIPFragmentExpired
	DropIPFragmentOverflow
	DropIPFragmentBad

	// SCTP.
	DropSCTPTruncated
	DropSCTPBadChunk
	SkipSCTPControl // SACK, HEARTBEAT, INIT, … (counted per chunk)
	SkipSCTPDuplicate
	DropSCTPFragmentExpired
	DropSCTPFragmentOverflow
	DropSCTPFragmentBad
	SkipSCTPUnknownPPID // DATA for a protocol that is not SIGTRAN (e.g. MEGACO, Diameter)

	// Adaptation layers.
	DropM3UATruncated
	DropM3UABad
	SkipM3UAManagement // MGMT, ASPSM, ASPTM, RKM, SSNM (counted per class/type too)
	DropM2PATruncated
	DropM2PABad
	SkipM2PALinkStatus
	DropM2UATruncated
	DropM2UABad
	SkipM2UAManagement

	// MTP2 / MTP3.
	DropMTP2Truncated
	SkipMTP2FISU
	SkipMTP2LSSU
	SkipMTP2Retransmission
	DropMTP3Truncated
	SkipMTP3NotISUP // SNM, SNT (SLTM/SLTA), SCCP, TUP, H.248, … (neither ISUP nor BICC)
	DropMTP3PCWidthUnsupported

	// ISUP.
	DropISUPTruncated
	DropISUPBadPointer
	DropISUPBadParameter
	SkipISUPUnknownType // decoded and delivered, but counted: see Stats

	// UDP, TCP and SIP (sip.go, tcp.go).
	DropUDPTruncated
	SkipUDPNotSIP // a UDP payload that is not SIP (RTP, DNS, MGCP, …)
	DropTCPTruncated
	SkipTCPControl   // a TCP segment without payload (SYN, FIN, pure ACK)
	SkipTCPNotSIP    // TCP payload on a stream that is not SIP
	SkipTCPDuplicate // TCP payload already delivered (retransmission)
	DropTCPGap       // stream bytes never seen (lost segment): the stream resynchronises
	DropTCPOverflow  // stream or out-of-order bytes beyond the bounds
	DropSIPTruncated // message shorter than its headers or Content-Length say
	DropSIPTooLong   // message or unframed stream data beyond MaxSIPMessage
	DropSIPBadStartLine
	DropSIPBadHeader     // a header line without a name, a bad CSeq or Content-Length, too many headers
	DropSIPMissingHeader // no Call-ID or CSeq
	DropSIPBadBody       // multipart body without boundary or delimiter
	// SkipSIPISUPVariant: an application/ISUP body of a variant the ISUP
	// decoder does not read (ANSI); the SIP message is still delivered.
	SkipSIPISUPVariant

	NumReasons
)

var reasonNames = [NumReasons]string{
	ReasonNone:                 "none",
	DropLinkTypeUnsupported:    "link_type_unsupported",
	DropLinkTruncated:          "link_truncated",
	SkipNotIP:                  "not_ip",
	DropIPTruncated:            "ip_truncated",
	DropIPBadHeader:            "ip_bad_header",
	SkipNotSCTP:                "not_sctp",
	DropIPFragmentExpired:      "ip_fragment_expired",
	DropIPFragmentOverflow:     "ip_fragment_overflow",
	DropIPFragmentBad:          "ip_fragment_bad",
	DropSCTPTruncated:          "sctp_truncated",
	DropSCTPBadChunk:           "sctp_bad_chunk",
	SkipSCTPControl:            "sctp_control_chunk",
	SkipSCTPDuplicate:          "sctp_duplicate_data",
	DropSCTPFragmentExpired:    "sctp_fragment_expired",
	DropSCTPFragmentOverflow:   "sctp_fragment_overflow",
	DropSCTPFragmentBad:        "sctp_fragment_bad",
	SkipSCTPUnknownPPID:        "sctp_not_sigtran",
	DropM3UATruncated:          "m3ua_truncated",
	DropM3UABad:                "m3ua_bad",
	SkipM3UAManagement:         "m3ua_management",
	DropM2PATruncated:          "m2pa_truncated",
	DropM2PABad:                "m2pa_bad",
	SkipM2PALinkStatus:         "m2pa_link_status",
	DropM2UATruncated:          "m2ua_truncated",
	DropM2UABad:                "m2ua_bad",
	SkipM2UAManagement:         "m2ua_management",
	DropMTP2Truncated:          "mtp2_truncated",
	SkipMTP2FISU:               "mtp2_fisu",
	SkipMTP2LSSU:               "mtp2_lssu",
	SkipMTP2Retransmission:     "mtp2_retransmission",
	DropMTP3Truncated:          "mtp3_truncated",
	SkipMTP3NotISUP:            "mtp3_not_isup",
	DropMTP3PCWidthUnsupported: "mtp3_pc_width_unsupported",
	DropISUPTruncated:          "isup_truncated",
	DropISUPBadPointer:         "isup_bad_pointer",
	DropISUPBadParameter:       "isup_bad_parameter",
	SkipISUPUnknownType:        "isup_unknown_type",
	DropUDPTruncated:           "udp_truncated",
	SkipUDPNotSIP:              "udp_not_sip",
	DropTCPTruncated:           "tcp_truncated",
	SkipTCPControl:             "tcp_control",
	SkipTCPNotSIP:              "tcp_not_sip",
	SkipTCPDuplicate:           "tcp_duplicate",
	DropTCPGap:                 "tcp_gap",
	DropTCPOverflow:            "tcp_overflow",
	DropSIPTruncated:           "sip_truncated",
	DropSIPTooLong:             "sip_too_long",
	DropSIPBadStartLine:        "sip_bad_start_line",
	DropSIPBadHeader:           "sip_bad_header",
	DropSIPMissingHeader:       "sip_missing_header",
	DropSIPBadBody:             "sip_bad_body",
	SkipSIPISUPVariant:         "sip_isup_variant_unsupported",
}

func (r Reason) String() string {
	if r < NumReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// IsDrop reports whether r means something was wrong or lost (as opposed to
// valid traffic that is simply not ISUP).
func (r Reason) IsDrop() bool {
	switch r {
	case SkipNotIP, SkipNotSCTP, SkipSCTPControl, SkipSCTPDuplicate, SkipSCTPUnknownPPID,
		SkipM3UAManagement, SkipM2PALinkStatus, SkipM2UAManagement,
		SkipMTP2FISU, SkipMTP2LSSU, SkipMTP2Retransmission, SkipMTP3NotISUP, SkipISUPUnknownType, ReasonNone,
		SkipUDPNotSIP, SkipTCPControl, SkipTCPNotSIP, SkipTCPDuplicate, SkipSIPISUPVariant:
		return false
	}
	return true
}
