package retention

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/gatewarden/gatewarden/analysis"
)

// Query selects calls. Every set field must match (AND); Numbers match if any
// of them does (OR), in any of the selected Roles.
type Query struct {
	From, To int64 // IAM capture time, Unix ns: From <= t < To; zero means unbounded

	// Numbers are digit strings exactly as signalled (the index keeps numbers
	// as presented: use NumberForms to cover national and international forms).
	Numbers []string
	Roles   RoleMask

	Partner string // call record's partner
	// Link matches the call record's link, the IAM's "src>dst" pair, either
	// address (ip:port or ip), or its capture file/interface name.
	Link string
	OPC  *uint32 // of the IAM
	DPC  *uint32
	CIC  *uint32
	Rule string // any alert of the call

	Limit int // at most this many calls (0: no limit)
	// Newest returns the newest calls first (and, with Limit, the newest
	// Limit calls); by default the oldest come first.
	Newest bool
}

// CallResult is one call as retained: its ladder of messages in capture-time
// order (the first is the IAM unless the IAM itself is gone), the call record
// when analysis produced one, and its alerts.
type CallResult struct {
	Ref    Ref
	Call   *analysis.Call
	Alerts []analysis.Alert
	Ladder []Message
}

// IAM returns the message that opened the call (nil if not retained).
func (c *CallResult) IAM() *Message {
	for i := range c.Ladder {
		if c.Ladder[i].Ref == c.Ref {
			return &c.Ladder[i]
		}
	}
	return nil
}

// Start is the call's start time: its IAM's timestamp or the record's.
func (c *CallResult) Start() int64 {
	if m := c.IAM(); m != nil {
		return m.TS
	}
	if c.Call != nil {
		return c.Call.Start
	}
	if len(c.Ladder) > 0 {
		return c.Ladder[0].TS
	}
	if len(c.Alerts) > 0 {
		return c.Alerts[0].TS
	}
	return 0
}

// partData is what queries read from a partition: a sealed segment, or the
// open partition's log in memory (memPart).
type partData interface {
	// lookup calls fn for the entries of a section whose key starts with
	// prefix (memPart: exactly prefix); keys and values are valid during the call.
	lookup(name string, prefix []byte, fn func(key, val []byte) error) error
	// scan calls fn for every entry of a section.
	scan(name string, fn func(key, val []byte) error) error
	// message returns the message with the given ordinal.
	message(ord uint32) (*Message, error)
}

// partView is one partition as a query sees it.
type partView struct {
	seq          uint32
	minTS, maxTS int64
	path         string   // sealed segment
	sha          string   // its SHA-256 (manifest)
	mem          *memPart // open partition
	seg          *segment
	f            *os.File
}

