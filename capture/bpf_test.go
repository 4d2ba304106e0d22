package capture

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/gatewarden/gatewarden/decode"
)

// Reference programs from tcpdump 4.99.3 (`tcpdump -ddd -y EN10MB|RAW EXPR`),
// ';' for newlines. Offline tcpdump does not know about kernel-stripped VLAN
// tags, so its "vlan" checks the in-frame tag only.
var tcpdumpPrograms = map[string]string{
	"en10mb sctp":                    "12;40 0 0 12;21 0 2 2048;48 0 0 23;21 6 7 132;21 0 6 34525;48 0 0 20;21 3 0 132;21 0 3 44;48 0 0 54;21 0 1 132;6 0 0 262144;6 0 0 0",
	"en10mb sctp port 2905":          "20;40 0 0 12;21 0 6 34525;48 0 0 20;21 0 15 132;40 0 0 54;21 12 0 2905;40 0 0 56;21 10 11 2905;21 0 10 2048;48 0 0 23;21 0 8 132;40 0 0 20;69 6 0 8191;177 0 0 14;72 0 0 14;21 2 0 2905;72 0 0 16;21 0 1 2905;6 0 0 262144;6 0 0 0",
	"en10mb vlan and sctp":           "16;40 0 0 12;21 2 0 33024;21 1 0 34984;21 0 11 37120;40 0 0 16;21 0 2 2048;48 0 0 27;21 6 7 132;21 0 6 34525;48 0 0 24;21 3 0 132;21 0 3 44;48 0 0 58;21 0 1 132;6 0 0 262144;6 0 0 0",
	"en10mb vlan and sctp port 2905": "24;40 0 0 12;21 2 0 33024;21 1 0 34984;21 0 19 37120;40 0 0 16;21 0 6 34525;48 0 0 24;21 0 15 132;40 0 0 58;21 12 0 2905;40 0 0 60;21 10 11 2905;21 0 10 2048;48 0 0 27;21 0 8 132;40 0 0 24;69 6 0 8191;177 0 0 18;72 0 0 18;21 2 0 2905;72 0 0 20;21 0 1 2905;6 0 0 262144;6 0 0 0",
	"raw sctp port 2905":             "23;48 0 0 0;84 0 0 240;21 0 6 96;48 0 0 6;21 0 17 132;40 0 0 40;21 14 0 2905;40 0 0 42;21 12 13 2905;48 0 0 0;84 0 0 240;21 0 10 64;48 0 0 9;21 0 8 132;40 0 0 6;69 6 0 8191;177 0 0 0;72 0 0 0;21 2 0 2905;72 0 0 2;21 0 1 2905;6 0 0 262144;6 0 0 0",
}

// Packet builders.

func l4(proto uint8, src, dst uint16) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint16(b[0:], src)
	binary.BigEndian.PutUint16(b[2:], dst)
	return append(b, "payload."...)
}

