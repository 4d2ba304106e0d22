package analysis

import (
	"fmt"
	"net/netip"

	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/internal/snapshot"
)

// assemblerStateVersion is the first value of a saved assembler state.
// Version 3 adds, per call, the SIP dialog fields (caller tag, cancelled,
// header identity); a version 2 state still restores (its calls are ISUP).
const (
	assemblerStateVersion   = 3
	assemblerStateVersionV2 = 2
)

// AppendState appends the calls in progress (in activity order, with their
// release timers), the capture-time clock and the counters to b, for a
// restart to continue them (RestoreState). It does not change a.
func (a *Assembler) AppendState(b []byte) []byte {
	b = snapshot.AppendUint(b, assemblerStateVersion)
	b = snapshot.AppendInt(b, a.now)
	st := &a.stats
	for _, v := range []uint64{st.Messages, st.Calls, st.Closed, st.DualSeizures, st.Superseded, st.Resets,
		st.ReleaseTimeout, st.IdleTimeout, st.Evicted, st.Orphans} {
		b = snapshot.AppendUint(b, v)
	}
	b = snapshot.AppendUint(b, uint64(len(a.open)))
	pos := make(map[*openCall]int, len(a.open))
	i := 0
	for oc := a.active.head; oc != nil; oc = oc.next {
		pos[oc] = i
		i++
		b = appendOpenCall(b, oc)
	}
	n := 0
	for oc := a.releases.head; oc != nil; oc = oc.rnext {
		n++
	}
	b = snapshot.AppendUint(b, uint64(n))
	for oc := a.releases.head; oc != nil; oc = oc.rnext {
		b = snapshot.AppendUint(b, uint64(pos[oc]))
	}
	return b
}

// RestoreState replaces a's calls in progress, clock and counters with a
// saved state. On error a is left empty.
func (a *Assembler) RestoreState(b []byte) error {
	a.reset0()
	r := snapshot.NewReader(b)
	v := r.Uint()
	if v != assemblerStateVersion && v != assemblerStateVersionV2 {
		return fmt.Errorf("assembler state: version %d, want %d", v, assemblerStateVersion)
	}
	a.now = r.Int()
	st := &a.stats
	for _, v := range []*uint64{&st.Messages, &st.Calls, &st.Closed, &st.DualSeizures, &st.Superseded, &st.Resets,
		&st.ReleaseTimeout, &st.IdleTimeout, &st.Evicted, &st.Orphans} {
		*v = r.Uint()
	}
	n := r.Count(a.cfg.MaxOpenCalls)
	order := make([]*openCall, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		oc := a.alloc()
		a.readOpenCall(r, oc, v)
		if _, dup := a.open[oc.key]; dup {
			return a.restoreFailed(fmt.Errorf("assembler state: circuit saved twice"))
		}
		a.open[oc.key] = oc
		a.active.pushBack(oc, false)
		order = append(order, oc)
	}
	nr := r.Count(n)
	for i := 0; i < nr && r.Err() == nil; i++ {
		j := r.Count(n - 1)
		if r.Err() == nil && j < len(order) && order[j].released && order[j].rprev == nil && a.releases.head != order[j] {
			a.releases.pushBack(order[j], true)
		}
	}
	if err := r.Err(); err != nil {
		return a.restoreFailed(fmt.Errorf("assembler state: %w", err))
	}
	if r.Len() != 0 {
		return a.restoreFailed(fmt.Errorf("assembler state: %d trailing bytes", r.Len()))
	}
	return nil
}

func (a *Assembler) restoreFailed(err error) error {
	a.reset0()
	return err
}

// reset0 forgets every call in progress without closing it.
func (a *Assembler) reset0() {
	a.open = make(map[circuitKey]*openCall)
	a.active, a.releases = callList{}, callList{}
	a.now, a.stats = 0, AssemblerStats{}
}

func appendAddr(b []byte, addr netip.Addr) []byte {
	ab, _ := addr.MarshalBinary()
	return snapshot.AppendString(b, string(ab))
}

func appendParty(b []byte, p *PartyNumber) []byte {
	if p == nil {
		return snapshot.AppendBool(b, false)
	}
	b = snapshot.AppendBool(b, true)
	b = snapshot.AppendString(b, p.Digits)
	b = append(b, p.NAI, p.APRI)
	return snapshot.AppendString(b, p.E164)
}