// open reads the partition's table of contents on first use; sc holds the
// buffers the snapshot's segments share.
func (v *partView) open(s *Store, sc *scratch) (partData, error) {
	if v.mem != nil {
		return v.mem, nil
	}
	if v.seg != nil {
		return v.seg, nil
	}
	if v.sha != "" {
		seg, err := s.segs.open(s, v.path, v.sha, sc)
		if err != nil {
			return nil, fmt.Errorf("retention: %s: %w", v.path, err)
		}
		v.seg = seg
		return seg, nil
	}
	defer func() {
		if v.seg != nil {
			v.seg.scratch = sc
		}
	}()
	f, err := os.Open(v.path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	v.f = f
	v.seg, err = openSegment(f, st.Size(), s.dec)
	if err != nil {
		return nil, fmt.Errorf("retention: %s: %w", v.path, err)
	}
	return v.seg, nil
}

type snapshot struct {
	views   []*partView
	bySeq   map[uint32]int
	scratch scratch
}

func (sn *snapshot) close() {
	for _, v := range sn.views {
		if v.f != nil {
			v.f.Close()
		}
	}
}

func (sn *snapshot) inRange(v *partView, from, to int64) bool {
	if to != 0 && v.minTS >= to {
		return false
	}
	return from == 0 || v.maxTS >= from
}

// snapshot lists the sealed partitions and takes a view of the open ones.
// The writer's lock is held only to copy the partition list and the open
// log's chunk list; indexing happens afterwards under the readers' own lock.
func (s *Store) snapshot() (*snapshot, error) {
	var wals []uint32
	s.mu.Lock()
	if s.opt.ReadOnly {
		// A writer may have sealed or removed partitions since Open.
		var err error
		if wals, err = s.refresh(); err != nil {
			s.mu.Unlock()
			return nil, err
		}
	}
	// Elements of parts are never modified in place (removal reslices,
	// sealing appends), so the list is read after the lock is released.
	parts := s.parts[:len(s.parts):len(s.parts)]
	var logs []openLog
	if !s.opt.ReadOnly {
		logs = s.openLogs()
	}
	s.mu.Unlock()

	sn := &snapshot{bySeq: map[uint32]int{}}
	sealed := make(map[uint32]bool, len(parts))
	for _, p := range parts {
		sn.views = append(sn.views, &partView{seq: p.Seq, minTS: p.MinTS, maxTS: p.MaxTS, path: segPath(s.dir, p.Seq), sha: p.SHA256})
		sealed[p.Seq] = true
	}

	s.mem.Lock()
	defer s.mem.Unlock()
	s.memc.prune(logs)
	for _, log := range logs {
		if sealed[log.seq] {
			continue
		}
		p, err := s.memc.part(log)
		if err != nil {
			return nil, err
		}
		sn.views = append(sn.views, &partView{seq: log.seq, minTS: log.minTS, maxTS: log.maxTS, mem: p})
	}
	if s.opt.ReadOnly {
		// Another process writes these logs; they are read as they are
		// (listed by refresh, with the manifests).
		open := wals[:0]
		for _, seq := range wals {
			if !sealed[seq] { // sealed between the two listings
				open = append(open, seq)
			}
		}
		for _, p := range s.memc.readOnlyParts(s.dir, open) {
			sum := p.summary()
			sn.views = append(sn.views, &partView{seq: p.seq, minTS: sum.MinTS, maxTS: sum.MaxTS, mem: p})
		}
	}
	sort.Slice(sn.views, func(i, j int) bool { return sn.views[i].seq < sn.views[j].seq })
	for i, v := range sn.views {
		sn.bySeq[v.seq] = i
	}
	return sn, nil
}

func refKey(r Ref) []byte { return binary.BigEndian.AppendUint64(nil, uint64(r)) }

// QueryCalls returns the calls matching q, oldest first (newest first with
// q.Newest).
func (s *Store) QueryCalls(q Query) ([]CallResult, error) {
	return s.QueryCallsContext(context.Background(), q)
}

// QueryCallsContext is QueryCalls that stops, returning ctx's error, when
// ctx is done.
func (s *Store) QueryCallsContext(ctx context.Context, q Query) ([]CallResult, error) {
	sn, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	defer sn.close()
	return s.queryCalls(ctx, sn, q)
}

// queryCalls walks the partitions of the range in order, finds each one's
// candidate calls through the number index, the summary (rule, partner)
// or its ladders (time range only), and assembles them until Limit calls
// match: a listing reads only as many partitions as it needs.
func (s *Store) queryCalls(ctx context.Context, sn *snapshot, q Query) ([]CallResult, error) {
	cc := &canceller{ctx: ctx}
	views := make([]*partView, 0, len(sn.views))
	for _, v := range sn.views {
		if sn.inRange(v, q.From, q.To) {
			views = append(views, v)
		}
	}
	if q.Newest {
		slices.Reverse(views)
	}
	seen := map[Ref]bool{}
	var out []CallResult
	full := func() bool { return q.Limit > 0 && len(out) >= q.Limit }
	// A call's record may be stored a partition after its IAM: put the
	// result in Ref order (alerts without a call last).
	defer func() {
		slices.SortStableFunc(out, func(a, b CallResult) int {
			switch {
			case a.Ref == 0 || b.Ref == 0:
				return cmpBool(a.Ref == 0, b.Ref == 0)
			case q.Newest:
				return cmp.Compare(b.Ref, a.Ref)
			}
			return cmp.Compare(a.Ref, b.Ref)
		})
	}()
	var cands []Ref
	var nf *numberFilter
	if len(q.Numbers) > 0 {
		nf = newNumberFilter(s, q.Numbers)
		defer nf.close()
	}
	for _, v := range views {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if nf != nil && !nf.maybe(v) {
			continue
		}
		seg, err := v.open(s, &sn.scratch)
		if err != nil {
			return nil, err
		}
		cands = cands[:0]
		var loose []analysis.Alert
		add := func(r Ref) {
			if !seen[r] {
				seen[r] = true
				cands = append(cands, r)
			}
		}
		switch {
		case len(q.Numbers) > 0:
			for _, num := range q.Numbers {
				err = seg.lookup(secNumbers, []byte(num), func(k, val []byte) error {
					if string(k) != num {
						return nil
					}
					r := reader{b: val}
					var ref Ref
					for len(r.b) > 0 {
						ref += Ref(r.uvarint())
						role := Role(r.byte1())
						if r.err != nil {
							return r.err
						}
						if q.Roles.Has(role) {
							add(ref)
						}
					}
					return nil
				})
				if err != nil {
					break
				}
			}
		case q.Rule != "":
			err = ruleCandidates(seg, q.Rule, cc, add, func(a *analysis.Alert) { loose = append(loose, *a) })
		case q.Partner != "":
			err = partnerCandidates(seg, q.Partner, cc, add)
		default:
			// Every call (and every message outside a call) has a ladder entry
			// keyed by its own Ref in its own partition.
			err = seg.scan(secLadders, func(k, _ []byte) error {
				if err := cc.check(); err != nil {
					return err
				}
				if ref := Ref(binary.BigEndian.Uint64(k)); ref.Seq() == v.seq {
					add(ref)
				}
				return nil
			})
		}
		if err != nil {
			return nil, err
		}
		slices.Sort(cands)
		if q.Newest {
			slices.Reverse(cands)
		}
		for _, ref := range cands {
			if err := cc.check(); err != nil {
				return nil, err
			}
			res, err := s.assemble(sn, ref)
			if err != nil {
				return nil, err
			}
			if !matches(&res, &q) {
				continue
			}
			out = append(out, res)
			if full() {
				return out, nil
			}
		}
		for _, a := range loose {
			res := CallResult{Alerts: []analysis.Alert{a}}
			if matches(&res, &q) {
				out = append(out, res)
				if full() {
					return out, nil
				}
			}
		}
	}
	return out, nil
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func inTime(ts, from, to int64) bool {
	return (from == 0 || ts >= from) && (to == 0 || ts < to)
}

// assemble collects a call's ladder, record and alerts. Its messages may run
// on into the following partitions; the call record and alerts are written
// when analysis emits them, so they are looked for a little further still.
func (s *Store) assemble(sn *snapshot, ref Ref) (CallResult, error) {
	res := CallResult{Ref: ref}
	i, ok := sn.bySeq[ref.Seq()]
	if !ok {
		// The IAM's partition was removed; its call may still be later.
		i = sort.Search(len(sn.views), func(j int) bool { return sn.views[j].seq > ref.Seq() })
	}
	key := refKey(ref)
	last := i
	for j := i; j < len(sn.views); j++ {
		seg, err := sn.views[j].open(s, &sn.scratch)
		if err != nil {
			return res, err
		}
		found := false
		err = seg.lookup(secLadders, key, func(_, val []byte) error {
			found = true
			r := reader{b: val}
			n := r.uvarint()
			var ord uint32
			for k := uint64(0); k < n && r.err == nil; k++ {
				ord += uint32(r.uvarint())
				m, err := seg.message(ord)
				if err != nil {
					return err
				}
				cp := *m
				cp.Call = ref
				res.Ladder = append(res.Ladder, cp)
			}
			return r.err
		})
		if err != nil {
			return res, err
		}
		if !found && j > i {
			// A restart seals the open partition and begins another for the
			// same hour: a partition that overlaps this one in capture time
			// may still hold the rest of the call.
			if j+1 < len(sn.views) && sn.views[j+1].minTS <= sn.views[j].maxTS {
				continue
			}
			break
		}
		last = j
	}
	for j := i; j < len(sn.views) && j <= last+2; j++ {
		seg, err := sn.views[j].open(s, &sn.scratch)
		if err != nil {
			return res, err
		}
		err = seg.lookup(secCalls, key, func(_, val []byte) error {
			c, err := decodeCall(val)
			if err == nil && res.Call == nil {
				res.Call = c
			}
			return err
		})
		if err != nil {
			return res, err
		}
		err = seg.lookup(secAlerts, key, func(_, val []byte) error {
			a, err := decodeAlert(val)
			if err == nil {
				res.Alerts = append(res.Alerts, *a)
			}
			return err
		})
		if err != nil {
			return res, err
		}
	}
	sort.SliceStable(res.Ladder, func(a, b int) bool { return res.Ladder[a].TS < res.Ladder[b].TS })
	return res, nil
}

func matches(res *CallResult, q *Query) bool {
	if !inTime(res.Start(), q.From, q.To) {
		return false
	}
	iam := res.IAM()
	if q.Partner != "" {
		ok := res.Call != nil && res.Call.Partner == q.Partner
		for _, a := range res.Alerts {
			ok = ok || a.Partner == q.Partner
		}
		if !ok {
			return false
		}
	}
	if q.Link != "" && !matchLink(res, iam, q.Link) {
		return false
	}
	pc := func(want *uint32, fromIAM func(*Message) uint32, fromCall func(*analysis.Call) uint32) bool {
		if want == nil {
			return true
		}
		if iam != nil {
			return fromIAM(iam) == *want
		}
		return res.Call != nil && fromCall(res.Call) == *want
	}
	if !pc(q.OPC, func(m *Message) uint32 { return m.Label.OPC }, func(c *analysis.Call) uint32 { return c.OPC }) ||
		!pc(q.DPC, func(m *Message) uint32 { return m.Label.DPC }, func(c *analysis.Call) uint32 { return c.DPC }) ||
		!pc(q.CIC, func(m *Message) uint32 { return m.CIC }, func(c *analysis.Call) uint32 { return c.CIC }) {
		return false
	}
	if q.Rule != "" {
		ok := false
		for _, a := range res.Alerts {
			ok = ok || a.Rule == q.Rule
		}
		if !ok {
			return false
		}
	}
	return true
}

func matchLink(res *CallResult, iam *Message, link string) bool {
	if res.Call != nil && res.Call.Link == link {
		return true
	}
	if iam == nil {
		return false
	}
	if iam.Source == link || LinkName(iam) == link {
		return true
	}
	for _, ap := range [...]string{iam.Src.String(), iam.Dst.String(), iam.Src.Addr().String(), iam.Dst.Addr().String()} {
		if ap == link {
			return true
		}
	}
	return false
}

// LinkName is how a message's link is written: "src>dst" for SIGTRAN, the
// capture source and MTP2 link number otherwise.
func LinkName(m *Message) string {
	if m.Src.IsValid() {
		return m.Src.String() + ">" + m.Dst.String()
	}
	return fmt.Sprintf("%s/%d", m.Source, m.Link)
}

// Bounds of a number an investigator may look up.
const (
	minLookupDigits = 3
	maxLookupDigits = 32
)

// ParseNumber checks a number an investigator typed and returns its digits.
// The usual human decoration (a leading +, spaces, dashes, dots, brackets) is
// dropped; anything else, a letter for instance, is an error that says what
// is wrong, so a typo is never silently looked up as another number. The CLI
// and the web API share it.
func ParseNumber(s string) (string, error) {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0, r == ' ', r == '-', r == '.', r == '(', r == ')':
		default:
			return "", fmt.Errorf("number %q: only digits, a leading +, spaces, dashes, dots and brackets are accepted", s)
		}
	}
	d := b.String()
	if len(d) < minLookupDigits || len(d) > maxLookupDigits {
		return "", fmt.Errorf("number %q: want %d to %d digits, got %d", s, minLookupDigits, maxLookupDigits, len(d))
	}
	return d, nil
}

