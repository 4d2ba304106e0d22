package numplan

import "bytes"

// Normalise reads digits (ASCII address signals as decoded: '0'-'9', 'A'-'F')
// according to the nature of address indicator nai and fills out with the
// E.164 form and the plan's verdict. It does not allocate.
//
//   - international (4): country code + NSN as is;
//   - national (3): NSN, the home country code is prepended; a 0/00 prefix
//     or the home country code inside it is read past but nonconforming;
//   - unknown (2), spare (0) and national-specific (5+): a leading
//     international prefix (00) means international, a trunk prefix (0)
//     national; otherwise national, falling back to "home country code
//     without 00" and then to a local subscriber number;
//   - subscriber (1): the area code is unknown, so only numbers that do not
//     need one (mobile, service, ...) are normalised; a plausible local number
//     conforms without an E.164 form.
func (p *Plan) Normalise(digits []byte, nai uint8, out *Result) {
	*out = Result{}
	d := digits
	// A trailing ST (end of pulsing, code 15) is framing, not part of the number.
	if n := len(d); n > 0 && d[n-1] == 'F' {
		d = d[:n-1]
	}
	if len(d) == 0 {
		out.Reason = ReasonEmpty
		return
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			out.Reason = ReasonNonDecimal
			return
		}
	}
	switch nai {
	case NAIInternational:
		p.international(d, out)
	case NAINational:
		// A prefix has no place in a national significant number: read past
		// it so the E.164 form is still known, but the number is wrong.
		if p.stripPrefixes(d, out) {
			out.fail(ReasonLeadingZeroNational)
		} else {
			p.national(d, out)
			// The home country code sent under NAI national (86110): wrong,
			// but knowing the real number lets protected and blocklisted
			// numbers still be recognised.
			if !out.Conforms && p.homeCodeReading(d, out) {
				out.fail(ReasonCountryCodeInNational)
			}
		}
	case NAISubscriber:
		p.subscriber(d, out)
	default:
		p.unknown(d, out)
	}
}

// fail marks r nonconforming for a prefix error, which outranks whatever
// the digits after the prefix showed.
func (r *Result) fail(reason string) {
	r.Reason = reason
	r.Conforms = false
}

// stripPrefixes reads d by its international or trunk prefix when it has one
// and reports whether it did.
func (p *Plan) stripPrefixes(d []byte, out *Result) bool {
	switch {
	case bytes.HasPrefix(d, p.intlPrefix):
		p.international(d[len(p.intlPrefix):], out)
		return true
	case len(p.trunkPrefix) > 0 && bytes.HasPrefix(d, p.trunkPrefix):
		p.national(d[len(p.trunkPrefix):], out)
		return true
	}
	return false
}

func (p *Plan) unknown(d []byte, out *Result) {
	if p.stripPrefixes(d, out) {
		return
	}
	p.national(d, out)
	if out.Conforms {
		return
	}
	// Some exchanges send the home country code without 00 under NAI unknown
	// (8613800138000). Accept that reading only if it yields a valid number.
	if p.homeCodeReading(d, out) {
		return
	}
	// Or it is a local number sent without its area code.
	if p.isLocalSubscriber(d) {
		*out = Result{Class: ClassFixed, Conforms: true}
	}
}

// homeCodeReading replaces out with d read as home country code + NSN when
// d starts with the home code and that reading conforms.
func (p *Plan) homeCodeReading(d []byte, out *Result) bool {
	if len(p.cc) == 0 || len(d) <= len(p.cc) || !bytes.HasPrefix(d, p.cc) {
		return false
	}
	var alt Result
	p.international(d, &alt)
	if !alt.Conforms {
		return false
	}
	*out = alt
	return true
}

func (p *Plan) international(d []byte, out *Result) {
	if len(d) == 0 {
		out.Reason = ReasonEmpty
		return
	}
	if bytes.HasPrefix(d, p.intlPrefix) {
		// "00" inside an international number: read past it, but it is wrong.
		p.international(d[len(p.intlPrefix):], out)
		out.fail(ReasonLeadingZeroInternational)
		return
	}
	if d[0] == '0' {
		out.Reason = ReasonLeadingZeroInternational
		return
	}
	if !out.set(nil, d) {
		out.Class = ClassInternational
		out.Reason = ReasonWrongLength
		return
	}
	ccLen := p.countryCodeLen(d)
	if ccLen == 0 {
		out.Class = ClassInternational
		out.Reason = ReasonUnknownCountryCode
		return
	}
	out.CCLen = uint8(ccLen)
	if len(p.cc) > 0 && bytes.Equal(d[:ccLen], p.cc) {
		out.Home = true
		nsn := d[ccLen:]
		if len(p.trunkPrefix) > 0 && bytes.HasPrefix(nsn, p.trunkPrefix) {
			// +86 0... : the trunk prefix has no place after the country code.
			out.Reason = ReasonLeadingZeroNational
			return
		}
		p.classifyNational(nsn, out)
		return
	}
	out.Class = ClassInternational
	if len(d) < p.intlMin || len(d) > p.intlMax {
		out.Reason = ReasonWrongLength
		return
	}
	out.Conforms = true
}

