package retention

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"slices"

	"github.com/gatewarden/gatewarden/analysis"
)

// The summary section of a segment lists, per partner and per alert rule,
// the calls of the partition that have them, so a query by partner or rule
// reads one index entry per partition instead of decoding every call
// record or alert. It is built at seal time from the calls and alerts
// sections. Keys: sumPartner + partner name (of a call record or an
// alert), sumRule + rule ID; values: the call Refs, ascending, as varint
// deltas (Ref 0: an alert not tied to a retained IAM). Segments sealed
// before the section existed have no "sum" section; their partitions, and
// the open partition (held in memory), are scanned as before.
const (
	secSummary = "sum"
	sumPartner = 'p'
	sumRule    = 'r'
)

// callPartner reads the partner of an encoded call record without decoding
// the rest (see appendCall).
func callPartner(val []byte) ([]byte, error) {
	r := reader{b: val}
	r.bytes()  // ID
	r.varint() // start
	for range 4 {
		r.uvarint() // alerting, answer, release, end
	}
	r.bytesN(7) // outcome, cause, released by, direction, category, redirection counter, redirected
	p := r.bytes()
	return p, r.err
}

// alertRulePartner reads an encoded alert's rule and partner (see appendAlert).
func alertRulePartner(val []byte) (rule, partner []byte, err error) {
	r := reader{b: val}
	r.varint()
	rule = r.bytes()
	r.bytesN(3)
	partner = r.bytes()
	return rule, partner, r.err
}

func refOfKey(k []byte) Ref {
	if len(k) < 8 {
		return 0
	}
	return Ref(binary.BigEndian.Uint64(k))
}

// buildSummary makes the summary section's entries, sorted by key.
func buildSummary(calls, alerts []kv) []kv {
	type post struct {
		key []byte
		ref Ref
	}
	var posts []post
	add := func(kind byte, name []byte, ref Ref) {
		k := make([]byte, 0, 1+len(name))
		posts = append(posts, post{append(append(k, kind), name...), ref})
	}
	for _, c := range calls {
		if p, err := callPartner(c.val); err == nil {
			add(sumPartner, p, refOfKey(c.key))
		}
	}
	for _, a := range alerts {
		if rule, p, err := alertRulePartner(a.val); err == nil {
			ref := refOfKey(a.key)
			add(sumRule, rule, ref)
			if ref != 0 {
				add(sumPartner, p, ref)
			}
		}
	}
	slices.SortFunc(posts, func(a, b post) int {
		if c := bytes.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.ref, b.ref)
	})
	var out []kv
	for i := 0; i < len(posts); {
		j := i
		var val []byte
		prev := Ref(0)
		for ; j < len(posts) && bytes.Equal(posts[j].key, posts[i].key); j++ {
			if j > i && posts[j].ref == posts[j-1].ref {
				continue
			}
			val = appendUvarint(val, uint64(posts[j].ref-prev))
			prev = posts[j].ref
		}
		out = append(out, kv{key: posts[i].key, val: val})
		i = j
	}
	return out
}

// summaryOf returns the partition's summary reader, or nil when it has none
// (the open partition, or a segment sealed before summaries existed).
func summaryOf(pd partData) *segment {
	if seg, ok := pd.(*segment); ok {
		if _, has := seg.sections[secSummary]; has {
			return seg
		}
	}
	return nil
}

// summaryRefs calls fn for each Ref listed under key in the summary.
func summaryRefs(seg *segment, key []byte, fn func(Ref)) error {
	return seg.lookup(secSummary, key, func(k, val []byte) error {
		if !bytes.Equal(k, key) {
			return nil
		}
		r := reader{b: val}
		var ref Ref
		for len(r.b) > 0 {
			ref += Ref(r.uvarint())
			if r.err != nil {
				return r.err
			}
			fn(ref)
		}
		return nil
	})
}

// checkEvery is how many index entries a scan handles between checks of
// its context: often enough to stop within milliseconds, rarely enough to
// cost nothing measurable.
const checkEvery = 256

// canceller counts entries and reports the context's error every checkEvery.
type canceller struct {
	ctx context.Context
	n   int
}

func (c *canceller) check() error {
	if c.n++; c.n%checkEvery == 0 {
		return c.ctx.Err()
	}
	return nil
}

// partnerCandidates lists the calls of one partition whose record or an
// alert names partner: from the summary when there is one, else by reading
// only the partner of each call record and alert.
func partnerCandidates(pd partData, partner string, cc *canceller, add func(Ref)) error {
	if seg := summaryOf(pd); seg != nil {
		return summaryRefs(seg, append([]byte{sumPartner}, partner...), add)
	}
	err := pd.scan(secCalls, func(k, val []byte) error {
		if err := cc.check(); err != nil {
			return err
		}
		p, err := callPartner(val)
		if err == nil && string(p) == partner {
			add(refOfKey(k))
		}
		return err
	})
	if err != nil {
		return err
	}
	return pd.scan(secAlerts, func(k, val []byte) error {
		if err := cc.check(); err != nil {
			return err
		}
		_, p, err := alertRulePartner(val)
		if ref := refOfKey(k); err == nil && ref != 0 && string(p) == partner {
			add(ref)
		}
		return err
	})
}

// ruleCandidates lists the calls of one partition with an alert of rule,
// and the alerts of that rule tied to no retained call (loose).
func ruleCandidates(pd partData, rule string, cc *canceller, add func(Ref), loose func(*analysis.Alert)) error {
	needLoose := true
	if seg := summaryOf(pd); seg != nil {
		needLoose = false
		err := summaryRefs(seg, append([]byte{sumRule}, rule...), func(ref Ref) {
			if ref == 0 {
				needLoose = true
			} else {
				add(ref)
			}
		})
		if err != nil || !needLoose {
			return err
		}
	}
	return pd.scan(secAlerts, func(k, val []byte) error {
		if err := cc.check(); err != nil {
			return err
		}
		r, _, err := alertRulePartner(val)
		if err != nil || string(r) != rule {
			return err
		}
		if ref := refOfKey(k); ref != 0 {
			add(ref)
			return nil
		}
		a, err := decodeAlert(val)
		if err == nil {
			loose(a)
		}
		return err
	})
}
