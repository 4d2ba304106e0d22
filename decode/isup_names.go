package decode

import "strconv"

// ISUP message type codes (Q.763 Table 4).
const (
	ISUPIAM  = 0x01
	ISUPSAM  = 0x02
	ISUPINR  = 0x03
	ISUPINF  = 0x04
	ISUPCOT  = 0x05
	ISUPACM  = 0x06
	ISUPCON  = 0x07
	ISUPFOT  = 0x08
	ISUPANM  = 0x09
	ISUPREL  = 0x0C
	ISUPSUS  = 0x0D
	ISUPRES  = 0x0E
	ISUPRLC  = 0x10
	ISUPCCR  = 0x11
	ISUPRSC  = 0x12
	ISUPBLO  = 0x13
	ISUPUBL  = 0x14
	ISUPBLA  = 0x15
	ISUPUBA  = 0x16
	ISUPGRS  = 0x17
	ISUPCGB  = 0x18
	ISUPCGU  = 0x19
	ISUPCGBA = 0x1A
	ISUPCGUA = 0x1B
	ISUPCMR  = 0x1C // 1988 edition only
	ISUPCMC  = 0x1D // 1988 edition only
	ISUPCMRJ = 0x1E // 1988 edition only
	ISUPFAR  = 0x1F
	ISUPFAA  = 0x20
	ISUPFRJ  = 0x21
	ISUPLPA  = 0x24
	ISUPPAM  = 0x28
	ISUPGRA  = 0x29
	ISUPCQM  = 0x2A
	ISUPCQR  = 0x2B
	ISUPCPG  = 0x2C
	ISUPUSR  = 0x2D
	ISUPUCIC = 0x2E
	ISUPCFN  = 0x2F
	ISUPOLM  = 0x30
	ISUPCRG  = 0x31
	ISUPNRM  = 0x32
	ISUPFAC  = 0x33
	ISUPUPT  = 0x34
	ISUPUPA  = 0x35
	ISUPIDR  = 0x36
	ISUPIRS  = 0x37
	ISUPSGM  = 0x38
	ISUPLOP  = 0x40
	ISUPAPM  = 0x41
	ISUPPRI  = 0x42
	ISUPSDN  = 0x43
)

// ISUP parameter codes (Q.763 Table 5) the decoder types, plus the ANSI charge
// number, which some national networks carry in ITU-format ISUP.
const (
	ParamEndOfOptional                 = 0x00
	ParamTransmissionMediumRequirement = 0x02
	ParamCalledPartyNumber             = 0x04
	ParamSubsequentNumber              = 0x05
	ParamNatureOfConnection            = 0x06
	ParamForwardCallIndicators         = 0x07
	ParamCallingPartysCategory         = 0x09
	ParamCallingPartyNumber            = 0x0A
	ParamRedirectingNumber             = 0x0B
	ParamRedirectionNumber             = 0x0C
	ParamInformationRequestIndicators  = 0x0E
	ParamInformationIndicators         = 0x0F
	ParamContinuityIndicators          = 0x10
	ParamBackwardCallIndicators        = 0x11
	ParamCauseIndicators               = 0x12
	ParamRedirectionInformation        = 0x13
	ParamCircuitGroupSupervisionType   = 0x15
	ParamRangeAndStatus                = 0x16
	ParamCallModificationIndicators    = 0x17 // 1988 edition
	ParamFacilityIndicator             = 0x18
	ParamUserToUserInformation         = 0x20
	ParamConnectedNumber               = 0x21
	ParamSuspendResumeIndicators       = 0x22
	ParamEventInformation              = 0x24
	ParamCircuitStateIndicator         = 0x26
	ParamOriginalCalledNumber          = 0x28
	ParamHopCounter                    = 0x3D
	ParamLocationNumber                = 0x3F
	ParamGenericNumber                 = 0xC0
	ParamChargeNumber                  = 0xEB // ANSI T1.113; not allocated in Q.763
)

// fixedParam is one mandatory fixed parameter: its code and its length.
type fixedParam struct {
	code, length uint8
}

// isupLayout is the format of one message type (Q.763 Tables 32-52): the
// mandatory fixed parameters in order, the codes of the mandatory variable
// parameters (one pointer each) and whether a pointer to an optional part follows.
type isupLayout struct {
	known    bool
	opaque   bool // format not parsed (PAM embeds another message; CRG is national)
	optional bool
	fixed    []fixedParam
	variable []uint8
}

