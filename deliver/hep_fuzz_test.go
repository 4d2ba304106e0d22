package deliver

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
)

// FuzzParseHEP: any input is rejected or parsed without panicking, and what
// parses encodes back to a packet that parses the same.
func FuzzParseHEP(f *testing.F) {
	// Seeds: HEP packets of the first real messages of a committed capture.
	if r, err := capture.OpenFiles([]string{"../pcaps/interconnect.pcap"}); err == nil {
		n := 0
		dec := decode.New(decode.Config{}, func(m *decode.Message) {
			if n >= 8 {
				return
			}
			payload, proto, ok := AppendSIGTRAN(nil, m)
			if !ok {
				return
			}
			pkt, err := AppendHEP(nil, &HEPPacket{Src: m.Src, Dst: m.Dst, TS: m.TS, ProtoType: proto, IPProto: 132, AgentID: 2001, Password: "pw", Payload: payload})
			if err == nil {
				f.Add(pkt)
				n++
			}
		})
		var fr decode.Frame
		for n < 8 && r.Next(&fr) == nil {
			dec.Decode(&fr)
		}
		r.Close()
	}
	f.Add([]byte("HEP3\x00\x06"))
	// IPv4-mapped IPv6 addresses.
	mapped, _ := AppendHEP(nil, &HEPPacket{Src: netip.MustParseAddrPort("[2001:db8::1]:1"), Dst: netip.MustParseAddrPort("[2001:db8::2]:2")})
	copy(mapped[bytes.Index(mapped, []byte{0x20, 0x01, 0x0d, 0xb8}):], []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1})
	f.Add(mapped)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseHEP(b)
		if err != nil {
			return
		}
		if !p.Src.Addr().IsValid() || !p.Dst.Addr().IsValid() || p.Src.Addr().Unmap().Is4() != p.Dst.Addr().Unmap().Is4() {
			return // AppendHEP needs both addresses of one family
		}
		again, err := AppendHEP(nil, &p)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", p, err)
		}
		q, err := ParseHEP(again)
		if err != nil {
			t.Fatalf("re-encoded packet does not parse: %v", err)
		}
		// Addresses go out unmapped (an IPv4-mapped IPv6 address as IPv4).
		unmap := func(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()) }
		if q.Src != unmap(p.Src) || q.Dst != unmap(p.Dst) || q.TS != p.TS || q.ProtoType != p.ProtoType || q.AgentID != p.AgentID ||
			q.Password != p.Password || !bytes.Equal(q.Payload, p.Payload) {
			t.Fatalf("round trip changed the packet:\n%+v\n%+v", p, q)
		}
	})
}
