// Package tsharkref turns tshark's dissection of a capture into one normalised
// record per ISUP message, so gatewarden's decoder can be checked against the
// reference dissector without tshark being present at test time (the records
// are kept as golden JSON-lines files and re-checked against tshark in CI).
//
// Every value is what tshark shows; nothing is re-derived from the bytes except
// the ISUP byte hash, which is rebuilt from the byte ranges tshark reports.
//
// What tshark 4.0 PDML shows, as learnt from the captures:
//
//   - Each ISUP message is a <proto name="isup"> after the m3ua, or mtp2/m2pa/
//     m2ua + mtp3, protos that carried it; SCTP bundling repeats sctp (one
//     DATA chunk each), m3ua and isup in one packet. A resent DATA chunk is
//     marked by tshark's TSN analysis and not dissected again, so SCTP copies
//     do not reach the records; MTP2 copies do.
//   - Label: m3ua.protocol_data_{opc,dpc,si,ni,sls}; mtp3.{opc,dpc,sls} (the
//     first of each; ANSI and Chinese labels repeat them) and
//     mtp3.network_indicator / mtp3.service_indicator as "0x02".
//   - Parameters are unnamed groups whose first child isup.parameter_type
//     shows the Q.763 code; indicators use the calling-party field names for
//     every parameter but the called and redirection numbers
//     (isup.called_party_nature_of_address_indicator), isup.ni_indicator or
//     isup.inn_indicator, isup.screening_indicator (generic number:
//     isup.screening_indicator_enhanced), isup.number_qualifier_indicator
//     as "0x06"; the redirecting and original called numbers have no
//     screening indicator.
//   - Digits (isup.called, isup.calling, isup.redirecting,
//     isup.original_called_number, isup.redirection_number,
//     isup.location_number, isup.generic_number) are '0'-'9' and 'A'-'F' for
//     codes 10-15, so ST shows as F; an odd number's filler nibble is not
//     shown; at most 32 signals are shown (isup.too_many_digits beyond).
//   - A number without signals has no digits field but isup.empty_number
//     under an expert item.
//   - Cause: q931.cause_location, q931.coding_standard, isup.cause_indicator
//     (octet 3a is skipped); for a non-ITU coding standard only the raw octets.
//   - Redirection information: isup.redirecting_ind,
//     isup.original_redirection_reason, isup.redirection_counter,
//     isup.redirection_reason.
//   - Byte positions are right except isup.mandatory_variable_parameter_pointer,
//     which tshark places at a wrong offset; trailing octets after the last
//     parameter (xdr_tester_m2pa.pcap) and the body of an unknown message type
//     are not shown at all.
package tsharkref

// Number is one ISUP address parameter as tshark shows it. Pointer fields are
// nil when tshark did not show that indicator for the parameter (for example
// the redirecting number has no screening indicator).
type Number struct {
	// Digits is tshark's digit string: '0'-'9' and 'A'-'F' for the other
	// signals (F = ST), without the filler of an odd-length number.
	Digits string `json:"digits"`
	// Empty is set when tshark flagged the parameter as carrying no address
	// signals (isup.empty_number).
	Empty     bool   `json:"empty,omitempty"`
	Odd       *uint8 `json:"odd,omitempty"`
	NAI       *uint8 `json:"nai,omitempty"`
	NPI       *uint8 `json:"npi,omitempty"`
	INN       *uint8 `json:"inn,omitempty"`
	NI        *uint8 `json:"ni,omitempty"`
	APRI      *uint8 `json:"apri,omitempty"`
	SI        *uint8 `json:"si,omitempty"`
	Qualifier *uint8 `json:"qualifier,omitempty"`
}

// Redirection is the redirection information parameter (Q.763 3.45).
type Redirection struct {
	Indicator      *uint8 `json:"indicator,omitempty"`
	OriginalReason *uint8 `json:"original_reason,omitempty"`
	Counter        *uint8 `json:"counter,omitempty"`
	Reason         *uint8 `json:"reason,omitempty"`
}

// Cause is the first cause indicators parameter (Q.763 3.12 / Q.850).
type Cause struct {
	Value    *uint8 `json:"value,omitempty"`
	Location *uint8 `json:"location,omitempty"`
	Standard *uint8 `json:"standard,omitempty"`
}

// ProtocolBICC is Record.Protocol for a BICC message.
const (
	ProtocolBICC = "bicc"
	ProtocolSIP  = "sip"
	ProtocolSIPI = "sip-i"
)

