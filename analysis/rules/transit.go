package rules

import (
	"bytes"
	"strconv"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/numplan"
	"github.com/gatewarden/gatewarden/analysis/transit"
)

// NAI values (Q.763 3.10) the transit rules read.
const (
	naiSubscriber    = 1
	naiNational      = 3
	naiInternational = 4
)

func (e *Engine) transitConfig() transit.Config {
	var plan transit.Normaliser
	if e.s.Plan != nil {
		plan = e.s.Plan
	}
	return transit.Config{
		Window: e.th.TransitWindow, MaxPending: e.th.TransitMaxPending, Plan: plan,
		// Calls from our own network do not enter through the gateway.
		Ingress: func(c *analysis.Call) bool {
			p := e.partners[c.Partner]
			return p == nil || p.Kind != KindInternal
		},
		OnLink: e.onLink,
	}
}

// Open registers a call when its IAM opens it (analysis.AssemblerConfig.Open):
// an ingress call gets its origin country and becomes a transit candidate.
func (e *Engine) Open(c *analysis.Call) {
	if c.Direction == analysis.DirectionIngress {
		e.origin(c)
	}
	e.transit.Open(c)
}

// origin sets OriginCountry on an ingress call from an international partner
// or with a foreign caller: the country of the caller's country code when it
// is foreign, else the partner's configured country, else the country of the
// caller's (home) country code.
func (e *Engine) origin(c *analysis.Call) {
	p := e.partners[c.Partner]
	intlPartner := p != nil && p.Kind == KindInternational
	if !intlPartner && (c.Calling == nil || c.Calling.NAI == naiNational || c.Calling.NAI == naiSubscriber) {
		return // a national or local number from a domestic partner: home
	}
	r := &e.tin
	*r = numplan.Result{}
	if c.Calling != nil && c.Calling.Digits != "" && e.s.Plan != nil {
		e.buf = append(e.buf[:0], c.Calling.Digits...)
		e.s.Plan.Normalise(e.buf, c.Calling.NAI, r)
	}
	switch {
	case r.NE164 > 0 && !r.Home:
		c.OriginCountry = e.s.Countries.Of(r.Bytes())
	case !intlPartner:
	case p.Country != "":
		c.OriginCountry = p.Country
	case r.NE164 > 0:
		c.OriginCountry = e.s.Countries.Of(r.Bytes())
	}
}

// onLink judges a transit call from its two legs (both open): what the
// gateway did to the calling number.
func (e *Engine) onLink(in, out *analysis.Call) {
	if in.Calling == nil || in.Calling.Digits == "" || in.Calling.APRI == 2 {
		return // nothing to keep (cli.missing judged the ingress leg)
	}
	pin, pout := e.partners[in.Partner], e.partners[out.Partner]
	allowed := pin != nil && pin.CLIChangeAllowed || pout != nil && pout.CLIChangeAllowed
	ri, ro := &e.tin, &e.tout
	e.normaliseInto(in.Calling, ri)
	if out.Calling == nil || out.Calling.Digits == "" || out.Calling.APRI == 2 {
		if !allowed {
			e.fire(out, CLIAlteredInTransit, out.Start, 0, 0,
				"calling number "+in.Calling.Digits+" of ingress call "+in.ID+" from "+in.Partner+" removed on the egress leg")
		}
		return
	}
	e.normaliseInto(out.Calling, ro)
	if ri.NE164 > 0 && ri.NE164 == ro.NE164 && ri.E164 == ro.E164 {
		return // the same number, still with its country code
	}
	if !sameNumberAnyForm(in.Calling, ri, out.Calling.Digits) {
		if !allowed {
			e.fire(out, CLIAlteredInTransit, out.Start, 0, 0,
				"calling number "+in.Calling.Digits+" (NAI "+strconv.Itoa(int(in.Calling.NAI))+") of ingress call "+in.ID+
					" from "+in.Partner+" presented as "+out.Calling.Digits+" (NAI "+strconv.Itoa(int(out.Calling.NAI))+")")
		}
		return
	}
	// The same number in another form: only the international caller of an
	// international partner must keep its marking.
	intlCaller := pin != nil && pin.Kind == KindInternational && in.Calling.NAI == naiInternational && ri.NE164 > 0 && !ri.Home
	if !intlCaller {
		return
	}
	how := "without its country code"
	switch out.Calling.NAI {
	case naiNational:
		how = "as a national number"
	case naiSubscriber:
		how = "as a subscriber number"
	}
	e.fire(out, CLIIntlMarkingStripped, out.Start, 0, 0,
		"international calling number "+in.Calling.Digits+" of ingress call "+in.ID+" from "+in.Partner+
			" presented "+how+" (digits "+out.Calling.Digits+", NAI "+strconv.Itoa(int(out.Calling.NAI))+")")
}

func (e *Engine) normaliseInto(p *analysis.PartyNumber, r *numplan.Result) {
	*r = numplan.Result{}
	if e.s.Plan != nil && p != nil {
		e.buf = append(e.buf[:0], p.Digits...)
		e.s.Plan.Normalise(e.buf, p.NAI, r)
	}
}

// sameNumberAnyForm reports whether digits are the number p (normalised as r)
// in one of its forms: as signalled, E.164, with the international prefix,
// or its national significant number with or without the trunk prefix.
func sameNumberAnyForm(p *analysis.PartyNumber, r *numplan.Result, digits string) bool {
	if digits == p.Digits {
		return true
	}
	if r.NE164 == 0 {
		return false
	}
	d := []byte(digits)
	e164 := r.Bytes()
	nsn := e164[r.CCLen:]
	for _, prefix := range []string{"", "00"} {
		if len(d) == len(prefix)+len(e164) && string(d[:len(prefix)]) == prefix && bytes.Equal(d[len(prefix):], e164) {
			return true
		}
	}
	if r.CCLen == 0 || len(nsn) == 0 {
		return false
	}
	return bytes.Equal(d, nsn) || len(d) == len(nsn)+1 && d[0] == '0' && bytes.Equal(d[1:], nsn)
}
