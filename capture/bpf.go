package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"

	"github.com/gatewarden/gatewarden/decode"
)

// FilterHelp describes the filter forms for command-line help.
const FilterHelp = `capture filter: "" (none); a tcpdump expression (pcap-filter(7) subset: ` +
	`and/or/not (&&, ||, !), parentheses; ip, ip6, arp, tcp, udp, sctp, icmp, vlan [ID]; ` +
	`[ip|ip6|arp] [src|dst|src or dst|src and dst] host ADDR | net ADDR/LEN; ` +
	`[tcp|udp|sctp] [src|dst] port N | portrange N-M), compiled in, pure Go; ` +
	`or "@FILE" with the output of "tcpdump -ddd -i IFACE 'EXPR'"`

// Values a filter returns: the snap length to keep, or 0 to drop.
const (
	filterAccept = 262144
	filterReject = 0
)

// EtherTypes and IP protocols recognised by the compiled filters.
const (
	etherTypeIPv4   = 0x0800
	etherTypeIPv6   = 0x86DD
	etherTypeARP    = 0x0806
	etherTypeRARP   = 0x8035
	etherTypeVLAN   = 0x8100
	etherTypeQinQ   = 0x88A8
	etherTypeQinQv1 = 0x9100
	ipProtoSCTP     = 132
	ipv6Fragment    = 44
)

// Header layout used by the compiled filters (offsets from the network
// header).
const (
	ethHeaderLen      = 14
	ethTypeOffset     = 12
	vlanTagLen        = 4
	vlanIDMask        = 0x0FFF
	ipv4ProtoOffset   = 9
	ipv4FragOffset    = 6
	ipv4FragMask      = 0x1FFF // fragment offset bits
	ipv4SrcOffset     = 12
	ipv4DstOffset     = 16
	ipv6NextOffset    = 6
	ipv6SrcOffset     = 8
	ipv6DstOffset     = 24
	ipv6HeaderLen     = 40
	ipv6FragHeaderLen = 8
	ipv6FragOffMask   = 0xFFF8 // fragment offset bits of the fragment header
	arpSenderIPOffset = 14
	arpTargetIPOffset = 24
)

// Scratch memory slots: the offset of the network header and of the
// EtherType, which "vlan" moves past an in-frame tag at run time.
const (
	memNet   = 0
	memEther = 1
)

// CompileFilter compiles a filter expression in the tcpdump syntax (see
// FilterHelp) for a link type: Ethernet, or raw IP as delivered by a
// SOCK_DGRAM packet socket. An empty expression yields no program.
//
// Differences from tcpdump, both for a monitor that must not lose a message:
// a port or portrange primitive also matches a non-first IP fragment of the
// protocols it names (it carries no ports; the decoder reassembles it), and
// "vlan" matches a tag the kernel stripped into packet metadata (the
// ancillary vlan_tag_present load) as well as one still in the frame; after
// an in-frame tag the following primitives read past it, as in tcpdump.
func CompileFilter(expr string, linkType uint16) ([]bpf.Instruction, error) {
	n, err := parseFilter(expr)
	if err != nil || n == nil {
		return nil, err
	}
	c := filterCompiler{link: linkType}
	switch linkType {
	case decode.LinkTypeEthernet:
		c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: ethHeaderLen})
		c.emit(bpf.StoreScratch{Src: bpf.RegA, N: memNet})
		c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: ethTypeOffset})
		c.emit(bpf.StoreScratch{Src: bpf.RegA, N: memEther})
	case decode.LinkTypeRaw:
		c.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 0})
		c.emit(bpf.StoreScratch{Src: bpf.RegA, N: memNet})
	default:
		return nil, fmt.Errorf("filter %q: no built-in compilation for link type %d", expr, linkType)
	}
	c.node(n, "accept", "reject")
	c.label("accept")
	c.emit(bpf.RetConstant{Val: filterAccept})
	c.label("reject")
	c.emit(bpf.RetConstant{Val: filterReject})
	ins, err := c.resolve()
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	if len(ins) > bpfMaxInstructions {
		return nil, fmt.Errorf("filter %q: %d instructions, more than the kernel's %d", expr, len(ins), bpfMaxInstructions)
	}
	return ins, nil
}

