package retention

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"
)

// Commits: how the pipeline makes ingest exactly-once.
//
// The pipeline calls Commit at points where everything it has stored so far
// corresponds to a position in its input (a file and frame) and a state (the
// calls in progress, behaviour windows). Commit appends a commit record to
// the open log and syncs the log (the store's durable point), then writes
// the position and state, under the commit's generation number, to one of
// two state files (pipeline.state.0/1, alternately; written aside and
// renamed). Every new log starts with a copy of the last commit record, and
// the pipeline commits before the record that makes the store change
// partition, so a sealed partition ends with a commit and whatever follows
// the last commit is only in open logs.
//
// Open (recovery) finds the last commit record in the open logs whose state
// file is intact, cuts every record after it (logs after it are removed)
// and counts what it cut: the pipeline then reads its input again from the
// committed position with the committed state, so the store ends with
// exactly what an uninterrupted run stores. A store opened with Committed
// that was never committed to cuts its open logs whole (the writer starts
// its input again); without Committed (older writers, tests) nothing is cut.

// recCommit is the record kind of a commit: [recCommit][uvarint gen][position].
const recCommit = 4

// stateFileMagic starts a state file: magic, u64 generation, u32 CRC-32C of
// the body, u64 body length, body = [uvarint len][position][state].
const stateFileMagic = "GWSTATE1"

const stateHeaderLen = len(stateFileMagic) + 8 + 4 + 8

func stateFilePath(dir string, gen uint64) string {
	return filepath.Join(dir, fmt.Sprintf("pipeline.state.%d", gen%2))
}

// Commit is one committed position and state.
type Commit struct {
	Gen      uint64 // 1, 2, ... per store
	Position []byte // the pipeline's position, opaque to the store
	State    []byte // the pipeline's state, opaque to the store
}

// CommitStats count commits and what recovery cut after the last one.
type CommitStats struct {
	Commits                          uint64 // commits made since Open
	CutMessages, CutCalls, CutAlerts uint64 // records after the last commit, cut at Open
	CutLogs                          uint64 // whole logs removed at Open (all after the last commit)
	RecoveredGen                     uint64 // generation of the commit Open resumed from (0: none)
	StateFallbacks                   uint64 // newest commit's state file unreadable: resumed from the one before
}

// commitState is the store's commit bookkeeping (guarded by mu).
type commitState struct {
	last      Commit // last durable commit (Gen 0: none)
	record    []byte // its framed log record, copied at the start of each new log
	recovered []byte // state of the commit Open resumed from
	stats     CommitStats
	log       commitLog // the open log as of its last commit, for checkpoints
}

// commitLog is how much of the open log a commit covers, and its hash.
type commitLog struct {
	seq   uint32
	bytes int64
	msgs  int
	sha   string
}

// LastCommit is the last commit made or recovered; ok is false when the
// store has never been committed to.
func (s *Store) LastCommit() (c Commit, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commit.last, s.commit.last.Gen != 0
}

// CommitStats returns the commit counters.
func (s *Store) CommitStats() CommitStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commit.stats
}

func appendCommitRecord(b []byte, gen uint64, position []byte) []byte {
	var start int
	b, start = beginRecord(b)
	b = append(b, recCommit)
	b = binary.AppendUvarint(b, gen)
	b = append(b, position...)
	finishRecord(b, start)
	return b
}

