package decode

import "encoding/binary"

// The Chinese national ISUP uses the Q.763 formats for every parameter typed
// here (its differences are national code points, e.g. calling party's
// categories, and 24-bit point codes, which MTP3 handles), so one decoder
// serves both; tshark likewise dissects ISUP under mtp3.standard "Chinese ITU"
// as Q.763 (it has no Chinese ISUP variant), and isup_tshark_test.go checks
// both settings.

// cicMask keeps the 12 CIC bits of Q.763 1.2. The 4 high bits are spare in ITU
// and in the Chinese national ISUP; tshark masks them too (also with
// mtp3.standard "Chinese ITU"), so a CIC compares equal to tshark's isup.cic.
const cicMask = 0x0FFF

// DecodeISUP decodes one ISUP message, b being everything from the CIC on, into
// out (reset first). out.Raw aliases b. It returns ReasonNone on success, also
// for a message type Q.763 does not define: such a message keeps its CIC and
// type, its parameters are left undecoded, and the caller counts it with
// KnownMessageType. Bytes after the parameters (some captures pad frames) are
// ignored. It does not allocate.
func DecodeISUP(b []byte, out *ISUP) Reason {
	*out = ISUP{} // a plain memclr: no allocation
	out.Raw = b
	if len(b) < isupCICLen+1 {
		return DropISUPTruncated
	}
	out.CIC = (uint32(b[0]) | uint32(b[1])<<8) & cicMask
	return decodeBody(b, isupCICLen, out)
}

// CIC field lengths: two octets in ISUP (Q.763 1.2), four for the BICC call
// instance code (Q.1902.4 1.2), least significant octet first in both.
const (
	isupCICLen = 2
	biccCICLen = 4
)

// DecodeBICC decodes one BICC message (Q.1902.4), b being everything from
// the call instance code on, into out. The message type and parameters have
// the ISUP formats, so the same tables decode them; the 32-bit call instance
// code goes to out.CIC unmasked (tshark's bicc.cic). It does not allocate.
func DecodeBICC(b []byte, out *ISUP) Reason {
	*out = ISUP{}
	out.Raw = b
	if len(b) < biccCICLen+1 {
		return DropISUPTruncated
	}
	out.CIC = binary.LittleEndian.Uint32(b)
	return decodeBody(b, biccCICLen, out)
}

// DecodeISUPBody decodes an ISUP message carried in a SIP body
// (application/ISUP, RFC 3204 and Q.1912.5): it starts at the message type,
// without routing label or CIC, so out.CIC stays zero. It does not allocate.
func DecodeISUPBody(b []byte, out *ISUP) Reason {
	*out = ISUP{}
	out.Raw = b
	if len(b) < 1 {
		return DropISUPTruncated
	}
	return decodeBody(b, 0, out)
}

// decodeBody decodes the message type at b[at] and the parameters after it.
func decodeBody(b []byte, at int, out *ISUP) Reason {
	out.Type = b[at]
	lay := &messageTypes[out.Type].layout
	if !lay.known || lay.opaque {
		return ReasonNone
	}

	pos := at + 1
	for _, f := range lay.fixed {
		end := pos + int(f.length)
		if end > len(b) {
			return DropISUPTruncated
		}
		if r := decodeParam(out, f.code, b[pos:end]); r != ReasonNone {
			return r
		}
		pos = end
	}

	// Each pointer counts octets from the pointer itself to the parameter's
	// length octet (Q.763 1.4).
	for _, code := range lay.variable {
		if pos >= len(b) {
			return DropISUPTruncated
		}
		v, r := variableParam(b, pos)
		if r != ReasonNone {
			return r
		}
		if r := decodeParam(out, code, v); r != ReasonNone {
			return r
		}
		pos++
	}

	if !lay.optional {
		return ReasonNone
	}
	if pos >= len(b) {
		return DropISUPTruncated
	}
	ptr := int(b[pos])
	if ptr == 0 {
		return ReasonNone // no optional part
	}
	start := pos + ptr
	if start >= len(b) {
		out.OptionalError = DropISUPBadPointer
		return ReasonNone
	}
	decodeOptional(out, b[start:])
	return ReasonNone
}

// variableParam returns the value of the mandatory variable parameter whose
// pointer is at b[at].
func variableParam(b []byte, at int) ([]byte, Reason) {
	ptr := int(b[at])
	if ptr == 0 {
		return nil, DropISUPBadPointer
	}
	lenAt := at + ptr
	if lenAt >= len(b) {
		return nil, DropISUPBadPointer
	}
	end := lenAt + 1 + int(b[lenAt])
	if end > len(b) {
		return nil, DropISUPTruncated
	}
	return b[lenAt+1 : end], ReasonNone
}

// decodeOptional walks the optional part: code, length, value, … up to the
// end-of-optional-parameters octet. A part that ends exactly at the end of the
// message without that octet is accepted, as tshark does. A malformed
// parameter is skipped (its length still frames the next one); a length past
// the end stops the walk. Either is noted in out.OptionalError.
func decodeOptional(out *ISUP, p []byte) {
	for len(p) > 0 {
		code := p[0]
		if code == ParamEndOfOptional {
			return
		}
		end := len(p) + 1
		if len(p) >= 2 {
			end = 2 + int(p[1])
		}
		if end > len(p) {
			if out.OptionalError == ReasonNone {
				out.OptionalError = DropISUPTruncated
			}
			return
		}
		if r := decodeParam(out, code, p[2:end]); r != ReasonNone && out.OptionalError == ReasonNone {
			out.OptionalError = r
		}
		p = p[end:]
	}
}

// digitsTruncated reports whether any number in u lost signals beyond MaxDigits.
func (u *ISUP) digitsTruncated() bool {
	t := u.Called.Truncated || u.Calling.Truncated || u.Redirecting.Truncated || u.OriginalCalled.Truncated ||
		u.RedirectionNumber.Truncated || u.Location.Truncated || u.Connected.Truncated || u.Charge.Truncated ||
		u.Subsequent.Truncated
	for i := 0; i < int(u.NGeneric) && i < MaxGeneric; i++ {
		t = t || u.Generic[i].Truncated
	}
	return t
}
