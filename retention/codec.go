package retention

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/decode"
)

// errCorrupt is returned when stored bytes do not parse. Segments are also
// covered by their manifest hash, so this means damage or a bug, never input.
var errCorrupt = errors.New("retention: corrupt record")

func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
func appendVarint(b []byte, v int64) []byte   { return binary.AppendVarint(b, v) }

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendAddrPort(b []byte, ap netip.AddrPort) []byte {
	a := ap.Addr()
	switch {
	case !a.IsValid():
		return append(b, 0)
	case a.Is4():
		a4 := a.As4()
		b = append(b, 4)
		b = append(b, a4[:]...)
	default:
		a16 := a.As16()
		b = append(b, 16)
		b = append(b, a16[:]...)
	}
	return binary.BigEndian.AppendUint16(b, ap.Port())
}

// reader decodes what the append helpers wrote. The first error sticks, so
// callers check err once after a batch of reads.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errCorrupt
	}
	r.b = nil
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte1() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) bytesN(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	return r.bytesN(int(n))
}

func (r *reader) string() string { return string(r.bytes()) }

func (r *reader) addrPort() netip.AddrPort {
	switch r.byte1() {
	case 0:
		return netip.AddrPort{}
	case 4:
		var a [4]byte
		copy(a[:], r.bytesN(4))
		p := r.bytesN(2)
		if r.err != nil {
			return netip.AddrPort{}
		}
		return netip.AddrPortFrom(netip.AddrFrom4(a), binary.BigEndian.Uint16(p))
	case 16:
		var a [16]byte
		copy(a[:], r.bytesN(16))
		p := r.bytesN(2)
		if r.err != nil {
			return netip.AddrPort{}
		}
		return netip.AddrPortFrom(netip.AddrFrom16(a), binary.BigEndian.Uint16(p))
	}
	r.fail()
	return netip.AddrPort{}
}

// Times inside a call are stored relative to its start; zero stays "did not happen".
func appendRelTime(b []byte, t, base int64) []byte {
	if t == 0 {
		return append(b, 0)
	}
	return appendUvarint(b, zigzag(t-base)+1)
}

