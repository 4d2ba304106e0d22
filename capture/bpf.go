package capture

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"

	"github.com/gatewarden/gatewarden/decode"
)

// FilterHelp describes the filter forms for command-line help: without
// libpcap there is no general filter compiler.
const FilterHelp = `capture filter: "" (none), "sctp", "sctp port N", "vlan and sctp" or ` +
	`"vlan and sctp port N" (compiled in, pure Go); or "@FILE" with the output of ` +
	`"tcpdump -ddd -i IFACE 'EXPR'" (classic BPF compiled for that interface's link type)`

// Values a filter returns: the snap length to keep, or 0 to drop.
const (
	filterAccept = 262144
	filterReject = 0
)

// EtherTypes recognised by the compiled filters.
const (
	etherTypeIPv4   = 0x0800
	etherTypeIPv6   = 0x86DD
	etherTypeVLAN   = 0x8100
	etherTypeQinQ   = 0x88A8
	etherTypeQinQv1 = 0x9100
	ipProtoSCTP     = 132
	ipv6Fragment    = 44
)

// filterExpr is a parsed built-in filter expression.
type filterExpr struct {
	vlan bool
	port int // -1: any
}

func parseFilterExpr(expr string) (filterExpr, bool, error) {
	words := strings.Fields(expr)
	if len(words) == 0 {
		return filterExpr{}, false, nil
	}
	e := filterExpr{port: -1}
	bad := func() (filterExpr, bool, error) {
		return filterExpr{}, false, fmt.Errorf("unsupported filter %q: %s", expr, FilterHelp)
	}
	if words[0] == "vlan" {
		if len(words) < 2 || words[1] != "and" {
			return bad()
		}
		e.vlan = true
		words = words[2:]
	}
	if len(words) == 0 || words[0] != "sctp" {
		return bad()
	}
	words = words[1:]
	if len(words) > 0 {
		if len(words) != 2 || words[0] != "port" {
			return bad()
		}
		n, err := strconv.Atoi(words[1])
		if err != nil || n < 0 || n > 65535 {
			return filterExpr{}, false, fmt.Errorf("filter %q: port %q is not 0-65535", expr, words[1])
		}
		e.port = n
	}
	return e, true, nil
}

// CompileFilter compiles a built-in filter expression for a link type
// (Ethernet, or raw IP as delivered by a SOCK_DGRAM packet socket). An empty
// expression yields no program.
//
// Unlike tcpdump, "sctp port N" keeps non-first IP fragments of SCTP packets
// (they carry no ports) so that the decoder can reassemble them. "vlan"
// matches a tag the kernel stripped into packet metadata (the ancillary
// vlan_tag_present load) as well as one still in the frame.
func CompileFilter(expr string, linkType uint16) ([]bpf.Instruction, error) {
	e, ok, err := parseFilterExpr(expr)
	if err != nil || !ok {
		return nil, err
	}
	var a asm
	switch linkType {
	case decode.LinkTypeEthernet:
		if e.vlan {
			// Tag stripped by the kernel: the frame is untagged.
			a.emit(bpf.LoadExtension{Num: bpf.ExtVLANTagPresent})
			a.jumpIf(bpf.JumpEqual, 0, "inline", "stripped")
			a.label("stripped")
			a.emit(bpf.LoadAbsolute{Off: 12, Size: 2})
			a.jump("eth14")
			a.label("inline")
			a.emit(bpf.LoadAbsolute{Off: 12, Size: 2})
			a.jumpIf(bpf.JumpEqual, etherTypeVLAN, "tagged", "")
			a.jumpIf(bpf.JumpEqual, etherTypeQinQ, "tagged", "")
			a.jumpIf(bpf.JumpEqual, etherTypeQinQv1, "tagged", "reject")
			a.label("tagged")
			a.emit(bpf.LoadAbsolute{Off: 16, Size: 2})
			a.etherBody(18, e.port, "18")
			a.label("eth14")
			a.etherBody(14, e.port, "14")
		} else {
			a.emit(bpf.LoadAbsolute{Off: 12, Size: 2})
			a.etherBody(14, e.port, "14")
		}
	case decode.LinkTypeRaw:
		if e.vlan {
			a.emit(bpf.LoadExtension{Num: bpf.ExtVLANTagPresent})
			a.jumpIf(bpf.JumpEqual, 0, "reject", "")
		}
		a.emit(bpf.LoadAbsolute{Off: 0, Size: 1})
		a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4})
		a.jumpIf(bpf.JumpEqual, 4, "v4_0", "")
		a.jumpIf(bpf.JumpEqual, 6, "v6_0", "reject")
		a.ipBodies(0, e.port, "0")
	default:
		return nil, fmt.Errorf("filter %q: no built-in compilation for link type %d", expr, linkType)
	}
	a.label("accept")
	a.emit(bpf.RetConstant{Val: filterAccept})
	a.label("reject")
	a.emit(bpf.RetConstant{Val: filterReject})
	return a.resolve()
}

