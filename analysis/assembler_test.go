package analysis

import (
	"encoding/json"
	"net/netip"
	"runtime"
	"strings"
	"testing"

	"github.com/gatewarden/gatewarden/decode"
)

var (
	addrA = netip.MustParseAddrPort("192.0.2.10:2905")
	addrB = netip.MustParseAddrPort("198.51.100.1:2905")
)

const (
	pcA = 1000 // partner exchange
	pcB = 2000 // our gateway
)

// msgBuilder makes hand-built messages between A and B.
type msgBuilder struct {
	frame uint64
	m     decode.Message
}

func (b *msgBuilder) msg(ts int64, typ uint8, fromA bool, cic uint32) *decode.Message {
	b.frame++
	b.m = decode.Message{TS: ts, Frame: b.frame, Transport: decode.TransportM3UA}
	b.m.Label.NI = 2
	if fromA {
		b.m.Src, b.m.Dst = addrA, addrB
		b.m.Label.OPC, b.m.Label.DPC = pcA, pcB
	} else {
		b.m.Src, b.m.Dst = addrB, addrA
		b.m.Label.OPC, b.m.Label.DPC = pcB, pcA
	}
	b.m.ISUP.Type = typ
	b.m.ISUP.CIC = cic
	return &b.m
}

func setNum(n *decode.Number, nai uint8, digits string) {
	n.Present = true
	n.NAI = nai
	n.HasNAI = true
	n.NDigits = uint8(copy(n.Digits[:], digits))
}

func (b *msgBuilder) iam(ts int64, fromA bool, cic uint32, calling, called string) *decode.Message {
	m := b.msg(ts, msgIAM, fromA, cic)
	if calling != "" {
		setNum(&m.ISUP.Calling, 3, calling)
	}
	setNum(&m.ISUP.Called, 3, called)
	return m
}

func (b *msgBuilder) rel(ts int64, fromA bool, cic uint32, cause uint8) *decode.Message {
	m := b.msg(ts, msgREL, fromA, cic)
	m.ISUP.Cause = decode.Cause{Present: true, Value: cause}
	return m
}

type collector struct {
	closed []Call
	setups int
}

func (c *collector) config() AssemblerConfig {
	return AssemblerConfig{
		Partner: func(addr netip.Addr, pc uint32) string {
			if addr == addrA.Addr() || pc == pcA {
				return "partner-a"
			}
			return ""
		},
		Setup: func(*Call) { c.setups++ },
		Close: func(call *Call) {
			cp := *call
			if call.Calling != nil {
				n := *call.Calling
				cp.Calling = &n
			}
			if call.Called != nil {
				n := *call.Called
				cp.Called = &n
			}
			c.closed = append(c.closed, cp)
		},
	}
}

const s = int64(1e9)