var (
	fixedIAM = []fixedParam{
		{ParamNatureOfConnection, 1},
		{ParamForwardCallIndicators, 2},
		{ParamCallingPartysCategory, 1},
		{ParamTransmissionMediumRequirement, 1},
	}
	fixedBCI       = []fixedParam{{ParamBackwardCallIndicators, 2}}
	fixedINR       = []fixedParam{{ParamInformationRequestIndicators, 2}}
	fixedINF       = []fixedParam{{ParamInformationIndicators, 2}}
	fixedCOT       = []fixedParam{{ParamContinuityIndicators, 1}}
	fixedSusRes    = []fixedParam{{ParamSuspendResumeIndicators, 1}}
	fixedGroupType = []fixedParam{{ParamCircuitGroupSupervisionType, 1}}
	fixedFacility  = []fixedParam{{ParamFacilityIndicator, 1}}
	fixedCPG       = []fixedParam{{ParamEventInformation, 1}}
	fixedCallMod   = []fixedParam{{ParamCallModificationIndicators, 1}}

	varCalled     = []uint8{ParamCalledPartyNumber}
	varSubsequent = []uint8{ParamSubsequentNumber}
	varCause      = []uint8{ParamCauseIndicators}
	varRange      = []uint8{ParamRangeAndStatus}
	varCQR        = []uint8{ParamRangeAndStatus, ParamCircuitStateIndicator}
	varUUI        = []uint8{ParamUserToUserInformation}
)

// messageTypes holds the abbreviation (Q.763 Table 4) and layout of every
// message type. Where tshark's Info column differs it is noted: the JSON uses
// the Q.763 abbreviation.
var messageTypes = [256]struct {
	name   string
	layout isupLayout
}{
	ISUPIAM:  {"IAM", isupLayout{known: true, fixed: fixedIAM, variable: varCalled, optional: true}},
	ISUPSAM:  {"SAM", isupLayout{known: true, variable: varSubsequent, optional: true}},
	ISUPINR:  {"INR", isupLayout{known: true, fixed: fixedINR, optional: true}},
	ISUPINF:  {"INF", isupLayout{known: true, fixed: fixedINF, optional: true}},
	ISUPCOT:  {"COT", isupLayout{known: true, fixed: fixedCOT}},
	ISUPACM:  {"ACM", isupLayout{known: true, fixed: fixedBCI, optional: true}},
	ISUPCON:  {"CON", isupLayout{known: true, fixed: fixedBCI, optional: true}},
	ISUPFOT:  {"FOT", isupLayout{known: true, optional: true}},
	ISUPANM:  {"ANM", isupLayout{known: true, optional: true}},
	ISUPREL:  {"REL", isupLayout{known: true, variable: varCause, optional: true}},
	ISUPSUS:  {"SUS", isupLayout{known: true, fixed: fixedSusRes, optional: true}},
	ISUPRES:  {"RES", isupLayout{known: true, fixed: fixedSusRes, optional: true}},
	ISUPRLC:  {"RLC", isupLayout{known: true, optional: true}},
	ISUPCCR:  {"CCR", isupLayout{known: true}},
	ISUPRSC:  {"RSC", isupLayout{known: true}},
	ISUPBLO:  {"BLO", isupLayout{known: true}},
	ISUPUBL:  {"UBL", isupLayout{known: true}},
	ISUPBLA:  {"BLA", isupLayout{known: true}},
	ISUPUBA:  {"UBA", isupLayout{known: true}}, // tshark: UBLA
	ISUPGRS:  {"GRS", isupLayout{known: true, variable: varRange}},
	ISUPCGB:  {"CGB", isupLayout{known: true, fixed: fixedGroupType, variable: varRange}},
	ISUPCGU:  {"CGU", isupLayout{known: true, fixed: fixedGroupType, variable: varRange}},
	ISUPCGBA: {"CGBA", isupLayout{known: true, fixed: fixedGroupType, variable: varRange}},
	ISUPCGUA: {"CGUA", isupLayout{known: true, fixed: fixedGroupType, variable: varRange}},
	ISUPCMR:  {"CMR", isupLayout{known: true, fixed: fixedCallMod, optional: true}},  // tshark: Reserved
	ISUPCMC:  {"CMC", isupLayout{known: true, fixed: fixedCallMod, optional: true}},  // tshark: Reserved
	ISUPCMRJ: {"CMRJ", isupLayout{known: true, fixed: fixedCallMod, optional: true}}, // tshark: Reserved
	ISUPFAR:  {"FAR", isupLayout{known: true, fixed: fixedFacility, optional: true}},
	ISUPFAA:  {"FAA", isupLayout{known: true, fixed: fixedFacility, optional: true}},
	ISUPFRJ:  {"FRJ", isupLayout{known: true, fixed: fixedFacility, variable: varCause, optional: true}},
	ISUPLPA:  {"LPA", isupLayout{known: true}},
	ISUPPAM:  {"PAM", isupLayout{known: true, opaque: true}},
	ISUPGRA:  {"GRA", isupLayout{known: true, variable: varRange}},
	ISUPCQM:  {"CQM", isupLayout{known: true, variable: varRange}},
	ISUPCQR:  {"CQR", isupLayout{known: true, variable: varCQR}},
	ISUPCPG:  {"CPG", isupLayout{known: true, fixed: fixedCPG, optional: true}},
	ISUPUSR:  {"USR", isupLayout{known: true, variable: varUUI, optional: true}}, // tshark: UUI
	ISUPUCIC: {"UCIC", isupLayout{known: true}},
	ISUPCFN:  {"CFN", isupLayout{known: true, variable: varCause, optional: true}},
	ISUPOLM:  {"OLM", isupLayout{known: true}},
	ISUPCRG:  {"CRG", isupLayout{known: true, opaque: true}},
	ISUPNRM:  {"NRM", isupLayout{known: true, optional: true}},
	ISUPFAC:  {"FAC", isupLayout{known: true, optional: true}},
	ISUPUPT:  {"UPT", isupLayout{known: true, optional: true}},
	ISUPUPA:  {"UPA", isupLayout{known: true, optional: true}},
	ISUPIDR:  {"IDR", isupLayout{known: true, optional: true}},
	ISUPIRS:  {"IRS", isupLayout{known: true, optional: true}}, // tshark: IDS
	ISUPSGM:  {"SGM", isupLayout{known: true, optional: true}},
	ISUPLOP:  {"LOP", isupLayout{known: true, optional: true}},
	ISUPAPM:  {"APM", isupLayout{known: true, optional: true}},
	ISUPPRI:  {"PRI", isupLayout{known: true, optional: true}},
	ISUPSDN:  {"SDN", isupLayout{known: true, optional: true}},
}

