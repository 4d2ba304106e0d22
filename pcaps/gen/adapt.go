package gen

import (
	"encoding/binary"

	"github.com/wmnsk/go-m3ua/messages"
	"github.com/wmnsk/go-m3ua/messages/params"
)

// Label is an MTP3 routing label with the service information octet fields.
type Label struct {
	OPC, DPC uint32
	NI       uint8
	SLS      uint8
	PCBits   uint8 // 14 (ITU) or 24 (China)
	BICC     bool  // service indicator BICC (13) instead of ISUP (5)
}

// Service indicators (Q.704 14.2.1).
const (
	siISUP = 5
	siBICC = 13
)

func (l Label) si() uint8 {
	if l.BICC {
		return siBICC
	}
	return siISUP
}

// AppendMTP3 writes SIO + routing label + payload as on an MTP2 link
// (Q.704 2.2 for 14-bit; China GF 001-9001 24-bit label: DPC, OPC, SLS octet).
func AppendMTP3(b []byte, l Label, payload []byte) []byte {
	b = append(b, l.NI<<6|l.si())
	if l.PCBits == 24 {
		b = append(b, byte(l.DPC), byte(l.DPC>>8), byte(l.DPC>>16),
			byte(l.OPC), byte(l.OPC>>8), byte(l.OPC>>16), l.SLS&0x0f)
	} else {
		v := l.DPC&0x3fff | (l.OPC&0x3fff)<<14 | uint32(l.SLS&0x0f)<<28
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return append(b, payload...)
}

// M2PA (RFC 4165) message classes and types.
const (
	m2paClass          = 11
	m2paTypeUserData   = 1
	m2paTypeLinkStatus = 2

	M2PAStateAlignment     = 1
	M2PAStateProvingNormal = 2
	M2PAStateReady         = 4
)

func appendM2PAHeader(b []byte, typ uint8, bsn, fsn uint32) []byte {
	b = append(b, 1, 0, m2paClass, typ, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, bsn&0xffffff)
	return binary.BigEndian.AppendUint32(b, fsn&0xffffff)
}

// AppendM2PAUserData writes an RFC 4165 User Data message: header, BSN, FSN,
// a priority octet, then the MTP3 message.
func AppendM2PAUserData(b []byte, bsn, fsn uint32, l Label, isup []byte) []byte {
	start := len(b)
	b = appendM2PAHeader(b, m2paTypeUserData, bsn, fsn)
	b = append(b, 0) // priority 0, spare
	b = AppendMTP3(b, l, isup)
	binary.BigEndian.PutUint32(b[start+4:], uint32(len(b)-start))
	return b
}

// AppendM2PALinkStatus writes an RFC 4165 Link Status message.
func AppendM2PALinkStatus(b []byte, bsn, fsn uint32, state uint32) []byte {
	start := len(b)
	b = appendM2PAHeader(b, m2paTypeLinkStatus, bsn, fsn)
	b = binary.BigEndian.AppendUint32(b, state)
	binary.BigEndian.PutUint32(b[start+4:], uint32(len(b)-start))
	return b
}

// M3UAData builds an M3UA DATA message (RFC 4666 3.3.1) with go-m3ua: network
// appearance (when hasNA), routing context (when rc != 0) and protocol data.
func M3UAData(rc uint32, na uint32, hasNA bool, l Label, isup []byte) ([]byte, error) {
	var naParam, rcParam *params.Param
	if hasNA {
		naParam = params.NewNetworkAppearance(na)
	}
	if rc != 0 {
		rcParam = params.NewRoutingContext(rc)
	}
	pd := params.NewProtocolData(l.OPC, l.DPC, l.si(), l.NI, 0, l.SLS, isup)
	return messages.NewData(naParam, rcParam, pd, nil).MarshalBinary()
}

// m3uaStartup returns the ASP life cycle an association runs before traffic:
// ASPUP, ASPUP ACK, ASPAC, ASPAC ACK, NTFY(AS-ACTIVE). sentByASP says which
// side sends each.
func m3uaStartup(rc uint32, aspID uint32) (msgs [][]byte, sentByASP []bool, err error) {
	var rcParam *params.Param
	if rc != 0 {
		rcParam = params.NewRoutingContext(rc)
	}
	type marshaler interface{ MarshalBinary() ([]byte, error) }
	seq := []struct {
		m   marshaler
		asp bool
	}{
		{messages.NewAspUp(params.NewAspIdentifier(aspID), nil), true},
		{messages.NewAspUpAck(params.NewAspIdentifier(aspID), nil), false},
		{messages.NewAspActive(params.NewTrafficModeType(params.TrafficModeLoadshare), rcParam, nil), true},
		{messages.NewAspActiveAck(params.NewTrafficModeType(params.TrafficModeLoadshare), rcParam, nil), false},
		{messages.NewNotify(params.NewStatus(uint32(params.AsStateChange)<<16|3), nil, rcParam, nil), false},
	}
	for _, s := range seq {
		b, err := s.m.MarshalBinary()
		if err != nil {
			return nil, nil, err
		}
		msgs = append(msgs, b)
		sentByASP = append(sentByASP, s.asp)
	}
	return msgs, sentByASP, nil
}
