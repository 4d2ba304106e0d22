package gen

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// Truth is one line of a truth file: what `gatewarden decode` must print for
// one ISUP message, with the same field names.
type Truth struct {
	TS                time.Time     `json:"ts"`
	Frame             uint64        `json:"frame"`
	File              string        `json:"file"`
	Transport         string        `json:"transport"`
	Protocol          string        `json:"protocol"`
	Src               string        `json:"src"`
	Dst               string        `json:"dst"`
	OPC               uint32        `json:"opc"`
	DPC               uint32        `json:"dpc"`
	NI                uint8         `json:"ni"`
	SLS               uint8         `json:"sls"`
	CIC               uint32        `json:"cic"`
	Type              string        `json:"type"`
	RC                *uint32       `json:"rc,omitempty"`
	Called            *TruthNumber  `json:"called,omitempty"`
	Calling           *TruthNumber  `json:"calling,omitempty"`
	Redirecting       *TruthNumber  `json:"redirecting,omitempty"`
	OriginalCalled    *TruthNumber  `json:"original_called,omitempty"`
	RedirectionNumber *TruthNumber  `json:"redirection_number,omitempty"`
	Location          *TruthNumber  `json:"location,omitempty"`
	Subsequent        *TruthNumber  `json:"subsequent,omitempty"`
	Generic           []TruthNumber `json:"generic,omitempty"`
	Redirection       *Redirection  `json:"redirection,omitempty"`
	Category          *uint8        `json:"category,omitempty"`
	Cause             *Cause        `json:"cause,omitempty"`
	HopCounter        *uint8        `json:"hop_counter,omitempty"`
	Event             *uint8        `json:"event,omitempty"`
}

// TruthNumber is an address parameter; the optional fields are present only
// where the parameter has them.
type TruthNumber struct {
	Digits    string `json:"digits"`
	Qualifier *uint8 `json:"qualifier,omitempty"`
	NAI       *uint8 `json:"nai,omitempty"`
	NPI       *uint8 `json:"npi,omitempty"`
	INN       *uint8 `json:"inn,omitempty"`
	NI        *uint8 `json:"ni,omitempty"`
	APRI      *uint8 `json:"apri,omitempty"`
	SI        *uint8 `json:"si,omitempty"`
}

// ReadTruth parses a truth file.
func ReadTruth(r io.Reader) ([]Truth, error) {
	var out []Truth
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var t Truth
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, sc.Err()
}

// TSLayout is the timestamp format of truth lines: RFC 3339, always 9 fraction digits.
const TSLayout = "2006-01-02T15:04:05.000000000Z07:00"

// The JSON below is written by hand: it is on the path of million-message
// benchmark captures, and encoding/json would dominate the generator's cost.

func appendKeyUint(b []byte, key string, v uint64) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendUint(b, v, 10)
}

func appendKeyString(b []byte, key, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':', '"')
	b = append(b, v...) // digits, names and addresses: nothing to escape
	return append(b, '"')
}

func appendTruthNumber(b []byte, key string, n *Number, kind numberKind) []byte {
	if key != "" {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':')
	}
	b = append(b, `{"digits":"`...)
	b = append(b, n.Digits...)
	b = append(b, '"')
	if kind == kindSubsequent {
		return append(b, '}')
	}
	if kind == kindGeneric {
		b = appendKeyUint(b, "qualifier", uint64(n.Qualifier))
	}
	b = appendKeyUint(b, "nai", uint64(n.NAI))
	b = appendKeyUint(b, "npi", uint64(n.NPI))
	switch kind {
	case kindCalled, kindLocation:
		b = appendKeyUint(b, "inn", uint64(n.INN))
	case kindCalling, kindGeneric:
		b = appendKeyUint(b, "ni", uint64(n.NI))
	}
	if kind != kindCalled {
		b = appendKeyUint(b, "apri", uint64(n.APRI))
	}
	if kind == kindCalling || kind == kindGeneric || kind == kindLocation {
		b = appendKeyUint(b, "si", uint64(n.SI))
	}
	return append(b, '}')
}

// appendPCText writes a point code as 3-8-3 (14-bit) or 8-8-8 (24-bit) dotted text.
func appendPCText(b []byte, pc uint32, bits uint8) []byte {
	parts := [3]uint32{pc >> 11 & 7, pc >> 3 & 0xff, pc & 7}
	if bits == 24 {
		parts = [3]uint32{pc >> 16 & 0xff, pc >> 8 & 0xff, pc & 0xff}
	}
	for i, p := range parts {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(p), 10)
	}
	return b
}

