package capture

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// A capture filter in the tcpdump (pcap-filter(7)) syntax is parsed into
// this tree, then compiled to classic BPF by bpf.go.
type filterNode interface{ isFilterNode() }

type (
	filterAnd struct{ l, r filterNode }
	filterOr  struct{ l, r filterNode }
	filterNot struct{ x filterNode }
	// filterPrim is one primitive: a protocol ("sctp", "ip6", "vlan 100")
	// or a qualified id ("src host 10.0.0.1", "tcp portrange 1-99").
	filterPrim struct {
		quals
		// host, net: the prefix (a host is a full-length prefix).
		prefix netip.Prefix
		// port, portrange: the inclusive range.
		portLo, portHi uint16
		// vlan: the id, or -1 for any tag.
		vlanID int
	}
)

func (filterAnd) isFilterNode()  {}
func (filterOr) isFilterNode()   {}
func (filterNot) isFilterNode()  {}
func (filterPrim) isFilterNode() {}

// Filter keywords.
const (
	kwHost      = "host"
	kwNet       = "net"
	kwPort      = "port"
	kwPortrange = "portrange"
	kwVLAN      = "vlan"
	kwSrc       = "src"
	kwDst       = "dst"
	kwSrcOrDst  = "src or dst"
	kwSrcAndDst = "src and dst"
)

// IP protocol numbers the filter names.
var filterIPProtos = map[string]uint8{"icmp": 1, "tcp": 6, "udp": 17, "sctp": ipProtoSCTP}

// quals are a primitive's qualifiers: protocol, direction and type.
type quals struct {
	proto string // "", ip, ip6, arp, tcp, udp, sctp, icmp, vlan
	dir   string // "", src, dst, "src or dst", "src and dst"
	typ   string // "", host, net, port, portrange
}

type filterParser struct {
	expr string
	toks []string
	i    int
	last *quals // qualifiers of the last primitive, for "port 1 or 2"
}

// parseFilter parses a tcpdump-syntax expression. An empty expression
// returns nil.
func parseFilter(expr string) (filterNode, error) {
	p := &filterParser{expr: expr, toks: tokenizeFilter(expr)}
	if len(p.toks) == 0 {
		return nil, nil
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, p.errorf("unexpected %q", p.toks[p.i])
	}
	return n, nil
}

func tokenizeFilter(expr string) []string {
	var toks []string
	for _, w := range strings.Fields(expr) {
		for w != "" {
			switch {
			case w[0] == '(' || w[0] == ')':
				toks = append(toks, w[:1])
				w = w[1:]
			case w[0] == '!' && !strings.HasPrefix(w, "!="):
				toks = append(toks, "not")
				w = w[1:]
			case strings.HasPrefix(w, "&&"):
				toks = append(toks, "and")
				w = w[2:]
			case strings.HasPrefix(w, "||"):
				toks = append(toks, "or")
				w = w[2:]
			default:
				end := strings.IndexAny(w, "()")
				if end < 0 {
					end = len(w)
				}
				toks = append(toks, w[:end])
				w = w[end:]
			}
		}
	}
	return toks
}

func (p *filterParser) errorf(format string, args ...any) error {
	return fmt.Errorf("filter %q: %s", p.expr, fmt.Sprintf(format, args...))
}

func (p *filterParser) peek(k int) string {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return ""
}

func (p *filterParser) or() (filterNode, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek(0) == "or" {
		p.i++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = filterOr{l, r}
	}
	return l, nil
}

func (p *filterParser) and() (filterNode, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.peek(0) == "and" {
		p.i++
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = filterAnd{l, r}
	}
	return l, nil
}

func (p *filterParser) not() (filterNode, error) {
	switch p.peek(0) {
	case "not":
		p.i++
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return filterNot{x}, nil
	case "(":
		p.i++
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek(0) != ")" {
			return nil, p.errorf("missing )")
		}
		p.i++
		return x, nil
	case "":
		return nil, p.errorf("expression ends where a primitive should follow")
	}
	return p.primitive()
}

func isTypeKeyword(s string) bool {
	return s == kwHost || s == kwNet || s == kwPort || s == kwPortrange
}

