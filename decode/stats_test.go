package decode

import "testing"

func TestStatsSummary(t *testing.T) {
	var s Stats
	if got, want := s.Summary(), "frames=0 messages=0 drops=0 skips=0"; got != want {
		t.Errorf("empty: %q, want %q", got, want)
	}
	s.Frames, s.Messages = 10, 4
	s.Reasons[DropSCTPTruncated] = 2
	s.Reasons[DropIPTruncated] = 1
	s.Reasons[SkipSCTPControl] = 3
	s.Reasons[SkipNotSCTP] = 1
	want := "frames=10 messages=4 drops=3 (ip_truncated=1 sctp_truncated=2) skips=4 (not_sctp=1 sctp_control_chunk=3)"
	if got := s.Summary(); got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if s.Drops() != 3 || s.Skips() != 4 {
		t.Errorf("drops %d skips %d", s.Drops(), s.Skips())
	}
}

func TestStatsAdd(t *testing.T) {
	var a, b Stats
	a.Frames, b.Frames = 1, 2
	a.Messages, b.Messages = 3, 4
	a.Reasons[DropM3UABad], b.Reasons[DropM3UABad] = 1, 1
	b.SCTPChunks[3] = 5
	b.M3UAManagement[3][1] = 2
	b.UnknownISUPTypes, b.AssociationsEvicted, b.SCTPBadChecksum, b.M2PAKeepAlives = 1, 2, 3, 4
	b.IPReassembled, b.SCTPReassembled = 5, 6
	a.Add(&b)
	if a.Frames != 3 || a.Messages != 7 || a.Reasons[DropM3UABad] != 2 || a.SCTPChunks[3] != 5 || a.M3UAManagement[3][1] != 2 ||
		a.UnknownISUPTypes != 1 || a.AssociationsEvicted != 2 || a.SCTPBadChecksum != 3 || a.M2PAKeepAlives != 4 ||
		a.IPReassembled != 5 || a.SCTPReassembled != 6 {
		t.Errorf("merged %+v", a)
	}
}