// filterCompiler emits short-circuit code: each node jumps to its true or
// false label.
type filterCompiler struct {
	asm
	link   uint16
	labelN int
}

func (c *filterCompiler) newLabel() string {
	c.labelN++
	return "L" + strconv.Itoa(c.labelN)
}

func (c *filterCompiler) node(n filterNode, t, f string) {
	switch n := n.(type) {
	case filterAnd:
		mid := c.newLabel()
		c.node(n.l, mid, f)
		c.label(mid)
		c.node(n.r, t, f)
	case filterOr:
		mid := c.newLabel()
		c.node(n.l, t, mid)
		c.label(mid)
		c.node(n.r, t, f)
	case filterNot:
		c.node(n.x, f, t)
	case filterPrim:
		c.prim(n, t, f)
	}
}

func (c *filterCompiler) prim(p filterPrim, t, f string) {
	switch {
	case p.proto == kwVLAN:
		c.vlan(p.vlanID, t, f)
	case p.typ == kwPort || p.typ == kwPortrange:
		c.port(p, t, f)
	case p.typ == kwHost || p.typ == kwNet:
		c.host(p, t, f)
	case p.proto == "ip":
		c.etherIs(etherTypeIPv4, t, f)
	case p.proto == "ip6":
		c.etherIs(etherTypeIPv6, t, f)
	case p.proto == "arp":
		c.etherIs(etherTypeARP, t, f)
	default: // tcp, udp, sctp, icmp
		proto := filterIPProtos[p.proto]
		v6 := f
		if proto != filterIPProtos["icmp"] {
			v6 = c.newLabel()
		}
		l4 := c.newLabel()
		c.etherIs(etherTypeIPv4, l4, v6)
		c.label(l4)
		c.loadNet(ipv4ProtoOffset, 1)
		c.jumpIf(bpf.JumpEqual, uint32(proto), t, f)
		if v6 != f {
			c.label(v6)
			c.ip6Proto(proto, t, f, "")
		}
	}
}

// loadNet loads size bytes at off from the network header into A.
func (c *filterCompiler) loadNet(off uint32, size int) {
	c.emit(bpf.LoadScratch{Dst: bpf.RegX, N: memNet})
	c.emit(bpf.LoadIndirect{Off: off, Size: size})
}

// etherIs jumps to t when the network protocol is etherType. On raw IP only
// IPv4 and IPv6 exist, told apart by the version nibble.
func (c *filterCompiler) etherIs(etherType uint32, t, f string) {
	if c.link == decode.LinkTypeRaw {
		version := map[uint32]uint32{etherTypeIPv4: 4, etherTypeIPv6: 6}[etherType]
		if version == 0 {
			c.jump(f)
			return
		}
		c.loadNet(0, 1)
		c.emit(bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4})
		c.jumpIf(bpf.JumpEqual, version, t, f)
		return
	}
	c.emit(bpf.LoadScratch{Dst: bpf.RegX, N: memEther})
	c.emit(bpf.LoadIndirect{Off: 0, Size: 2})
	c.jumpIf(bpf.JumpEqual, etherType, t, f)
}

// ip6Proto, for an IPv6 packet, jumps to t when the next header is proto,
// directly or after a fragment header. When first is not "", a match after
// a fragment header goes to first instead (the first fragment) or to t (a
// later fragment).
func (c *filterCompiler) ip6Proto(proto uint8, t, f, first string) {
	frag := c.newLabel()
	c.loadNet(ipv6NextOffset, 1)
	c.jumpIf(bpf.JumpEqual, uint32(proto), t, "")
	c.jumpIf(bpf.JumpEqual, ipv6Fragment, frag, f)
	c.label(frag)
	c.loadNet(ipv6HeaderLen, 1)
	if first == "" {
		c.jumpIf(bpf.JumpEqual, uint32(proto), t, f)
		return
	}
	c.jumpIf(bpf.JumpEqual, uint32(proto), "", f)
	c.loadNet(ipv6HeaderLen+2, 2)
	c.jumpIf(bpf.JumpBitsSet, ipv6FragOffMask, t, first)
}

