package decode

// numberFormat says which indicators the second header octet of an address
// parameter carries (Q.763 3.9, 3.10, 3.16, 3.26, 3.30, 3.39, 3.44, 3.46, 3.51).
type numberFormat uint8

const (
	numCalled      numberFormat = iota // INN, NPI
	numCalling                         // NI, NPI, APRI, SI
	numRedirecting                     // NPI, APRI (redirecting, original called)
	numRedirection                     // INN, NPI (redirection number)
	numLocation                        // INN, NPI, APRI, SI
	numConnected                       // NPI, APRI, SI
	numCharge                          // NPI (ANSI T1.113 charge number)
	numGeneric                         // qualifier octet, then as calling
)

const hexDigits = "0123456789ABCDEF"

// decodeParam stores the parameters gatewarden types; the others stay in Raw.
// A parameter that occurs twice keeps its first occurrence (generic numbers
// excepted: up to MaxGeneric are kept in order).
func decodeParam(out *ISUP, code uint8, v []byte) Reason {
	switch code {
	case ParamCalledPartyNumber:
		return decodeNumber(&out.Called, v, numCalled)
	case ParamCallingPartyNumber:
		return decodeNumber(&out.Calling, v, numCalling)
	case ParamRedirectingNumber:
		return decodeNumber(&out.Redirecting, v, numRedirecting)
	case ParamOriginalCalledNumber:
		return decodeNumber(&out.OriginalCalled, v, numRedirecting)
	case ParamRedirectionNumber:
		return decodeNumber(&out.RedirectionNumber, v, numRedirection)
	case ParamLocationNumber:
		return decodeNumber(&out.Location, v, numLocation)
	case ParamConnectedNumber:
		return decodeNumber(&out.Connected, v, numConnected)
	case ParamChargeNumber:
		return decodeNumber(&out.Charge, v, numCharge)
	case ParamGenericNumber:
		if out.NGeneric >= MaxGeneric {
			return ReasonNone
		}
		if r := decodeNumber(&out.Generic[out.NGeneric], v, numGeneric); r != ReasonNone {
			return r
		}
		out.NGeneric++
		return ReasonNone
	case ParamSubsequentNumber:
		return decodeSubsequent(&out.Subsequent, v)
	case ParamRedirectionInformation:
		return decodeRedirection(&out.Redirection, v)
	case ParamCauseIndicators:
		return decodeCause(&out.Cause, v)
	}

	// The rest are short indicator fields; a parameter shorter than its
	// format is malformed, a longer one keeps its first octets.
	if len(v) == 0 {
		switch code {
		case ParamCallingPartysCategory, ParamNatureOfConnection, ParamForwardCallIndicators,
			ParamBackwardCallIndicators, ParamEventInformation, ParamHopCounter,
			ParamTransmissionMediumRequirement, ParamRangeAndStatus:
			return DropISUPBadParameter
		}
		return ReasonNone
	}
	switch code {
	case ParamCallingPartysCategory:
		if !out.HasCategory {
			out.HasCategory, out.Category = true, v[0]
		}
	case ParamNatureOfConnection:
		if !out.HasNatureOfConnection {
			out.HasNatureOfConnection, out.NatureOfConnection = true, v[0]
		}
	case ParamTransmissionMediumRequirement:
		if !out.HasTransmissionMediumRequirement {
			out.HasTransmissionMediumRequirement, out.TransmissionMediumRequirement = true, v[0]
		}
	case ParamEventInformation:
		// Bits 1-7 are the event indicator; bit 8 (presentation restricted) is
		// left in Raw.
		if !out.HasEventInformation {
			out.HasEventInformation, out.EventInformation = true, v[0]&0x7F
		}
	case ParamHopCounter:
		if !out.HasHopCounter {
			out.HasHopCounter, out.HopCounter = true, v[0]&0x1F // bits 6-8 spare
		}
	case ParamRangeAndStatus:
		// Range only: the status bits (if any) stay in Raw.
		if !out.HasRange {
			out.HasRange, out.Range = true, v[0]
		}
	case ParamForwardCallIndicators:
		if len(v) < 2 {
			return DropISUPBadParameter
		}
		if !out.HasForwardCallIndicators {
			out.HasForwardCallIndicators, out.ForwardCallIndicators = true, uint16(v[0])|uint16(v[1])<<8
		}
	case ParamBackwardCallIndicators:
		if len(v) < 2 {
			return DropISUPBadParameter
		}
		if !out.HasBackwardCallIndicators {
			out.HasBackwardCallIndicators, out.BackwardCallIndicators = true, uint16(v[0])|uint16(v[1])<<8
		}
	}
	return ReasonNone
}

