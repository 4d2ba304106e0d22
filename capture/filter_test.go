package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/gatewarden/gatewarden/decode"
)

var updateTcpdump = flag.Bool("update-tcpdump", false, "rewrite testdata/tcpdump-ddd.txt with tcpdump -ddd")

// strippedVLANID is the tag runFilter reports for a kernel-stripped VLAN tag.
const strippedVLANID = 100

// filterExprs are compiled by tcpdump into testdata/tcpdump-ddd.txt (for
// the link types where tcpdump accepts them) and compared, in behaviour, with
// our compiler.
var filterExprs = []string{
	"sctp and port 2905",
	"sctp port 2905 or sctp port 2906",
	"port 2905 or 2906",
	"host 10.0.0.1",
	"src host 10.0.0.1 and dst port 2905",
	"dst host 10.0.0.2",
	"src or dst host 10.0.0.1",
	"src and dst net 10.0.0.0/8",
	"net 192.168.0.0/16",
	"not tcp",
	"ip6 and sctp",
	"ip6 host 2001:db8::1",
	"dst net 2001:db8::/32",
	"udp portrange 2900-2910",
	"src portrange 1-1024",
	"tcp or udp",
	"(sctp and port 2905) or (udp and port 9999)",
	"vlan and sctp port 2905",
	"vlan 100 and sctp",
	"!ip6 && (port 2905 || port 3565)",
	"icmp",
	"arp",
	"ip",
	"sctp and not port 2905",
	"ip host 10.0.0.2 and (tcp port 80 or sctp dst port 2905)",
	// Long enough that conditional jumps need relaying (asm.relax).
	"sctp and (host 10.0.0.3 or host 10.0.0.4 or host 10.0.0.5 or host 10.0.0.6 or host 10.0.0.7 or host 10.0.0.8 or host 10.0.0.9 or host 10.0.0.10 or host 10.0.0.11 or host 10.0.0.12 or host 10.0.0.13 or host 10.0.0.14 or host 10.0.0.15 or host 10.0.0.16 or host 10.0.0.17 or host 10.0.0.18 or host 10.0.0.19 or host 10.0.0.20 or host 10.0.0.21 or host 10.0.0.22 or host 10.0.0.23 or host 10.0.0.24 or host 10.0.0.25 or host 10.0.0.26 or host 10.0.0.27 or host 10.0.0.28 or host 10.0.0.29 or host 10.0.0.30 or host 10.0.0.31 or host 10.0.0.32 or host 10.0.0.33 or host 10.0.0.34 or host 10.0.0.35 or host 10.0.0.36 or host 10.0.0.37 or host 10.0.0.38 or host 10.0.0.39 or host 10.0.0.40 or host 10.0.0.2)",
}

const tcpdumpRefs = "testdata/tcpdump-ddd.txt"

var tcpdumpLinks = map[string]uint16{"EN10MB": decode.LinkTypeEthernet, "RAW": decode.LinkTypeRaw}

type tcpdumpRef struct {
	link string
	expr string
	ddd  string
}

func readTcpdumpRefs(t *testing.T) []tcpdumpRef {
	t.Helper()
	b, err := os.ReadFile(tcpdumpRefs)
	if err != nil {
		t.Fatal(err)
	}
	var refs []tcpdumpRef
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "== "):
			link, expr, _ := strings.Cut(strings.TrimPrefix(line, "== "), " ")
			refs = append(refs, tcpdumpRef{link: link, expr: expr})
		case len(refs) > 0:
			refs[len(refs)-1].ddd += line + "\n"
		}
	}
	if len(refs) < len(filterExprs) {
		t.Fatalf("%s: %d programs for %d expressions", tcpdumpRefs, len(refs), len(filterExprs))
	}
	return refs
}