func TestAssemblerOutcomes(t *testing.T) {
	base := int64(1700000000) * s
	tests := []struct {
		name    string
		feed    func(b *msgBuilder, a *Assembler)
		outcome Outcome
		side    Side
		ring    int64
		talk    int64
	}{
		{"answered", func(b *msgBuilder, a *Assembler) {
			a.Feed(b.iam(base, true, 1, "13800138000", "2088881234"))
			a.Feed(b.msg(base+1*s, msgACM, false, 1))
			a.Feed(b.msg(base+4*s, msgANM, false, 1))
			a.Feed(b.rel(base+64*s, true, 1, 16))
			a.Feed(b.msg(base+65*s, msgRLC, false, 1))
		}, OutcomeAnswered, SideCalling, 3 * s, 60 * s},
		{"busy", func(b *msgBuilder, a *Assembler) {
			a.Feed(b.iam(base, true, 1, "13800138000", "2088881234"))
			a.Feed(b.rel(base+1*s, false, 1, 17))
			a.Feed(b.msg(base+2*s, msgRLC, true, 1))
		}, OutcomeBusy, SideCalled, 0, 0},
		{"no answer cause 19", func(b *msgBuilder, a *Assembler) {
			a.Feed(b.iam(base, true, 1, "13800138000", "2088881234"))
			a.Feed(b.msg(base+1*s, msgACM, false, 1))
			a.Feed(b.rel(base+31*s, false, 1, 19))
			a.Feed(b.msg(base+32*s, msgRLC, true, 1))
		}, OutcomeNoAnswer, SideCalled, 30 * s, 0},
		{"caller gives up after ringing", func(b *msgBuilder, a *Assembler) {
			a.Feed(b.iam(base, true, 1, "13800138000", "2088881234"))
			a.Feed(b.msg(base+1*s, msgACM, false, 1))
			a.Feed(b.rel(base+3*s, true, 1, 16))
			a.Feed(b.msg(base+4*s, msgRLC, false, 1))
		}, OutcomeNoAnswer, SideCalling, 2 * s, 0},
		{"abandoned before alerting", func(b *msgBuilder, a *Assembler) {
			a.Feed(b.iam(base, true, 1, "13800138000", "2088881234"))
			a.Feed(b.rel(base+1*s, true, 1, 16))
			a.Feed(b.msg(base+2*s, msgRLC, false, 1))
		}, OutcomeAbandoned, SideCalling, 0, 0},
		{"failed congestion", func(b *msgBuilder, a *Assembler) {
			a.Feed(b.iam(base, true, 1, "13800138000", "2088881234"))
			a.Feed(b.rel(base+1*s, false, 1, 34))
			a.Feed(b.msg(base+2*s, msgRLC, true, 1))
		}, OutcomeFailed, SideCalled, 0, 0},
		{"reset", func(b *msgBuilder, a *Assembler) {
			a.Feed(b.iam(base, true, 1, "13800138000", "2088881234"))
			a.Feed(b.msg(base+1*s, msgRSC, false, 1))
		}, OutcomeFailed, SideReset, 0, 0},
		{"cpg alerting", func(b *msgBuilder, a *Assembler) {
			a.Feed(b.iam(base, true, 1, "13800138000", "2088881234"))
			acm := b.msg(base+1*s, msgACM, false, 1)
			acm.ISUP.HasBackwardCallIndicators = true // status: no indication
			a.Feed(acm)
			cpg := b.msg(base+2*s, msgCPG, false, 1)
			cpg.ISUP.HasEventInformation, cpg.ISUP.EventInformation = true, 1
			a.Feed(cpg)
			a.Feed(b.msg(base+7*s, msgANM, false, 1))
			a.Feed(b.rel(base+8*s, false, 1, 16))
			a.Feed(b.msg(base+9*s, msgRLC, true, 1))
		}, OutcomeAnswered, SideCalled, 5 * s, 1 * s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var col collector
			a := NewAssembler(col.config())
			var b msgBuilder
			tt.feed(&b, a)
			if len(col.closed) != 1 {
				t.Fatalf("closed %d calls, want 1", len(col.closed))
			}
			c := col.closed[0]
			if c.Outcome != tt.outcome || c.ReleasedBy != tt.side {
				t.Errorf("outcome %v by %v, want %v by %v", c.Outcome, c.ReleasedBy, tt.outcome, tt.side)
			}
			if c.RingNanos() != tt.ring || c.TalkNanos() != tt.talk {
				t.Errorf("ring %d talk %d, want %d %d", c.RingNanos(), c.TalkNanos(), tt.ring, tt.talk)
			}
			if c.Partner != "partner-a" || c.Direction != DirectionIngress {
				t.Errorf("partner %q direction %v", c.Partner, c.Direction)
			}
			if col.setups != 1 || a.OpenCalls() != 0 {
				t.Errorf("setups %d open %d", col.setups, a.OpenCalls())
			}
		})
	}
}

func TestAssemblerEgressAndSAM(t *testing.T) {
	var col collector
	a := NewAssembler(col.config())
	var b msgBuilder
	a.Feed(b.iam(s, false, 7, "2088881234", "85291"))
	sam := b.msg(2*s, msgSAM, false, 7)
	setNum(&sam.ISUP.Subsequent, 0, "234567")
	a.Feed(sam)
	if col.setups != 0 {
		t.Fatal("setup complete before the first backward message")
	}
	a.Feed(b.msg(3*s, msgACM, true, 7))
	a.Flush()
	c := col.closed[0]
	if c.Direction != DirectionEgress || c.Partner != "partner-a" {
		t.Errorf("direction %v partner %q", c.Direction, c.Partner)
	}
	if c.Called.Digits != "85291234567" {
		t.Errorf("called %q", c.Called.Digits)
	}
	if c.Outcome != OutcomeFailed || c.ReleasedBy != SideReset {
		t.Errorf("flushed call: %v by %v", c.Outcome, c.ReleasedBy)
	}
}