// unknownTypeNames are "0xE1"-style names, built once so that naming an
// unknown type does not allocate.
var unknownTypeNames = func() (names [256]string) {
	const hex = "0123456789ABCDEF"
	for t := range names {
		names[t] = string([]byte{'0', 'x', hex[t>>4], hex[t&0xF]})
	}
	return names
}()

// MessageTypeName returns the Q.763 abbreviation of an ISUP message type, or
// "0xE1" style for a type Q.763 does not define. It does not allocate.
func MessageTypeName(t uint8) string {
	if messageTypes[t].layout.known {
		return messageTypes[t].name
	}
	return unknownTypeNames[t]
}

// KnownMessageType reports whether t is a Q.763 message type (including the
// 1988 call modification messages).
func KnownMessageType(t uint8) bool { return messageTypes[t].layout.known }

// causeNames name the cause values of ITU-T Q.850 (05/1998) Table 1.
var causeNames = map[uint8]string{
	1: "Unallocated (unassigned) number", 2: "No route to specified transit network", 3: "No route to destination",
	4: "Send special information tone", 5: "Misdialled trunk prefix", 6: "Channel unacceptable",
	7: "Call awarded and being delivered in an established channel", 8: "Preemption",
	9: "Preemption - circuit reserved for reuse", 14: "QoR: ported number", 16: "Normal call clearing",
	17: "User busy", 18: "No user responding", 19: "No answer from user (user alerted)", 20: "Subscriber absent",
	21: "Call rejected", 22: "Number changed", 23: "Redirection to new destination",
	24: "Call rejected due to feature at the destination", 25: "Exchange routing error",
	26: "Non-selected user clearing", 27: "Destination out of order", 28: "Invalid number format (address incomplete)",
	29: "Facility rejected", 30: "Response to STATUS ENQUIRY", 31: "Normal, unspecified",
	34: "No circuit/channel available", 38: "Network out of order", 39: "Permanent frame mode connection out of service",
	40: "Permanent frame mode connection operational", 41: "Temporary failure", 42: "Switching equipment congestion",
	43: "Access information discarded", 44: "Requested circuit/channel not available", 46: "Precedence call blocked",
	47: "Resource unavailable, unspecified", 49: "Quality of service not available", 50: "Requested facility not subscribed",
	53: "Outgoing calls barred within CUG", 55: "Incoming calls barred within CUG",
	57: "Bearer capability not authorized", 58: "Bearer capability not presently available",
	62: "Inconsistency in designated outgoing access information and subscriber class",
	63: "Service or option not available, unspecified", 65: "Bearer capability not implemented",
	66: "Channel type not implemented", 69: "Requested facility not implemented",
	70: "Only restricted digital information bearer capability is available",
	79: "Service or option not implemented, unspecified", 81: "Invalid call reference value",
	82: "Identified channel does not exist", 83: "A suspended call exists, but this call identity does not",
	84: "Call identity in use", 85: "No call suspended", 86: "Call having the requested call identity has been cleared",
	87: "User not member of CUG", 88: "Incompatible destination", 90: "Non-existent CUG",
	91: "Invalid transit network selection", 95: "Invalid message, unspecified", 96: "Mandatory information element is missing",
	97: "Message type non-existent or not implemented",
	98: "Message not compatible with call state or message type non-existent or not implemented",
	99: "Information element /parameter non-existent or not implemented", 100: "Invalid information element contents",
	101: "Message not compatible with call state", 102: "Recovery on timer expiry",
	103: "Parameter non-existent or not implemented - passed on", 110: "Message with unrecognized parameter discarded",
	111: "Protocol error, unspecified", 127: "Interworking, unspecified",
}

