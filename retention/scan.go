package retention

import (
	"errors"
	"fmt"
	"os"

	"github.com/gatewarden/gatewarden/analysis"
)

// Sequential reads for shipping a store elsewhere (package central): every
// message, call record and alert after a cursor, partition by partition,
// across sealed segments and the open log. A cursor stays valid while its
// partition is retained; partitions removed by retention before they were
// read are skipped (ScanStats.Skipped).

// errScanFull stops a scan once it has handed out its maximum.
var errScanFull = errors.New("retention: scan full")

// ScanStats tells what a scan passed over.
type ScanStats struct {
	// Skipped is the number of partitions between the cursor and the first
	// one still retained that were removed before they were read.
	Skipped int
}

// ScanMessages calls fn, in Ref order, for at most max messages whose Ref
// is at or after from (MakeRef(0, 0): from the oldest retained). m.Call is the
// Ref of the message's call (its own Ref when it opened none). fn must not
// keep m past the call. next is the cursor after the last message handed out
// (from when none was).
func (s *Store) ScanMessages(from Ref, max int, fn func(m *Message) error) (next Ref, n int, st ScanStats, err error) {
	sn, err := s.snapshot()
	if err != nil {
		return from, 0, st, err
	}
	defer sn.close()
	next = from
	prev := from.Seq()
	for _, v := range sn.views {
		if v.seq < from.Seq() {
			continue
		}
		if from != 0 {
			st.Skipped += skippedBetween(prev, v.seq)
		}
		prev = v.seq
		pd, err := v.open(s, &sn.scratch)
		if err != nil {
			return next, n, st, err
		}
		count := partMessages(pd)
		start := uint32(0)
		if v.seq == from.Seq() {
			start = from.Ord()
		}
		if start >= count {
			continue
		}
		calls, err := callsOf(pd, v.seq, start, count)
		if err != nil {
			return next, n, st, err
		}
		for ord := start; ord < count; ord++ {
			if n >= max {
				return next, n, st, nil
			}
			m, err := pd.message(ord)
			if err != nil {
				return next, n, st, err
			}
			m.Call = calls[ord-start]
			if err := fn(m); err != nil {
				return next, n, st, err
			}
			n++
			next = MakeRef(v.seq, ord+1)
		}
	}
	return next, n, st, nil
}

// skippedBetween counts the partitions strictly between a and b: none of
// them is retained, so each was removed before being read. Sequence numbers
// are consecutive.
func skippedBetween(a, b uint32) int {
	if b <= a+1 {
		return 0
	}
	return int(b - a - 1)
}

// partMessages is the number of messages of a partition.
func partMessages(pd partData) uint32 {
	switch p := pd.(type) {
	case *segment:
		return p.messageCount()
	case *memPart:
		if len(p.idx) == 0 {
			return 0
		}
		last := p.idx[len(p.idx)-1]
		return last.firstOrd + uint32(len(last.msgOff))
	}
	return 0
}

// callsOf returns the call Ref of messages start..count-1 of a partition
// (index ord-start); a message that opened no call is its own.
func callsOf(pd partData, seq, start, count uint32) ([]Ref, error) {
	calls := make([]Ref, count-start)
	for i := range calls {
		calls[i] = MakeRef(seq, start+uint32(i))
	}
	switch p := pd.(type) {
	case *memPart:
		for _, ci := range p.idx {
			if ci.firstOrd+uint32(len(ci.msgOff)) <= start {
				continue
			}
			for _, m := range ci.members {
				if m.ord >= start && m.ord < count {
					calls[m.ord-start] = m.call
				}
			}
		}
	case *segment:
		err := p.scan(secLadders, func(key, val []byte) error {
			if len(key) < 8 {
				return errCorrupt
			}
			call := Ref(uint64(key[0])<<56 | uint64(key[1])<<48 | uint64(key[2])<<40 | uint64(key[3])<<32 |
				uint64(key[4])<<24 | uint64(key[5])<<16 | uint64(key[6])<<8 | uint64(key[7]))
			r := reader{b: val}
			n := r.uvarint()
			var ord uint32
			for k := uint64(0); k < n && r.err == nil; k++ {
				ord += uint32(r.uvarint())
				if ord >= start && ord < count {
					calls[ord-start] = call
				}
			}
			return r.err
		})
		if err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("retention: cannot scan %T", pd)
	}
	return calls, nil
}

// RecordPos is a cursor over the call records or alerts of a store: the
// first N records of partition Seq, in the order the partition lists them,
// have been read. Sealed says whether that partition was sealed then: a
// sealed segment lists records by call, the open log in arrival order, so a
// cursor taken on the open log restarts its partition once it is sealed
// (records may then be read twice; readers must collapse repeats).
type RecordPos struct {
	Seq    uint32 `json:"seq"`
	N      uint32 `json:"n"`
	Sealed bool   `json:"sealed"`
}