// vlan matches a stripped tag (packet metadata) or an in-frame one; after an
// in-frame tag the network header and EtherType offsets move past it.
func (c *filterCompiler) vlan(id int, t, f string) {
	stripped, inline := c.newLabel(), c.newLabel()
	c.emit(bpf.LoadExtension{Num: bpf.ExtVLANTagPresent})
	if c.link == decode.LinkTypeRaw {
		inline = f
	}
	c.jumpIf(bpf.JumpEqual, 0, inline, stripped)
	c.label(stripped)
	if id < 0 {
		c.jump(t)
	} else {
		c.emit(bpf.LoadExtension{Num: bpf.ExtVLANTag})
		c.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: vlanIDMask})
		c.jumpIf(bpf.JumpEqual, uint32(id), t, f)
	}
	if inline == f {
		return
	}
	c.label(inline)
	tagged := c.newLabel()
	c.emit(bpf.LoadScratch{Dst: bpf.RegX, N: memEther})
	c.emit(bpf.LoadIndirect{Off: 0, Size: 2})
	c.jumpIf(bpf.JumpEqual, etherTypeVLAN, tagged, "")
	c.jumpIf(bpf.JumpEqual, etherTypeQinQ, tagged, "")
	c.jumpIf(bpf.JumpEqual, etherTypeQinQv1, tagged, f)
	c.label(tagged)
	if id >= 0 {
		c.emit(bpf.LoadIndirect{Off: 2, Size: 2})
		c.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: vlanIDMask})
		c.jumpIf(bpf.JumpEqual, uint32(id), "", f)
	}
	for _, slot := range []int{memEther, memNet} {
		c.emit(bpf.LoadScratch{Dst: bpf.RegA, N: slot})
		c.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: vlanTagLen})
		c.emit(bpf.StoreScratch{Src: bpf.RegA, N: slot})
	}
	c.jump(t)
}

// host matches an address or network in IPv4 (and ARP/RARP, as tcpdump
// does when no protocol is named) or IPv6 headers.
func (c *filterCompiler) host(p filterPrim, t, f string) {
	a := p.prefix.Addr()
	if a.Is6() {
		v6 := c.newLabel()
		c.etherIs(etherTypeIPv6, v6, f)
		c.label(v6)
		c.dirMatch(p.dir, ipv6SrcOffset, ipv6DstOffset, func(off uint32, t, f string) { c.addrMatch(off, p.prefix, t, f) }, t, f)
		return
	}
	kinds := []struct {
		etherType uint32
		src, dst  uint32
	}{{etherTypeIPv4, ipv4SrcOffset, ipv4DstOffset}, {etherTypeARP, arpSenderIPOffset, arpTargetIPOffset}, {etherTypeRARP, arpSenderIPOffset, arpTargetIPOffset}}
	switch p.proto {
	case "ip":
		kinds = kinds[:1]
	case "arp":
		kinds = kinds[1:2]
	}
	if c.link == decode.LinkTypeRaw {
		kinds = kinds[:1]
	}
	for i, k := range kinds {
		next := f
		if i < len(kinds)-1 {
			next = c.newLabel()
		}
		match := c.newLabel()
		c.etherIs(k.etherType, match, next)
		c.label(match)
		c.dirMatch(p.dir, k.src, k.dst, func(off uint32, t, f string) { c.addrMatch(off, p.prefix, t, f) }, t, f)
		if next != f {
			c.label(next)
		}
	}
}

