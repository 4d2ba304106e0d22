// Package gen writes synthetic interconnect signalling captures (Ethernet,
// optional 802.1Q/QinQ, IPv4, SCTP, M3UA or M2PA, MTP3, ISUP) together with a
// truth file naming every ISUP message the capture holds. It has its own
// encoders for every layer and never uses package decode's parsers: it is the
// decoder's test oracle.
package gen

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Options control a capture. The zero value of every field but Calls/Source
// has a sensible default.
type Options struct {
	Seed   int64
	Calls  int   // random calls, when Source is nil
	PCBits uint8 // 14 (default) or 24
	Start  time.Time
	// File is the capture's name as the decoder will report it ("file").
	File string
	// Partners default to DefaultPartners(PCBits), or BICCPartners(PCBits)
	// when BICC is set.
	Partners []Partner
	BICC     bool
	// Source scripts the calls; nil plays NewRandomSource(Seed, Calls, …).
	Source CallSource
	// Per-packet probabilities in percent; negative disables, zero is the default.
	FragmentPercent   int // default 4
	RetransmitPercent int // default 2
	// ExtraChunkPercent is the share of ISUP-carrying packets that also
	// bundle a HEARTBEAT and one to three DATA chunks of other payload
	// protocols (Diameter, H.248) on stream 0, as a busy shared association
	// does (default 0: none).
	ExtraChunkPercent int
	// BundleWindow gathers messages on one association and direction that are
	// due within it into one packet (default 3 ms; negative disables).
	BundleWindow time.Duration
	// OnCall, when set, is told about each call once its IAM is written:
	// how a scenario test finds its labelled calls in the decoder's output.
	OnCall func(CallRecord)
	// OnCallEnd, when set, is told about each call once its RLC is written,
	// with the capture times of its messages: the truth route figures
	// (ASR, ACD, PDD) are computed from.
	OnCallEnd func(CallTruth)
}

// CallTruth is a finished call as written: capture times (Unix ns, zero when
// the message was not sent) of its IAM, of the message that alerted (ACM
// with "subscriber free" or CPG alerting), of ANM, and of REL.
type CallTruth struct {
	Call                           Call
	CIC                            uint16
	Src, Dst                       string // ip:port of the IAM
	IAM, Alerting, Answer, Release int64
	ReleaseCause                   uint8
	ReleasedByCaller               bool
}

// CallRecord says where a call's IAM went.
type CallRecord struct {
	Call     Call
	CIC      uint32 // as on the wire (the call instance code for BICC)
	OPC, DPC uint32
	Src, Dst string // ip:port of the IAM
	Frame    uint64 // frame completing the IAM
	TS       time.Time
}

// DefaultStart is the capture start used when Options.Start is zero.
var DefaultStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Summary counts what a capture holds.
type Summary struct {
	Packets         uint64
	Messages        uint64 // ISUP messages (truth lines)
	ByType          map[string]uint64
	Calls           uint64
	SkippedCalls    uint64 // no free circuit or unknown partner
	BundledPackets  uint64 // packets with more than one ISUP message
	Fragmented      uint64 // ISUP messages split over several DATA chunks
	FragmentedSplit uint64 // … of which the chunks went in separate packets
	Retransmissions uint64 // DATA chunks sent again (same TSN)
	ExtraChunks     uint64 // non-ISUP chunks bundled with ISUP (ExtraChunkPercent)
	First, Last     time.Time
}

const (
	numStreams    = 16
	minStepGap    = int64(time.Millisecond)
	heartbeatGap  = int64(30 * time.Second)
	delayedSACK   = int64(200 * time.Millisecond)
	maxBundle     = 6
	maxPacketData = 1452 // IPv4 over Ethernet MTU minus IP and SCTP headers, rounded
)

type endpoint struct {
	addr    netip.Addr
	port    uint16
	mac     [6]byte
	tag     uint32 // own initiate tag; the peer sends it as verification tag
	nextTSN uint32
	ssn     [numStreams]uint16
	ipID    uint16
	fsn     uint32 // M2PA: FSN of the last user data sent
	// receive side: data sent by the other endpoint
	cumTSN    uint32
	unacked   int
	sackTimer bool
	dups      []uint32
	addrPort  string
}

type assoc struct {
	partner *Partner
	link    *Link
	ppid    uint32
	m2pa    bool
	pcBits  uint8
	ep      [2]endpoint // 0: the gateway, 1: the partner
	cicFree []int64     // capture time each CIC becomes free; index = CIC
}

