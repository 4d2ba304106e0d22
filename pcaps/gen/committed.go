package gen

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

// Options are the generator options `gatewarden gen` uses for this capture.
func (c CommittedCapture) Options() Options {
	return Options{Seed: c.Seed, Calls: c.Calls, PCBits: c.PCBits, BICC: c.BICC, File: c.Pcap}
}
