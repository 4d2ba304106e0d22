package gen

import (
	"encoding/binary"
	"strconv"
	"time"
)

// startCall takes a circuit, works out the call's ladder and schedules its IAM.
func (g *generator) startCall(c Call) {
	as := g.byName[c.Partner]
	if len(as) == 0 || c.Link < 0 || c.Link >= len(as) {
		g.sum.SkippedCalls++
		return
	}
	a := as[c.Link]
	t0 := c.Start.UnixNano()
	cic := c.CIC
	if cic == 0 {
		// each side seizes its own parity so the two never collide (Q.764 2.9.1.3)
		first := 1
		if c.Direction == Egress {
			first = 2
		}
		for i := first; i < len(a.cicFree); i += 2 {
			if a.cicFree[i] <= t0 {
				cic = uint16(i)
				break
			}
		}
		if cic == 0 {
			g.sum.SkippedCalls++
			return
		}
	}
	cs := &callState{c: c, a: a, cic: cic, sls: uint8(cic & 0x0f)}
	d := func(x time.Duration) int64 { return t0 + int64(x) }
	rel := d(c.Release)
	add := func(at int64, typ uint8, fromCaller bool) {
		if at < rel || typ == TypeREL || typ == TypeRLC {
			cs.steps = append(cs.steps, step{at: at, typ: typ, fromCaller: fromCaller})
		}
	}
	add(t0, TypeIAM, true)
	if c.SAMDigits != "" {
		add(d(c.SAMDelay), TypeSAM, true)
	}
	if c.ACM > 0 {
		add(d(c.ACM), TypeACM, false)
	}
	if c.Alerting > 0 && c.Alerting != c.ACM {
		add(d(c.Alerting), TypeCPG, false)
	}
	if c.Answer > 0 {
		add(d(c.Answer), TypeANM, false)
	}
	add(rel, TypeREL, c.ReleasedBy == SideCalling)
	rlc := c.RLCDelay
	if rlc <= 0 {
		rlc = 12 * time.Millisecond
	}
	add(rel+int64(rlc), TypeRLC, c.ReleasedBy != SideCalling)
	// keep the ladder in order whatever the script says
	for i := 1; i < len(cs.steps); i++ {
		if cs.steps[i].at < cs.steps[i-1].at+minStepGap {
			cs.steps[i].at = cs.steps[i-1].at + minStepGap
		}
	}
	if int(cic) < len(a.cicFree) {
		a.cicFree[cic] = cs.steps[len(cs.steps)-1].at + int64(time.Second)
	}
	g.sum.Calls++
	g.push(event{t: t0, kind: evStep, call: cs})
}

// sender is the endpoint index (0 gateway, 1 partner) that sends a step.
func (cs *callState) sender(st step) uint8 {
	partnerCalls := cs.c.Direction == Ingress
	if st.fromCaller == partnerCalls {
		return 1
	}
	return 0
}

func (g *generator) label(cs *callState, from uint8) Label {
	l := cs.a.link
	lab := Label{NI: l.NI, SLS: cs.sls, PCBits: cs.a.pcBits, OPC: l.OurPC, DPC: l.PeerPC, BICC: l.BICC}
	if from == 1 {
		lab.OPC, lab.DPC = l.PeerPC, l.OurPC
	}
	return lab
}

// encode builds the adaptation-layer message (M3UA DATA or M2PA User Data)
// for a step into g.msg.
func (g *generator) encode(cs *callState, st step, from uint8) error {
	c := &cs.c
	isup := g.isup[:0]
	switch st.typ {
	case TypeIAM:
		isup = AppendIAM(isup, cs.cic, &c.IAM)
	case TypeSAM:
		isup = AppendSAM(isup, cs.cic, c.SAMDigits)
	case TypeACM:
		bci := uint16(0x1412) // charge, no status, ordinary; ISUP, ISDN access
		if c.Alerting == c.ACM {
			bci = 0x1416 // subscriber free
		}
		isup = AppendACM(isup, cs.cic, bci)
	case TypeCPG:
		isup = AppendCPG(isup, cs.cic, alertingEvent)
	case TypeANM:
		isup = AppendANM(isup, cs.cic)
	case TypeREL:
		isup = AppendREL(isup, cs.cic, c.Cause, c.RedirectionNumber, c.RELRedirection)
	case TypeRLC:
		isup = AppendRLC(isup, cs.cic)
	}
	g.isup = isup
	if cs.a.link.BICC {
		// a buffer of its own: g.isup is the next message's scratch
		g.bicc = AppendBICC(g.bicc[:0], cs.wireCIC(), isup)
		isup = g.bicc
	}
	lab := g.label(cs, from)
	a := cs.a
	if a.m2pa {
		e := &a.ep[from]
		e.fsn = (e.fsn + 1) & 0xffffff
		g.msg = AppendM2PAUserData(g.msg[:0], a.ep[1-from].fsn, e.fsn, lab, isup)
		return nil
	}
	m, err := M3UAData(a.link.RC, a.link.NA, a.link.HasNA, lab, isup)
	g.msg = append(g.msg[:0], m...)
	return err
}