// decodeNumber decodes an address parameter: odd/even and NAI, one octet of
// indicators (format f), then BCD address signals.
func decodeNumber(n *Number, v []byte, f numberFormat) Reason {
	if n.Present {
		return ReasonNone
	}
	var qualifier uint8
	if f == numGeneric {
		if len(v) == 0 {
			return DropISUPBadParameter
		}
		qualifier, v = v[0], v[1:]
	}
	if len(v) < 2 {
		return DropISUPBadParameter
	}
	// Written in place: on failure the whole message is dropped.
	n.Odd = v[0]&0x80 != 0
	n.NAI, n.HasNAI = v[0]&0x7F, true
	n.NPI, n.HasNPI = (v[1]>>4)&0x07, true
	switch f {
	case numCalled, numRedirection:
		n.INN, n.HasINN = v[1]>>7, true
	case numCalling, numGeneric:
		n.INN, n.HasNI = v[1]>>7, true
		n.APRI, n.HasAPRI = (v[1]>>2)&0x03, true
		n.SI, n.HasSI = v[1]&0x03, true
	case numLocation:
		n.INN, n.HasINN = v[1]>>7, true
		n.APRI, n.HasAPRI = (v[1]>>2)&0x03, true
		n.SI, n.HasSI = v[1]&0x03, true
	case numRedirecting:
		n.APRI, n.HasAPRI = (v[1]>>2)&0x03, true
	case numConnected:
		n.APRI, n.HasAPRI = (v[1]>>2)&0x03, true
		n.SI, n.HasSI = v[1]&0x03, true
	}
	n.Qualifier = qualifier
	if !decodeDigits(n, v[2:]) {
		return DropISUPBadParameter
	}
	n.Present = true
	return ReasonNone
}

// decodeSubsequent decodes the subsequent number of a SAM (Q.763 3.51): only
// the odd/even indicator precedes the signals.
func decodeSubsequent(n *Number, v []byte) Reason {
	if n.Present {
		return ReasonNone
	}
	if len(v) < 1 {
		return DropISUPBadParameter
	}
	n.Odd = v[0]&0x80 != 0
	if !decodeDigits(n, v[1:]) {
		return DropISUPBadParameter
	}
	n.Present = true
	return ReasonNone
}

// decodeDigits unpacks BCD signals, first signal in the low nibble. Every
// nibble counts except the high nibble of the last octet when the odd
// indicator says it is filler; this is how tshark reads numbers too, also when
// the indicator contradicts the length. Non-decimal signals (code 11, 12, ST)
// are kept as hex letters. Beyond MaxDigits signals the rest are cut and the
// number is marked Truncated: Q.763 bounds a number only by the message
// length, and a monitor must not lose the call over an over-long number.
func decodeDigits(n *Number, d []byte) bool {
	count := 2 * len(d)
	if n.Odd && count > 0 {
		count--
	}
	if count > MaxDigits {
		n.Truncated = true
		count = MaxDigits
		d = d[:MaxDigits/2]
	}
	// count <= MaxDigits implies 2*len(d) <= MaxDigits, so the filler nibble
	// fits too; it lies beyond NDigits.
	digits := n.Digits[:2*len(d)]
	for i, o := range d {
		digits[2*i] = hexDigits[o&0x0F]
		digits[2*i+1] = hexDigits[o>>4]
	}
	n.NDigits = uint8(count)
	return true
}

// decodeRedirection decodes redirection information (Q.763 3.45). Some
// national variants send only the first octet; the second is then zero.
func decodeRedirection(r *Redirection, v []byte) Reason {
	if r.Present {
		return ReasonNone
	}
	if len(v) < 1 {
		return DropISUPBadParameter
	}
	r.Present = true
	r.Indicator = v[0] & 0x07
	r.OriginalReason = v[0] >> 4
	if len(v) >= 2 {
		r.Counter = v[1] & 0x07
		r.Reason = v[1] >> 4
	}
	return ReasonNone
}

// decodeCause decodes cause indicators (Q.763 3.12, Q.850 2.2): location and
// coding standard, an optional recommendation octet when the first octet's
// extension bit is 0, then the cause value.
func decodeCause(c *Cause, v []byte) Reason {
	if c.Present {
		return ReasonNone
	}
	if len(v) < 2 {
		return DropISUPBadParameter
	}
	valueAt := 1
	if v[0]&0x80 == 0 {
		valueAt = 2
		if len(v) < 3 {
			return DropISUPBadParameter
		}
	}
	c.Present = true
	c.Location = v[0] & 0x0F
	c.Standard = (v[0] >> 5) & 0x03
	c.Value = v[valueAt] & 0x7F
	return ReasonNone
}