func (r *reader) relTime(base int64) int64 {
	v := r.uvarint()
	if v == 0 {
		return 0
	}
	return base + unzigzag(v-1)
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

func appendParty(b []byte, p *analysis.PartyNumber) []byte {
	if p == nil {
		return append(b, 0)
	}
	b = append(b, 1, p.NAI, p.APRI)
	b = appendString(b, p.Digits)
	return appendString(b, p.E164)
}

func (r *reader) party() *analysis.PartyNumber {
	if r.byte1() == 0 {
		return nil
	}
	p := &analysis.PartyNumber{NAI: r.byte1(), APRI: r.byte1()}
	p.Digits = r.string()
	p.E164 = r.string()
	return p
}

func appendCall(b []byte, c *analysis.Call) []byte {
	b = appendString(b, c.ID)
	b = appendVarint(b, c.Start)
	b = appendRelTime(b, c.Alerting, c.Start)
	b = appendRelTime(b, c.Answer, c.Start)
	b = appendRelTime(b, c.Release, c.Start)
	b = appendRelTime(b, c.End, c.Start)
	b = append(b, byte(c.Outcome), c.Cause, byte(c.ReleasedBy), byte(c.Direction), c.Category, c.RedirCounter)
	if c.Redirected {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendString(b, c.Partner)
	b = appendString(b, c.Link)
	b = appendUvarint(b, uint64(c.OPC))
	b = appendUvarint(b, uint64(c.DPC))
	b = appendUvarint(b, uint64(c.CIC))
	b = appendUvarint(b, uint64(c.RC))
	b = appendParty(b, c.Calling)
	b = appendParty(b, c.Called)
	b = appendParty(b, c.Redirecting)
	b = appendParty(b, c.OriginalCalled)
	b = appendUvarint(b, uint64(len(c.Generic)))
	for i := range c.Generic {
		b = appendParty(b, &c.Generic[i])
	}
	b = appendUvarint(b, uint64(c.Messages))
	// Added after the first release, each optional: a record that ends
	// early is ISUP with no transit link or origin (decodeCall stops at the end).
	b = append(b, byte(c.Protocol))
	b = appendString(b, c.TransitOf)
	b = appendString(b, c.TransitTo)
	b = appendString(b, c.OriginCountry)
	return appendParty(b, c.HeaderCalling)
}

func decodeCall(b []byte) (*analysis.Call, error) {
	r := reader{b: b}
	c := &analysis.Call{ID: r.string(), Start: r.varint()}
	c.Alerting = r.relTime(c.Start)
	c.Answer = r.relTime(c.Start)
	c.Release = r.relTime(c.Start)
	c.End = r.relTime(c.Start)
	c.Outcome = analysis.Outcome(r.byte1())
	c.Cause = r.byte1()
	c.ReleasedBy = analysis.Side(r.byte1())
	c.Direction = analysis.Direction(r.byte1())
	c.Category = r.byte1()
	c.RedirCounter = r.byte1()
	c.Redirected = r.byte1() == 1
	c.Partner = r.string()
	c.Link = r.string()
	c.OPC = uint32(r.uvarint())
	c.DPC = uint32(r.uvarint())
	c.CIC = uint32(r.uvarint())
	c.RC = uint32(r.uvarint())
	c.Calling = r.party()
	c.Called = r.party()
	c.Redirecting = r.party()
	c.OriginalCalled = r.party()
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		return nil, errCorrupt
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		if p := r.party(); p != nil {
			c.Generic = append(c.Generic, *p)
		}
	}
	c.Messages = int(r.uvarint())
	if r.err == nil && len(r.b) > 0 {
		c.Protocol = decode.Protocol(r.byte1())
	}
	if r.err == nil && len(r.b) > 0 {
		c.TransitOf = r.string()
		c.TransitTo = r.string()
		c.OriginCountry = r.string()
	}
	if r.err == nil && len(r.b) > 0 {
		c.HeaderCalling = r.party()
	}
	if r.err != nil {
		return nil, r.err
	}
	return c, nil
}

func appendAlert(b []byte, a *analysis.Alert) []byte {
	b = appendVarint(b, a.TS)
	b = appendString(b, a.Rule)
	b = append(b, byte(a.Severity), byte(a.Direction), byte(a.Outcome))
	b = appendString(b, a.Partner)
	b = appendString(b, a.Calling)
	b = appendString(b, a.Called)
	b = appendString(b, a.Redirecting)
	b = appendUvarint(b, uint64(a.OPC))
	b = appendUvarint(b, uint64(a.DPC))
	b = appendUvarint(b, uint64(a.CIC))
	b = appendString(b, a.CallID)
	b = appendVarint(b, int64(a.Count))
	b = appendVarint(b, int64(a.WindowS))
	b = appendString(b, a.Detail)
	// Added after the first release (see appendCall).
	b = appendString(b, a.OriginCountry)
	return appendString(b, a.Link)
}

func decodeAlert(b []byte) (*analysis.Alert, error) {
	r := reader{b: b}
	a := &analysis.Alert{TS: r.varint(), Rule: r.string()}
	a.Severity = analysis.Severity(r.byte1())
	a.Direction = analysis.Direction(r.byte1())
	a.Outcome = analysis.Outcome(r.byte1())
	a.Partner = r.string()
	a.Calling = r.string()
	a.Called = r.string()
	a.Redirecting = r.string()
	a.OPC = uint32(r.uvarint())
	a.DPC = uint32(r.uvarint())
	a.CIC = uint32(r.uvarint())
	a.CallID = r.string()
	a.Count = int(r.varint())
	a.WindowS = int(r.varint())
	a.Detail = r.string()
	if r.err == nil && len(r.b) > 0 {
		a.OriginCountry = r.string()
		a.Link = r.string()
	}
	if r.err != nil {
		return nil, r.err
	}
	return a, nil
}
