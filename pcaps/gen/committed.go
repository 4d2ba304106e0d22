package gen

import "strconv"

// CommittedCapture is one of the captures committed under pcaps/, with the
// `gatewarden gen` flags that regenerate it (run from pcaps/).
type CommittedCapture struct {
	Pcap, Truth string
	Seed        int64
	Calls       int
	PCBits      uint8
	BICC        bool
}

// Committed lists pcaps/*.pcap; a test regenerates each and requires
// byte-identical files, so they never drift from the generator.
var Committed = []CommittedCapture{
	{Pcap: "interconnect.pcap", Truth: "interconnect.truth.jsonl", Seed: 1, Calls: 200, PCBits: 14},
	{Pcap: "interconnect-cn24.pcap", Truth: "interconnect-cn24.truth.jsonl", Seed: 2, Calls: 60, PCBits: 24},
	{Pcap: "bicc-cn24.pcap", Truth: "bicc-cn24.truth.jsonl", Seed: 3, Calls: 12, PCBits: 24, BICC: true},
}

// CommittedSIPCapture is one of the SIP captures committed under pcaps/,
// with the `gatewarden gen --sip` flags that regenerate it.
type CommittedSIPCapture struct {
	Pcap, Truth string
	Options     SIPOptions
}

// CommittedSIP lists the committed SIP-I captures: UDP with IPv4 fragments,
// TCP with messages across and within segments, SCTP over IPv6.
var CommittedSIP = []CommittedSIPCapture{
	{"sipi-udp.pcap", "sipi-udp.truth.jsonl", SIPOptions{Seed: 4, Calls: 8, Transport: SIPOverUDP, MTU: 700}},
	{"sipi-tcp.pcap", "sipi-tcp.truth.jsonl", SIPOptions{Seed: 5, Calls: 8, Transport: SIPOverTCP, Segment: 700}},
	{"sipi-sctp6.pcap", "sipi-sctp6.truth.jsonl", SIPOptions{Seed: 6, Calls: 8, Transport: SIPOverSCTP, IPv6: true}},
}

// Args are the `gatewarden gen` arguments that regenerate the capture.
func (c CommittedSIPCapture) Args() []string {
	o := c.Options
	args := []string{"--sip", o.Transport, "--seed", strconv.FormatInt(o.Seed, 10), "--calls", strconv.Itoa(o.Calls)}
	if o.IPv6 {
		args = append(args, "--ipv6")
	}
	if o.MTU > 0 {
		args = append(args, "--mtu", strconv.Itoa(o.MTU))
	}
	if o.Segment > 0 {
		args = append(args, "--segment", strconv.Itoa(o.Segment))
	}
	return append(args, "--out", c.Pcap, "--truth", c.Truth)
}

// Options are the generator options `gatewarden gen` uses for this capture.
func (c CommittedCapture) Options() Options {
	return Options{Seed: c.Seed, Calls: c.Calls, PCBits: c.PCBits, BICC: c.BICC, File: c.Pcap}
}
