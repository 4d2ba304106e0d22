package decode

import "hash/maphash"

// Defaults applied by New to zero Config fields.
const (
	DefaultPCBits              = 14
	DefaultMaxPendingFragments = 4096
	DefaultFragmentTimeout     = int64(30e9)
	// DefaultMaxAssociations bounds the SCTP association table (each one
	// direction, about 4 KiB); the least recently used is evicted beyond it.
	DefaultMaxAssociations = 4096
	// maxMTP2Links bounds the MTP2 retransmission state; beyond it the table
	// is cleared (a retransmission may then be delivered once more).
	maxMTP2Links = 4096
)

// Decoder decodes frames into ISUP messages. It is not safe for concurrent
// use: run one Decoder per worker and merge Stats with Stats.Add.
type Decoder struct {
	cfg Config
	h   Handler
	eh  ErrorHandler

	stats Stats
	msg   Message

	// Current frame, for messages and error reports.
	frame *Frame

	seed maphash.Seed

	ipFrag   fragTable
	sctp     sctpState
	tcp      tcpState
	mtp2     map[mtp2Key]*mtp2Link
	mtp3Buf  []byte // M3UA: SIO + rebuilt routing label + ISUP
	maxAssoc int
}

// New returns a Decoder that calls h for every ISUP message. Zero Config
// fields get their defaults.
func New(cfg Config, h Handler) *Decoder {
	if cfg.PCBits == 0 {
		cfg.PCBits = DefaultPCBits
	}
	if cfg.MaxPendingFragments <= 0 {
		cfg.MaxPendingFragments = DefaultMaxPendingFragments
	}
	if cfg.FragmentTimeout <= 0 {
		cfg.FragmentTimeout = DefaultFragmentTimeout
	}
	if cfg.MTP2FCSLen < 0 {
		cfg.MTP2FCSLen = 0
	}
	d := &Decoder{
		cfg:      cfg,
		h:        h,
		seed:     maphash.MakeSeed(),
		mtp2:     make(map[mtp2Key]*mtp2Link),
		mtp3Buf:  make([]byte, 0, 512),
		maxAssoc: DefaultMaxAssociations,
	}
	d.ipFrag.init()
	d.sctp.init()
	return d
}

// SetErrorHandler installs a callback told about every drop (not skips).
func (d *Decoder) SetErrorHandler(eh ErrorHandler) { d.eh = eh }

// Stats returns a snapshot of the counters.
func (d *Decoder) Stats() Stats { return d.stats }

// Decode decodes one captured frame; it may call the handler zero or more
// times. f.Data is not retained.
func (d *Decoder) Decode(f *Frame) {
	d.stats.Frames++
	d.frame = f
	d.sctp.cur = sctpCur{}
	d.expire(f.TS)
	d.decodeLink(f)
	d.frame = nil
}

// Flush ends the input: every pending reassembly is dropped and counted as
// expired.
func (d *Decoder) Flush() {
	d.ipFrag.flush(d)
	d.sctp.flush(d)
	d.flushTCP()
}

// expire drops reassemblies that have waited longer than FragmentTimeout of
// capture time.
func (d *Decoder) expire(now int64) {
	d.ipFrag.expire(d, now)
	d.sctp.expire(d, now)
	if d.tcp.tail != nil && now-d.tcp.lastExpire >= tcpExpireEvery {
		d.tcp.lastExpire = now
		d.expireTCP(now)
	}
}

// count records r for the current frame.
func (d *Decoder) count(r Reason) {
	if d.frame != nil {
		d.countAt(r, d.frame.Source, d.frame.Frame)
		return
	}
	d.countAt(r, 0, 0)
}

// countAt records r for a given frame (reassemblies expire after their frame).
func (d *Decoder) countAt(r Reason, source uint16, frame uint64) {
	d.stats.Reasons[r]++
	if d.eh != nil && r.IsDrop() {
		d.eh(source, frame, r)
	}
}

// beginMessage resets the per-message fields for the current frame.
func (d *Decoder) beginMessage(t Transport) *Message {
	m := &d.msg
	f := d.frame
	m.TS, m.Source, m.Frame = f.TS, f.Source, f.Frame
	m.Transport = t
	m.Protocol = ProtocolISUP
	m.Src, m.Dst = d.sctp.cur.src, d.sctp.cur.dst
	m.VTag, m.Stream, m.TSN = d.sctp.cur.vtag, d.sctp.cur.stream, d.sctp.cur.tsn
	m.PPID, m.SSN = d.sctp.cur.ppid, d.sctp.cur.ssn
	m.Link = 0
	m.RoutingContext, m.NetworkAppearance = 0, 0
	m.HasRC, m.HasNA = false, false
	m.Label = Label{}
	m.MTP3 = nil
	m.HasISUP = false
	if m.SIP.CallID != nil {
		m.SIP = SIP{} // only after a SIP message: the struct is large
	}
	return m
}

// pcBits is the point-code width for the current message.
func (d *Decoder) pcBits() uint8 {
	if len(d.cfg.LinkPCBits) > 0 && d.sctp.cur.src.IsValid() {
		if w, ok := d.cfg.LinkPCBits[d.sctp.cur.src.Addr()]; ok {
			return w
		}
		if w, ok := d.cfg.LinkPCBits[d.sctp.cur.dst.Addr()]; ok {
			return w
		}
	}
	if len(d.cfg.SourcePCBits) > 0 && d.frame != nil {
		if w, ok := d.cfg.SourcePCBits[d.frame.Source]; ok {
			return w
		}
	}
	return d.cfg.PCBits
}

// noteISUP counts what a delivered ISUP message lost: signals beyond
// MaxDigits, a faulty optional part (said like a drop so it reaches stderr
// and metrics).
func (d *Decoder) noteISUP(u *ISUP) {
	if u.digitsTruncated() {
		d.stats.ISUPDigitsTruncated++
	}
	if e := u.OptionalError; e != ReasonNone {
		d.stats.ISUPOptionalErrors++
		if d.eh != nil {
			d.eh(d.frame.Source, d.frame.Frame, e)
		}
	}
}

// deliverISUP decodes the ISUP (or BICC, by m.Protocol) part of m (m.Label
// and m.MTP3 already set) and hands it to the handler.
func (d *Decoder) deliverISUP(m *Message, isup []byte) {
	var r Reason
	if m.Protocol == ProtocolBICC {
		r = DecodeBICC(isup, &m.ISUP)
	} else {
		r = DecodeISUP(isup, &m.ISUP)
	}
	if r == ReasonNone && !KnownMessageType(m.ISUP.Type) {
		r = SkipISUPUnknownType
	}
	switch r {
	case ReasonNone:
		d.noteISUP(&m.ISUP)
	case SkipISUPUnknownType:
		// Delivered all the same: the CIC and type still matter to the call.
		d.stats.UnknownISUPTypes++
		d.count(r)
	default:
		d.count(r)
		return
	}
	m.HasISUP = true
	d.stats.Messages++
	if d.h != nil {
		d.h(m)
	}
}

// Pending is how many fragments (IP and SCTP) the decoder holds waiting for
// the rest of their message: state a restart from this point would lose.
func (d *Decoder) Pending() int { return d.ipFrag.fragments + d.sctp.fragments + d.sctp.nEarly }