// ScanCallRecords calls fn for at most max call records after pos, with the
// Ref of the call's IAM (zero when not retained) and the record's encoding
// (DecodeCallRecord). fn must not keep raw or c.
func (s *Store) ScanCallRecords(pos RecordPos, max int, fn func(call Ref, raw []byte, c *analysis.Call) error) (RecordPos, int, error) {
	return s.scanRecordsFrom(secCalls, pos, max, func(call Ref, val []byte) error {
		c, err := decodeCall(val)
		if err != nil {
			return err
		}
		return fn(call, val, c)
	})
}

// ScanAlertRecords is ScanCallRecords for alerts.
func (s *Store) ScanAlertRecords(pos RecordPos, max int, fn func(call Ref, raw []byte, a *analysis.Alert) error) (RecordPos, int, error) {
	return s.scanRecordsFrom(secAlerts, pos, max, func(call Ref, val []byte) error {
		a, err := decodeAlert(val)
		if err != nil {
			return err
		}
		return fn(call, val, a)
	})
}

func (s *Store) scanRecordsFrom(sec string, pos RecordPos, max int, fn func(call Ref, val []byte) error) (RecordPos, int, error) {
	sn, err := s.snapshot()
	if err != nil {
		return pos, 0, err
	}
	defer sn.close()
	n := 0
	for _, v := range sn.views {
		if v.seq < pos.Seq {
			continue
		}
		sealed := v.mem == nil
		skip := uint32(0)
		if v.seq == pos.Seq && (pos.Sealed == sealed) {
			skip = pos.N
		}
		pd, err := v.open(s, &sn.scratch)
		if err != nil {
			return pos, n, err
		}
		var i uint32
		err = pd.scan(sec, func(k, val []byte) error {
			i++
			if i <= skip {
				return nil
			}
			if n >= max {
				return errScanFull
			}
			var call Ref
			if len(k) >= 8 {
				call = Ref(uint64(k[0])<<56 | uint64(k[1])<<48 | uint64(k[2])<<40 | uint64(k[3])<<32 |
					uint64(k[4])<<24 | uint64(k[5])<<16 | uint64(k[6])<<8 | uint64(k[7]))
			}
			if err := fn(call, val); err != nil {
				return err
			}
			n++
			pos = RecordPos{Seq: v.seq, N: i, Sealed: sealed}
			return nil
		})
		if errors.Is(err, errScanFull) {
			return pos, n, nil
		}
		if err != nil {
			return pos, n, err
		}
		// Every record of this partition has been read: the cursor moves to
		// its end, so that only its later records (or, once sealed, the
		// whole partition again) are read next time.
		pos = RecordPos{Seq: v.seq, N: i, Sealed: sealed}
	}
	return pos, n, nil
}

// DecodeCallRecord decodes a call record as ScanCallRecords hands it out.
func DecodeCallRecord(raw []byte) (*analysis.Call, error) { return decodeCall(raw) }

// DecodeAlertRecord decodes an alert as ScanAlertRecords hands it out.
func DecodeAlertRecord(raw []byte) (*analysis.Alert, error) { return decodeAlert(raw) }

// Backlog tells how much is retained at or after cursor from: the number of
// messages, and the capture times of the first of them and of the newest
// message held (zero when none). It reads tables of contents, not messages.
func (s *Store) Backlog(from Ref) (messages int, firstTS, newestTS int64, err error) {
	sn, err := s.snapshot()
	if err != nil {
		return 0, 0, 0, err
	}
	defer sn.close()
	for _, v := range sn.views {
		if v.seq < from.Seq() {
			continue
		}
		pd, err := v.open(s, &sn.scratch)
		if err != nil {
			return 0, 0, 0, err
		}
		count := partMessages(pd)
		start := uint32(0)
		if v.seq == from.Seq() {
			start = from.Ord()
		}
		if start >= count {
			continue
		}
		if messages == 0 {
			m, err := pd.message(start)
			if err != nil {
				return 0, 0, 0, err
			}
			firstTS = m.TS
		}
		messages += int(count - start)
		newestTS = max(newestTS, v.maxTS)
	}
	return messages, firstTS, newestTS, nil
}

// ManifestHash is the SHA-256 of partition seq's manifest file in dir: the
// link the chain (and an external witness) holds for it.
func ManifestHash(dir string, seq uint32) (string, error) {
	b, err := os.ReadFile(manifestPath(dir, seq))
	if err != nil {
		return "", err
	}
	return sha256Hex(b), nil
}

// Removals lists the partitions retention removed from dir (removed.log).
func Removals(dir string) ([]Removal, error) { return readRemovals(dir) }

// StoreCheckpoints reads the store's own signed checkpoints (checkpoints.log
// in dir), oldest first; none when the file does not exist.
func StoreCheckpoints(dir string) ([]Checkpoint, error) { return readStoreCheckpoints(dir) }
