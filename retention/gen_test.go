package retention

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/decode"
)

// Test traffic: complete ITU ISUP calls (IAM, ACM, ANM, REL, RLC) over M3UA,
// with the MTP3 bytes a real decoder would produce, so stored sizes are
// realistic and exported packets decode.

type genCall struct {
	id, calling, called, redirecting, originalCalled, generic string
	opc, dpc, cic                                             uint32
	start                                                     int64
	refs                                                      []storedCopy
}

// storedCopy is what a test expects to read back for one message.
type storedCopy struct {
	ts            int64
	frame         uint64
	mtp3          []byte
	src, dst      netip.AddrPort
	stream        uint16
	rc            uint32
	opc, dpc, cic uint32
	sls, typ      uint8
	numbers       map[Role]string
	source        string
	tsn           uint32
}

type generator struct {
	rng    *rand.Rand
	ts     int64
	frame  uint64
	tsn    uint32
	gapNS  int64 // mean time between call starts
	m      decode.Message
	mtp3   []byte
	keep   bool // keep expected copies (tests); benchmarks do not
	links  []netip.AddrPort
	source string
}

func newGenerator(seed uint64, start int64, gap int64) *generator {
	g := &generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ts: start, gapNS: gap, source: "gen.pcap"}
	for i := 0; i < 4; i++ {
		g.links = append(g.links, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(1 + i)}), 2905))
	}
	return g
}

func (g *generator) mobile() string {
	var b [11]byte
	b[0] = '1'
	b[1] = "3456789"[g.rng.IntN(7)]
	for i := 2; i < 11; i++ {
		b[i] = byte('0' + g.rng.IntN(10))
	}
	return string(b[:])
}

func putBCD(b []byte, digits string) []byte {
	for i := 0; i < len(digits); i += 2 {
		lo := digits[i] - '0'
		var hi byte
		if i+1 < len(digits) {
			hi = digits[i+1] - '0'
		}
		b = append(b, lo|hi<<4)
	}
	return b
}

func setNumber(n *decode.Number, digits string, nai uint8) {
	*n = decode.Number{Present: true, NAI: nai, HasNAI: true, NPI: 1, HasNPI: true, Odd: len(digits)%2 == 1}
	n.NDigits = uint8(copy(n.Digits[:], digits))
}

func (g *generator) numberParam(b []byte, code byte, digits string, nai byte, generic bool) []byte {
	if code != 0 {
		b = append(b, code)
	}
	lenAt := len(b)
	b = append(b, 0)
	if generic {
		b = append(b, 0x06) // additional calling party number
	}
	odd := byte(0)
	if len(digits)%2 == 1 {
		odd = 0x80
	}
	b = append(b, odd|nai, 0x10|0x01) // NPI E.164, screening: user provided verified
	b = putBCD(b, digits)
	b[lenAt] = byte(len(b) - lenAt - 1)
	return b
}

// emit builds one message on c and hands it to fn.
func (g *generator) emit(c *genCall, typ uint8, fromCalling bool, fn func(*decode.Message)) {
	g.ts += 1000 * (1 + int64(g.rng.IntN(2000))) // µs steps, like pcap captures
	g.frame++
	g.tsn++
	opc, dpc := c.opc, c.dpc
	if !fromCalling {
		opc, dpc = dpc, opc
	}
	m := &g.m
	*m = decode.Message{TS: g.ts, Frame: g.frame, Transport: decode.TransportM3UA, Stream: uint16(c.cic % 16), TSN: g.tsn, VTag: 0x1234567,
		RoutingContext: 100 + c.opc%4, HasRC: true}
	link := int(c.opc % uint32(len(g.links)))
	m.Src, m.Dst = g.links[link], netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 0, 1}), 2905)
	if !fromCalling {
		m.Src, m.Dst = m.Dst, m.Src
	}
	sls := uint8(c.cic & 0x0f)
	m.Label = decode.Label{NI: 2, SI: decode.SIISUP, OPC: opc, DPC: dpc, SLS: sls, PCBits: 14}
	m.ISUP.CIC = c.cic
	m.ISUP.Type = typ
	b := g.mtp3[:0]
	b = append(b, 2<<6|decode.SIISUP)
	b = binary.LittleEndian.AppendUint32(b, dpc&0x3fff|(opc&0x3fff)<<14|uint32(sls)<<28)
	b = binary.LittleEndian.AppendUint16(b, uint16(c.cic))
	b = append(b, typ)
	switch typ {
	case 0x01: // IAM
		b = append(b, 0x00, 0x20, 0x01, 0x0a, 0x00)
		calledLen := 2 + (len(c.called)+1)/2
		b = append(b, 2, byte(1+1+calledLen))
		b = g.numberParam(b, 0, c.called, 3, false)
		b = g.numberParam(b, 0x0a, c.calling, 3, false)
		setNumber(&m.ISUP.Called, c.called, 3)
		setNumber(&m.ISUP.Calling, c.calling, 3)
		if c.redirecting != "" {
			b = g.numberParam(b, 0x0b, c.redirecting, 3, false)
			b = g.numberParam(b, 0x28, c.originalCalled, 3, false)
			b = append(b, 0x13, 2, 0x03, 0x11) // redirection information
			setNumber(&m.ISUP.Redirecting, c.redirecting, 3)
			setNumber(&m.ISUP.OriginalCalled, c.originalCalled, 3)
		}
		if c.generic != "" {
			b = g.numberParam(b, 0xc0, c.generic, 3, true)
			setNumber(&m.ISUP.Generic[0], c.generic, 3)
			m.ISUP.Generic[0].Qualifier = 6
			m.ISUP.NGeneric = 1
		}
		b = append(b, 0x00)
	case 0x06: // ACM
		b = append(b, 0x16, 0x14, 0x00)
	case 0x09: // ANM
		b = append(b, 0x00)
	case 0x0c: // REL
		b = append(b, 0x02, 0x00, 0x02, 0x80, 0x90)
	case 0x10: // RLC
		b = append(b, 0x00)
	}
	g.mtp3 = b
	m.MTP3 = b
	m.ISUP.Raw = b[5:]
	if g.keep {
		sc := storedCopy{ts: m.TS, frame: m.Frame, mtp3: append([]byte(nil), b...), src: m.Src, dst: m.Dst, stream: m.Stream,
			rc: m.RoutingContext, opc: opc, dpc: dpc, cic: c.cic, sls: sls, typ: typ, source: g.source, tsn: m.TSN, numbers: map[Role]string{}}
		if typ == 0x01 {
			sc.numbers[RoleCalling], sc.numbers[RoleCalled] = c.calling, c.called
			if c.redirecting != "" {
				sc.numbers[RoleRedirecting], sc.numbers[RoleOriginalCalled] = c.redirecting, c.originalCalled
			}
			if c.generic != "" {
				sc.numbers[RoleGeneric] = c.generic
			}
		}
		c.refs = append(c.refs, sc)
	}
	fn(m)
}