// CauseName is the Q.850 name of a cause value ("User busy"), or
// "Unassigned cause N" for a value Q.850 does not define.
func CauseName(v uint8) string {
	if n, ok := causeNames[v]; ok {
		return n
	}
	return "Unassigned cause " + strconv.Itoa(int(v))
}

// Names of parameter values, as Wireshark shows them beside the code. One
// home for the web call page and `gatewarden trace`. A value a table does
// not name is "spare" or "reserved" per the clause; ValueName returns ""
// for a field it has no table for.

// NatureOfAddressNames: Q.763 3.9 (called), 3.10 (calling) and the other
// number parameters: nature of address indicator.
var NatureOfAddressNames = map[uint8]string{
	0: "spare", 1: "subscriber number (national use)", 2: "unknown (national use)",
	3: "national (significant) number", 4: "international number",
	5: "network-specific number (national use)",
	6: "network routing number in national (significant) number format (national use)",
	7: "network routing number in network-specific number format (national use)",
	8: "network routing number concatenated with called directory number (national use)",
}

// NumberingPlanNames: Q.763 3.9 numbering plan indicator.
var NumberingPlanNames = map[uint8]string{
	0: "spare", 1: "ISDN (telephony) numbering plan (E.164)", 2: "spare",
	3: "data numbering plan (X.121) (national use)", 4: "telex numbering plan (F.69) (national use)",
	5: "private numbering plan (national use)", 6: "reserved for national use", 7: "spare",
}

// PresentationNames: Q.763 3.10 address presentation restricted indicator.
var PresentationNames = map[uint8]string{
	0: "presentation allowed", 1: "presentation restricted", 2: "address not available (national use)",
	3: "reserved for restriction by the network",
}

// ScreeningNames: Q.763 3.10 screening indicator.
var ScreeningNames = map[uint8]string{
	0: "reserved (user provided, not verified)", 1: "user provided, verified and passed",
	2: "reserved (user provided, verified and failed)", 3: "network provided",
}

// NumberQualifierNames: Q.763 3.26 number qualifier indicator of a generic number.
var NumberQualifierNames = map[uint8]string{
	0: "reserved (dialled digits) (national use)", 1: "additional called number (national use)",
	2: "reserved (supplemental user provided calling number, failed network screening) (national use)",
	3: "reserved (supplemental user provided calling number, not screened) (national use)",
	4: "reserved (redirecting terminating number) (national use)", 5: "additional connected number",
	6: "additional calling party number", 7: "reserved for additional original called number",
	8: "reserved for additional redirecting number", 9: "reserved for additional redirection number",
	10: "reserved (used in 1992 version)",
}

