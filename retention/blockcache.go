package retention

import (
	"os"
	"sync"
)

// Caches shared by every query of a Store. An investigator's search and the
// call pages that follow read the same segments, blocks and index chunks;
// each open, decompression and decode costs the query time and allocation the
// writer pays for in garbage collection. Sealed segments never change, and
// they are named by their SHA-256 (from the manifest), so a partition
// sequence number reused by a new data directory cannot serve stale data.

// decodedCache keeps decoded message blocks and decompressed index chunks,
// least recently used out first, within a byte budget.
type decodedCache struct {
	mu    sync.Mutex
	tick  uint64
	bytes int
	items map[decodedID]*decodedItem
}

// decodedBudget bounds the decoded cache (a block is ~0.4 MB, a chunk ~0.1 MB).
const decodedBudget = 32 << 20

type decodedID struct {
	segment string
	block   bool   // a message block, else an index chunk
	index   uint64 // block number, or the chunk's offset
}

type decodedItem struct {
	val  any // *block or []byte
	size int
	used uint64
}

func (c *decodedCache) get(id decodedID) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.items[id]
	if e == nil {
		return nil
	}
	c.tick++
	e.used = c.tick
	return e.val
}

func (c *decodedCache) put(id decodedID, val any, size int) {
	if size > decodedBudget/8 {
		return // damaged or unusual: not worth evicting everything for
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items = map[decodedID]*decodedItem{}
	}
	if old := c.items[id]; old != nil {
		c.bytes -= old.size
	}
	for c.bytes+size > decodedBudget && len(c.items) > 0 {
		var oldest decodedID
		used := ^uint64(0)
		for k, e := range c.items {
			if e.used < used {
				oldest, used = k, e.used
			}
		}
		c.bytes -= c.items[oldest].size
		delete(c.items, oldest)
	}
	c.tick++
	c.items[id] = &decodedItem{val: val, size: size, used: c.tick}
	c.bytes += size
}

// blockRowBytes is the size of a blockRow in memory (unsafe.Sizeof).
const blockRowBytes = 48

func (b *block) size() int { return len(b.rows)*blockRowBytes + len(b.mtp3) + len(b.assocs)*128 }

// segmentCache keeps sealed segments open with their tables of contents
// parsed. An evicted segment's file is closed by the garbage collector once
// no query holds it (os.File closes itself when unreachable), so eviction
// never pulls a file from under a running query.
type segmentCache struct {
	mu    sync.Mutex
	tick  uint64
	items map[string]*cachedSegment
}

const openSegments = 64

type cachedSegment struct {
	seg  *segment // shared fields only: file, size, seq, blocks, sections
	f    *os.File
	used uint64
}

// open returns the segment at path, whose SHA-256 is sha, for one query:
// a copy with the query's own block map and scratch buffers.
func (c *segmentCache) open(s *Store, path, sha string, sc *scratch) (*segment, error) {
	c.mu.Lock()
	e := c.items[sha]
	if e != nil {
		c.tick++
		e.used = c.tick
	}
	c.mu.Unlock()
	if e == nil {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		seg, err := openSegment(f, st.Size(), s.dec)
		if err != nil {
			f.Close()
			return nil, err
		}
		seg.shared, seg.id = &s.decoded, sha
		e = &cachedSegment{seg: seg, f: f}
		c.mu.Lock()
		if c.items == nil {
			c.items = map[string]*cachedSegment{}
		}
		if len(c.items) >= openSegments {
			var oldest string
			used := ^uint64(0)
			for k, x := range c.items {
				if x.used < used {
					oldest, used = k, x.used
				}
			}
			delete(c.items, oldest)
		}
		c.tick++
		e.used = c.tick
		c.items[sha] = e
		c.mu.Unlock()
	}
	cp := *e.seg
	cp.cache, cp.scratch = map[int]*block{}, sc
	return &cp, nil
}

// forget closes the cached segment sha (retention removed it): on a full
// disk its space must come back now, not when the garbage collector runs. A
// query still reading it gets an error instead of the removed data.
func (c *segmentCache) forget(sha string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.items[sha]; e != nil {
		e.f.Close()
		delete(c.items, sha)
	}
}

// closeAll closes every cached segment (the store is closing).
func (c *segmentCache) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for sha, e := range c.items {
		e.f.Close()
		delete(c.items, sha)
	}
}
