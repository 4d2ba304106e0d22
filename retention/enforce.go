package retention

import (
	"encoding/json"
	"os"
	"syscall"
	"time"
)

// removing the oldest sealed partitions first. Called with mu held.
func (s *Store) enforce() {
	if s.opt.ReadOnly {
		return
	}
	if s.opt.RetentionDays > 0 {
		limit := s.ageLimit()
		for len(s.parts) > 0 && s.parts[0].MaxTS < limit && s.removeOldest("age") {
		}
	}
	if s.opt.MaxBytes > 0 {
		for len(s.parts) > 0 && s.diskBytes() > s.opt.MaxBytes && s.removeOldest("budget") {
		}
	}
	if s.opt.MinFreeBytes > 0 {
		for len(s.parts) > 0 && freeBytes(s.dir) < s.opt.MinFreeBytes && s.removeOldest("disk") {
		}
		full := freeBytes(s.dir) < s.opt.MinFreeBytes
		if full && !s.full {
			s.opt.Logf("retention: %s has less than %d bytes free and nothing left to remove: dropping new records", s.dir, s.opt.MinFreeBytes)
		}
		s.full = full
	}
}

func (s *Store) diskBytes() int64 {
	n := s.curBytes + int64(len(s.buf)-s.flushed)
	for _, p := range s.parts {
		n += p.Bytes
	}
	return n
}

func freeBytes(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 1 << 62 // unknown: do not drop data on a failed probe
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

func (s *Store) removeOldest(reason string) bool {
	p := s.parts[0]
	r := Removal{
		RemovedAt: time.Now().UTC().Format(time.RFC3339), Seq: p.Seq, Reason: reason, Bytes: p.Bytes,
		MinTS: p.MinTS, MaxTS: p.MaxTS, Messages: p.Messages, Manifest: p.hash,
	}
	// Log first: a crash between the two leaves a logged removal of a partition
	// still present, which verify reports rather than a silent gap.
	b, _ := json.Marshal(r)
	if err := s.appendWithReserve(removedFile, append(b, '\n')); err != nil {
		s.opt.Errorf("retention: cannot log removal of partition %d, so it is kept: %v", p.Seq, err)
		return false
	}
	_ = os.Remove(segPath(s.dir, p.Seq))
	_ = os.Remove(manifestPath(s.dir, p.Seq))
	s.segs.forget(p.SHA256)
	s.parts = s.parts[1:]
	if len(s.parts) > 0 {
		s.removeNumberGroup(p.Seq, s.parts[0].Seq, true)
	} else {
		s.removeNumberGroup(p.Seq, 0, false)
	}
	s.stats.Removed++
	s.stats.RemovedBytes += p.Bytes
	s.stats.RemovedByReason[reason]++
	s.opt.Logf("retention: removed partition %d (%s, %d bytes, %d messages, %s .. %s)", p.Seq, reason, p.Bytes, p.Messages,
		time.Unix(0, p.MinTS).UTC().Format(time.RFC3339), time.Unix(0, p.MaxTS).UTC().Format(time.RFC3339))
	s.checkpoint("removal", p.Seq)
	return true
}

// ageLimit is the capture time before which data is past the retention
// window: RetentionDays before the newest data stored.
func (s *Store) ageLimit() int64 {
	return s.newest - int64(s.opt.RetentionDays)*24*int64(time.Hour)
}

// warnExpired warns, once per source file, that a record arrived older than
// the retention window. Called with mu held.
func (s *Store) warnExpired(ts int64, source string) {
	if s.opt.RetentionDays <= 0 || ts >= s.ageLimit() || s.expired[source] {
		return
	}
	if len(s.expired) >= maxExpiredSources {
		clear(s.expired)
	}
	s.expired[source] = true
	s.opt.Warnf("retention: %s holds records of %s, older than the %d-day retention window before the newest data stored (%s): retention removes them (with the partition that holds them)",
		source, time.Unix(0, ts).UTC().Format(time.RFC3339), s.opt.RetentionDays, time.Unix(0, s.newest).UTC().Format(time.RFC3339))
}

// maxExpiredSources bounds the set of files already warned about.
const maxExpiredSources = 4096
