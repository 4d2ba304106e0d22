package retention

import "time"

// Sealing off the ingest path. When capture time enters a new partition, the
// open one is handed to a goroutine that builds its segment and writes it,
// its manifest and CHAIN, while records go on into the new partition. Only
// the hand-over (the buffered tail written to the OS) and the commit (head
// and partition list updated, checkpoint recorded) take the writer's lock.
// Queries see the partition being sealed as an open log until the commit.
// One seal runs at a time, in sequence order; a writer that reaches the next
// partition boundary before the previous seal is done waits for it.

// sealJob is a partition being sealed in the background.
type sealJob struct {
	seq     uint32
	log     openLog // the whole log, as queries see it
	file    File
	queried bool // a query took a view of log: its chunks are not recycled
	done    chan struct{}
}

// waitSeal waits, with mu released, until no background seal runs. Called
// with mu held.
func (s *Store) waitSeal() {
	for s.sealing != nil {
		j := s.sealing
		s.mu.Unlock()
		t := time.Now()
		<-j.done
		s.mu.Lock()
		s.stats.SealWaitNanos += time.Since(t).Nanoseconds()
	}
}

// sealInBackground hands the open partition to a sealing goroutine and
// leaves the store ready to open the next one. Called with mu held.
func (s *Store) sealInBackground() error {
	s.waitSeal()
	switch {
	case s.closed:
		return errClosed
	case s.stall != nil: // the previous seal failed: it is retried first
		return s.stall
	case !s.cur:
		return nil
	}
	if err := s.writeOut(); err != nil {
		return err
	}
	j := &sealJob{seq: s.curSeq, file: s.curFile, done: make(chan struct{})}
	j.log = s.openLog()
	s.cur, s.curFile = false, nil
	s.releaseLog()
	s.sealing = j
	prev := s.head.Manifest
	go func() {
		lowerSealPriority()
		s.runSeal(j, prev)
	}()
	return nil
}

// sealNice is how much less CPU priority a background seal has than ingest
// (a nice value, where the OS has them: lowerSealPriority).
const sealNice = 10

func (s *Store) runSeal(j *sealJob, prev string) {
	start := time.Now()
	var err error
	if !s.opt.NoSync {
		err = j.file.Sync()
	}
	j.file.Close()
	var p *partInfo
	var head chainHead
	if err == nil {
		p, head, err = s.sealFiles(j.seq, j.log.chunks, prev, 0)
	}
	s.mu.Lock()
	switch {
	case err != nil:
		// The log is whole on disk: retry seals it from there; until then
		// queries read it from memory.
		s.leftover = append(s.leftover, j.seq)
		s.unsealed = append(s.unsealed, j.log)
		s.fail(err)
	case p != nil:
		s.sealCommit(p, head)
		s.checkpoint("seal", j.seq)
		s.enforce()
		if !j.queried {
			s.spare = append(s.spare, j.log.chunks...)
		}
	}
	s.stats.SealNanos += time.Since(start).Nanoseconds()
	s.sealing = nil
	s.mu.Unlock()
	close(j.done)
}

// openLogs are the logs not yet sealed that queries read from memory: the
// open partition's, the one being sealed, and any whose seal failed. Called
// with mu held.
func (s *Store) openLogs() []openLog {
	logs := append([]openLog(nil), s.unsealed...)
	if s.sealing != nil {
		s.sealing.queried = true
		logs = append(logs, s.sealing.log)
	}
	if s.cur {
		logs = append(logs, s.openLog())
	}
	return logs
}

// openLogsNoMark lists the logs held in memory without marking them as seen
// by a query (for counting). Called with mu held.
func (s *Store) openLogsNoMark() []openLog {
	logs := append([]openLog(nil), s.unsealed...)
	if s.sealing != nil {
		logs = append(logs, s.sealing.log)
	}
	if s.cur {
		n := len(s.chunks)
		logs = append(logs, openLog{seq: s.curSeq, chunks: append(s.chunks[:n:n], s.buf)})
	}
	return logs
}
