package retention

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"sort"

	"github.com/gatewarden/gatewarden/decode"
)

// LinkTypeMTP3 is the pcap link type of raw MTP3 (SIO, routing label, user part).
const LinkTypeMTP3 = 141

// Link types and protocol numbers of the rebuilt frames.
const (
	linkTypeEthernet = 1
	linkTypeMTP2     = 140
	etherTypeIPv4    = 0x0800
	etherTypeIPv6    = 0x86dd
	ipProtoSCTP      = 132
	ipTTL            = 64

	// SCTP payload protocol identifiers (IANA), one per SIGTRAN layer.
	ppidM2UA = 2
	ppidM3UA = 3
	ppidM2PA = 5

	sctpChunkData  = 0
	sctpDataBE     = 0x03 // beginning and end: one unfragmented message
	sctpCommonLen  = 12
	sctpDataHdrLen = 16

	// M3UA (RFC 4666) DATA and its parameters.
	m3uaClassTransfer  = 1
	m3uaTypeData       = 1
	m3uaTagNA          = 0x0200
	m3uaTagRC          = 0x0006
	m3uaTagProtoData   = 0x0210
	sigtranVersion     = 1
	sigtranCommonLen   = 8
	m2paClassMAUP      = 11
	m2paTypeUserData   = 1
	m2uaClassMAUP      = 6
	m2uaTypeData       = 1
	m2uaTagIfaceID     = 0x0001
	m2uaTagProtoData1  = 0x0300
	mtp2MaxLI          = 63
	pcapngSHB          = 0x0a0d0d0a
	pcapngIDB          = 1
	pcapngEPB          = 6
	pcapngBOM          = 0x1a2b3c4d
	pcapngOptEnd       = 0
	pcapngOptComment   = 1
	pcapngOptTSResol   = 9
	pcapngOptFCSLen    = 13
	pcapngTSResolNanos = 9
	pcapngSnapLen      = 65535
)

// ExportPcap writes the messages of the calls matching q to w as pcapng, in
// capture-time order, each with its link framing as captured (see WritePcap).
func (s *Store) ExportPcap(w io.Writer, q Query) (int, error) {
	calls, err := s.QueryCalls(q)
	if err != nil {
		return 0, err
	}
	return WritePcap(w, calls)
}

// WritePcap writes the ladders of calls as pcapng, each message once, and
// returns how many packets it wrote.
//
// Each message is framed as it was captured, rebuilt from what the store
// keeps: SIGTRAN messages as Ethernet/IPv4 or IPv6/SCTP (ports, verification
// tag, TSN, stream, stream sequence number, PPID as sent) carrying M3UA DATA
// (network appearance, routing context, protocol data), M2PA user data or
// M2UA DATA (interface identifier); E1 messages as MTP2 signal units; raw
// MTP3 as MTP3; SIP messages as Wireshark exported PDUs (link type 252) for
// the sip dissector, with the addresses, transport and ports they were
// captured with as tags (no TCP sequence numbers to invent). Wireshark dissects the ISUP exactly as in the original. What
// the store does not keep is filled with neutral values and every packet's
// comment says so, beside the source file and frame it came from: Ethernet
// addresses (zero), IP TTL and identification, M2PA and MTP2 sequence
// numbers (zero), and the SCTP checksum (computed). Messages stored before
// the SSN and PPID were kept get SSN 0 and the transport's standard PPID.
//
// For 24-bit (China/ANSI) point codes set Wireshark's MTP3 standard to match
// (tshark -o mtp3.standard:"Chinese ITU").
func WritePcap(w io.Writer, calls []CallResult) (int, error) {
	seen := map[Ref]bool{}
	var msgs []*Message
	for i := range calls {
		for j := range calls[i].Ladder {
			m := &calls[i].Ladder[j]
			if !seen[m.Ref] {
				seen[m.Ref] = true
				msgs = append(msgs, m)
			}
		}
	}
	sort.SliceStable(msgs, func(a, b int) bool {
		if msgs[a].TS != msgs[b].TS {
			return msgs[a].TS < msgs[b].TS
		}
		return msgs[a].Ref < msgs[b].Ref
	})
	pw := pcapngWriter{w: bufio.NewWriter(w), ifaces: map[uint16]uint32{}}
	pw.header()
	var frame []byte
	for _, m := range msgs {
		var linkType uint16
		var note string
		frame, linkType, note = appendFrame(frame[:0], m)
		comment := fmt.Sprintf("gatewarden export: %s frame %d (%s); %s", m.Source, m.Frame, m.Transport, note)
		pw.packet(linkType, m.TS, frame, comment)
	}
	if pw.err == nil {
		pw.err = pw.w.Flush()
	}
	if pw.err != nil {
		return 0, pw.err
	}
	return len(msgs), nil
}