// dirMatch combines a source and a destination test by direction.
func (c *filterCompiler) dirMatch(dir string, src, dst uint32, test func(off uint32, t, f string), t, f string) {
	switch dir {
	case kwSrc:
		test(src, t, f)
	case kwDst:
		test(dst, t, f)
	case kwSrcAndDst:
		mid := c.newLabel()
		test(src, mid, f)
		c.label(mid)
		test(dst, t, f)
	default: // either
		mid := c.newLabel()
		test(src, t, mid)
		c.label(mid)
		test(dst, t, f)
	}
}

// addrMatch compares the address at off with a prefix, 32 bits at a time.
func (c *filterCompiler) addrMatch(off uint32, pfx netip.Prefix, t, f string) {
	b := pfx.Addr().AsSlice()
	bits := pfx.Bits()
	for w := 0; w*32 < bits; w++ {
		want := binary.BigEndian.Uint32(b[4*w:])
		mask := uint32(0xFFFFFFFF)
		if rest := bits - w*32; rest < 32 {
			mask <<= 32 - rest
		}
		c.loadNet(off+uint32(4*w), 4)
		if mask != 0xFFFFFFFF {
			c.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask})
		}
		last := (w+1)*32 >= bits
		onTrue := ""
		if last {
			onTrue = t
		}
		c.jumpIf(bpf.JumpEqual, want&mask, onTrue, f)
	}
	if bits == 0 {
		c.jump(t)
	}
}

// port matches TCP, UDP or SCTP ports over IPv4 and IPv6; a non-first
// fragment of those protocols matches too (see CompileFilter).
func (c *filterCompiler) port(p filterPrim, t, f string) {
	protos := []uint8{filterIPProtos["tcp"], filterIPProtos["udp"], ipProtoSCTP}
	if p.proto != "" {
		protos = []uint8{filterIPProtos[p.proto]}
	}
	v4, v6 := c.newLabel(), c.newLabel()
	c.etherIs(etherTypeIPv4, v4, v6)

	c.label(v4)
	ports4 := c.newLabel()
	c.loadNet(ipv4ProtoOffset, 1)
	c.protoIn(protos, ports4, v6) // not IPv4 after all: v6 fails on the ethertype
	c.label(ports4)
	c.loadNet(ipv4FragOffset, 2)
	c.jumpIf(bpf.JumpBitsSet, ipv4FragMask, t, "")
	// X = network offset + IPv4 header length.
	c.loadNet(0, 1)
	c.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0x0F})
	c.emit(bpf.ALUOpConstant{Op: bpf.ALUOpShiftLeft, Val: 2})
	c.emit(bpf.ALUOpX{Op: bpf.ALUOpAdd})
	c.emit(bpf.TAX{})
	c.portMatch(p, t, f)

	c.label(v6)
	c.etherIs(etherTypeIPv6, "", f)
	direct, frag, first := c.newLabel(), c.newLabel(), c.newLabel()
	c.loadNet(ipv6NextOffset, 1)
	c.protoIn(protos, direct, frag)
	c.label(direct)
	c.xNetPlus(ipv6HeaderLen)
	c.portMatch(p, t, f)
	c.label(frag)
	c.jumpIf(bpf.JumpEqual, ipv6Fragment, "", f)
	c.loadNet(ipv6HeaderLen, 1)
	fragProto := c.newLabel()
	c.protoIn(protos, fragProto, f)
	c.label(fragProto)
	c.loadNet(ipv6HeaderLen+2, 2)
	c.jumpIf(bpf.JumpBitsSet, ipv6FragOffMask, t, first)
	c.label(first)
	c.xNetPlus(ipv6HeaderLen + ipv6FragHeaderLen)
	c.portMatch(p, t, f)
}

// protoIn jumps to t when A is one of protos.
func (c *filterCompiler) protoIn(protos []uint8, t, f string) {
	for i, pr := range protos {
		next := ""
		if i == len(protos)-1 {
			next = f
		}
		c.jumpIf(bpf.JumpEqual, uint32(pr), t, next)
	}
}

// xNetPlus sets X to the network header offset plus n.
func (c *filterCompiler) xNetPlus(n uint32) {
	c.emit(bpf.LoadScratch{Dst: bpf.RegA, N: memNet})
	c.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: n})
	c.emit(bpf.TAX{})
}

