package gen

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Mixes names the traffic mixes MixOptions knows, for benchmarks and
// `gatewarden gen --mix`. "default" is what Options gives unchanged; the
// others shift the mix the decoder sees:
//
//   - chunky: most ISUP packets also carry a HEARTBEAT and DATA chunks of
//     other payload protocols (Diameter, H.248) — a shared, busy association;
//     SACKs bundle as usual;
//   - m2pa: every partner on M2PA links (the default has one of three),
//     VLAN tags kept (802.1Q and QinQ);
//   - bursty: calls start in tight bursts (a burst every 2 s), so packets
//     bundle more messages;
//   - harsh: everything at once, with three times the fragments and
//     retransmissions;
//   - wide: a gateway's breadth — 16 partners on 64 associations (M3UA
//     and M2PA, tagged and untagged), so that no per-link or
//     per-association cache holds the working set by accident.
var Mixes = []string{"default", "chunky", "m2pa", "bursty", "harsh", "wide"}

// MixOptions returns the options of a named mix (see Mixes) with calls random
// calls from seed and point codes of pcBits (14 or 24).
func MixOptions(name string, seed int64, calls int, pcBits uint8) (Options, error) {
	opt := Options{Seed: seed, Calls: calls, PCBits: pcBits}
	partners := DefaultPartners(pcBits)
	switch name {
	case "default":
		return opt, nil
	case "chunky":
		opt.ExtraChunkPercent = 70
	case "m2pa":
		partners = M2PAPartners(pcBits)
	case "bursty":
		opt.Source = NewBurstSource(NewRandomSource(seed, calls, partners, DefaultStart.Add(time.Second)), 2*time.Second)
	case "wide":
		partners = WidePartners(pcBits, 16, 4)
	case "harsh":
		partners = M2PAPartners(pcBits)
		partners[0].Transport = TransportM3UA // keep one M3UA link among the M2PA ones
		opt.ExtraChunkPercent = 70
		opt.FragmentPercent, opt.RetransmitPercent = 12, 6
		opt.Source = NewBurstSource(NewRandomSource(seed, calls, partners, DefaultStart.Add(time.Second)), 2*time.Second)
	default:
		return Options{}, fmt.Errorf("gen: unknown mix %q (have %s)", name, strings.Join(Mixes, ", "))
	}
	opt.Partners = partners
	return opt, nil
}

// M2PAPartners is DefaultPartners with every link on M2PA (one SCTP
// association per signalling link, no M3UA routing context), VLAN tags kept.
func M2PAPartners(pcBits uint8) []Partner {
	ps := DefaultPartners(pcBits)
	for i := range ps {
		ps[i].Transport = TransportM2PA
	}
	return ps
}

// BurstSource moves the calls of another source into bursts: every call
// whose start falls in one period starts at the beginning of that period,
// 100 µs after the one before it. The calls keep their order and ladders.
type BurstSource struct {
	src    CallSource
	period time.Duration
	slot   time.Time // start of the current burst
	next   time.Time // start of the next call in it
}

// NewBurstSource gathers the calls of src into one burst per period.
func NewBurstSource(src CallSource, period time.Duration) *BurstSource {
	return &BurstSource{src: src, period: period}
}

// Next implements CallSource.
func (s *BurstSource) Next() (Call, bool) {
	c, ok := s.src.Next()
	if !ok {
		return c, false
	}
	if slot := c.Start.Truncate(s.period); !slot.Equal(s.slot) {
		s.slot = slot
		if s.next.Before(slot) {
			s.next = slot
		}
	}
	c.Start = s.next
	s.next = s.next.Add(100 * time.Microsecond)
	return c, true
}

// WidePartners returns n partners of links associations each, every partner
// with its own point code and addresses, alternately M3UA (with routing
// contexts) and M2PA, every third one behind a VLAN tag; kinds rotate.
func WidePartners(pcBits uint8, n, links int) []Partner {
	ps := make([]Partner, n)
	for i := range ps {
		p := &ps[i]
		p.Name = fmt.Sprintf("wide-%02d", i+1)
		p.Kind = Kind(i % 3)
		p.Transport = TransportM3UA
		if i%2 == 1 {
			p.Transport = TransportM2PA
		}
		if i%3 == 0 {
			p.VLANs = []uint16{uint16(300 + i)}
		}
		for j := 0; j < links; j++ {
			our, peer := ITUPC(5, uint32(i), uint32(j)), ITUPC(6, uint32(i), uint32(j))
			if pcBits == 24 {
				our, peer = ChinaPC(86, 100+uint32(j), 1), ChinaPC(87, uint32(i), uint32(j))
			}
			l := Link{
				OurIP:  netip.AddrFrom4([4]byte{10, 30, byte(j), 1}),
				PeerIP: netip.AddrFrom4([4]byte{198, 18, byte(i), byte(j + 1)}),
				OurPC:  our, PeerPC: peer, NI: 2, Circuits: 240,
			}
			if p.Transport == TransportM3UA {
				l.RC = uint32(1000 + i*10 + j)
			}
			p.Links = append(p.Links, l)
		}
	}
	return ps
}