// event kinds
const (
	evStep = iota
	evRetransmit
	evSACK
	evHeartbeat
	evHeartbeatAck
)

type event struct {
	t     int64
	seq   uint64
	kind  uint8
	from  uint8 // endpoint index that sends
	a     *assoc
	call  *callState
	chunk []byte
}

type step struct {
	at         int64
	typ        uint8
	fromCaller bool
}

type callState struct {
	c     Call
	a     *assoc
	cic   uint16
	sls   uint8
	steps []step
	next  int
	truth CallTruth // filled as the messages go out (OnCallEnd)
}

// wireCIC is the circuit identification code the messages of the call carry:
// the CIC, or for BICC the call instance code.
func (cs *callState) wireCIC() uint32 {
	if l := cs.a.link; l.BICC {
		return l.CICBase + uint32(cs.cic)
	}
	return uint32(cs.cic)
}

type generator struct {
	opt     Options
	rng     *rand.Rand
	pw      *pcapgo.Writer
	tw      *bufio.Writer
	file    []byte // JSON-quoted file name
	assocs  []*assoc
	byName  map[string][]*assoc
	heap    []event
	seq     uint64
	pending int // events other than heartbeats
	now     int64
	frame   uint64
	buf     []byte
	msg     []byte
	line    []byte // truth line scratch
	isup    []byte // ISUP message scratch
	bicc    []byte // BICC message scratch
	extra   []byte // ExtraChunkPercent payload scratch
	deferq  []event
	sum     Summary
	err     error // first write error
	// messages completed by the packet being built, written to truth after it
	done []doneMsg
}

// noteTruth records when a call's message went out, and reports the call
// once its RLC has.
func (g *generator) noteTruth(d doneMsg, t int64) {
	cs, tr := d.cs, &d.cs.truth
	switch d.st.typ {
	case TypeIAM:
		a := cs.a
		*tr = CallTruth{Call: cs.c, CIC: cs.cic, Src: a.ep[d.from].addrPort, Dst: a.ep[1-d.from].addrPort, IAM: t}
	case TypeACM:
		if cs.c.Alerting == cs.c.ACM && tr.Alerting == 0 {
			tr.Alerting = t
		}
	case TypeCPG:
		if tr.Alerting == 0 {
			tr.Alerting = t
		}
	case TypeANM:
		tr.Answer = t
	case TypeREL:
		tr.Release, tr.ReleaseCause, tr.ReleasedByCaller = t, cs.c.Cause.Value, d.st.fromCaller
	case TypeRLC:
		g.opt.OnCallEnd(*tr)
	}
}

type doneMsg struct {
	cs   *callState
	st   step
	from uint8
}

// Write writes a pcap (Ethernet link type, nanosecond timestamps) to pcap and
// one truth line per ISUP message to truth (nil: none).
func Write(pcap io.Writer, truth io.Writer, opt Options) (Summary, error) {
	if opt.PCBits == 0 {
		opt.PCBits = 14
	}
	if opt.PCBits != 14 && opt.PCBits != 24 {
		return Summary{}, fmt.Errorf("gen: point-code width %d: want 14 or 24", opt.PCBits)
	}
	if opt.Start.IsZero() {
		opt.Start = DefaultStart
	}
	if opt.Partners == nil {
		opt.Partners = DefaultPartners(opt.PCBits)
		if opt.BICC {
			opt.Partners = BICCPartners(opt.PCBits)
		}
	}
	if opt.FragmentPercent == 0 {
		opt.FragmentPercent = 4
	}
	if opt.RetransmitPercent == 0 {
		opt.RetransmitPercent = 2
	}
	if opt.BundleWindow == 0 {
		opt.BundleWindow = 3 * time.Millisecond
	}
	if opt.Source == nil {
		opt.Source = NewRandomSource(opt.Seed, opt.Calls, opt.Partners, opt.Start.Add(time.Second))
	}
	bw := bufio.NewWriterSize(pcap, 1<<16)
	g := &generator{
		opt:    opt,
		rng:    rand.New(rand.NewPCG(uint64(opt.Seed)^0x5851f42d4c957f2d, uint64(opt.Seed))),
		pw:     pcapgo.NewWriterNanos(bw),
		byName: map[string][]*assoc{},
		sum:    Summary{ByType: map[string]uint64{}},
	}
	if truth != nil {
		g.tw = bufio.NewWriterSize(truth, 1<<16)
	}
	q, _ := json.Marshal(opt.File)
	g.file = q
	if err := g.pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return g.sum, err
	}
	if err := g.run(); err != nil {
		return g.sum, err
	}
	if err := bw.Flush(); err != nil {
		return g.sum, err
	}
	if g.tw != nil {
		if err := g.tw.Flush(); err != nil {
			return g.sum, err
		}
	}
	return g.sum, nil
}