// CallingCategoryNames: Q.763 3.11 calling party's category.
var CallingCategoryNames = map[uint8]string{
	0: "calling party's category unknown at this time (national use)",
	1: "operator, language French", 2: "operator, language English", 3: "operator, language German",
	4: "operator, language Russian", 5: "operator, language Spanish",
	6: "available to Administrations", 7: "available to Administrations", 8: "available to Administrations",
	9: "reserved (national use)", 10: "ordinary calling subscriber", 11: "calling subscriber with priority",
	12: "data call (voice band data)", 13: "test call", 14: "IEPS call marking for preferential call set up",
	15: "payphone", 16: "mobile terminal located in the home PLMN", 17: "mobile terminal located in a visited PLMN",
}

func init() {
	for v := 224; v <= 254; v++ {
		CallingCategoryNames[uint8(v)] = "reserved for national use"
	}
	for v := 112; v <= 126; v++ {
		NatureOfAddressNames[uint8(v)] = "reserved for national use"
	}
}

// CauseLocationNames: Q.850 2.2.3 location.
var CauseLocationNames = map[uint8]string{
	0: "user", 1: "private network serving the local user", 2: "public network serving the local user",
	3: "transit network", 4: "public network serving the remote user", 5: "private network serving the remote user",
	7: "international network", 10: "network beyond interworking point",
}

// RedirectingIndicatorNames: Q.763 3.45 redirecting indicator.
var RedirectingIndicatorNames = map[uint8]string{
	0: "no redirection (national use)", 1: "call rerouted (national use)",
	2: "call rerouted, all redirection information presentation restricted (national use)",
	3: "call diverted", 4: "call diverted, all redirection information presentation restricted",
	5: "call rerouted, redirection number presentation restricted (national use)",
	6: "call diversion, redirection number presentation restricted (national use)", 7: "spare",
}

// OriginalRedirectionReasonNames: Q.763 3.45 original redirection reason.
var OriginalRedirectionReasonNames = map[uint8]string{
	0: "unknown/not available", 1: "user busy (national use)", 2: "no reply (national use)", 3: "unconditional (national use)",
}

// RedirectingReasonNames: Q.763 3.45 redirecting reason.
var RedirectingReasonNames = map[uint8]string{
	0: "unknown/not available", 1: "user busy", 2: "no reply", 3: "unconditional",
	4: "deflection during alerting", 5: "deflection immediate response", 6: "mobile subscriber not reachable",
}

// EventNames: Q.763 3.21 event indicator (bits 1-7).
var EventNames = map[uint8]string{
	1: "ALERTING", 2: "PROGRESS", 3: "in-band information or an appropriate pattern is now available",
	4: "call forwarded on busy (national use)", 5: "call forwarded on no reply (national use)",
	6: "call forwarded unconditional (national use)",
}

// valueTables names the table of each decoded field by its name in the
// `gatewarden decode` JSON: the field's own key, or parent.key where the
// key alone is ambiguous.
var valueTables = map[string]map[uint8]string{
	"nai": NatureOfAddressNames, "npi": NumberingPlanNames, "apri": PresentationNames, "si": ScreeningNames,
	"qualifier": NumberQualifierNames, "category": CallingCategoryNames, "event": EventNames,
	"cause.location":        CauseLocationNames,
	"redirection.indicator": RedirectingIndicatorNames, "redirection.original_reason": OriginalRedirectionReasonNames,
	"redirection.reason": RedirectingReasonNames,
}

// ValueName names value v of the decoded field at path (JSON keys joined by
// dots, array indexes as "[i]": "calling.nai", "cause.value",
// "generic[0].qualifier"): the table's name, "spare" for a value the table
// does not list (for a cause, CauseName's "Unassigned cause N"), or ""
// when the field has no table.
func ValueName(path string, v uint64) string {
	if path == "cause.value" {
		if v > 0xFF {
			return "spare"
		}
		return CauseName(uint8(v))
	}
	key, parent := path, ""
	if i := lastDot(path); i >= 0 {
		key, parent = path[i+1:], path[:i]
		if j := lastDot(parent); j >= 0 {
			parent = parent[j+1:]
		}
	}
	t, ok := valueTables[parent+"."+key]
	if !ok {
		if t, ok = valueTables[key]; !ok {
			return ""
		}
	}
	if v > 0xFF {
		return "spare"
	}
	if n, ok := t[uint8(v)]; ok {
		return n
	}
	return "spare"
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}