func TestAssemblerGRSRange(t *testing.T) {
	var col collector
	a := NewAssembler(col.config())
	var b msgBuilder
	for cic := uint32(10); cic < 20; cic++ {
		a.Feed(b.iam(s, true, cic, "13800138000", "2088881234"))
	}
	grs := b.msg(2*s, msgGRS, false, 12)
	grs.ISUP.HasRange, grs.ISUP.Range = true, 3 // CICs 12..15
	a.Feed(grs)
	if len(col.closed) != 4 || a.OpenCalls() != 6 {
		t.Fatalf("closed %d open %d, want 4 and 6", len(col.closed), a.OpenCalls())
	}
	for i, c := range col.closed {
		if c.CIC != uint32(12+i) || c.ReleasedBy != SideReset {
			t.Errorf("closed CIC %d by %v", c.CIC, c.ReleasedBy)
		}
	}
	if st := a.Stats(); st.Resets != 4 {
		t.Errorf("resets %d", st.Resets)
	}
}

func TestAssemblerDualSeizure(t *testing.T) {
	// pcB (2000) > pcA (1000): B controls even CICs, A odd ones.
	for _, tt := range []struct {
		cic          uint32
		survivorOPC  uint32
		closedByLoss bool
	}{
		{cic: 4, survivorOPC: pcB, closedByLoss: true}, // A's IAM first, B's wins
		{cic: 5, survivorOPC: pcA, closedByLoss: false},
	} {
		var col collector
		a := NewAssembler(col.config())
		var b msgBuilder
		a.Feed(b.iam(s, true, tt.cic, "13800138000", "2088881234"))
		a.Feed(b.iam(s+1000, false, tt.cic, "2088881234", "13800138000"))
		if got := len(col.closed); (got == 1) != tt.closedByLoss {
			t.Errorf("cic %d: %d calls closed at the collision", tt.cic, got)
		}
		a.Flush()
		last := col.closed[len(col.closed)-1]
		if last.OPC != tt.survivorOPC {
			t.Errorf("cic %d: surviving call from %d, want %d", tt.cic, last.OPC, tt.survivorOPC)
		}
		if a.Stats().DualSeizures != 1 {
			t.Errorf("cic %d: dual seizures %d", tt.cic, a.Stats().DualSeizures)
		}
	}
}

func TestAssemblerTimeoutsAndCap(t *testing.T) {
	var col collector
	cfg := col.config()
	cfg.MaxOpenCalls = 2
	cfg.ReleaseTimeout = 10 * s
	cfg.IdleTimeout = 100 * s
	a := NewAssembler(cfg)
	var b msgBuilder
	a.Feed(b.iam(s, true, 1, "13800138000", "2088881234"))
	a.Feed(b.rel(2*s, true, 1, 16))
	a.Feed(b.iam(3*s, true, 2, "13800138000", "2088881234"))
	a.Feed(b.iam(4*s, true, 3, "13800138000", "2088881234")) // evicts CIC 1 (least recent)
	if st := a.Stats(); st.Evicted != 1 || len(col.closed) != 1 || col.closed[0].CIC != 1 {
		t.Fatalf("eviction: %+v, closed %d", st, len(col.closed))
	}
	a.Feed(b.rel(5*s, false, 2, 16))
	a.Feed(b.msg(15*s, msgCPG, true, 3))   // 10 s after REL: not yet
	a.Feed(b.msg(15*s+1, msgCPG, true, 3)) // release timer ran out
	a.Feed(b.msg(200*s, msgACM, true, 99)) // orphan, idle timer for CIC 3
	if st := a.Stats(); st.ReleaseTimeout != 1 || st.IdleTimeout != 1 || st.Orphans != 1 {
		t.Fatalf("timeouts: %+v", st)
	}
	if len(col.closed) != 3 || a.OpenCalls() != 0 {
		t.Fatalf("closed %d open %d", len(col.closed), a.OpenCalls())
	}
	// CIC 2 was released by the called side without alerting.
	if c := col.closed[1]; c.CIC != 2 || c.Outcome != OutcomeFailed || c.ReleasedBy != SideCalled {
		t.Errorf("cic %d outcome %v by %v", c.CIC, c.Outcome, c.ReleasedBy)
	}
}