func (p *filterParser) primitive() (filterNode, error) {
	var q quals
	tok := p.peek(0)
	switch {
	case tok == "ip" || tok == "ip6" || tok == "arp" || tok == kwVLAN:
		q.proto = tok
		p.i++
	case filterIPProtos[tok] != 0:
		q.proto = tok
		p.i++
	}
	if q.proto == kwVLAN {
		prim := filterPrim{quals: q, vlanID: -1}
		if n, err := strconv.Atoi(p.peek(0)); err == nil {
			if n < 0 || n > 4095 {
				return nil, p.errorf("vlan id %d is not 0-4095", n)
			}
			prim.vlanID = n
			p.i++
		}
		return prim, nil
	}
	switch tok := p.peek(0); {
	case (tok == kwSrc || tok == kwDst) && (p.peek(1) == "or" || p.peek(1) == "and") && p.peek(2) == kwDst && tok == kwSrc && isTypeKeyword(p.peek(3)):
		q.dir = kwSrc + " " + p.peek(1) + " " + kwDst
		p.i += 3
	case tok == kwSrc || tok == kwDst:
		q.dir = tok
		p.i++
	}
	if isTypeKeyword(p.peek(0)) {
		q.typ = p.peek(0)
		p.i++
	}
	if q.typ == "" {
		if q.dir != "" {
			return nil, p.errorf("%q needs host, net, port or portrange", q.dir)
		}
		if q.proto != "" {
			return filterPrim{quals: q}, nil
		}
		// A bare id repeats the last primitive's qualifiers: "port 1 or 2".
		if p.last == nil || p.last.typ == "" {
			return nil, p.errorf("unknown primitive %q; %s", p.peek(0), FilterHelp)
		}
		q = *p.last
	}
	id := p.peek(0)
	if id == "" || id == "and" || id == "or" || id == ")" {
		return nil, p.errorf("%s needs a value", q.typ)
	}
	p.i++
	prim := filterPrim{quals: q}
	switch q.typ {
	case kwHost, kwNet:
		if q.proto != "" && q.proto != "ip" && q.proto != "ip6" && q.proto != "arp" {
			return nil, p.errorf("%s %s: a %s is an ip, ip6 or arp qualifier", q.proto, q.typ, q.typ)
		}
		pfx, err := parseFilterPrefix(id, q.typ == kwNet)
		if err != nil {
			return nil, p.errorf("%s %q: %v", q.typ, id, err)
		}
		if q.proto == "ip6" && pfx.Addr().Is4() || (q.proto == "ip" || q.proto == "arp") && pfx.Addr().Is6() {
			return nil, p.errorf("%s %s %s: address family does not match", q.proto, q.typ, id)
		}
		prim.prefix = pfx
	case kwPort, kwPortrange:
		if q.proto != "" && filterIPProtos[q.proto] == 0 || q.proto == "icmp" {
			return nil, p.errorf("%s %s: a port is a tcp, udp or sctp qualifier", q.proto, q.typ)
		}
		lo, hi := id, id
		if q.typ == kwPortrange {
			var ok bool
			if lo, hi, ok = strings.Cut(id, "-"); !ok {
				return nil, p.errorf("portrange %q: want LOW-HIGH", id)
			}
		}
		a, errA := strconv.ParseUint(lo, 10, 16)
		b, errB := strconv.ParseUint(hi, 10, 16)
		if errA != nil || errB != nil {
			return nil, p.errorf("%s %q: a port is a number 0-65535", q.typ, id)
		}
		if a > b {
			a, b = b, a
		}
		prim.portLo, prim.portHi = uint16(a), uint16(b)
	}
	p.last = &prim.quals
	return prim, nil
}

// parseFilterPrefix parses an address, or for net also ADDR/LEN or a partial
// IPv4 network ("10", "192.168").
func parseFilterPrefix(s string, isNet bool) (netip.Prefix, error) {
	if isNet {
		if strings.Contains(s, "/") {
			pfx, err := netip.ParsePrefix(s)
			if err != nil {
				return netip.Prefix{}, err
			}
			if pfx.Masked() != pfx {
				return netip.Prefix{}, fmt.Errorf("non-network bits set in %s", s)
			}
			return pfx, nil
		}
		if parts := strings.Split(s, "."); !strings.Contains(s, ":") && len(parts) < 4 {
			var b [4]byte
			for i, part := range parts {
				n, err := strconv.ParseUint(part, 10, 8)
				if err != nil {
					return netip.Prefix{}, fmt.Errorf("not an address or network")
				}
				b[i] = byte(n)
			}
			return netip.PrefixFrom(netip.AddrFrom4(b), 8*len(parts)), nil
		}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not an IP address (host names are not resolved)")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