// national reads d as a national significant number of the home country.
func (p *Plan) national(d []byte, out *Result) {
	if len(d) == 0 {
		out.Reason = ReasonEmpty
		return
	}
	if len(p.cc) > 0 {
		if out.set(p.cc, d) {
			out.CCLen = uint8(len(p.cc))
		}
		out.Home = true
	}
	p.classifyNational(d, out)
}

func (p *Plan) subscriber(d []byte, out *Result) {
	if d[0] == '0' {
		out.Reason = ReasonLeadingZeroSubscriber
		return
	}
	fit, longest := p.match(d, true)
	if fit >= 0 {
		// Numbers that need no area code (mobile, service, ...) are complete.
		if len(p.cc) > 0 && out.set(p.cc, d) {
			out.CCLen = uint8(len(p.cc))
			out.Home = true
		}
		p.apply(fit, out)
		return
	}
	if p.isLocalSubscriber(d) {
		out.Class = ClassFixed
		out.Conforms = true
		return
	}
	if len(p.rules) == 0 {
		// A plan that does not classify: only the length can be wrong.
		if len(d) <= p.nsnMax {
			out.Conforms = true
			return
		}
		out.Reason = ReasonWrongLength
		return
	}
	if longest >= 0 {
		out.Class, out.Label = p.rules[longest].class, p.rules[longest].label
		out.Reason = ReasonWrongLength
		return
	}
	if d[0] == '1' {
		out.Reason = ReasonUnallocatedPrefix
		return
	}
	out.Reason = ReasonWrongLength
}

func (p *Plan) isLocalSubscriber(d []byte) bool {
	return len(d) > 0 && p.subscriberLengths.has(len(d)) && p.subscriberFirst[d[0]-'0']
}

// classifyNational judges a national significant number (no prefix).
func (p *Plan) classifyNational(nsn []byte, out *Result) {
	if len(nsn) == 0 {
		out.Reason = ReasonEmpty
		return
	}
	if len(p.rules) == 0 {
		if len(nsn) < p.nsnMin || len(nsn) > p.nsnMax {
			out.Reason = ReasonWrongLength
			return
		}
		out.Conforms = true
		return
	}
	fit, longest := p.match(nsn, false)
	switch {
	case fit >= 0:
		p.apply(fit, out)
	case longest >= 0:
		r := &p.rules[longest]
		out.Class, out.Label = r.class, r.label
		out.Reason = ReasonWrongLength
		if r.areaLen > 0 && len(nsn) > r.areaLen && r.lengths.has(len(nsn)) {
			out.Reason = ReasonInvalidSubscriber
		}
	case len(nsn) < p.nsnMin || len(nsn) > p.nsnMax:
		out.Reason = ReasonWrongLength
	default:
		out.Reason = ReasonUnallocatedPrefix
	}
}

// apply sets the class of a fitting rule; inbound numbers and SMS ports are
// real numbers but never valid voice caller IDs.
func (p *Plan) apply(i int, out *Result) {
	r := &p.rules[i]
	out.Class, out.Label = r.class, r.label
	switch r.class {
	case ClassInbound:
		out.Reason = ReasonInboundOnly
	case ClassSMS:
		out.Reason = ReasonSMSPort
	default:
		out.Conforms = true
	}
}

// match walks the trie along nsn. fit is the rule with the longest prefix
// whose lengths (and subscriber digit) accept nsn; longest is the rule with
// the longest matching prefix regardless. Both are -1 when absent.
func (p *Plan) match(nsn []byte, skipFixed bool) (fit, longest int) {
	fit, longest = -1, -1
	cur := int32(0)
	for i := 0; i < len(nsn); i++ {
		cur = p.trie[cur].child[nsn[i]-'0']
		if cur < 0 {
			break
		}
		ri := int(p.trie[cur].rule)
		if ri < 0 {
			continue
		}
		r := &p.rules[ri]
		if skipFixed && r.class == ClassFixed {
			continue
		}
		longest = ri
		if r.lengths.has(len(nsn)) && (r.areaLen == 0 || p.subscriberFirst[nsn[r.areaLen]-'0']) {
			fit = ri
		}
	}
	return fit, longest
}

// countryCodeLen returns the length of the country code d starts with, or 0.
func (p *Plan) countryCodeLen(d []byte) int {
	v := 0
	for l := 1; l <= 3 && l <= len(d); l++ {
		c := d[l-1]
		if c < '0' || c > '9' {
			return 0
		}
		v = v*10 + int(c-'0')
		if p.ccKnown[l] != nil && p.ccKnown[l][v] {
			return l
		}
	}
	return 0
}

// set writes cc+nsn into E164; false (and nothing written) when too long.
func (r *Result) set(cc, nsn []byte) bool {
	if len(cc)+len(nsn) > MaxE164 {
		return false
	}
	n := copy(r.E164[:], cc)
	n += copy(r.E164[n:], nsn)
	r.NE164 = uint8(n)
	return true
}