func TestAssemblerSplitAcrossSources(t *testing.T) {
	var col collector
	a := NewAssembler(col.config())
	var b msgBuilder
	a.Feed(b.iam(s, true, 1, "13800138000", "2088881234"))
	b.frame = 0
	m := b.msg(2*s, msgANM, false, 1)
	m.Source = 1 // next file of a rotated capture
	a.Feed(m)
	m = b.rel(3*s, true, 1, 16)
	m.Source = 1
	a.Feed(m)
	m = b.msg(3*s, msgRLC, false, 1)
	m.Source = 1
	a.Feed(m)
	if len(col.closed) != 1 || col.closed[0].Outcome != OutcomeAnswered || col.closed[0].Messages != 4 {
		t.Fatalf("closed %+v", col.closed)
	}
}

func TestCallAndAlertJSON(t *testing.T) {
	var col collector
	a := NewAssembler(col.config())
	var b msgBuilder
	a.Feed(b.iam(1700000000*s+5, true, 1, "1380013\"8000", "2088881234"))
	a.Feed(b.msg(1700000001*s, msgANM, false, 1))
	a.Flush()
	line := AppendCallJSON(nil, &col.closed[0])
	var v map[string]any
	if err := json.Unmarshal(line, &v); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	if v["outcome"] != "answered" || v["calling"].(map[string]any)["digits"] != "1380013\"8000" {
		t.Errorf("call JSON %s", line)
	}
	al := Alert{TS: 1700000000*s + 5, Rule: "call.bombing", Severity: SeverityCritical, Count: 20, WindowS: 300,
		Direction: DirectionIngress, Called: "2088881234", CallID: "0:1:1", Detail: "x\ny"}
	line = AppendAlertJSON(nil, &al)
	v = nil
	if err := json.Unmarshal(line, &v); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	if !strings.HasPrefix(string(line), `{"ts":"2023-11-14T22:13:20.000000005Z","rule":"call.bombing","severity":"critical"`) ||
		v["count"] != 20.0 || v["window_s"] != 300.0 || v["detail"] != "x\ny" || v["direction"] != "ingress" {
		t.Errorf("alert JSON %s", line)
	}
	al.WindowS, al.Count = 0, 0
	if strings.Contains(string(AppendAlertJSON(nil, &al)), "window_s") {
		t.Error("per-call alert carries window_s")
	}
}

func BenchmarkAssembler(b *testing.B) {
	a := NewAssembler(AssemblerConfig{Partner: func(netip.Addr, uint32) string { return "" }})
	var mb msgBuilder
	msgs := make([]decode.Message, 0, 5*1024)
	for i := 0; i < 1024; i++ {
		cic := uint32(i)
		ts := int64(i) * s
		msgs = append(msgs, *mb.iam(ts, true, cic, "13800138000", "2088881234"))
		msgs = append(msgs, *mb.msg(ts+1, msgACM, false, cic))
		msgs = append(msgs, *mb.msg(ts+2, msgANM, false, cic))
		msgs = append(msgs, *mb.rel(ts+3, true, cic, 16))
		msgs = append(msgs, *mb.msg(ts+4, msgRLC, false, cic))
	}
	b.ReportAllocs()
	b.ResetTimer()
	var off int64
	for i := 0; i < b.N; i++ {
		m := &msgs[i%len(msgs)]
		if i%len(msgs) == 0 && i > 0 {
			off += 2000 * s
		}
		m.TS += off
		a.Feed(m)
		m.TS -= off
	}
}