// portMatch tests the source and destination ports at X (the transport
// header) by direction.
func (c *filterCompiler) portMatch(p filterPrim, t, f string) {
	c.dirMatch(p.dir, 0, 2, func(off uint32, t, f string) {
		c.emit(bpf.LoadIndirect{Off: off, Size: 2})
		if p.portLo == p.portHi {
			c.jumpIf(bpf.JumpEqual, uint32(p.portLo), t, f)
			return
		}
		c.jumpIf(bpf.JumpGreaterOrEqual, uint32(p.portLo), "", f)
		c.jumpIf(bpf.JumpGreaterThan, uint32(p.portHi), f, t)
	}, t, f)
}

// asm assembles classic BPF with symbolic jump targets ("" = next).
type asm struct {
	ins    []bpf.Instruction
	fix    []asmFixup
	labels map[string]int
}

type asmFixup struct {
	at              int
	onTrue, onFalse string
	always          bool
}

func (a *asm) emit(i bpf.Instruction) { a.ins = append(a.ins, i) }

func (a *asm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.ins)
}

func (a *asm) jumpIf(cond bpf.JumpTest, val uint32, onTrue, onFalse string) {
	a.fix = append(a.fix, asmFixup{at: len(a.ins), onTrue: onTrue, onFalse: onFalse})
	a.emit(bpf.JumpIf{Cond: cond, Val: val})
}

func (a *asm) jump(to string) {
	a.fix = append(a.fix, asmFixup{at: len(a.ins), onTrue: to, always: true})
	a.emit(bpf.Jump{})
}

// maxCondSkip is the farthest a conditional jump reaches (8-bit offsets).
const maxCondSkip = 255

// relax routes every conditional jump whose target is too far through an
// unconditional jump (32-bit offset) placed right after it, as libpcap does
// for long programs.
func (a *asm) relax() {
	dist := func(from int, to string) int {
		if to == "" {
			return 0
		}
		target, ok := a.labels[to]
		if !ok {
			return 0 // reported by resolve
		}
		return target - from - 1
	}
	for n := 0; ; n++ {
		fi := -1
		for i, f := range a.fix {
			if !f.always && (dist(f.at, f.onTrue) > maxCondSkip || dist(f.at, f.onFalse) > maxCondSkip) {
				fi = i
				break
			}
		}
		if fi < 0 {
			return
		}
		f := a.fix[fi]
		var far []*string
		for _, to := range []*string{&f.onTrue, &f.onFalse} {
			if dist(f.at, *to) > maxCondSkip {
				far = append(far, to)
			}
		}
		k := len(far)
		for name, pos := range a.labels {
			if pos > f.at {
				a.labels[name] = pos + k
			}
		}
		for i := range a.fix {
			if a.fix[i].at > f.at {
				a.fix[i].at += k
			}
		}
		a.ins = append(a.ins[:f.at+1], append(make([]bpf.Instruction, k), a.ins[f.at+1:]...)...)
		after := fmt.Sprintf("relax%d_next", n)
		a.labels[after] = f.at + 1 + k
		for j, to := range far {
			at := f.at + 1 + j
			a.ins[at] = bpf.Jump{}
			a.fix = append(a.fix, asmFixup{at: at, onTrue: *to, always: true})
			label := fmt.Sprintf("relax%d_%d", n, j)
			a.labels[label] = at
			*to = label
		}
		for _, to := range []*string{&f.onTrue, &f.onFalse} {
			if *to == "" {
				*to = after
			}
		}
		a.fix[fi] = f
	}
}