// NumberForms returns the ways a number may be signalled, so a lookup finds it
// whatever nature of address the sender used: as given, national significant
// number, with the trunk prefix, with the country code, and with the
// international prefix. cc is the country code (e.g. "86"); empty gives the
// digits alone.
func NumberForms(num, cc string) []string {
	digits := make([]byte, 0, len(num))
	for i := 0; i < len(num); i++ {
		if c := num[i]; c >= '0' && c <= '9' || c >= 'A' && c <= 'F' {
			digits = append(digits, c)
		}
	}
	d := string(digits)
	if cc == "" || d == "" {
		return []string{d}
	}
	nsn := d
	switch {
	case len(d) > 2+len(cc) && d[:2] == "00" && d[2:2+len(cc)] == cc:
		nsn = d[2+len(cc):]
	case len(d) > len(cc)+6 && d[:len(cc)] == cc:
		nsn = d[len(cc):]
	case len(d) > 1 && d[0] == '0' && d[1] != '0':
		nsn = d[1:]
	}
	forms := []string{d, nsn, "0" + nsn, cc + nsn, "00" + cc + nsn}
	seen := map[string]bool{}
	out := forms[:0]
	for _, f := range forms {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// refresh brings a read-only store's list of sealed partitions up to date.
// It returns the open logs listed with them.
func (s *Store) refresh() ([]uint32, error) {
	mseqs, wseqs, err := listSeqs2(s.dir, ".manifest", ".wal")
	if err != nil {
		return nil, err
	}
	known := make(map[uint32]partInfo, len(s.parts))
	for _, p := range s.parts {
		known[p.Seq] = p
	}
	parts := make([]partInfo, 0, len(mseqs))
	var mb []byte
	for _, seq := range mseqs {
		if p, ok := known[seq]; ok {
			parts = append(parts, p)
			continue
		}
		mb, err = readManifestFile(manifestPath(s.dir, seq), mb)
		if err != nil {
			continue // removed by retention meanwhile
		}
		var p partInfo
		if err := json.Unmarshal(mb, &p.Manifest); err != nil {
			return nil, fmt.Errorf("retention: manifest %d: %w", seq, err)
		}
		p.Seq, p.hash = seq, sha256Hex(mb)
		parts = append(parts, p)
	}
	s.parts = parts
	return wseqs, nil
}