// FuzzAssembler feeds arbitrary message sequences (4 bytes each: type, CIC,
// direction and range, time step) and checks the call accounting holds.
func FuzzAssembler(f *testing.F) {
	f.Add([]byte{msgIAM, 1, 1, 1, msgACM, 1, 0, 1, msgANM, 1, 0, 1, msgREL, 1, 1, 1, msgRLC, 1, 0, 1})
	f.Add([]byte{msgIAM, 4, 1, 0, msgIAM, 4, 0, 0, msgGRS, 2, 0x31, 9, msgRSC, 4, 0, 200})
	f.Add([]byte{msgREL, 3, 1, 1, msgIAM, 3, 1, 1, msgSAM, 3, 1, 1, msgCPG, 3, 0, 1, msgIAM, 3, 1, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		var closed uint64
		a := NewAssembler(AssemblerConfig{
			MaxOpenCalls:   8,
			ReleaseTimeout: 5 * s,
			IdleTimeout:    60 * s,
			Close: func(c *Call) {
				closed++
				if c.Outcome == OutcomeOpen || c.End < c.Start {
					t.Fatalf("bad closed call %+v", c)
				}
			},
		})
		var b msgBuilder
		ts := int64(s)
		for i := 0; i+4 <= len(data); i += 4 {
			ts += int64(data[i+3]) * s / 4
			m := b.msg(ts, data[i], data[i+2]&1 == 1, uint32(data[i+1]%16))
			switch m.ISUP.Type {
			case msgIAM:
				setNum(&m.ISUP.Calling, 3, "13800138000")
				setNum(&m.ISUP.Called, 3, "2088881234")
			case msgSAM:
				setNum(&m.ISUP.Subsequent, 0, "12")
			case msgGRS:
				m.ISUP.HasRange, m.ISUP.Range = true, data[i+2]>>1
			case msgREL:
				m.ISUP.Cause = decode.Cause{Present: true, Value: data[i+2] >> 1}
			}
			a.Feed(m)
			if a.OpenCalls() > 8 {
				t.Fatalf("%d open calls over the cap", a.OpenCalls())
			}
		}
		a.Flush()
		st := a.Stats()
		if a.OpenCalls() != 0 || st.Closed != closed || st.Calls != closed {
			t.Fatalf("opened %d closed %d (callback %d), open %d", st.Calls, st.Closed, closed, a.OpenCalls())
		}
	})
}

func TestAssemblerLinkContext(t *testing.T) {
	var col collector
	a := NewAssembler(col.config())
	var b msgBuilder
	// The same point codes and CIC on a second association are another circuit.
	a.Feed(b.iam(s, true, 9, "13800138000", "2088881234"))
	other := b.iam(s, true, 9, "13900139000", "2088881234")
	other.Src = netip.MustParseAddrPort("192.0.2.11:2905")
	a.Feed(other)
	if a.OpenCalls() != 2 || a.Stats().Superseded+a.Stats().DualSeizures != 0 {
		t.Fatalf("open %d, stats %+v", a.OpenCalls(), a.Stats())
	}
	// MTP2 links are told apart by link number, whatever the capture source.
	for link := uint16(0); link < 2; link++ {
		m := b.iam(2*s, true, 9, "13800138000", "2088881234")
		m.Transport, m.Src, m.Dst, m.Link, m.Source = decode.TransportMTP2, netip.AddrPort{}, netip.AddrPort{}, link, link
		a.Feed(m)
	}
	ans := b.msg(3*s, msgANM, false, 9)
	ans.Transport, ans.Src, ans.Dst, ans.Link, ans.Source = decode.TransportMTP2, netip.AddrPort{}, netip.AddrPort{}, 1, 5
	a.Feed(ans)
	a.Flush()
	answered := 0
	for _, c := range col.closed {
		if c.Outcome == OutcomeAnswered {
			answered++
			if c.Link != "link:1" {
				t.Errorf("answered call on %q", c.Link)
			}
		}
	}
	if len(col.closed) != 4 || answered != 1 {
		t.Errorf("closed %d, answered %d", len(col.closed), answered)
	}
}

// TestOpenCallMemory measures the heap an open call holds (SIZING.md's
// memory table): 200 000 calls seized and alerting (IAM, ACM), none released,
// and bounds it.
func TestOpenCallMemory(t *testing.T) {
	const calls = 200_000
	const maxBytesPerCall = 1024
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	a := NewAssembler(AssemblerConfig{MaxOpenCalls: 2 * calls})
	var b msgBuilder
	for i := 0; i < calls; i++ {
		ts := int64(i) * 1e6
		a.Feed(b.iam(ts, true, uint32(i), "13800138000", "2088881234"))
		a.Feed(b.msg(ts+1e5, msgACM, false, uint32(i)))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if a.OpenCalls() != calls {
		t.Fatalf("%d open calls, want %d", a.OpenCalls(), calls)
	}
	per := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / calls
	t.Logf("%d open calls: %.0f B of heap per open call", calls, per)
	if per > maxBytesPerCall {
		t.Errorf("%.0f B per open call, want at most %d", per, maxBytesPerCall)
	}
	runtime.KeepAlive(a)
}