func ipv4(proto uint8, fragField uint16, optionWords int, payload []byte) []byte {
	h := make([]byte, 20+4*optionWords)
	h[0] = 0x40 | uint8(5+optionWords)
	binary.BigEndian.PutUint16(h[2:], uint16(len(h)+len(payload)))
	binary.BigEndian.PutUint16(h[6:], fragField)
	h[8] = 64
	h[9] = proto
	copy(h[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	return append(h, payload...)
}

func ipv6(next uint8, payload []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = next
	h[7] = 64
	return append(h, payload...)
}

func ipv6Frag(next uint8, offset uint16, payload []byte) []byte {
	f := make([]byte, 8)
	f[0] = next
	binary.BigEndian.PutUint16(f[2:], offset<<3)
	return ipv6(ipv6Fragment, append(f, payload...))
}

func eth(etherType uint16, payload []byte) []byte {
	h := make([]byte, 14)
	copy(h, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	binary.BigEndian.PutUint16(h[12:], etherType)
	return append(h, payload...)
}

func vlanEth(tpid, etherType uint16, payload []byte) []byte {
	h := make([]byte, 18)
	binary.BigEndian.PutUint16(h[12:], tpid)
	binary.BigEndian.PutUint16(h[14:], 100)
	binary.BigEndian.PutUint16(h[16:], etherType)
	return append(h, payload...)
}

// runFilter runs a program in the x/net/bpf VM. The VM does not implement the
// ancillary VLAN load, so it is replaced by the value the kernel would give.
func runFilter(t *testing.T, prog []bpf.Instruction, pkt []byte, vlanStripped bool) bool {
	t.Helper()
	p := append([]bpf.Instruction(nil), prog...)
	for i, ins := range p {
		if ext, ok := ins.(bpf.LoadExtension); ok && ext.Num == bpf.ExtVLANTagPresent {
			v := uint32(0)
			if vlanStripped {
				v = 1
			}
			p[i] = bpf.LoadConstant{Dst: bpf.RegA, Val: v}
		}
		if ext, ok := ins.(bpf.LoadExtension); ok && ext.Num == bpf.ExtVLANTag {
			p[i] = bpf.LoadConstant{Dst: bpf.RegA, Val: strippedVLANID}
		}
	}
	vm, err := bpf.NewVM(p)
	if err != nil {
		t.Fatalf("VM: %v", err)
	}
	n, err := vm.Run(pkt)
	if err != nil {
		t.Fatalf("VM run: %v", err)
	}
	return n > 0
}

func mustCompile(t *testing.T, expr string, lt uint16) []bpf.Instruction {
	t.Helper()
	p, err := CompileFilter(expr, lt)
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	return p
}

func tcpdumpProgram(t *testing.T, key string) []bpf.Instruction {
	t.Helper()
	raw, err := ParseTcpdumpDDD(strings.ReplaceAll(tcpdumpPrograms[key], ";", "\n"))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	ins, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatalf("%s: not fully decodable", key)
	}
	return ins
}

type filterCase struct {
	name string
	pkt  []byte
	want map[string]bool // expression → accepted
}

func TestCompileFilterEthernet(t *testing.T) {
	sctp2905 := l4(ipProtoSCTP, 2905, 40000)
	sctpOther := l4(ipProtoSCTP, 1000, 2000)
	udp2905 := l4(17, 2905, 2905)
	cases := []struct {
		name     string
		pkt      []byte
		sctp     bool
		sctpPort bool
		fragment bool // non-first fragment: we keep it, tcpdump does not
	}{
		{"ipv4 sctp 2905", eth(etherTypeIPv4, ipv4(ipProtoSCTP, 0, 0, sctp2905)), true, true, false},
		{"ipv4 sctp dst 2905", eth(etherTypeIPv4, ipv4(ipProtoSCTP, 0, 0, l4(ipProtoSCTP, 40000, 2905))), true, true, false},
		{"ipv4 options sctp 2905", eth(etherTypeIPv4, ipv4(ipProtoSCTP, 0, 2, sctp2905)), true, true, false},
		{"ipv4 sctp other port", eth(etherTypeIPv4, ipv4(ipProtoSCTP, 0, 0, sctpOther)), true, false, false},
		{"ipv4 first fragment 2905", eth(etherTypeIPv4, ipv4(ipProtoSCTP, 0x2000, 0, sctp2905)), true, true, false},
		{"ipv4 later fragment", eth(etherTypeIPv4, ipv4(ipProtoSCTP, 0x2000|185, 0, []byte("middle of a chunk"))), true, true, true},
		{"ipv4 udp 2905", eth(etherTypeIPv4, ipv4(17, 0, 0, udp2905)), false, false, false},
		{"ipv6 sctp 2905", eth(etherTypeIPv6, ipv6(ipProtoSCTP, sctp2905)), true, true, false},
		{"ipv6 sctp other", eth(etherTypeIPv6, ipv6(ipProtoSCTP, sctpOther)), true, false, false},
		{"ipv6 udp", eth(etherTypeIPv6, ipv6(17, udp2905)), false, false, false},
		{"ipv6 frag sctp first 2905", eth(etherTypeIPv6, ipv6Frag(ipProtoSCTP, 0, sctp2905)), true, true, true},
		{"ipv6 frag sctp later", eth(etherTypeIPv6, ipv6Frag(ipProtoSCTP, 100, []byte("rest of chunk."))), true, true, true},
		{"ipv6 frag udp", eth(etherTypeIPv6, ipv6Frag(17, 0, udp2905)), false, false, false},
		{"arp", eth(0x0806, make([]byte, 28)), false, false, false},
		{"short", []byte{1, 2, 3}, false, false, false},
	}
	sctp := mustCompile(t, "sctp", decode.LinkTypeEthernet)
	port := mustCompile(t, "sctp port 2905", decode.LinkTypeEthernet)
	vlan := mustCompile(t, "vlan and sctp", decode.LinkTypeEthernet)
	vlanPort := mustCompile(t, "vlan  and sctp   port 2905", decode.LinkTypeEthernet)
	refSCTP := tcpdumpProgram(t, "en10mb sctp")
	refPort := tcpdumpProgram(t, "en10mb sctp port 2905")
	refVLAN := tcpdumpProgram(t, "en10mb vlan and sctp")
	refVLANPort := tcpdumpProgram(t, "en10mb vlan and sctp port 2905")
	for _, c := range cases {
		check := func(what string, prog []bpf.Instruction, pkt []byte, stripped, want bool) {
			t.Helper()
			if got := runFilter(t, prog, pkt, stripped); got != want {
				t.Errorf("%s: %s: accepted %v, want %v", c.name, what, got, want)
			}
		}
		check("sctp", sctp, c.pkt, false, c.sctp)
		check("sctp port 2905", port, c.pkt, false, c.sctpPort)
		// Untagged: "vlan and" rejects everything, unless the kernel stripped
		// a tag, which leaves exactly this untagged frame.
		check("vlan and sctp (no tag)", vlan, c.pkt, false, false)
		check("vlan and sctp (tag stripped)", vlan, c.pkt, true, c.sctp)
		check("vlan and sctp port (tag stripped)", vlanPort, c.pkt, true, c.sctpPort)
		// The same frame with the tag still in it.
		if len(c.pkt) >= 14 {
			tagged := vlanEth(etherTypeVLAN, binary.BigEndian.Uint16(c.pkt[12:]), c.pkt[14:])
			qinq := vlanEth(etherTypeQinQ, binary.BigEndian.Uint16(c.pkt[12:]), c.pkt[14:])
			check("vlan and sctp (inline tag)", vlan, tagged, false, c.sctp)
			check("vlan and sctp (802.1ad tag)", vlan, qinq, false, c.sctp)
			check("vlan and sctp port (inline tag)", vlanPort, tagged, false, c.sctpPort)
			// tcpdump agrees wherever fragments are not involved.
			if !c.fragment {
				check("tcpdump vlan and sctp", refVLAN, tagged, false, c.sctp)
				check("tcpdump vlan and sctp port", refVLANPort, tagged, false, c.sctpPort)
			}
		}
		if !c.fragment {
			check("tcpdump sctp", refSCTP, c.pkt, false, c.sctp)
			check("tcpdump sctp port", refPort, c.pkt, false, c.sctpPort)
		}
	}
}

func TestCompileFilterRaw(t *testing.T) {
	sctp2905 := l4(ipProtoSCTP, 40000, 2905)
	cases := []struct {
		name           string
		pkt            []byte
		sctp, sctpPort bool
	}{
		{"ipv4 sctp 2905", ipv4(ipProtoSCTP, 0, 0, sctp2905), true, true},
		{"ipv4 sctp other", ipv4(ipProtoSCTP, 0, 0, l4(ipProtoSCTP, 1, 2)), true, false},
		{"ipv6 sctp 2905", ipv6(ipProtoSCTP, sctp2905), true, true},
		{"ipv4 udp", ipv4(17, 0, 0, l4(17, 2905, 2905)), false, false},
		{"not ip", []byte{0x00, 1, 2, 3}, false, false},
	}
	sctp := mustCompile(t, "sctp", decode.LinkTypeRaw)
	port := mustCompile(t, "sctp port 2905", decode.LinkTypeRaw)
	vlan := mustCompile(t, "vlan and sctp", decode.LinkTypeRaw)
	ref := tcpdumpProgram(t, "raw sctp port 2905")
	for _, c := range cases {
		if got := runFilter(t, sctp, c.pkt, false); got != c.sctp {
			t.Errorf("%s: sctp: %v", c.name, got)
		}
		if got := runFilter(t, port, c.pkt, false); got != c.sctpPort {
			t.Errorf("%s: sctp port: %v", c.name, got)
		}
		if got := runFilter(t, ref, c.pkt, false); got != c.sctpPort {
			t.Errorf("%s: tcpdump sctp port: %v", c.name, got)
		}
		if runFilter(t, vlan, c.pkt, false) || runFilter(t, vlan, c.pkt, true) != c.sctp {
			t.Errorf("%s: vlan and sctp wrong", c.name)
		}
	}
}

func TestCompileFilterErrors(t *testing.T) {
	if p, err := CompileFilter("  ", decode.LinkTypeEthernet); p != nil || err != nil {
		t.Errorf("empty filter: %v %v", p, err)
	}
	for _, expr := range []string{"sctp port", "sctp port 70000", "sctp port x", "vlan sctp", "vlan and", "sctp port 1 2",
		"host", "host gateway.example", "net 10.0.0.1/8", "ip6 host 10.0.0.1", "ip host ::1", "tcp host 10.0.0.1",
		"ip port 80", "icmp port 1", "portrange 5", "portrange a-b", "(sctp", "sctp)", "not", "sctp or", "src sctp",
		"vlan 4096", "2905", "and sctp", "frobnicate"} {
		if _, err := CompileFilter(expr, decode.LinkTypeEthernet); err == nil {
			t.Errorf("%q compiled", expr)
		}
	}
	if _, err := CompileFilter("sctp", decode.LinkTypeMTP2); err == nil {
		t.Error("compiled for MTP2")
	}
	// Every built-in program assembles for the kernel.
	for _, lt := range []uint16{decode.LinkTypeEthernet, decode.LinkTypeRaw} {
		for _, expr := range []string{"sctp", "sctp port 2905", "vlan and sctp", "vlan and sctp port 1"} {
			raw, err := LoadFilter(expr, lt)
			if err != nil || len(raw) == 0 {
				t.Errorf("%q/%d: %v", expr, lt, err)
			}
		}
	}
}

func TestParseTcpdumpDDD(t *testing.T) {
	for key, text := range tcpdumpPrograms {
		raw, err := ParseTcpdumpDDD(strings.ReplaceAll(text, ";", "\n"))
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		if want := strings.Count(text, ";"); len(raw) != want {
			t.Errorf("%s: %d instructions, want %d", key, len(raw), want)
		}
	}
	for _, bad := range []string{
		"",
		"x\n6 0 0 0",
		"2\n6 0 0 0",              // count mismatch
		"1\n6 0 0",                // three fields
		"1\n21 0 0 2048",          // does not return
		"2\n21 5 0 2048\n6 0 0 0", // jumps past the end
		"2\n5 0 0 9\n6 0 0 0",     // ja past the end
		"1\n70000 0 0 0",          // code does not fit
	} {
		if _, err := ParseTcpdumpDDD(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	// From a file via LoadFilter, with a CRLF and a trailing newline.
	path := filepath.Join(t.TempDir(), "sctp.bpf")
	os.WriteFile(path, []byte(strings.ReplaceAll(tcpdumpPrograms["en10mb sctp"], ";", "\r\n")), 0o644)
	raw, err := LoadFilter("@"+path, decode.LinkTypeEthernet)
	if err != nil || len(raw) != 12 {
		t.Errorf("LoadFilter @file: %d instructions, %v", len(raw), err)
	}
	if _, err := LoadFilter("@"+path+".missing", decode.LinkTypeEthernet); err == nil {
		t.Error("missing filter file loaded")
	}
}