// Record is one ISUP (or BICC) message in tshark's dissection, in frame order.
type Record struct {
	Frame uint64 `json:"frame"`
	// Index is the position of this ISUP message among those in the frame
	// (several when SCTP bundles DATA chunks).
	Index     int    `json:"index"`
	Transport string `json:"transport"` // m3ua, m2pa, m2ua, mtp2, mtp3
	// Protocol is empty for ISUP, ProtocolBICC for a BICC message (tshark's
	// bicc proto: the ISUP fields after a 32-bit bicc.cic), and ProtocolSIP
	// or ProtocolSIPI for a SIP message without or with an ISUP body.
	Protocol string `json:"protocol,omitempty"`

	// SCTP association and chunk (SIGTRAN only).
	Src    string  `json:"src,omitempty"` // ip:port
	Dst    string  `json:"dst,omitempty"`
	VTag   *uint32 `json:"vtag,omitempty"`
	Stream *uint16 `json:"stream,omitempty"`
	TSN    *uint32 `json:"tsn,omitempty"` // absolute TSN of the DATA chunk

	// Link identity and sequence number (MTP2 link types; FSN also for M2PA).
	Iface *uint32 `json:"iface,omitempty"` // pcapng interface id
	Link  *uint32 `json:"link,omitempty"`  // pseudo-header link number, M2UA interface identifier
	Dir   *uint8  `json:"dir,omitempty"`   // point-to-point direction
	FSN   *uint32 `json:"fsn,omitempty"`

	RC *uint32 `json:"rc,omitempty"` // M3UA routing context

	OPC uint32 `json:"opc"`
	DPC uint32 `json:"dpc"`
	SI  uint8  `json:"si"`
	NI  uint8  `json:"ni"`
	SLS uint8  `json:"sls"`

	CIC  uint32 `json:"cic"`
	Type uint8  `json:"type"`

	// ISUPLen and ISUPHash identify the message bytes (CIC onwards):
	// sha256, first 8 bytes in hex. ISUPHex spells them out, "??" for a
	// byte tshark did not show; then ISUPPartial is set and the hash covers
	// only the bytes it showed.
	ISUPLen     int    `json:"isup_len"`
	ISUPHash    string `json:"isup_hash"`
	ISUPPartial bool   `json:"isup_partial,omitempty"`
	ISUPHex     string `json:"isup_hex"`

	Called            *Number      `json:"called,omitempty"`
	Calling           *Number      `json:"calling,omitempty"`
	Redirecting       *Number      `json:"redirecting,omitempty"`
	OriginalCalled    *Number      `json:"original_called,omitempty"`
	RedirectionNumber *Number      `json:"redirection_number,omitempty"`
	Location          *Number      `json:"location,omitempty"`
	Generic           []Number     `json:"generic,omitempty"`
	Redirection       *Redirection `json:"redirection,omitempty"`
	Cause             *Cause       `json:"cause,omitempty"`
	Category          *uint8       `json:"category,omitempty"`
	Subsequent        *Number      `json:"subsequent,omitempty"`
	Connected         *Number      `json:"connected,omitempty"`
	Event             *uint8       `json:"event,omitempty"`       // event indicator, bits 1-7 (Q.763 3.21)
	HopCounter        *uint8       `json:"hop_counter,omitempty"` // bits 1-5 (Q.763 3.80)

	// SIP is set for a SIP message (tshark's sip proto); the ISUP fields
	// above then describe its application/ISUP body, if any.
	SIP *SIP `json:"sip,omitempty"`
}

// SIP is what tshark shows of a SIP message (sip.* fields). Empty strings
// and nil pointers are fields tshark did not show.
type SIP struct {
	Method        string  `json:"method,omitempty"`       // sip.Method
	Status        *uint16 `json:"status,omitempty"`       // sip.Status-Code
	RURI          string  `json:"ruri,omitempty"`         // sip.r-uri
	RURIUser      string  `json:"ruri_user,omitempty"`    // sip.r-uri.user
	CallID        string  `json:"call_id"`                // sip.Call-ID
	CSeq          uint32  `json:"cseq"`                   // sip.CSeq.seq
	CSeqMethod    string  `json:"cseq_method"`            // sip.CSeq.method
	FromAddr      string  `json:"from_addr,omitempty"`    // sip.from.addr
	FromUser      string  `json:"from_user,omitempty"`    // sip.from.user
	FromTag       string  `json:"from_tag,omitempty"`     // sip.from.tag
	ToAddr        string  `json:"to_addr,omitempty"`      // sip.to.addr
	ToUser        string  `json:"to_user,omitempty"`      // sip.to.user
	ToTag         string  `json:"to_tag,omitempty"`       // sip.to.tag
	PAIAddr       string  `json:"pai_addr,omitempty"`     // sip.pai.addr (the first)
	PAIUser       string  `json:"pai_user,omitempty"`     // sip.pai.user (the first)
	Privacy       string  `json:"privacy,omitempty"`      // sip.Privacy
	Diversion     string  `json:"diversion,omitempty"`    // sip.Diversion (the first header, as sent)
	HistoryInfo   string  `json:"history,omitempty"`      // sip.History-Info (the first header)
	Reason        string  `json:"reason,omitempty"`       // sip.Reason
	ReasonCause   *uint8  `json:"reason_cause,omitempty"` // sip.reason_cause_q850
	ContentType   string  `json:"content_type,omitempty"` // sip.Content-Type
	ContentLength *int    `json:"content_length,omitempty"`
}

// Header is the first line of a golden file: which capture, how tshark was
// run, and how many records follow (zero asserts tshark sees no ISUP).
type Header struct {
	Capture string `json:"capture"`
	// CaptureSHA256 identifies the capture's content, so a golden file made
	// from an older version of a regenerated capture is recognised as stale.
	CaptureSHA256 string   `json:"capture_sha256"`
	TsharkArgs    []string `json:"tshark_args"`
	TsharkVersion string   `json:"tshark_version"`
	Messages      int      `json:"messages"`
}