func (g *generator) run() error {
	start := g.opt.Start.UnixNano()
	if err := g.setup(start); err != nil {
		return err
	}
	src := g.opt.Source
	next, more := src.Next()
	// calls due within the bundle window are started early so their first
	// message can share a packet with what is due now
	ahead := int64(g.opt.BundleWindow)
	if ahead < 0 {
		ahead = 0
	}
	for {
		if more && (len(g.heap) == 0 || next.Start.UnixNano() <= g.heap[0].t+ahead) {
			g.startCall(next)
			next, more = src.Next()
			continue
		}
		if !more && g.pending == 0 {
			return nil // only heartbeats are left
		}
		if err := g.handle(g.pop()); err != nil {
			return err
		}
	}
}

// setup creates the associations and writes each one's handshake and
// adaptation-layer start-up.
func (g *generator) setup(t int64) error {
	mac := func(p, l, side int) [6]byte { return [6]byte{0x02, 0x47, 0x57, byte(side), byte(p), byte(l)} }
	for pi := range g.opt.Partners {
		p := &g.opt.Partners[pi]
		for li := range p.Links {
			l := &p.Links[li]
			a := &assoc{partner: p, link: l, pcBits: g.opt.PCBits}
			port := uint16(portM3UA)
			a.ppid = ppidM3UA
			if p.Transport == TransportM2PA {
				a.m2pa, a.ppid, port = true, ppidM2PA, portM2PA
			}
			n := l.Circuits
			if n == 0 {
				n = 960
			}
			a.cicFree = make([]int64, int(n)+1)
			for side, addr := range []netip.Addr{l.OurIP, l.PeerIP} {
				e := &a.ep[side]
				e.addr, e.port, e.mac = addr, port, mac(pi, li, side)
				e.tag = g.rng.Uint32() | 1
				e.nextTSN = g.rng.Uint32()
				e.ipID = uint16(g.rng.Uint32())
				e.fsn = 0xffffff
				e.addrPort = netip.AddrPortFrom(addr, port).String()
			}
			a.ep[0].cumTSN, a.ep[1].cumTSN = a.ep[1].nextTSN-1, a.ep[0].nextTSN-1
			g.assocs = append(g.assocs, a)
			g.byName[p.Name] = append(g.byName[p.Name], a)
		}
	}
	for i, a := range g.assocs {
		t += int64(i) * int64(7*time.Millisecond)
		if err := g.handshake(a, t); err != nil {
			return err
		}
		for side := uint8(0); side < 2; side++ {
			g.push(event{t: g.now + int64(5+g.rng.IntN(25))*int64(time.Second), kind: evHeartbeat, from: side, a: a})
		}
	}
	return nil
}

func (g *generator) handshake(a *assoc, t int64) error {
	us, them := &a.ep[0], &a.ep[1]
	rtt := func() int64 { return int64(300+g.rng.IntN(1500)) * int64(time.Microsecond) }
	cookie := make([]byte, 32)
	for i := range cookie {
		cookie[i] = byte(g.rng.Uint32())
	}
	g.begin(a, 0, true)
	g.buf = appendInit(g.buf, chunkINIT, us.tag, us.nextTSN, numStreams, nil)
	t = g.finish(t)
	g.begin(a, 1, false)
	g.buf = appendInit(g.buf, chunkINITACK, them.tag, them.nextTSN, numStreams, cookie)
	t = g.finish(t + rtt())
	g.begin(a, 0, false)
	g.buf = appendChunk(g.buf, chunkCOOKIEECHO, 0, cookie)
	t = g.finish(t + 50*int64(time.Microsecond))
	g.begin(a, 1, false)
	g.buf = appendChunk(g.buf, chunkCOOKIEACK, 0, nil)
	t = g.finish(t + rtt())

	if a.m2pa {
		// Link alignment: both ends go Alignment, Proving Normal, Ready.
		for _, st := range []uint32{M2PAStateAlignment, M2PAStateProvingNormal, M2PAStateReady} {
			for side := uint8(0); side < 2; side++ {
				e := &a.ep[side]
				g.msg = AppendM2PALinkStatus(g.msg[:0], a.ep[1-side].fsn, e.fsn, st)
				t = g.sendControlData(a, side, 0, g.msg, t+rtt())
			}
		}
		return nil
	}
	msgs, byASP, err := m3uaStartup(a.link.RC, uint32(len(g.assocs)))
	if err != nil {
		return err
	}
	for i, m := range msgs {
		side := uint8(1)
		if byASP[i] {
			side = 0
		}
		t = g.sendControlData(a, side, 0, m, t+rtt())
	}
	return nil
}