func appendOpenCall(b []byte, oc *openCall) []byte {
	k := &oc.key
	b = snapshot.AppendUint(b, uint64(k.pcLo))
	b = snapshot.AppendUint(b, uint64(k.pcHi))
	b = snapshot.AppendUint(b, uint64(k.cic))
	b = appendAddr(b, k.addrLo)
	b = appendAddr(b, k.addrHi)
	b = snapshot.AppendUint(b, uint64(k.link))
	b = append(b, k.ni, byte(k.proto))
	b = snapshot.AppendInt(b, oc.lastSeen)
	b = snapshot.AppendBool(b, oc.setup)
	b = snapshot.AppendBool(b, oc.released)
	c := &oc.call
	b = snapshot.AppendString(b, c.ID)
	for _, t := range []int64{c.Start, c.Alerting, c.Answer, c.Release, c.End} {
		b = snapshot.AppendInt(b, t)
	}
	b = append(b, byte(c.Outcome), c.Cause, byte(c.ReleasedBy), byte(c.Direction), c.Category, c.RedirCounter)
	b = snapshot.AppendBool(b, c.Redirected)
	b = snapshot.AppendString(b, c.Partner)
	b = snapshot.AppendString(b, c.Link)
	for _, v := range []uint32{c.OPC, c.DPC, c.CIC, c.RC} {
		b = snapshot.AppendUint(b, uint64(v))
	}
	for _, p := range []*PartyNumber{c.Calling, c.Called, c.Redirecting, c.OriginalCalled} {
		b = appendParty(b, p)
	}
	b = snapshot.AppendUint(b, uint64(len(c.Generic)))
	for i := range c.Generic {
		b = appendParty(b, &c.Generic[i])
	}
	b = snapshot.AppendInt(b, int64(c.Messages))
	b = append(b, byte(c.Protocol))
	b = snapshot.AppendString(b, c.TransitOf)
	b = snapshot.AppendString(b, c.TransitTo)
	b = snapshot.AppendString(b, c.OriginCountry)
	b = snapshot.AppendUint(b, c.Ref)
	b = snapshot.AppendUint(b, oc.callerTag)
	b = snapshot.AppendBool(b, oc.cancelled)
	return appendParty(b, c.HeaderCalling)
}

func (a *Assembler) readAddr(r *snapshot.Reader) netip.Addr {
	var addr netip.Addr
	if err := addr.UnmarshalBinary(r.Bytes()); err != nil {
		r.Fail()
	}
	return addr
}

func (a *Assembler) readParty(r *snapshot.Reader, dst *PartyNumber) *PartyNumber {
	if !r.Bool() {
		return nil
	}
	dst.Digits = a.strs.string(r.Bytes())
	dst.NAI, dst.APRI = r.Uint8(), r.Uint8()
	dst.E164 = r.String()
	return dst
}

func (a *Assembler) readOpenCall(r *snapshot.Reader, oc *openCall, version uint64) {
	k := &oc.key
	k.pcLo, k.pcHi, k.cic = uint32(r.Uint()), uint32(r.Uint()), uint32(r.Uint())
	k.addrLo, k.addrHi = a.readAddr(r), a.readAddr(r)
	k.link = uint16(r.Uint())
	k.ni, k.proto = r.Uint8(), decode.Protocol(r.Uint8())
	oc.lastSeen = r.Int()
	oc.setup, oc.released = r.Bool(), r.Bool()
	c := &oc.call
	c.ID = a.strs.string(r.Bytes())
	for _, t := range []*int64{&c.Start, &c.Alerting, &c.Answer, &c.Release, &c.End} {
		*t = r.Int()
	}
	c.Outcome, c.Cause, c.ReleasedBy, c.Direction = Outcome(r.Uint8()), r.Uint8(), Side(r.Uint8()), Direction(r.Uint8())
	c.Category, c.RedirCounter = r.Uint8(), r.Uint8()
	c.Redirected = r.Bool()
	c.Partner = r.String()
	c.Link = r.String()
	for _, v := range []*uint32{&c.OPC, &c.DPC, &c.CIC, &c.RC} {
		*v = uint32(r.Uint())
	}
	c.Calling = a.readParty(r, &oc.numbers[0])
	c.Called = a.readParty(r, &oc.numbers[1])
	c.Redirecting = a.readParty(r, &oc.numbers[2])
	c.OriginalCalled = a.readParty(r, &oc.numbers[3])
	ng := r.Count(len(oc.generic))
	for i := 0; i < ng; i++ {
		a.readParty(r, &oc.generic[i])
	}
	c.Generic = oc.generic[:ng]
	c.Messages = int(r.Int())
	c.Protocol = decode.Protocol(r.Uint8())
	c.TransitOf, c.TransitTo, c.OriginCountry = r.String(), r.String(), r.String()
	c.Ref = r.Uint()
	if version >= assemblerStateVersion {
		oc.callerTag = r.Uint()
		oc.cancelled = r.Bool()
		c.HeaderCalling = a.readParty(r, &oc.header)
	}
}