// appendFrame rebuilds m's frame; note says what was not from the capture.
func appendFrame(b []byte, m *Message) ([]byte, uint16, string) {
	if m.IsSIP() {
		return appendUpperPDU(b, m), LinkTypeUpperPDU, "SIP message as stored, as an exported PDU with its captured addresses, transport and ports"
	}
	switch m.Transport {
	case decode.TransportM3UA, decode.TransportM2PA, decode.TransportM2UA:
		if m.Src.IsValid() && m.Dst.IsValid() && m.Src.Addr().Is4() == m.Dst.Addr().Is4() {
			note := "rebuilt: Ethernet addresses, IP TTL/identification" + seqNote(m) + " not kept; SCTP checksum computed"
			if m.PPID == 0 && m.SSN == 0 {
				note += "; SCTP SSN and PPID not kept by this store version (PPID: the transport's standard one)"
			}
			return appendSCTPFrame(b, m), linkTypeEthernet, note
		}
	case decode.TransportMTP2:
		// Sequence numbers are not kept; LI is what MTP2 would say.
		li := len(m.MTP3)
		if li > mtp2MaxLI {
			li = mtp2MaxLI
		}
		b = append(b, 0x80, 0x80, byte(li))
		return append(b, m.MTP3...), linkTypeMTP2, fmt.Sprintf("rebuilt: MTP2 BSN/FSN not kept (link %d)", m.Link)
	}
	return append(b, m.MTP3...), LinkTypeMTP3, "MTP3 as stored"
}

func seqNote(m *Message) string {
	if m.Transport == decode.TransportM2PA {
		return ", M2PA BSN/FSN"
	}
	return ""
}

// labelLen is the routing label's length for the point-code width.
func labelLen(pcBits uint8) int {
	if pcBits == 24 {
		return 7
	}
	return 4
}

// appendSCTPFrame builds Ethernet, IP, SCTP and the SIGTRAN message.
func appendSCTPFrame(b []byte, m *Message) []byte {
	var user []byte // the SIGTRAN message
	var ppid uint32 // the standard one, unless the store kept what was sent
	switch m.Transport {
	case decode.TransportM3UA:
		ppid = ppidM3UA
		user = appendM3UA(nil, m)
	case decode.TransportM2PA:
		ppid = ppidM2PA
		user = appendSigtranHeader(nil, m2paClassMAUP, m2paTypeUserData, 8+4+4+1+len(m.MTP3))
		user = binary.BigEndian.AppendUint32(user, 0) // BSN
		user = binary.BigEndian.AppendUint32(user, 0) // FSN
		user = append(user, 0)                        // priority: not kept
		user = append(user, m.MTP3...)
	case decode.TransportM2UA:
		ppid = ppidM2UA
		user = appendSigtranHeader(nil, m2uaClassMAUP, m2uaTypeData, 0)
		user = appendParam(user, m2uaTagIfaceID, binary.BigEndian.AppendUint32(nil, uint32(m.Link)))
		user = appendParam(user, m2uaTagProtoData1, m.MTP3)
		binary.BigEndian.PutUint32(user[4:], uint32(len(user)))
	}
	if m.PPID != 0 {
		ppid = m.PPID
	}
	pad := (4 - len(user)%4) % 4
	sctpLen := sctpCommonLen + sctpDataHdrLen + len(user) + pad
	src, dst := m.Src.Addr(), m.Dst.Addr()
	b = append(b, make([]byte, 12)...) // Ethernet addresses are not kept
	if src.Is4() {
		b = binary.BigEndian.AppendUint16(b, etherTypeIPv4)
		ip := len(b)
		b = append(b, 0x45, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(20+sctpLen))
		b = append(b, 0, 0, 0x40, 0, ipTTL, ipProtoSCTP, 0, 0) // ID 0, DF
		s4, d4 := src.As4(), dst.As4()
		b = append(b, s4[:]...)
		b = append(b, d4[:]...)
		binary.BigEndian.PutUint16(b[ip+10:], ipChecksum(b[ip:ip+20]))
	} else {
		b = binary.BigEndian.AppendUint16(b, etherTypeIPv6)
		b = append(b, 0x60, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(sctpLen))
		b = append(b, ipProtoSCTP, ipTTL)
		s16, d16 := src.As16(), dst.As16()
		b = append(b, s16[:]...)
		b = append(b, d16[:]...)
	}
	sctp := len(b)
	b = binary.BigEndian.AppendUint16(b, m.Src.Port())
	b = binary.BigEndian.AppendUint16(b, m.Dst.Port())
	b = binary.BigEndian.AppendUint32(b, m.VTag)
	b = append(b, 0, 0, 0, 0) // checksum, below
	b = append(b, sctpChunkData, sctpDataBE)
	b = binary.BigEndian.AppendUint16(b, uint16(sctpDataHdrLen+len(user)))
	b = binary.BigEndian.AppendUint32(b, m.TSN)
	b = binary.BigEndian.AppendUint16(b, m.Stream)
	b = binary.BigEndian.AppendUint16(b, m.SSN)
	b = binary.BigEndian.AppendUint32(b, ppid)
	b = append(b, user...)
	b = append(b, make([]byte, pad)...)
	// RFC 9260 appendix A: CRC32c over the packet, stored little-endian.
	binary.LittleEndian.PutUint32(b[sctp+8:], crc32.Checksum(b[sctp:], castagnoli))
	return b
}

