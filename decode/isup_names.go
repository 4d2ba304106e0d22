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