// etherBody dispatches on the EtherType in A, with the IP header at off.
func (a *asm) etherBody(off uint32, port int, tag string) {
	a.jumpIf(bpf.JumpEqual, etherTypeIPv4, "v4_"+tag, "")
	a.jumpIf(bpf.JumpEqual, etherTypeIPv6, "v6_"+tag, "reject")
	a.ipBodies(off, port, tag)
}

// ipBodies emits the IPv4 and IPv6 checks for an IP header at off.
func (a *asm) ipBodies(off uint32, port int, tag string) {
	a.label("v4_" + tag)
	a.emit(bpf.LoadAbsolute{Off: off + 9, Size: 1})
	if port < 0 {
		a.jumpIf(bpf.JumpEqual, ipProtoSCTP, "accept", "reject")
	} else {
		a.jumpIf(bpf.JumpEqual, ipProtoSCTP, "", "reject")
		// A non-first fragment has no SCTP header: keep it for reassembly.
		a.emit(bpf.LoadAbsolute{Off: off + 6, Size: 2})
		a.jumpIf(bpf.JumpBitsSet, 0x1FFF, "accept", "")
		a.emit(bpf.LoadMemShift{Off: off})
		a.ports(off, port)
	}
	a.label("v6_" + tag)
	a.emit(bpf.LoadAbsolute{Off: off + 6, Size: 1})
	if port < 0 {
		a.jumpIf(bpf.JumpEqual, ipProtoSCTP, "accept", "")
		a.jumpIf(bpf.JumpEqual, ipv6Fragment, "", "reject")
		a.emit(bpf.LoadAbsolute{Off: off + 40, Size: 1})
		a.jumpIf(bpf.JumpEqual, ipProtoSCTP, "accept", "reject")
		return
	}
	a.jumpIf(bpf.JumpEqual, ipProtoSCTP, "", "v6frag_"+tag)
	a.emit(bpf.LoadConstant{Dst: bpf.RegX, Val: 40})
	a.ports(off, port)
	a.label("v6frag_" + tag)
	a.jumpIf(bpf.JumpEqual, ipv6Fragment, "", "reject")
	a.emit(bpf.LoadAbsolute{Off: off + 40, Size: 1})
	a.jumpIf(bpf.JumpEqual, ipProtoSCTP, "", "reject")
	a.emit(bpf.LoadAbsolute{Off: off + 42, Size: 2})
	a.jumpIf(bpf.JumpBitsSet, 0xFFF8, "accept", "") // non-first fragment
	a.emit(bpf.LoadConstant{Dst: bpf.RegX, Val: 48})
	a.ports(off, port)
}

// ports accepts when the SCTP source or destination port (X = IP header
// length, header at off) is port.
func (a *asm) ports(off uint32, port int) {
	a.emit(bpf.LoadIndirect{Off: off, Size: 2})
	a.jumpIf(bpf.JumpEqual, uint32(port), "accept", "")
	a.emit(bpf.LoadIndirect{Off: off + 2, Size: 2})
	a.jumpIf(bpf.JumpEqual, uint32(port), "accept", "reject")
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

func (a *asm) resolve() ([]bpf.Instruction, error) {
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
		if t > 255 || e > 255 {
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