// Commit makes everything added so far durable together with position and
// state (see the package notes above). position and state are only read
// during the call.
func (s *Store) Commit(position, state []byte) error {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	s.mu.Lock()
	if err := s.writable(0); err != nil {
		s.mu.Unlock()
		return err
	}
	gen := s.commit.last.Gen + 1
	rec := appendCommitRecord(nil, gen, position)
	s.buf = append(s.buf, rec...)
	err := s.afterAppend()
	if err == nil {
		s.dirty = true
		err = s.writeBuffer(true)
	}
	var cl commitLog
	if err == nil && s.cur && s.walHash != nil {
		cl = commitLog{seq: s.curSeq, bytes: s.walHashed, msgs: int(s.walHashedOrd), sha: hex.EncodeToString(s.walHash.Sum(nil))}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if err := s.writeStateFile(gen, position, state); err != nil {
		return fmt.Errorf("retention: commit %d: %w", gen, err)
	}
	s.mu.Lock()
	s.commit.last = Commit{Gen: gen, Position: append([]byte(nil), position...), State: nil}
	s.commit.record = rec
	s.commit.stats.Commits++
	// Only now, with the state written, may a checkpoint sign the open log
	// up to this commit (a recovery never cuts below a complete commit).
	s.commit.log = cl
	if s.cur && cl.seq == s.curSeq && s.stall == nil && cl.bytes > s.cpLogBytes && time.Since(s.cpAt) >= s.opt.CheckpointInterval {
		s.checkpoint("log", s.curSeq)
	}
	s.mu.Unlock()
	return nil
}

func (s *Store) writeStateFile(gen uint64, position, state []byte) error {
	body := binary.AppendUvarint(make([]byte, 0, 10+len(position)+len(state)), uint64(len(position)))
	body = append(body, position...)
	body = append(body, state...)
	b := make([]byte, 0, stateHeaderLen+len(body))
	b = append(b, stateFileMagic...)
	b = binary.LittleEndian.AppendUint64(b, gen)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(body, castagnoli))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(body)))
	b = append(b, body...)
	if err := s.writeFile(stateFilePath(s.dir, gen), b); err != nil {
		return err
	}
	if s.opt.NoSync {
		return nil
	}
	return syncDir(s.dir)
}

// readStateFile reads one state file; ok is false when it is absent or damaged.
func readStateFile(path string) (c Commit, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil || len(b) < stateHeaderLen || string(b[:len(stateFileMagic)]) != stateFileMagic {
		return Commit{}, false
	}
	h := b[len(stateFileMagic):]
	gen, sum, n := binary.LittleEndian.Uint64(h), binary.LittleEndian.Uint32(h[8:]), binary.LittleEndian.Uint64(h[12:])
	body := b[stateHeaderLen:]
	if uint64(len(body)) != n || crc32.Checksum(body, castagnoli) != sum {
		return Commit{}, false
	}
	pl, k := binary.Uvarint(body)
	if k <= 0 || pl > uint64(len(body)-k) {
		return Commit{}, false
	}
	return Commit{Gen: gen, Position: body[k : k+int(pl)], State: body[k+int(pl):]}, true
}

// walCommit is a commit record found in an open log.
type walCommit struct {
	gen uint64
	end int // offset just past the record
}

// scanCommits lists the commit records of a log file's raw bytes, with
// their offsets in the file. A damaged record is stepped over as recovery
// does (resynchronising at the next whole record), so a cut never moves
// the damage the store's own recovery accounts for.
func scanCommits(data []byte) (commits []walCommit, err error) {
	for off := 0; off < len(data); {
		n, ok := frameAt(data, off)
		if !ok {
			next := nextFrame(data, off)
			if next < 0 {
				break // torn tail
			}
			off = next
			continue
		}
		p := data[off+walHeaderLen : off+walHeaderLen+n]
		end := off + walHeaderLen + n
		if p[0] == recCommit {
			gen, k := binary.Uvarint(p[1:])
			if k <= 0 {
				return nil, errCorrupt
			}
			commits = append(commits, walCommit{gen: gen, end: end})
		}
		off = end
	}
	return commits, nil
}

