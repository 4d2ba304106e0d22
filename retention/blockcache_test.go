package retention

import (
	"reflect"
	"testing"
	"time"
)

// Queries share open segments and their decoded blocks and index chunks: a
// repeated query opens and decodes nothing and answers the same.
func TestQueryCachesShared(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, Options{})
	calls := fill(t, w, newGenerator(31, t0, int64(2*time.Second)), 1500)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	q := Query{Numbers: []string{calls[700].called}}
	first, err := r.QueryCalls(q)
	if err != nil || len(first) == 0 {
		t.Fatalf("%v %d", err, len(first))
	}
	if len(r.decoded.items) == 0 || len(r.segs.items) == 0 {
		t.Fatal("nothing cached")
	}
	r.decoded = decodedCache{} // forgotten: decoded again
	again, err := r.QueryCalls(q)
	if err != nil || !reflect.DeepEqual(first, again) {
		t.Fatalf("second query differs: %v", err)
	}
	n, tick, segs := len(r.decoded.items), r.decoded.tick, len(r.segs.items)
	cached, err := r.QueryCalls(q) // served from the caches this time
	if err != nil || !reflect.DeepEqual(first, cached) {
		t.Fatalf("cached query differs: %v", err)
	}
	if len(r.decoded.items) != n || r.decoded.tick <= tick || len(r.segs.items) != segs {
		t.Fatalf("cache grew: %d -> %d items, %d -> %d segments", n, len(r.decoded.items), segs, len(r.segs.items))
	}
	// A block number means nothing for another segment.
	for id := range r.decoded.items {
		id.segment = "other"
		if r.decoded.get(id) != nil {
			t.Fatal("served for another segment")
		}
	}
}

// The decoded cache stays within its byte budget, least recently used out.
func TestDecodedCacheBudget(t *testing.T) {
	var c decodedCache
	const size = decodedBudget / 16
	for i := 0; i < 16; i++ {
		c.put(decodedID{"s", true, uint64(i)}, i, size)
	}
	c.get(decodedID{"s", true, 0}) // recently used: survives
	c.put(decodedID{"s", true, 16}, 16, size)
	if c.bytes > decodedBudget || len(c.items) != 16 {
		t.Fatalf("%d bytes in %d items", c.bytes, len(c.items))
	}
	if c.get(decodedID{"s", true, 0}) == nil || c.get(decodedID{"s", true, 1}) != nil {
		t.Fatal("evicted the wrong item")
	}
	c.put(decodedID{"s", false, 99}, 0, decodedBudget)
	if c.get(decodedID{"s", false, 99}) != nil {
		t.Fatal("an oversized item evicted the cache")
	}
}