// appendM3UA builds M3UA DATA: network appearance and routing context when
// they were signalled, then protocol data rebuilt from the label.
func appendM3UA(b []byte, m *Message) []byte {
	b = appendSigtranHeader(b, m3uaClassTransfer, m3uaTypeData, 0)
	if m.HasNA {
		b = appendParam(b, m3uaTagNA, binary.BigEndian.AppendUint32(nil, m.NetworkAppearance))
	}
	if m.HasRC {
		b = appendParam(b, m3uaTagRC, binary.BigEndian.AppendUint32(nil, m.RoutingContext))
	}
	var pd []byte
	pd = binary.BigEndian.AppendUint32(pd, m.Label.OPC)
	pd = binary.BigEndian.AppendUint32(pd, m.Label.DPC)
	pd = append(pd, m.Label.SI, m.Label.NI, m.Label.MP, m.Label.SLS)
	if hdr := 1 + labelLen(m.Label.PCBits); len(m.MTP3) >= hdr {
		pd = append(pd, m.MTP3[hdr:]...)
	}
	b = appendParam(b, m3uaTagProtoData, pd)
	binary.BigEndian.PutUint32(b[4:], uint32(len(b)))
	return b
}

// appendSigtranHeader is the common header of M3UA, M2PA and M2UA (RFC 4666
// 3.1); length 0 is filled in by the caller.
func appendSigtranHeader(b []byte, class, typ uint8, length int) []byte {
	b = append(b, sigtranVersion, 0, class, typ)
	return binary.BigEndian.AppendUint32(b, uint32(length))
}

// appendParam appends a tag-length-value parameter padded to 4 bytes.
func appendParam(b []byte, tag uint16, val []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, tag)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(val)))
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// pcapngWriter writes a section with one interface per link type.
type pcapngWriter struct {
	w      *bufio.Writer
	ifaces map[uint16]uint32 // link type -> interface ID
	buf    []byte
	err    error
}

func (p *pcapngWriter) block(typ uint32, body []byte) {
	if p.err != nil {
		return
	}
	n := uint32(12 + len(body))
	b := binary.LittleEndian.AppendUint32(p.buf[:0], typ)
	b = binary.LittleEndian.AppendUint32(b, n)
	b = append(b, body...)
	b = binary.LittleEndian.AppendUint32(b, n)
	p.buf = b
	_, p.err = p.w.Write(b)
}

func appendOption(b []byte, code uint16, val []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, code)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(val)))
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (p *pcapngWriter) header() {
	var body []byte
	body = binary.LittleEndian.AppendUint32(body, pcapngBOM)
	body = binary.LittleEndian.AppendUint16(body, 1) // version 1.0
	body = binary.LittleEndian.AppendUint16(body, 0)
	body = binary.LittleEndian.AppendUint64(body, ^uint64(0)) // section length unknown
	p.block(pcapngSHB, body)
}

func (p *pcapngWriter) iface(linkType uint16) uint32 {
	if id, ok := p.ifaces[linkType]; ok {
		return id
	}
	id := uint32(len(p.ifaces))
	p.ifaces[linkType] = id
	var body []byte
	body = binary.LittleEndian.AppendUint16(body, linkType)
	body = binary.LittleEndian.AppendUint16(body, 0)
	body = binary.LittleEndian.AppendUint32(body, pcapngSnapLen)
	body = appendOption(body, pcapngOptTSResol, []byte{pcapngTSResolNanos})
	body = appendOption(body, pcapngOptFCSLen, []byte{0})
	body = appendOption(body, pcapngOptEnd, nil)
	p.block(pcapngIDB, body)
	return id
}

func (p *pcapngWriter) packet(linkType uint16, ts int64, data []byte, comment string) {
	id := p.iface(linkType)
	var body []byte
	body = binary.LittleEndian.AppendUint32(body, id)
	body = binary.LittleEndian.AppendUint32(body, uint32(uint64(ts)>>32))
	body = binary.LittleEndian.AppendUint32(body, uint32(ts))
	body = binary.LittleEndian.AppendUint32(body, uint32(len(data)))
	body = binary.LittleEndian.AppendUint32(body, uint32(len(data)))
	body = append(body, data...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	body = appendOption(body, pcapngOptComment, []byte(comment))
	body = appendOption(body, pcapngOptEnd, nil)
	p.block(pcapngEPB, body)
}