func appendTruthRedirection(b []byte, r *Redirection) []byte {
	b = append(b, `,"redirection":{"indicator":`...)
	b = strconv.AppendUint(b, uint64(r.Indicator), 10)
	b = appendKeyUint(b, "original_reason", uint64(r.OriginalReason))
	b = appendKeyUint(b, "counter", uint64(r.Counter))
	b = appendKeyUint(b, "reason", uint64(r.Reason))
	return append(b, '}')
}

// writeTruth appends the truth line of a message completed by the packet just
// written at ts.
func (g *generator) writeTruth(d doneMsg, ts int64) {
	g.sum.Messages++
	g.sum.ByType[TypeName(d.st.typ)]++
	if g.tw == nil {
		return
	}
	cs, c := d.cs, &d.cs.c
	a := cs.a
	lab := g.label(cs, d.from)
	b := append(g.line[:0], `{"ts":"`...)
	b = time.Unix(0, ts).UTC().AppendFormat(b, TSLayout)
	b = append(b, '"')
	b = appendKeyUint(b, "frame", g.frame)
	b = append(b, `,"file":`...)
	b = append(b, g.file...)
	tr := TransportM3UA
	if a.m2pa {
		tr = TransportM2PA
	}
	b = appendKeyString(b, "transport", tr)
	proto := "isup"
	if a.link.BICC {
		proto = "bicc"
	}
	b = appendKeyString(b, "protocol", proto)
	b = appendKeyString(b, "src", a.ep[d.from].addrPort)
	b = appendKeyString(b, "dst", a.ep[1-d.from].addrPort)
	b = appendKeyUint(b, "opc", uint64(lab.OPC))
	b = appendKeyUint(b, "dpc", uint64(lab.DPC))
	b = append(b, `,"opc_pc":"`...)
	b = appendPCText(b, lab.OPC, lab.PCBits)
	b = append(b, `","dpc_pc":"`...)
	b = appendPCText(b, lab.DPC, lab.PCBits)
	b = append(b, '"')
	b = appendKeyUint(b, "ni", uint64(lab.NI))
	b = appendKeyUint(b, "sls", uint64(lab.SLS))
	b = appendKeyUint(b, "cic", uint64(cs.wireCIC()))
	b = appendKeyString(b, "type", TypeName(d.st.typ))
	if !a.m2pa && a.link.RC != 0 {
		b = appendKeyUint(b, "rc", uint64(a.link.RC))
	}
	switch d.st.typ {
	case TypeIAM:
		m := &c.IAM
		b = appendTruthNumber(b, "called", &m.Called, kindCalled)
		if m.Calling != nil {
			b = appendTruthNumber(b, "calling", m.Calling, kindCalling)
		}
		if m.Redirecting != nil {
			b = appendTruthNumber(b, "redirecting", m.Redirecting, kindRedirecting)
		}
		if m.OriginalCalled != nil {
			b = appendTruthNumber(b, "original_called", m.OriginalCalled, kindRedirecting)
		}
		if m.Location != nil {
			b = appendTruthNumber(b, "location", m.Location, kindLocation)
		}
		if len(m.Generic) > 0 {
			b = append(b, `,"generic":[`...)
			for i := range m.Generic {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendTruthNumber(b, "", &m.Generic[i], kindGeneric)
			}
			b = append(b, ']')
		}
		if m.Redirection != nil {
			b = appendTruthRedirection(b, m.Redirection)
		}
		b = appendKeyUint(b, "category", uint64(m.Category))
		if m.HopCounter != 0 {
			b = appendKeyUint(b, "hop_counter", uint64(m.HopCounter&0x1f))
		}
	case TypeSAM:
		b = appendTruthNumber(b, "subsequent", &Number{Digits: c.SAMDigits}, kindSubsequent)
	case TypeCPG:
		b = appendKeyUint(b, "event", alertingEvent)
	case TypeREL:
		if c.RedirectionNumber != nil {
			b = appendTruthNumber(b, "redirection_number", c.RedirectionNumber, kindCalled)
		}
		if c.RELRedirection != nil {
			b = appendTruthRedirection(b, c.RELRedirection)
		}
		b = append(b, `,"cause":{"value":`...)
		b = strconv.AppendUint(b, uint64(c.Cause.Value), 10)
		b = appendKeyUint(b, "location", uint64(c.Cause.Location))
		b = append(b, '}')
	}
	b = append(b, '}', '\n')
	g.line = b
	if _, err := g.tw.Write(b); err != nil && g.err == nil {
		g.err = err
	}
}