// TestTcpdumpReferences re-runs tcpdump: the stored programs must be what it
// compiles today (-update-tcpdump rewrites them).
func TestTcpdumpReferences(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump not installed (apt-get install -y tcpdump)")
	}
	version, _ := exec.Command(tcpdump, "--version").CombinedOutput()
	var buf strings.Builder
	fmt.Fprintf(&buf, "# %s reference programs: go test ./capture -run TestTcpdumpReferences -update-tcpdump\n",
		strings.SplitN(string(version), "\n", 2)[0])
	for _, expr := range filterExprs {
		for _, link := range []string{"EN10MB", "RAW"} {
			out, err := exec.Command(tcpdump, "-ddd", "-y", link, expr).Output()
			if err != nil {
				var ee *exec.ExitError
				if !errors.As(err, &ee) {
					t.Fatal(err)
				}
				continue // tcpdump refuses it for this link type (vlan, arp on RAW)
			}
			fmt.Fprintf(&buf, "== %s %s\n%s", link, expr, out)
		}
	}
	if *updateTcpdump {
		if err := os.WriteFile(tcpdumpRefs, []byte(buf.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.ReadFile(tcpdumpRefs)
	if err != nil {
		t.Fatal(err)
	}
	// The version line may differ; the programs may not.
	strip := func(s string) string { _, rest, _ := strings.Cut(s, "\n"); return rest }
	if strip(string(old)) != strip(buf.String()) {
		t.Errorf("%s differs from what tcpdump compiles now; regenerate with -update-tcpdump", tcpdumpRefs)
	}
}

// Packet corpus for behavioural comparison.

func ipv4Addrs(proto uint8, frag uint16, src, dst string, payload []byte) []byte {
	p := ipv4(proto, frag, 0, payload)
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(p[12:], s[:])
	copy(p[16:], d[:])
	return p
}

func ipv6Addrs(next uint8, src, dst string, payload []byte) []byte {
	p := ipv6(next, payload)
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(p[8:], s[:])
	copy(p[24:], d[:])
	return p
}

func arpPacket(sender, target string) []byte {
	b := make([]byte, 28)
	binary.BigEndian.PutUint16(b[0:], 1)
	binary.BigEndian.PutUint16(b[2:], etherTypeIPv4)
	b[4], b[5] = 6, 4
	s, d := netip.MustParseAddr(sender).As4(), netip.MustParseAddr(target).As4()
	copy(b[14:], s[:])
	copy(b[24:], d[:])
	return b
}

type corpusPacket struct {
	name      string
	frame     []byte // Ethernet
	ip        []byte // the IP packet, for raw links (nil: none)
	laterFrag bool   // a non-first IP fragment: port primitives keep it, tcpdump does not
}

func filterCorpus() []corpusPacket {
	var c []corpusPacket
	add := func(name string, etherType uint16, ip []byte, later bool) {
		c = append(c, corpusPacket{name: name, frame: eth(etherType, ip), ip: ip, laterFrag: later})
		if etherType == etherTypeIPv4 || etherType == etherTypeIPv6 {
			for _, id := range []uint16{100, 200} {
				tagged := vlanEth(etherTypeVLAN, etherType, ip)
				binary.BigEndian.PutUint16(tagged[14:], id)
				c = append(c, corpusPacket{name: fmt.Sprintf("vlan %d %s", id, name), frame: tagged, laterFrag: later})
			}
		}
	}
	ports := [][2]uint16{{2905, 40000}, {40000, 2905}, {2906, 1}, {3565, 80}, {9999, 2900}, {80, 443}, {500, 2910}, {2000, 3000}}
	v4 := [][2]string{{"10.0.0.1", "10.0.0.2"}, {"10.0.0.2", "10.0.0.1"}, {"192.168.1.5", "10.9.9.9"}, {"172.16.0.1", "172.16.0.2"}}
	v6 := [][2]string{{"2001:db8::1", "2001:db8::2"}, {"2001:db9::1", "2001:db8::1"}, {"fe80::1", "fe80::2"}}
	for _, proto := range []uint8{ipProtoSCTP, 6, 17} {
		for _, pp := range ports {
			for _, a := range v4 {
				add(fmt.Sprintf("v4 %d %s:%d>%s:%d", proto, a[0], pp[0], a[1], pp[1]), etherTypeIPv4, ipv4Addrs(proto, 0, a[0], a[1], l4(proto, pp[0], pp[1])), false)
			}
			for _, a := range v6 {
				add(fmt.Sprintf("v6 %d %s:%d>%s:%d", proto, a[0], pp[0], a[1], pp[1]), etherTypeIPv6, ipv6Addrs(proto, a[0], a[1], l4(proto, pp[0], pp[1])), false)
			}
		}
		add(fmt.Sprintf("v4 %d first fragment", proto), etherTypeIPv4, ipv4Addrs(proto, 0x2000, "10.0.0.1", "10.0.0.2", l4(proto, 2905, 2905)), false)
		add(fmt.Sprintf("v4 %d later fragment", proto), etherTypeIPv4, ipv4Addrs(proto, 0x2000|185, "10.0.0.1", "10.0.0.2", []byte("middle of a chunk")), true)
		add(fmt.Sprintf("v4 %d options", proto), etherTypeIPv4, ipv4(proto, 0, 3, l4(proto, 2905, 9)), false)
		add(fmt.Sprintf("v6 %d later fragment", proto), etherTypeIPv6, ipv6Frag(proto, 100, []byte("rest of chunk.")), true)
	}
	add("v4 icmp", etherTypeIPv4, ipv4Addrs(1, 0, "10.0.0.1", "10.0.0.2", make([]byte, 8)), false)
	add("arp 10.0.0.1>10.0.0.2", etherTypeARP, arpPacket("10.0.0.1", "10.0.0.2"), false)
	add("arp 192.168.0.1>192.168.0.9", etherTypeARP, arpPacket("192.168.0.1", "192.168.0.9"), false)
	add("rarp 10.0.0.2", etherTypeRARP, arpPacket("10.0.0.9", "10.0.0.2"), false)
	c = append(c, corpusPacket{name: "short", frame: []byte{1, 2, 3}, ip: []byte{0x45}})
	return c
}

// TestFilterMatchesTcpdump runs our program and tcpdump's over the corpus:
// both must accept the same packets, but for non-first fragments under a
// port primitive (see CompileFilter).
func TestFilterMatchesTcpdump(t *testing.T) {
	corpus := filterCorpus()
	for _, ref := range readTcpdumpRefs(t) {
		lt := tcpdumpLinks[ref.link]
		theirs := disassembleDDD(t, ref.ddd)
		ours, err := CompileFilter(ref.expr, lt)
		if err != nil {
			t.Errorf("%s %q: %v", ref.link, ref.expr, err)
			continue
		}
		accepted := 0
		for _, p := range corpus {
			pkt := p.frame
			if lt == decode.LinkTypeRaw {
				if pkt = p.ip; pkt == nil {
					continue
				}
			}
			got, want := runFilter(t, ours, pkt, false), runFilter(t, theirs, pkt, false)
			if p.laterFrag && strings.Contains(ref.expr, "port") {
				continue
			}
			if got != want {
				t.Errorf("%s %q: %s: ours %v, tcpdump %v", ref.link, ref.expr, p.name, got, want)
			}
			if got {
				accepted++
			}
		}
		if accepted == 0 {
			t.Errorf("%s %q: accepts nothing in the corpus", ref.link, ref.expr)
		}
	}
}

func disassembleDDD(t *testing.T, ddd string) []bpf.Instruction {
	t.Helper()
	raw, err := ParseTcpdumpDDD(ddd)
	if err != nil {
		t.Fatal(err)
	}
	ins, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("tcpdump program not fully decodable")
	}
	return ins
}

// TestFilterExpectations states verdicts directly, including where we
// deliberately differ from tcpdump (fragments, stripped VLAN tags).
func TestFilterExpectations(t *testing.T) {
	sctpFrom := func(src, dst string, sp, dp uint16) []byte {
		return eth(etherTypeIPv4, ipv4Addrs(ipProtoSCTP, 0, src, dst, l4(ipProtoSCTP, sp, dp)))
	}
	m3ua := sctpFrom("10.0.0.1", "10.0.0.2", 40000, 2905)
	m2pa := sctpFrom("10.0.0.2", "10.0.0.1", 3565, 3565)
	later := eth(etherTypeIPv4, ipv4Addrs(ipProtoSCTP, 0x2000|185, "10.0.0.1", "10.0.0.2", []byte("middle of a chunk")))
	udp := eth(etherTypeIPv4, ipv4Addrs(17, 0, "10.0.0.1", "10.0.0.2", l4(17, 2905, 2905)))
	v6 := eth(etherTypeIPv6, ipv6Addrs(ipProtoSCTP, "2001:db8::1", "2001:db8::2", l4(ipProtoSCTP, 2905, 1)))
	for _, c := range []struct {
		expr     string
		pkt      []byte
		stripped bool
		want     bool
	}{
		{"sctp and port 2905", m3ua, false, true},
		{"sctp and port 2905", m2pa, false, false},
		{"sctp and port 2905", udp, false, false},
		{"sctp and port 2905", later, false, true}, // kept for reassembly
		{"sctp and (port 2905 or port 3565)", m2pa, false, true},
		{"sctp port 2905 or 3565", m2pa, false, true},
		{"not port 2905", udp, false, false},
		{"src host 10.0.0.2", m2pa, false, true},
		{"src host 10.0.0.2", m3ua, false, false},
		{"dst net 10.0.0.0/30 and dst port 2905", m3ua, false, true},
		{"net 10", m3ua, false, true},
		{"net 11", m3ua, false, false},
		{"host 2001:db8::2", v6, false, true},
		{"ip6 and sctp port 2905", v6, false, true},
		{"ip and sctp", v6, false, false},
		{"sctp portrange 3000-4000", m2pa, false, true},
		{"src and dst port 3565", m2pa, false, true},
		{"src and dst port 3565", m3ua, false, false},
		{"vlan and sctp", m3ua, false, false},
		{"vlan and sctp", m3ua, true, true},
		{"vlan 100 and sctp", m3ua, true, true}, // runFilter strips tag 100
		{"vlan 200 and sctp", m3ua, true, false},
		{"not vlan", m3ua, false, true},
	} {
		prog, err := CompileFilter(c.expr, decode.LinkTypeEthernet)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		if got := runFilter(t, prog, c.pkt, c.stripped); got != c.want {
			t.Errorf("%q (stripped tag %v): accepted %v, want %v", c.expr, c.stripped, got, c.want)
		}
	}
}

// TestFilterLongProgram: conditional jumps farther than 255 instructions are
// relayed through unconditional ones, and the program still decides right.
func TestFilterLongProgram(t *testing.T) {
	expr := filterExprs[len(filterExprs)-1]
	prog := mustCompile(t, expr, decode.LinkTypeEthernet)
	relayed := 0
	for _, ins := range prog {
		if _, ok := ins.(bpf.Jump); ok {
			relayed++
		}
	}
	if len(prog) < 300 || relayed == 0 {
		t.Fatalf("%d instructions, %d unconditional jumps: not a long program", len(prog), relayed)
	}
	if _, err := bpf.Assemble(prog); err != nil {
		t.Fatal(err)
	}
	sctp := func(src, dst string) []byte {
		return eth(etherTypeIPv4, ipv4Addrs(ipProtoSCTP, 0, src, dst, l4(ipProtoSCTP, 2905, 2905)))
	}
	for _, c := range []struct {
		src, dst string
		want     bool
	}{{"10.0.0.3", "1.1.1.1", true}, {"1.1.1.1", "10.0.0.40", true}, {"10.0.0.2", "1.1.1.1", true}, {"10.0.0.1", "10.0.1.1", false}} {
		if got := runFilter(t, prog, sctp(c.src, c.dst), false); got != c.want {
			t.Errorf("%s > %s: accepted %v, want %v", c.src, c.dst, got, c.want)
		}
	}
	t.Logf("%d instructions, %d relayed jumps", len(prog), relayed)
}

// TestFilterRealCaptures runs the filters over every frame of the committed
// Ethernet captures: ours and tcpdump's agree, and the RUNBOOK's example
// keeps exactly the SCTP frames to or from port 2905.
func TestFilterRealCaptures(t *testing.T) {
	var frames [][]byte
	for _, name := range []string{"interconnect.pcap", "interconnect-cn24.pcap", "scenarios.pcap"} {
		f, err := OpenFile(filepath.Join("..", "pcaps", name))
		if err != nil {
			t.Fatal(err)
		}
		var fr decode.Frame
		for f.Next(&fr) == nil {
			frames = append(frames, append([]byte(nil), fr.Data...))
		}
		f.Close()
	}
	if len(frames) < 10000 {
		t.Fatalf("only %d frames", len(frames))
	}
	for _, ref := range readTcpdumpRefs(t) {
		if ref.link != "EN10MB" || len(ref.expr) > 200 { // the long one runs over the corpus only
			continue
		}
		ours := mustCompile(t, ref.expr, decode.LinkTypeEthernet)
		theirs := disassembleDDD(t, ref.ddd)
		for i, fr := range frames {
			if got, want := runFilter(t, ours, fr, false), runFilter(t, theirs, fr, false); got != want {
				t.Errorf("%q: frame %d: ours %v, tcpdump %v", ref.expr, i, got, want)
				break
			}
		}
	}
	// The expectation, read from the headers directly: SCTP over IPv4 to or
	// from port 2905, after at most one in-frame VLAN tag.
	sctp2905 := func(fr []byte) (match, tagged bool) {
		off := 14
		if len(fr) >= 18 && binary.BigEndian.Uint16(fr[12:]) == etherTypeVLAN {
			off, tagged = 18, true
		}
		if len(fr) < off+20+4 || binary.BigEndian.Uint16(fr[off-2:]) != etherTypeIPv4 || fr[off+9] != ipProtoSCTP {
			return false, tagged
		}
		ihl := int(fr[off]&0x0F) * 4
		sp, dp := binary.BigEndian.Uint16(fr[off+ihl:]), binary.BigEndian.Uint16(fr[off+ihl+2:])
		return sp == 2905 || dp == 2905, tagged
	}
	plain := mustCompile(t, "sctp and port 2905", decode.LinkTypeEthernet)
	vlan := mustCompile(t, "vlan and sctp and port 2905", decode.LinkTypeEthernet)
	var untaggedWant, taggedWant, plainKept, vlanKept, strippedKept int
	for _, fr := range frames {
		match, tagged := sctp2905(fr)
		if match && tagged {
			taggedWant++
		} else if match {
			untaggedWant++
		}
		if runFilter(t, plain, fr, false) {
			plainKept++
		}
		if runFilter(t, vlan, fr, false) {
			vlanKept++
		}
		// The same frame as AF_PACKET delivers it when the kernel strips the tag.
		if tagged && runFilter(t, vlan, append(append([]byte(nil), fr[:12]...), fr[16:]...), true) {
			strippedKept++
		}
	}
	if plainKept != untaggedWant || vlanKept != taggedWant || strippedKept != vlanKept || taggedWant == 0 {
		t.Errorf("sctp and port 2905: kept %d, want %d; vlan and ...: kept %d (%d with the tag stripped), want %d",
			plainKept, untaggedWant, vlanKept, strippedKept, taggedWant)
	}
	t.Logf("%d frames: sctp and port 2905 keeps %d untagged, vlan and sctp and port 2905 keeps %d tagged", len(frames), plainKept, vlanKept)
}