// recoverCommits runs before open logs are sealed: it finds the commit to
// resume from and cuts what was recorded after it.
func (s *Store) recoverCommits(wseqs []uint32) ([]uint32, error) {
	wseqs = s.dropHalfSealed(wseqs)
	var slots [2]Commit
	var have [2]bool
	for i := range slots {
		slots[i], have[i] = readStateFile(filepath.Join(s.dir, fmt.Sprintf("pipeline.state.%d", i)))
	}
	state := func(gen uint64) (Commit, bool) {
		c := slots[gen%2]
		return c, have[gen%2] && c.Gen == gen
	}
	// The newest log holding a commit record decides.
	type logScan struct {
		seq     uint32
		data    []byte
		commits []walCommit
	}
	var scans []logScan
	anyCommit := -1
	for _, seq := range wseqs {
		data, err := os.ReadFile(walPath(s.dir, seq))
		if err != nil {
			return nil, err
		}
		commits, err := scanCommits(data)
		if err != nil {
			return nil, fmt.Errorf("partition %d: %w", seq, err)
		}
		scans = append(scans, logScan{seq: seq, data: data, commits: commits})
		if len(commits) > 0 {
			anyCommit = len(scans) - 1
		}
	}
	var resume Commit
	cutFrom, cutAt := len(scans), 0 // logs from cutFrom on are cut at cutAt (the first) or removed
	switch {
	case anyCommit >= 0:
		ls := scans[anyCommit]
		found := false
		for i := len(ls.commits) - 1; i >= 0 && !found; i-- {
			if c, ok := state(ls.commits[i].gen); ok {
				resume, found = c, true
				cutFrom, cutAt = anyCommit, ls.commits[i].end
				if i != len(ls.commits)-1 {
					s.commit.stats.StateFallbacks++
					s.opt.Logf("retention: state of commit %d unreadable: resuming from commit %d", ls.commits[len(ls.commits)-1].gen, c.Gen)
				}
			}
		}
		if !found {
			// Committed records with no readable state: nothing in the open
			// logs is covered; the input is read again from the start.
			cutFrom, cutAt = 0, 0
			s.opt.Logf("retention: no readable state for any commit in the open logs: cutting them")
		}
	case have[0] || have[1]:
		// Commits in use and none in the open logs: every open log was
		// begun after the newest commit (which sealed with its partition).
		resume = slots[0]
		if !have[0] || (have[1] && slots[1].Gen > slots[0].Gen) {
			resume = slots[1]
		}
		cutFrom, cutAt = 0, 0
	case s.opt.Committed:
		// A committing writer that never committed: nothing is covered;
		// its input is read again from the start.
		cutFrom, cutAt = 0, 0
	}
	kept := wseqs[:0:0]
	for i, ls := range scans {
		if i < cutFrom {
			kept = append(kept, ls.seq)
			continue
		}
		at := 0
		if i == cutFrom {
			at = cutAt
		}
		if at >= len(ls.data) {
			kept = append(kept, ls.seq)
			continue
		}
		m, c, a := walChunkCounts(ls.data[at:])
		s.commit.stats.CutMessages += uint64(m)
		s.commit.stats.CutCalls += uint64(c)
		s.commit.stats.CutAlerts += uint64(a)
		path := walPath(s.dir, ls.seq)
		if at == 0 {
			if err := os.Remove(path); err != nil {
				return nil, err
			}
			s.commit.stats.CutLogs++
		} else {
			if err := os.Truncate(path, int64(at)); err != nil {
				return nil, err
			}
			kept = append(kept, ls.seq)
		}
		s.opt.Logf("retention: partition %d: cut %d messages, %d calls, %d alerts recorded after the last commit", ls.seq, m, c, a)
	}
	if resume.Gen != 0 {
		resume.Position = bytes.Clone(resume.Position)
		s.commit.recovered = bytes.Clone(resume.State)
		resume.State = nil
		s.commit.last = resume
		s.commit.record = appendCommitRecord(nil, resume.Gen, resume.Position)
		s.commit.stats.RecoveredGen = resume.Gen
	}
	return kept, nil
}

// dropHalfSealed settles logs whose seal a kill interrupted: a log whose
// partition CHAIN already names was sealed and only its removal was lost
// (the log is removed); a partition with a manifest CHAIN does not name yet
// was half-written (its segment and manifest are removed, the log is sealed
// again). Without this, the next Open would seal the log a second time and
// hold its records twice.
func (s *Store) dropHalfSealed(wseqs []uint32) []uint32 {
	kept := wseqs[:0:0]
	for _, seq := range wseqs {
		i := -1
		for j := range s.parts {
			if s.parts[j].Seq == seq {
				i = j
			}
		}
		switch {
		case i < 0:
			kept = append(kept, seq)
		case seq <= s.head.Seq:
			s.opt.Logf("retention: partition %d was sealed before a crash; removing its leftover log", seq)
			os.Remove(walPath(s.dir, seq))
		default:
			s.opt.Logf("retention: partition %d was half sealed at a crash; sealing it again from its log", seq)
			os.Remove(segPath(s.dir, seq))
			os.Remove(manifestPath(s.dir, seq))
			s.parts = append(s.parts[:i], s.parts[i+1:]...)
			kept = append(kept, seq)
		}
	}
	return kept
}

// RecoveredState is the state saved with the commit Open resumed from (nil
// when none); the pipeline restores its calls and windows from it.
func (s *Store) RecoveredState() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commit.recovered
}

// startLog begins a new open log with a copy of the last commit record.
// Called with mu held.
func (s *Store) startLog() {
	if s.commit.record != nil {
		s.buf = append(s.buf, s.commit.record...)
	}
}
