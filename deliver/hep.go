package deliver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/gatewarden/gatewarden/decode"
)

// HEPv3 chunk types (vendor 0, generic chunks of the HEP3 specification).
const (
	hepChunkIPFamily   = 0x0001
	hepChunkIPProto    = 0x0002
	hepChunkIPv4Src    = 0x0003
	hepChunkIPv4Dst    = 0x0004
	hepChunkIPv6Src    = 0x0005
	hepChunkIPv6Dst    = 0x0006
	hepChunkSrcPort    = 0x0007
	hepChunkDstPort    = 0x0008
	hepChunkTSSec      = 0x0009
	hepChunkTSUsec     = 0x000a
	hepChunkProtoType  = 0x000b
	hepChunkAgentID    = 0x000c
	hepChunkAuthKey    = 0x000e
	hepChunkPayload    = 0x000f
	hepFamilyIPv4      = 2
	hepFamilyIPv6      = 10
	hepIPProtoSCTP     = 132
	hepIPProtoTCP      = 6
	hepIPProtoUDP      = 17
	hepChunkHeaderSize = 6
)

// HEP protocol types: SIP (its own type, as Homer expects) and the SIGTRAN
// adaptation layers.
const (
	HEPProtoSIP  = 0x01
	HEPProtoM2UA = 0x08
	HEPProtoM3UA = 0x09
	HEPProtoM2PA = 0x0d
)

// HEPPacket is what one HEPv3 message carries.
type HEPPacket struct {
	Src, Dst  netip.AddrPort
	TS        int64 // Unix ns; sent as seconds and microseconds
	ProtoType uint8
	IPProto   uint8
	AgentID   uint32
	Password  string
	Payload   []byte
}

func appendChunk(b []byte, typ uint16, body []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(hepChunkHeaderSize+len(body)))
	return append(b, body...)
}

func appendChunk8(b []byte, typ uint16, v uint8) []byte {
	return appendChunk(b, typ, []byte{v})
}

func appendChunk16(b []byte, typ uint16, v uint16) []byte {
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, hepChunkHeaderSize+2)
	return binary.BigEndian.AppendUint16(b, v)
}

func appendChunk32(b []byte, typ uint16, v uint32) []byte {
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, hepChunkHeaderSize+4)
	return binary.BigEndian.AppendUint32(b, v)
}

// ErrHEPTooLarge is returned when a packet would not fit HEP's 16-bit length.
var ErrHEPTooLarge = errors.New("hep: packet longer than 65535 bytes")

// AppendHEP appends p as one HEPv3 message: "HEP3", total length, then the
// chunks. Both addresses must be of the same family.
func AppendHEP(b []byte, p *HEPPacket) ([]byte, error) {
	start := len(b)
	b = append(b, "HEP3\x00\x00"...)
	src, dst := p.Src.Addr().Unmap(), p.Dst.Addr().Unmap()
	if src.Is4() != dst.Is4() {
		return b[:start], fmt.Errorf("hep: mixed address families %s, %s", src, dst)
	}
	if src.Is4() {
		b = appendChunk8(b, hepChunkIPFamily, hepFamilyIPv4)
	} else {
		b = appendChunk8(b, hepChunkIPFamily, hepFamilyIPv6)
	}
	b = appendChunk8(b, hepChunkIPProto, p.IPProto)
	if src.Is4() {
		s4, d4 := src.As4(), dst.As4()
		b = appendChunk(b, hepChunkIPv4Src, s4[:])
		b = appendChunk(b, hepChunkIPv4Dst, d4[:])
	} else {
		s16, d16 := src.As16(), dst.As16()
		b = appendChunk(b, hepChunkIPv6Src, s16[:])
		b = appendChunk(b, hepChunkIPv6Dst, d16[:])
	}
	b = appendChunk16(b, hepChunkSrcPort, p.Src.Port())
	b = appendChunk16(b, hepChunkDstPort, p.Dst.Port())
	sec, nsec := p.TS/1e9, p.TS%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	b = appendChunk32(b, hepChunkTSSec, uint32(sec))
	b = appendChunk32(b, hepChunkTSUsec, uint32(nsec/1e3))
	b = appendChunk8(b, hepChunkProtoType, p.ProtoType)
	b = appendChunk32(b, hepChunkAgentID, p.AgentID)
	if p.Password != "" {
		b = binary.BigEndian.AppendUint16(b, 0)
		b = binary.BigEndian.AppendUint16(b, hepChunkAuthKey)
		b = binary.BigEndian.AppendUint16(b, uint16(hepChunkHeaderSize+len(p.Password)))
		b = append(b, p.Password...)
	}
	b = appendChunk(b, hepChunkPayload, p.Payload)
	n := len(b) - start
	if n > 0xFFFF {
		return b[:start], ErrHEPTooLarge
	}
	binary.BigEndian.PutUint16(b[start+4:], uint16(n))
	return b, nil
}