func (g *generator) stream(cs *callState) uint16 { return 1 + uint16(cs.sls)%(numStreams-1) }

func (g *generator) handle(ev event) error {
	switch ev.kind {
	case evStep:
		return g.sendSteps(ev)
	case evRetransmit:
		a := ev.a
		g.begin(a, ev.from, false)
		g.sackChunk(a, ev.from)
		g.buf = append(g.buf, ev.chunk...)
		tsn := uint32(ev.chunk[4])<<24 | uint32(ev.chunk[5])<<16 | uint32(ev.chunk[6])<<8 | uint32(ev.chunk[7])
		ts := g.finish(ev.t)
		g.sum.Retransmissions++
		g.received(a, 1-ev.from, tsn, ts)
	case evSACK:
		a := ev.a
		e := &a.ep[ev.from]
		e.sackTimer = false
		if e.unacked > 0 || len(e.dups) > 0 {
			g.begin(a, ev.from, false)
			g.sackChunk(a, ev.from)
			g.finish(ev.t)
		}
	case evHeartbeat:
		a := ev.a
		info := make([]byte, 0, 16)
		info = append(info, a.ep[ev.from].addr.AsSlice()...)
		info = strconv.AppendInt(info, ev.t/int64(time.Millisecond)%1e12, 10)
		g.begin(a, ev.from, false)
		g.buf = appendHeartbeat(g.buf, chunkHEARTBEAT, info)
		ts := g.finish(ev.t)
		g.push(event{t: ts + int64(300+g.rng.IntN(2500))*int64(time.Microsecond), kind: evHeartbeatAck, from: 1 - ev.from, a: a, chunk: info})
		g.push(event{t: ts + heartbeatGap + int64(g.rng.IntN(1000))*int64(time.Millisecond), kind: evHeartbeat, from: ev.from, a: a})
	case evHeartbeatAck:
		g.begin(ev.a, ev.from, false)
		g.buf = appendHeartbeat(g.buf, chunkHEARTBEATACK, ev.chunk)
		g.finish(ev.t)
	}
	return g.err
}

// sendSteps sends the ISUP message of ev, bundled with any others due on the
// same association and direction within the bundle window, or fragmented.
func (g *generator) sendSteps(ev event) error {
	cs := ev.call
	st := cs.steps[cs.next]
	from := cs.sender(st)
	a := cs.a
	batch := g.deferq[:0]
	batch = append(batch, ev)
	var others []event
	if g.opt.BundleWindow > 0 {
		limit := ev.t + int64(g.opt.BundleWindow)
		for len(g.heap) > 0 && g.heap[0].t <= limit && len(batch) < maxBundle {
			nx := g.pop()
			if nx.kind == evStep && nx.call.a == a && nx.call.sender(nx.call.steps[nx.call.next]) == from {
				batch = append(batch, nx)
			} else {
				others = append(others, nx)
			}
		}
	}
	t := batch[len(batch)-1].t
	e := &a.ep[from]

	if len(batch) == 1 && g.percent(g.opt.FragmentPercent) {
		if err := g.encode(cs, st, from); err != nil {
			return err
		}
		if len(g.msg) >= 24 {
			g.sendFragmented(cs, st, from, t)
			g.advance(cs, g.now)
			g.repush(others)
			return g.err
		}
	} else if err := g.encode(cs, st, from); err != nil {
		return err
	}

	g.begin(a, from, false)
	g.sackChunk(a, from)
	var firstTSN uint32
	var chunkAt int
	for i, bev := range batch {
		bcs := bev.call
		bst := bcs.steps[bcs.next]
		if i > 0 {
			// maxBundle messages of at most a few hundred bytes fit one packet
			if err := g.encode(bcs, bst, from); err != nil {
				return err
			}
		}
		s := g.stream(bcs)
		tsn := e.nextTSN
		e.nextTSN++
		if i == 0 {
			firstTSN, chunkAt = tsn, len(g.buf)
		}
		g.buf = appendDataChunk(g.buf, dataFlagBegin|dataFlagEnd, tsn, s, e.ssn[s], a.ppid, g.msg)
		e.ssn[s]++
		g.done = append(g.done, doneMsg{cs: bcs, st: bst, from: from})
	}
	var chunk []byte
	if len(batch) == 1 && g.percent(g.opt.RetransmitPercent) {
		chunk = append([]byte(nil), g.buf[chunkAt:]...)
	}
	if len(batch) > 1 {
		g.sum.BundledPackets++
	}
	if g.percent(g.opt.ExtraChunkPercent) {
		g.extraChunks(e)
	}
	ts := g.finish(t)
	for tsn := firstTSN; tsn != e.nextTSN; tsn++ {
		g.received(a, 1-from, tsn, ts)
	}
	if chunk != nil {
		rto := int64(300+g.rng.IntN(700)) * int64(time.Millisecond)
		g.push(event{t: ts + rto, kind: evRetransmit, from: from, a: a, chunk: chunk})
	}
	for _, bev := range batch {
		g.advance(bev.call, ts)
	}
	g.repush(others)
	g.deferq = batch[:0]
	return g.err
}