// sendControlData writes one unfragmented DATA packet carrying a non-ISUP
// adaptation message.
func (g *generator) sendControlData(a *assoc, from uint8, stream uint16, payload []byte, t int64) int64 {
	e := &a.ep[from]
	g.begin(a, from, false)
	tsn := e.nextTSN
	e.nextTSN++
	g.buf = appendDataChunk(g.buf, dataFlagBegin|dataFlagEnd, tsn, stream, e.ssn[stream], a.ppid, payload)
	e.ssn[stream]++
	ts := g.finish(t)
	g.received(a, 1-from, tsn, ts)
	return ts
}

// received books data arriving at endpoint to and arranges its SACK.
func (g *generator) received(a *assoc, to uint8, tsn uint32, ts int64) {
	e := &a.ep[to]
	if int32(tsn-e.cumTSN) > 0 {
		e.cumTSN = tsn
	} else {
		e.dups = append(e.dups, tsn)
	}
	e.unacked++
	switch {
	case e.unacked >= 2 || len(e.dups) > 0:
		g.push(event{t: ts + int64(100+g.rng.IntN(400))*int64(time.Microsecond), kind: evSACK, from: to, a: a})
	case !e.sackTimer:
		e.sackTimer = true
		g.push(event{t: ts + delayedSACK, kind: evSACK, from: to, a: a})
	}
}

// begin starts a packet from endpoint from; it bundles a SACK the sender owes
// unless init (an INIT has verification tag 0).
func (g *generator) begin(a *assoc, from uint8, init bool) {
	src, dst := &a.ep[from], &a.ep[1-from]
	b := appendEthernet(g.buf[:0], dst.mac, src.mac, a.partner.VLANs)
	b = appendIPv4(b, src.ipID, src.addr, dst.addr)
	src.ipID++
	vtag := dst.tag
	if init {
		vtag = 0
	}
	g.buf = appendSCTPHeader(b, src.port, dst.port, vtag)
}

// sackChunk appends the SACK endpoint from owes, if any.
func (g *generator) sackChunk(a *assoc, from uint8) {
	e := &a.ep[from]
	if e.unacked == 0 && len(e.dups) == 0 {
		return
	}
	g.buf = appendSACK(g.buf, e.cumTSN, e.dups)
	e.unacked, e.dups = 0, e.dups[:0]
}

// finish completes lengths and checksums, writes the packet at the first
// time not before t that keeps the capture in order, and returns that time.
func (g *generator) finish(t int64) int64 {
	if t <= g.now {
		t = g.now + int64(time.Microsecond)
	}
	g.now = t
	// the IP header follows the EtherType chain (VLAN tags are 4 bytes each)
	ipAt := 12
	for binary.BigEndian.Uint16(g.buf[ipAt:]) != etherTypeIPv4 {
		ipAt += 4
	}
	ipAt += 2
	finishIPv4(g.buf[ipAt:], len(g.buf)-ipAt)
	finishSCTP(g.buf[ipAt+ipv4HeaderLen:])
	for len(g.buf) < minEtherFrame {
		g.buf = append(g.buf, 0)
	}
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, t), CaptureLength: len(g.buf), Length: len(g.buf)}
	if err := g.pw.WritePacket(ci, g.buf); err != nil && g.err == nil {
		g.err = err
	}
	g.frame++
	g.sum.Packets++
	if g.sum.First.IsZero() {
		g.sum.First = ci.Timestamp
	}
	g.sum.Last = ci.Timestamp
	for _, d := range g.done {
		g.writeTruth(d, t)
		if g.opt.OnCallEnd != nil {
			g.noteTruth(d, t)
		}
		if d.st.typ == TypeIAM && g.opt.OnCall != nil {
			lab := g.label(d.cs, d.from)
			a := d.cs.a
			g.opt.OnCall(CallRecord{Call: d.cs.c, CIC: d.cs.wireCIC(), OPC: lab.OPC, DPC: lab.DPC,
				Src: a.ep[d.from].addrPort, Dst: a.ep[1-d.from].addrPort, Frame: g.frame, TS: time.Unix(0, t).UTC()})
		}
	}
	g.done = g.done[:0]
	return t
}
