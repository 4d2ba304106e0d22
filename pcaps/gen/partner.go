package gen

import "net/netip"

// Kind is the commercial relation with a partner; it shapes the numbers the
// random call source uses.
type Kind uint8

const (
	KindInternational Kind = iota // foreign carrier at the international gateway
	KindInterconnect              // another domestic operator
	KindLeasedLine                // enterprise voice leased line (语音专线)
)

// Transport names as `gatewarden decode` prints them.
const (
	TransportM3UA = "m3ua"
	TransportM2PA = "m2pa"
)

// Link is one SCTP association to a partner and the signalling relation on it.
type Link struct {
	OurIP, PeerIP netip.Addr
	OurPC, PeerPC uint32
	NI            uint8
	RC            uint32 // M3UA routing context; 0 leaves the parameter out
	NA            uint32 // M3UA network appearance, when HasNA
	HasNA         bool
	Circuits      uint16 // CICs 1..Circuits on this relation (default 960)
	// BICC makes the relation BICC (Q.1902, SI 13) between softswitches:
	// each circuit n is the 32-bit call instance code CICBase+n.
	BICC    bool
	CICBase uint32
}

// Partner is a peer network with its links.
type Partner struct {
	Name      string
	Kind      Kind
	Transport string   // TransportM3UA or TransportM2PA
	VLANs     []uint16 // none, one (802.1Q) or two (802.1ad outer, 802.1Q inner)
	Links     []Link
}

// BICCPartners returns one softswitch partner, "ss-bicc", that speaks BICC
// over M3UA to the gateway's MSC server, with call instance codes above
// 16 bits (from 100 001), so the whole 32-bit field is exercised.
func BICCPartners(pcBits uint8) []Partner {
	a := netip.MustParseAddr
	pc := func(itu, cn uint32) uint32 {
		if pcBits == 24 {
			return cn
		}
		return itu
	}
	return []Partner{{
		Name: "ss-bicc", Kind: KindInterconnect, Transport: TransportM3UA,
		Links: []Link{{
			OurIP: a("10.20.0.5"), PeerIP: a("192.0.2.60"),
			OurPC: pc(ITUPC(4, 120, 5), ChinaPC(86, 10, 5)), PeerPC: pc(ITUPC(4, 60, 1), ChinaPC(86, 60, 1)),
			NI: 2, RC: 310, Circuits: 240, BICC: true, CICBase: 100000,
		}},
	}}
}

// ITUPC builds a 14-bit ITU point code from its 3-8-3 zone/area/signalling point parts.
func ITUPC(zone, area, sp uint32) uint32 { return zone&7<<11 | area&0xff<<3 | sp&7 }

// ChinaPC builds a 24-bit point code from its 8-8-8 network/cluster/member parts.
func ChinaPC(main, sub, sp uint32) uint32 { return main&0xff<<16 | sub&0xff<<8 | sp&0xff }

// DefaultPartners returns the gateway's partners with point codes of the given
// width: an international carrier on M3UA behind an 802.1Q tag, a domestic
// interconnect on two M3UA associations behind QinQ, and an enterprise leased
// line on M2PA, untagged.
func DefaultPartners(pcBits uint8) []Partner {
	a := netip.MustParseAddr
	our14, our24 := ITUPC(4, 120, 1), ChinaPC(86, 10, 1)
	pc := func(itu, cn uint32) uint32 {
		if pcBits == 24 {
			return cn
		}
		return itu
	}
	intlNI, natNI := uint8(0), uint8(2)
	if pcBits == 24 {
		// The 24-bit plan is China's national signalling network.
		intlNI = 2
	}
	return []Partner{
		{
			Name: "intl-pacific", Kind: KindInternational, Transport: TransportM3UA, VLANs: []uint16{110},
			Links: []Link{{
				OurIP: a("10.20.0.1"), PeerIP: a("203.0.113.10"),
				OurPC: pc(our14, our24), PeerPC: pc(ITUPC(3, 12, 5), ChinaPC(86, 200, 5)),
				NI: intlNI, RC: 101,
			}},
		},
		{
			Name: "ic-telecom", Kind: KindInterconnect, Transport: TransportM3UA, VLANs: []uint16{200, 31},
			Links: []Link{
				{
					OurIP: a("10.20.0.1"), PeerIP: a("192.0.2.21"),
					OurPC: pc(our14, our24), PeerPC: pc(ITUPC(4, 33, 2), ChinaPC(86, 21, 2)),
					NI: natNI, RC: 201, NA: 8, HasNA: true,
				},
				{
					OurIP: a("10.20.0.2"), PeerIP: a("192.0.2.22"),
					OurPC: pc(ITUPC(4, 120, 2), ChinaPC(86, 10, 2)), PeerPC: pc(ITUPC(4, 33, 3), ChinaPC(86, 21, 3)),
					NI: natNI, RC: 202, NA: 8, HasNA: true,
				},
			},
		},
		{
			Name: "ll-fintech", Kind: KindLeasedLine, Transport: TransportM2PA,
			Links: []Link{{
				OurIP: a("10.20.0.3"), PeerIP: a("198.51.100.50"),
				OurPC: pc(ITUPC(4, 120, 3), ChinaPC(86, 10, 3)), PeerPC: pc(ITUPC(4, 200, 7), ChinaPC(86, 77, 7)),
				NI: natNI,
			}},
		},
	}
}
