package decode

// appendSIPJSON appends the "sip" object of the `gatewarden decode` output:
// the start line, Call-ID, CSeq, From, To, P-Asserted-Identity, Privacy,
// Diversion, History-Info, Reason and the body's type and length, in a fixed
// order; absent headers are left out.
func appendSIPJSON(dst []byte, s *SIP) []byte {
	if s.Request {
		dst = append(dst, `,"sip":{"method":`...)
		dst = appendJSONBytes(dst, s.MethodText)
		dst = append(dst, `,"ruri":`...)
		dst = appendJSONBytes(dst, s.RequestURI)
		if len(s.RURI.User) > 0 {
			dst = append(dst, `,"ruri_user":`...)
			dst = appendJSONBytes(dst, s.RURI.User)
		}
	} else {
		dst = appendUintField(dst, `,"sip":{"status":`, uint64(s.Status))
		dst = append(dst, `,"phrase":`...)
		dst = appendJSONBytes(dst, s.Phrase)
	}
	dst = append(dst, `,"call_id":`...)
	dst = appendJSONBytes(dst, s.CallID)
	dst = appendUintField(dst, `,"cseq":`, uint64(s.CSeq))
	dst = append(dst, `,"cseq_method":`...)
	dst = appendJSONBytes(dst, s.CSeqMethod)
	dst = appendSIPAddrField(dst, `,"from":`, &s.From)
	dst = appendSIPAddrField(dst, `,"to":`, &s.To)
	dst = appendSIPAddrList(dst, `,"pai":[`, s.PAI[:s.NPAI])
	if s.Privacy != nil {
		dst = append(dst, `,"privacy":`...)
		dst = appendJSONBytes(dst, s.Privacy)
	}
	dst = appendSIPAddrList(dst, `,"diversion":[`, s.Diversion[:s.NDiversion])
	dst = appendSIPAddrList(dst, `,"history_info":[`, s.History[:s.NHistory])
	if s.Reason != nil {
		dst = append(dst, `,"reason":`...)
		dst = appendJSONBytes(dst, s.Reason)
		if s.HasReasonCause {
			dst = appendUintField(dst, `,"reason_cause":`, uint64(s.ReasonCause))
		}
	}
	if s.ContentType != nil {
		dst = append(dst, `,"content_type":`...)
		dst = appendJSONBytes(dst, s.ContentType)
	}
	dst = appendUintField(dst, `,"body_length":`, uint64(len(s.Body)))
	if s.HasISUP {
		dst = append(dst, `,"isup_version":`...)
		dst = appendJSONBytes(dst, s.ISUPVersion)
	}
	return append(dst, '}')
}

func appendSIPAddrList(dst []byte, key string, list []SIPAddr) []byte {
	if len(list) == 0 {
		return dst
	}
	dst = append(dst, key...)
	for i := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendSIPAddr(dst, &list[i])
	}
	return append(dst, ']')
}

func appendSIPAddrField(dst []byte, key string, a *SIPAddr) []byte {
	if !a.Present {
		return dst
	}
	dst = append(dst, key...)
	return appendSIPAddr(dst, a)
}

func appendSIPAddr(dst []byte, a *SIPAddr) []byte {
	dst = append(dst, `{"uri":`...)
	dst = appendJSONBytes(dst, a.URI)
	if a.User != nil {
		dst = append(dst, `,"user":`...)
		dst = appendJSONBytes(dst, a.User)
	}
	if a.Display != nil {
		dst = append(dst, `,"display":`...)
		dst = appendJSONBytes(dst, a.Display)
	}
	if a.PhoneContext != nil {
		dst = append(dst, `,"phone_context":`...)
		dst = appendJSONBytes(dst, a.PhoneContext)
	}
	if a.Tag != nil {
		dst = append(dst, `,"tag":`...)
		dst = appendJSONBytes(dst, a.Tag)
	}
	if len(a.Params) > 0 {
		dst = append(dst, `,"params":`...)
		dst = appendJSONBytes(dst, a.Params)
	}
	return append(dst, '}')
}