func (a *asm) resolve() ([]bpf.Instruction, error) {
	a.relax()
	skip := func(from int, to string) (uint32, error) {
		if to == "" {
			return 0, nil
		}
		target, ok := a.labels[to]
		if !ok {
			return 0, fmt.Errorf("bpf: undefined label %q", to)
		}
		d := target - from - 1
		if d < 0 {
			return 0, fmt.Errorf("bpf: backward jump to %q", to)
		}
		return uint32(d), nil
	}
	for _, f := range a.fix {
		t, err := skip(f.at, f.onTrue)
		if err != nil {
			return nil, err
		}
		if f.always {
			a.ins[f.at] = bpf.Jump{Skip: t}
			continue
		}
		e, err := skip(f.at, f.onFalse)
		if err != nil {
			return nil, err
		}
		if t > maxCondSkip || e > maxCondSkip {
			return nil, errors.New("bpf: conditional jump too far")
		}
		j := a.ins[f.at].(bpf.JumpIf)
		j.SkipTrue, j.SkipFalse = uint8(t), uint8(e)
		a.ins[f.at] = j
	}
	return a.ins, nil
}

// ParseTcpdumpDDD parses the output of `tcpdump -ddd`: a count line, then one
// "code jt jf k" line per instruction. Jumps must stay inside the program and
// the last instruction must return.
func ParseTcpdumpDDD(text string) ([]bpf.RawInstruction, error) {
	lines := strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' })
	var rows []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			rows = append(rows, l)
		}
	}
	if len(rows) == 0 {
		return nil, errors.New("tcpdump -ddd: empty program")
	}
	n, err := strconv.Atoi(rows[0])
	if err != nil || n <= 0 || n > bpfMaxInstructions {
		return nil, fmt.Errorf("tcpdump -ddd: first line %q is not an instruction count (1-%d)", rows[0], bpfMaxInstructions)
	}
	if len(rows)-1 != n {
		return nil, fmt.Errorf("tcpdump -ddd: count says %d instructions, found %d", n, len(rows)-1)
	}
	prog := make([]bpf.RawInstruction, n)
	for i, row := range rows[1:] {
		f := strings.Fields(row)
		if len(f) != 4 {
			return nil, fmt.Errorf("tcpdump -ddd: instruction %d %q: want \"code jt jf k\"", i, row)
		}
		var v [4]uint64
		for j, bits := range []int{16, 8, 8, 32} {
			if v[j], err = strconv.ParseUint(f[j], 10, bits); err != nil {
				return nil, fmt.Errorf("tcpdump -ddd: instruction %d %q: %v", i, row, err)
			}
		}
		ins := bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])}
		if ins.Op&0x07 == 0x05 { // BPF_JMP
			far := i + 1 + int(ins.Jt)
			if ins.Op&0xF0 == 0x00 { // BPF_JA
				far = i + 1 + int(ins.K)
			} else if e := i + 1 + int(ins.Jf); e > far {
				far = e
			}
			if far >= n {
				return nil, fmt.Errorf("tcpdump -ddd: instruction %d jumps past the end", i)
			}
		}
		prog[i] = ins
	}
	if prog[n-1].Op&0x07 != 0x06 { // BPF_RET
		return nil, errors.New("tcpdump -ddd: program does not end with a return")
	}
	return prog, nil
}

// bpfMaxInstructions is the kernel's BPF_MAXINSNS.
const bpfMaxInstructions = 4096

// LoadFilter turns a filter specification into a program for a link type:
// "" (nil program), a built-in expression, or "@FILE" with tcpdump -ddd
// output (used as is, whatever the link type).
func LoadFilter(spec string, linkType uint16) ([]bpf.RawInstruction, error) {
	if path, ok := strings.CutPrefix(strings.TrimSpace(spec), "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("filter file: %w", err)
		}
		prog, err := ParseTcpdumpDDD(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return prog, nil
	}
	ins, err := CompileFilter(spec, linkType)
	if err != nil || ins == nil {
		return nil, err
	}
	return bpf.Assemble(ins)
}

// ValidateFilter reports whether a filter specification (see LoadFilter)
// compiles, so that a configuration check catches a bad filter before the
// daemon opens its interfaces.
func ValidateFilter(spec string) error {
	_, err := LoadFilter(spec, decode.LinkTypeEthernet)
	return err
}