type activeCall struct {
	c     *genCall
	rec   *analysis.Call
	stage int
}

// run generates n calls, up to eight in progress at once (interleaved as on a
// real link), handing each message to fn and each finished call to done.
func (g *generator) run(n int, fn func(*decode.Message), done func(*genCall, *analysis.Call)) {
	var active []*activeCall
	started := 0
	for started < n || len(active) > 0 {
		if started < n && (len(active) < 8 && g.rng.IntN(3) == 0 || len(active) == 0) {
			i := started
			started++
			g.ts += g.rng.Int64N(2*g.gapNS + 1)
			c := &genCall{id: "c" + itoa(i), calling: g.mobile(), called: g.mobile(), opc: 100 + uint32(i%3), dpc: 200, cic: uint32(i%4000 + 1)}
			if i%10 == 3 {
				c.redirecting, c.originalCalled = g.mobile(), g.mobile()
			}
			if i%7 == 5 {
				c.generic = g.mobile()
			}
			g.emit(c, 0x01, true, fn)
			c.start = g.ts
			rec := &analysis.Call{ID: "c" + itoa(i), Start: g.ts, OPC: c.opc, DPC: c.dpc, CIC: c.cic, Partner: "partner" + itoa(int(c.opc%3)),
				Link: g.links[int(c.opc%uint32(len(g.links)))].String() + ">10.1.0.1:2905", Direction: analysis.DirectionIngress,
				Calling: &analysis.PartyNumber{Digits: c.calling, NAI: 3}, Called: &analysis.PartyNumber{Digits: c.called, NAI: 3},
				Messages: 5, Outcome: analysis.OutcomeAnswered, ReleasedBy: analysis.SideCalling, Cause: 16}
			active = append(active, &activeCall{c: c, rec: rec})
			continue
		}
		k := g.rng.IntN(len(active))
		a := active[k]
		a.stage++
		switch a.stage {
		case 1:
			g.emit(a.c, 0x06, false, fn)
			a.rec.Alerting = g.ts
		case 2:
			g.emit(a.c, 0x09, false, fn)
			a.rec.Answer = g.ts
		case 3:
			g.emit(a.c, 0x0c, true, fn)
			a.rec.Release = g.ts
		case 4:
			g.emit(a.c, 0x10, false, fn)
			a.rec.End = g.ts
			active = append(active[:k], active[k+1:]...)
			done(a.c, a.rec)
		}
	}
}

func itoa(i int) string {
	var b [20]byte
	p := len(b)
	if i == 0 {
		return "0"
	}
	for i > 0 {
		p--
		b[p] = byte('0' + i%10)
		i /= 10
	}
	return string(b[p:])
}

// linker links messages to their call as the pipeline does with the
// assembler's answer (analysis.Assembler.CallOf), for tests that feed
// generated traffic straight to the store: an IAM's Ref names the call on
// its circuit until the next IAM there.
type linker struct{ iam map[[3]uint32]Ref }

func linkKey(opc, dpc, cic uint32) [3]uint32 {
	if opc > dpc {
		opc, dpc = dpc, opc
	}
	return [3]uint32{opc, dpc, cic}
}

func (l *linker) add(s *Store, m *decode.Message, source string) error {
	if l.iam == nil {
		l.iam = map[[3]uint32]Ref{}
	}
	key := linkKey(m.Label.OPC, m.Label.DPC, m.ISUP.CIC)
	var call Ref
	if m.ISUP.Type != 0x01 {
		call = l.iam[key]
	}
	ref, err := s.AddMessageRef(m, source, call)
	if err == nil && m.ISUP.Type == 0x01 {
		l.iam[key] = ref
	}
	return err
}

// ref is the call Ref of the circuit's last IAM.
func (l *linker) ref(opc, dpc, cic uint32) uint64 { return uint64(l.iam[linkKey(opc, dpc, cic)]) }
