package retention

import "github.com/gatewarden/gatewarden/decode"

// Redecoder runs stored messages back through the project's decoder (MTP3
// bytes) or SIP parser, so a call's ladder shows exactly what a capture of
// those bytes decodes to. It is the one redecoder of `trace` and the web
// UI. Not safe for concurrent use; the zero value is ready.
type Redecoder struct {
	decs   map[uint8]*decode.Decoder // by point-code width
	got    decode.Message
	ok     bool
	reason string
}

// Decode returns m decoded from its stored bytes, and false when they do not
// decode (Reason says why). The result does not alias the decoder's buffers
// (a SIP message's fields alias m's bytes).
func (rd *Redecoder) Decode(m *Message) (decode.Message, bool) {
	if m.IsSIP() {
		ok, r := DecodeSIP(m, &rd.got)
		rd.reason = ""
		if !ok {
			rd.reason = r.String()
		}
		return rd.got, ok
	}
	if rd.decs == nil {
		rd.decs = map[uint8]*decode.Decoder{}
	}
	d := rd.decs[m.Label.PCBits]
	if d == nil {
		d = decode.New(decode.Config{PCBits: m.Label.PCBits}, func(dm *decode.Message) {
			rd.got = *dm
			// The decoder reuses its buffers: drop what would alias them.
			rd.got.MTP3, rd.got.ISUP.Raw = nil, nil
			rd.ok = true
		})
		d.SetErrorHandler(func(_ uint16, _ uint64, reason decode.Reason) { rd.reason = reason.String() })
		rd.decs[m.Label.PCBits] = d
	}
	rd.ok, rd.reason = false, ""
	d.Decode(&decode.Frame{TS: m.TS, LinkType: decode.LinkTypeMTP3, FCSLen: -1, Data: m.MTP3})
	if !rd.ok && rd.reason == "" {
		rd.reason = "not an ISUP message"
	}
	return rd.got, rd.ok
}

// Reason is why the last Decode returned false ("" after a success).
func (rd *Redecoder) Reason() string { return rd.reason }