// Payload protocols other than SIGTRAN that share an association in the
// ExtraChunkPercent mix (IANA SCTP PPIDs).
var foreignPPIDs = [...]uint32{7 /* H.248 */, 46 /* Diameter */}

// maxFrame is the largest Ethernet frame (without FCS) the generator writes
// when it adds chunks: a 1500-octet MTU, so captures replay onto a link.
const maxFrame = 1514

// extraChunks appends, after the ISUP DATA chunks of the packet being built
// by e, a HEARTBEAT and one to three DATA chunks of another payload protocol
// on stream 0, as much as fits a 1500-octet MTU.
func (g *generator) extraChunks(e *endpoint) {
	info := binary.BigEndian.AppendUint64(g.extra[:0], g.rng.Uint64())
	info = append(info, e.addr.AsSlice()...)
	if len(g.buf)+8+len(info)+4 <= maxFrame {
		g.buf = appendHeartbeat(g.buf, chunkHEARTBEAT, info)
		g.sum.ExtraChunks++
	}
	for n := 1 + g.rng.IntN(3); n > 0; n-- {
		size := 40 + g.rng.IntN(360)
		if len(g.buf)+sctpDataHdrLen+size+3 > maxFrame {
			break
		}
		p := g.extra[:0]
		for len(p) < size {
			p = binary.BigEndian.AppendUint64(p, g.rng.Uint64())
		}
		g.extra = p
		g.buf = appendDataChunk(g.buf, dataFlagBegin|dataFlagEnd, e.nextTSN, 0, e.ssn[0], foreignPPIDs[g.rng.IntN(len(foreignPPIDs))], p[:size])
		e.nextTSN++
		e.ssn[0]++
		g.sum.ExtraChunks++
	}
}

// sendFragmented splits g.msg over two or three DATA chunks with consecutive
// TSNs and one SSN, in one packet or in consecutive packets.
func (g *generator) sendFragmented(cs *callState, st step, from uint8, t int64) {
	a := cs.a
	e := &a.ep[from]
	parts := 2 + g.rng.IntN(2)
	separate := g.rng.IntN(2) == 0
	s := g.stream(cs)
	msg := g.msg
	size := (len(msg) + parts - 1) / parts
	g.sum.Fragmented++
	if separate {
		g.sum.FragmentedSplit++
	}
	g.begin(a, from, false)
	g.sackChunk(a, from)
	for i := 0; i < parts; i++ {
		lo, hi := i*size, (i+1)*size
		if hi > len(msg) || i == parts-1 {
			hi = len(msg)
		}
		var flags uint8
		if i == 0 {
			flags |= dataFlagBegin
		}
		if i == parts-1 {
			flags |= dataFlagEnd
			g.done = append(g.done, doneMsg{cs: cs, st: st, from: from})
		}
		tsn := e.nextTSN
		e.nextTSN++
		g.buf = appendDataChunk(g.buf, flags, tsn, s, e.ssn[s], a.ppid, msg[lo:hi])
		if separate && i < parts-1 {
			ts := g.finish(t)
			g.received(a, 1-from, tsn, ts)
			t = ts + int64(30+g.rng.IntN(120))*int64(time.Microsecond)
			g.begin(a, from, false)
		} else if i == parts-1 {
			ts := g.finish(t)
			for k := 0; k < parts && !separate; k++ {
				g.received(a, 1-from, tsn-uint32(parts-1-k), ts)
			}
			if separate {
				g.received(a, 1-from, tsn, ts)
			}
		}
	}
	e.ssn[s]++
}

// advance moves a call to its next step after one was sent at ts.
func (g *generator) advance(cs *callState, ts int64) {
	cs.next++
	if cs.next >= len(cs.steps) {
		return
	}
	at := cs.steps[cs.next].at
	if at < ts+minStepGap {
		at = ts + minStepGap
	}
	g.push(event{t: at, kind: evStep, call: cs})
}

func (g *generator) repush(evs []event) {
	for _, ev := range evs {
		g.push(ev)
	}
}

func (g *generator) percent(p int) bool { return p > 0 && g.rng.IntN(100) < p }

// push and pop keep a binary min-heap on (time, insertion order) so equal
// times keep a deterministic order.
func (g *generator) push(ev event) {
	g.seq++
	ev.seq = g.seq
	if ev.kind != evHeartbeat {
		g.pending++
	}
	h := append(g.heap, ev)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(&h[i], &h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	g.heap = h
}

func less(a, b *event) bool { return a.t < b.t || a.t == b.t && a.seq < b.seq }

func (g *generator) pop() event {
	h := g.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = event{}
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && less(&h[r], &h[l]) {
			m = r
		}
		if !less(&h[m], &h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	g.heap = h
	if top.kind != evHeartbeat {
		g.pending--
	}
	return top
}
