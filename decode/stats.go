package decode

import (
	"strconv"
	"strings"
)

// Stats counts what the decoder saw. Every frame, chunk or message that did
// not become an ISUP message is counted under exactly one Reason.
type Stats struct {
	Frames   uint64 // frames handed to Decode
	Messages uint64 // ISUP, BICC and SIP messages delivered to the handler
	// SIPMessages counts the SIP messages among Messages (with Config.SIP).
	SIPMessages uint64

	// Reasons counts drops and skips; Reasons[ReasonNone] stays zero.
	Reasons [NumReasons]uint64

	// SCTPChunks counts control chunks (everything but DATA and I-DATA) by
	// chunk type.
	SCTPChunks [256]uint64
	// M3UAManagement counts M3UA management messages by [class][type]
	// (classes and types above 15 are folded into 15).
	M3UAManagement [16][16]uint64
	// UnknownISUPTypes counts delivered messages whose type the ISUP decoder
	// did not know (also under SkipISUPUnknownType).
	UnknownISUPTypes uint64
	// ISUPDigitsTruncated counts delivered messages with a number longer
	// than MaxDigits, kept with its first MaxDigits signals.
	ISUPDigitsTruncated uint64
	// ISUPOptionalErrors counts delivered messages whose optional part was
	// malformed (see ISUP.OptionalError); the faulty parameters are missing.
	ISUPOptionalErrors uint64

	// AssociationsEvicted counts SCTP associations pushed out of the bounded
	// association table (their duplicate history and pending fragments go).
	AssociationsEvicted uint64
	// SCTPBadChecksum counts, with Config.VerifySCTPChecksums, SCTP packets whose CRC32c is neither correct nor
	// zero. They are still decoded: taps often see checksum-offloaded packets.
	SCTPBadChecksum uint64
	// M2PAKeepAlives counts M2PA User Data messages without an MTP3 payload
	// (also under SkipM2PALinkStatus).
	M2PAKeepAlives uint64
	// Reassembled counts messages rebuilt from IP or SCTP fragments.
	IPReassembled, SCTPReassembled uint64
	// TCPStreamsEvicted counts TCP streams pushed out of the bounded stream
	// table (their buffered bytes are dropped, counted as tcp_overflow).
	TCPStreamsEvicted uint64
}

// Drops is the number of frames, chunks or messages lost to errors.
func (s *Stats) Drops() uint64 {
	var n uint64
	for r := Reason(1); r < NumReasons; r++ {
		if r.IsDrop() {
			n += s.Reasons[r]
		}
	}
	return n
}

// Skips is the number of valid frames, chunks or messages that were not ISUP.
func (s *Stats) Skips() uint64 {
	var n uint64
	for r := Reason(1); r < NumReasons; r++ {
		if !r.IsDrop() {
			n += s.Reasons[r]
		}
	}
	return n
}

// Summary renders the counters on one line:
// "frames=N messages=N drops=N (reason=n ...) skips=N (reason=n ...)".
// The parenthesised lists name only non-zero reasons and are left out when
// empty.
func (s *Stats) Summary() string {
	var b strings.Builder
	b.WriteString("frames=")
	b.WriteString(strconv.FormatUint(s.Frames, 10))
	b.WriteString(" messages=")
	b.WriteString(strconv.FormatUint(s.Messages, 10))
	s.writeReasons(&b, "drops", s.Drops(), true)
	s.writeReasons(&b, "skips", s.Skips(), false)
	if s.SCTPBadChecksum > 0 {
		b.WriteString(" sctp_bad_checksum=")
		b.WriteString(strconv.FormatUint(s.SCTPBadChecksum, 10))
	}
	if s.ISUPOptionalErrors > 0 {
		b.WriteString(" optional_part_errors=")
		b.WriteString(strconv.FormatUint(s.ISUPOptionalErrors, 10))
	}
	if s.ISUPDigitsTruncated > 0 {
		b.WriteString(" numbers_truncated=")
		b.WriteString(strconv.FormatUint(s.ISUPDigitsTruncated, 10))
	}
	return b.String()
}

func (s *Stats) writeReasons(b *strings.Builder, name string, total uint64, drops bool) {
	b.WriteByte(' ')
	b.WriteString(name)
	b.WriteByte('=')
	b.WriteString(strconv.FormatUint(total, 10))
	if total == 0 {
		return
	}
	b.WriteString(" (")
	first := true
	for r := Reason(1); r < NumReasons; r++ {
		if r.IsDrop() != drops || s.Reasons[r] == 0 {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(r.String())
		b.WriteByte('=')
		b.WriteString(strconv.FormatUint(s.Reasons[r], 10))
	}
	b.WriteByte(')')
}

// Add merges o into s (per-worker stats into a total).
func (s *Stats) Add(o *Stats) {
	s.Frames += o.Frames
	s.Messages += o.Messages
	s.SIPMessages += o.SIPMessages
	for i := range s.Reasons {
		s.Reasons[i] += o.Reasons[i]
	}
	for i := range s.SCTPChunks {
		s.SCTPChunks[i] += o.SCTPChunks[i]
	}
	for c := range s.M3UAManagement {
		for t := range s.M3UAManagement[c] {
			s.M3UAManagement[c][t] += o.M3UAManagement[c][t]
		}
	}
	s.UnknownISUPTypes += o.UnknownISUPTypes
	s.ISUPDigitsTruncated += o.ISUPDigitsTruncated
	s.ISUPOptionalErrors += o.ISUPOptionalErrors
	s.AssociationsEvicted += o.AssociationsEvicted
	s.SCTPBadChecksum += o.SCTPBadChecksum
	s.M2PAKeepAlives += o.M2PAKeepAlives
	s.IPReassembled += o.IPReassembled
	s.SCTPReassembled += o.SCTPReassembled
	s.TCPStreamsEvicted += o.TCPStreamsEvicted
}
