// Package numplan normalises ISUP address digits to E.164 and judges them
// against a numbering plan: which class of number it is (mobile, fixed,
// service, ...) and whether it is a valid calling line identity.
//
// Plans are data (cn.yaml, e164.yaml, embedded) so an operator can replace
// them with Load when blocks are allocated. Normalise runs once per number per
// message and allocates nothing.
package numplan

// Class is the kind of number a plan recognises.
type Class uint8

const (
	ClassUnknown       Class = iota // no rule matched, or the plan does not classify
	ClassMobile                     // mobile (including satellite and virtual operators, see Label)
	ClassFixed                      // fixed line: area code + subscriber number, or a local subscriber number
	ClassService                    // short service numbers: 110, 10086, 12345, 95xxx, 96xxx
	ClassInbound                    // 400/800 inbound-only numbers
	ClassSMS                        // SMS ports (106...)
	ClassInternational              // a foreign country code
)

var classNames = [...]string{"unknown", "mobile", "fixed", "service", "inbound", "sms", "international"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "unknown"
}

// Reasons a number does not conform. Result.Reason holds only these constants
// so callers may use them as metric labels without allocating.
const (
	ReasonEmpty                    = "empty"                      // no digits
	ReasonNonDecimal               = "non_decimal"                // a signal other than 0-9 (hex B-E, or F before the end)
	ReasonWrongLength              = "wrong_length"               // a known prefix, but not a length the plan allows
	ReasonUnallocatedPrefix        = "unallocated_prefix"         // no rule of the plan starts this way
	ReasonLeadingZeroNational      = "leading_zero_national"      // a trunk/international prefix inside a national (significant) number
	ReasonCountryCodeInNational    = "country_code_in_national"   // the home country code inside a national (significant) number
	ReasonLeadingZeroSubscriber    = "leading_zero_subscriber"    // a prefix inside a subscriber number
	ReasonLeadingZeroInternational = "leading_zero_international" // the international prefix inside an international number
	ReasonUnknownCountryCode       = "unknown_country_code"       // not an assigned ITU-T country code
	ReasonInvalidSubscriber        = "invalid_subscriber"         // fixed line whose subscriber part starts with a digit the plan forbids (0, 1)
	ReasonInboundOnly              = "inbound_only"               // 400/800: valid to call, never a caller
	ReasonSMSPort                  = "sms_port"                   // an SMS port is never a voice caller
)

// Nature of address indicator values (Q.763 3.9/3.10).
const (
	NAISubscriber    = 1
	NAIUnknown       = 2
	NAINational      = 3
	NAIInternational = 4
)

// MaxE164 is the capacity of Result.E164: 15 E.164 digits plus room for the
// longer (nonconforming) numbers seen in the wild.
const MaxE164 = 20

// Result is the normalised form of one number and the plan's verdict on it.
type Result struct {
	E164  [MaxE164]byte // country code + national significant number, ASCII digits, no '+'
	NE164 uint8         // digits used in E164; 0 when the number could not be normalised (e.g. a local subscriber number)
	CCLen uint8         // digits of E164 that are the country code (0 when unknown)
	Class Class
	// Home is true when the country code is the plan's own.
	Home     bool
	Conforms bool
	Reason   string // one of the Reason constants when !Conforms; "" otherwise
	Label    string // finer kind from the plan: "satellite", "virtual_operator", "m2m", or ""
}

// Bytes returns the E.164 digits; it aliases r.
func (r *Result) Bytes() []byte { return r.E164[:r.NE164] }

// E164String returns the E.164 digits without '+' (allocates).
func (r *Result) E164String() string { return string(r.E164[:r.NE164]) }

// National returns the national significant number of a home number (the
// digits after the home country code), or nil. It aliases r.
func (r *Result) National() []byte {
	if !r.Home || r.NE164 <= r.CCLen {
		return nil
	}
	return r.E164[r.CCLen:r.NE164]
}
