package transit

import (
	"strconv"
	"strings"

	"github.com/gatewarden/gatewarden/analysis"
)

// Change is one difference between the ingress and the egress leg of a
// transit call, as trace and the web UI show it.
type Change struct {
	Field   string `json:"field"`   // calling, calling_nai, calling_apri, generic, redirecting, original_called, redirection_counter
	Ingress string `json:"ingress"` // "" when absent
	Egress  string `json:"egress"`
}

// Diff lists what the gateway changed between the ingress leg in and the
// egress leg out: the calling number, its nature of address and presentation,
// the generic numbers and the redirection information. Nil when nothing did.
func Diff(in, out *analysis.Call) []Change {
	var ch []Change
	add := func(field, a, b string) {
		if a != b {
			ch = append(ch, Change{Field: field, Ingress: a, Egress: b})
		}
	}
	add("calling", digits(in.Calling), digits(out.Calling))
	if in.Calling != nil && out.Calling != nil {
		add("calling_nai", strconv.Itoa(int(in.Calling.NAI)), strconv.Itoa(int(out.Calling.NAI)))
		add("calling_apri", strconv.Itoa(int(in.Calling.APRI)), strconv.Itoa(int(out.Calling.APRI)))
	}
	add("generic", generic(in.Generic), generic(out.Generic))
	add("redirecting", digits(in.Redirecting), digits(out.Redirecting))
	add("original_called", digits(in.OriginalCalled), digits(out.OriginalCalled))
	add("redirection_counter", counter(in), counter(out))
	return ch
}

// Compare names which leg c is ("ingress" or "egress") of the transit call
// whose other leg is other, and lists what changed from the ingress to the
// egress leg (never nil). It is the one view trace and the web UI show.
func Compare(c, other *analysis.Call) (leg string, changes []Change) {
	in, out, leg := other, c, "egress"
	if c.TransitOf == "" {
		in, out, leg = c, other, "ingress"
	}
	if changes = Diff(in, out); changes == nil {
		changes = []Change{}
	}
	return leg, changes
}

func digits(p *analysis.PartyNumber) string {
	if p == nil {
		return ""
	}
	return p.Digits
}

func generic(g []analysis.PartyNumber) string {
	s := make([]string, len(g))
	for i := range g {
		s[i] = g[i].Digits
	}
	return strings.Join(s, ",")
}

func counter(c *analysis.Call) string {
	if !c.Redirected {
		return ""
	}
	return strconv.Itoa(int(c.RedirCounter))
}