// hepChunkSizes are the fixed body sizes of the chunks ParseHEP checks.
var hepChunkSizes = map[uint16]int{hepChunkIPFamily: 1, hepChunkIPProto: 1, hepChunkProtoType: 1, hepChunkSrcPort: 2, hepChunkDstPort: 2,
	hepChunkIPv4Src: 4, hepChunkIPv4Dst: 4, hepChunkTSSec: 4, hepChunkTSUsec: 4, hepChunkAgentID: 4, hepChunkIPv6Src: 16, hepChunkIPv6Dst: 16}

// ParseHEP reads one HEPv3 message (the chunks AppendHEP writes; others are
// skipped). Payload aliases b.
func ParseHEP(b []byte) (HEPPacket, error) {
	var p HEPPacket
	if len(b) < 6 || string(b[:4]) != "HEP3" {
		return p, errors.New("hep: no HEP3 header")
	}
	total := int(binary.BigEndian.Uint16(b[4:6]))
	if total != len(b) {
		return p, fmt.Errorf("hep: length field %d, packet %d bytes", total, len(b))
	}
	var srcIP, dstIP netip.Addr
	var srcPort, dstPort uint16
	var usec uint32
	var sec uint32
	for off := 6; off < total; {
		if total-off < hepChunkHeaderSize {
			return p, errors.New("hep: truncated chunk header")
		}
		typ := binary.BigEndian.Uint16(b[off+2:])
		n := int(binary.BigEndian.Uint16(b[off+4:]))
		if n < hepChunkHeaderSize || off+n > total {
			return p, fmt.Errorf("hep: chunk %#x length %d", typ, n)
		}
		body := b[off+hepChunkHeaderSize : off+n]
		off += n
		if want, ok := hepChunkSizes[typ]; ok && len(body) != want {
			return p, fmt.Errorf("hep: chunk %#x has %d bytes, want %d", typ, len(body), want)
		}
		switch typ {
		case hepChunkIPProto:
			p.IPProto = body[0]
		case hepChunkIPv4Src, hepChunkIPv6Src:
			srcIP, _ = netip.AddrFromSlice(body)
		case hepChunkIPv4Dst, hepChunkIPv6Dst:
			dstIP, _ = netip.AddrFromSlice(body)
		case hepChunkSrcPort:
			srcPort = binary.BigEndian.Uint16(body)
		case hepChunkDstPort:
			dstPort = binary.BigEndian.Uint16(body)
		case hepChunkTSSec:
			sec = binary.BigEndian.Uint32(body)
		case hepChunkTSUsec:
			usec = binary.BigEndian.Uint32(body)
		case hepChunkProtoType:
			p.ProtoType = body[0]
		case hepChunkAgentID:
			p.AgentID = binary.BigEndian.Uint32(body)
		case hepChunkAuthKey:
			p.Password = string(body)
		case hepChunkPayload:
			p.Payload = body
		}
	}
	p.Src = netip.AddrPortFrom(srcIP, srcPort)
	p.Dst = netip.AddrPortFrom(dstIP, dstPort)
	p.TS = int64(sec)*1e9 + int64(usec)*1e3
	return p, nil
}

// routingLabelLen is the MTP3 routing label's length for a point-code width.
func routingLabelLen(bits uint8) int {
	switch bits {
	case 24:
		return 7 // DPC 3, OPC 3, SLS 1 (ANSI, China)
	case 16:
		return 5 // Japan: DPC 2, OPC 2, SLS 1
	}
	return 4 // ITU: 14+14+4 bits
}

// AppendSIGTRAN rebuilds the adaptation-layer message that carried m, for
// HEP's payload: an M3UA DATA with Protocol Data (and the routing context
// and network appearance when present), an M2PA User Data, or an M2UA DATA.
// Fields the decoder does not keep (M2PA sequence numbers, M3UA correlation
// id) are zero. It returns the HEP protocol type, or ok false for messages
// captured on SS7 links (no IP transport to mirror).
func AppendSIGTRAN(b []byte, m *decode.Message) (out []byte, protoType uint8, ok bool) {
	hdr := 1 + routingLabelLen(m.Label.PCBits)
	switch m.Transport {
	case decode.TransportM3UA:
		if len(m.MTP3) < hdr {
			return b, 0, false
		}
		user := m.MTP3[hdr:]
		start := len(b)
		b = append(b, 1, 0, 1, 1, 0, 0, 0, 0) // version 1, class transfer, type DATA, length later
		if m.HasNA {
			b = binary.BigEndian.AppendUint16(b, 0x0200)
			b = binary.BigEndian.AppendUint16(b, 8)
			b = binary.BigEndian.AppendUint32(b, m.NetworkAppearance)
		}
		if m.HasRC {
			b = binary.BigEndian.AppendUint16(b, 0x0006)
			b = binary.BigEndian.AppendUint16(b, 8)
			b = binary.BigEndian.AppendUint32(b, m.RoutingContext)
		}
		b = binary.BigEndian.AppendUint16(b, 0x0210)
		b = binary.BigEndian.AppendUint16(b, uint16(4+12+len(user)))
		b = binary.BigEndian.AppendUint32(b, m.Label.OPC)
		b = binary.BigEndian.AppendUint32(b, m.Label.DPC)
		b = append(b, m.Label.SI, m.Label.NI, m.Label.MP, m.Label.SLS)
		b = append(b, user...)
		b = pad4(b, start)
		binary.BigEndian.PutUint32(b[start+4:], uint32(len(b)-start))
		return b, HEPProtoM3UA, true
	case decode.TransportM2PA:
		start := len(b)
		b = append(b, 1, 0, 11, 1, 0, 0, 0, 0) // version 1, class M2PA, type User Data
		b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)  // BSN, FSN: not kept by the decoder
		b = append(b, m.Label.MP<<6)           // priority
		b = append(b, m.MTP3...)
		binary.BigEndian.PutUint32(b[start+4:], uint32(len(b)-start))
		return b, HEPProtoM2PA, true
	case decode.TransportM2UA:
		start := len(b)
		b = append(b, 1, 0, 6, 1, 0, 0, 0, 0) // version 1, class MAUP, type DATA
		b = binary.BigEndian.AppendUint16(b, 0x0001)
		b = binary.BigEndian.AppendUint16(b, 8)
		b = binary.BigEndian.AppendUint32(b, uint32(m.Link))
		b = binary.BigEndian.AppendUint16(b, 0x0300)
		b = binary.BigEndian.AppendUint16(b, uint16(4+len(m.MTP3)))
		b = append(b, m.MTP3...)
		b = pad4(b, start)
		binary.BigEndian.PutUint32(b[start+4:], uint32(len(b)-start))
		return b, HEPProtoM2UA, true
	}
	return b, 0, false
}

func pad4(b []byte, start int) []byte {
	for (len(b)-start)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// HEPStats are the mirror's counters.
type HEPStats struct {
	Sent, SendErrors uint64
	Dropped          uint64 // queue full
	NotIP            uint64 // SS7-link messages, which HEP cannot carry
	Queued, Capacity int
}

// HEPMirror sends decoded messages to a collector over UDP. Mirror is called
// by the pipeline goroutine: it encodes into a reused buffer from a fixed
// pool and hands it to the sender goroutine, or drops and counts the message
// when the pool is empty. Nothing is allocated per message in steady state.
type HEPMirror struct {
	conn     net.Conn
	agentID  uint32
	password string
	free     chan *[]byte
	queue    chan *[]byte
	wg       sync.WaitGroup
	once     sync.Once

	sent, sendErrors, dropped, notIP atomic.Uint64
	scratch                          []byte
}

// NewHEPMirror dials the collector (UDP: no packet is sent yet) and starts
// the sender with a queue of queueLen messages.
func NewHEPMirror(addr string, agentID uint32, password string, queueLen int) (*HEPMirror, error) {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return nil, err
	}
	if queueLen <= 0 {
		queueLen = 8192
	}
	h := &HEPMirror{conn: conn, agentID: agentID, password: password,
		free: make(chan *[]byte, queueLen), queue: make(chan *[]byte, queueLen)}
	for i := 0; i < queueLen; i++ {
		buf := make([]byte, 0, 512)
		h.free <- &buf
	}
	h.wg.Add(1)
	go h.send()
	return h, nil
}

// Mirror queues m for the collector. m is only read during the call.
func (h *HEPMirror) Mirror(m *decode.Message) {
	var buf *[]byte
	select {
	case buf = <-h.free:
	default:
		h.dropped.Add(1)
		return
	}
	var p HEPPacket
	if m.Transport.IsSIP() {
		// SIP goes as itself, HEP type 1, with the transport that carried it.
		ipProto := uint8(hepIPProtoUDP)
		switch m.Transport {
		case decode.TransportTCP:
			ipProto = hepIPProtoTCP
		case decode.TransportSCTP:
			ipProto = hepIPProtoSCTP
		}
		p = HEPPacket{Src: m.Src, Dst: m.Dst, TS: m.TS, ProtoType: HEPProtoSIP, IPProto: ipProto,
			AgentID: h.agentID, Password: h.password, Payload: m.SIP.Raw}
	} else {
		payload, proto, ok := AppendSIGTRAN(h.scratch[:0], m)
		h.scratch = payload
		if !ok {
			h.notIP.Add(1)
			h.free <- buf
			return
		}
		p = HEPPacket{Src: m.Src, Dst: m.Dst, TS: m.TS, ProtoType: proto, IPProto: hepIPProtoSCTP,
			AgentID: h.agentID, Password: h.password, Payload: payload}
	}
	out, err := AppendHEP((*buf)[:0], &p)
	if err != nil {
		h.sendErrors.Add(1)
		h.free <- buf
		return
	}
	*buf = out
	h.queue <- buf // cannot block: queue and pool have the same capacity
}

func (h *HEPMirror) send() {
	defer h.wg.Done()
	for buf := range h.queue {
		if _, err := h.conn.Write(*buf); err != nil {
			h.sendErrors.Add(1)
		} else {
			h.sent.Add(1)
		}
		h.free <- buf
	}
}

// Stats returns the counters.
func (h *HEPMirror) Stats() HEPStats {
	return HEPStats{Sent: h.sent.Load(), SendErrors: h.sendErrors.Load(), Dropped: h.dropped.Load(),
		NotIP: h.notIP.Load(), Queued: len(h.queue), Capacity: cap(h.queue)}
}

// Close sends what is queued and closes the socket. Call it after the last Mirror.
func (h *HEPMirror) Close() error {
	var err error
	h.once.Do(func() {
		close(h.queue)
		h.wg.Wait()
		err = h.conn.Close()
	})
	return err
}
