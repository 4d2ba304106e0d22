package retention

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/gatewarden/gatewarden/internal/fnv1a"
)

// The number index lets a number lookup skip the partitions that cannot
// hold the number without opening their segments: with six months of hourly
// partitions (4 320) opening every segment's table of contents and reading
// one index chunk of each cost most of a lookup.
//
// It is one blocked Bloom filter per sealed partition over the digits (as
// signalled) of the segment's number section, kept outside the segments in
// one file per group of numIndexGroup consecutive partitions (a day of
// hourly partitions): numbers-NNNNNNNN.nix, NNNNNNNN the group's first
// sequence number. A file is a sequence of entries, each a fixed header
//
//	magic "GWNX" | seq u32 | blocks u32 | keys u32 | segment SHA-256 [32] | CRC-32C of the above u32
//
// then blocks filter blocks of numIndexBlock bytes: numIndexBits bits, then
// the CRC-32C of those bits, the partition's sequence number and the
// block's index (a block read from the wrong place fails its check).
//
// The index is derived data, never evidence and never trusted over the
// segments: an entry is used only for the partition whose manifest names the
// same segment SHA-256; a filter answers only "absent" or "maybe" (maybe:
// the segment is read as before); a damaged header ends the reading of its
// file and a damaged block answers "maybe", so damage costs speed, never a
// result. Partitions without a usable entry (sealed before the index
// existed, a lost or damaged file, the open partition) are read as before.
// Sealing appends the entry after CHAIN names the partition, first cutting
// a torn or damaged tail; a writer that opens a store rebuilds missing
// entries from the segments in the background.
// Retention deletes a group's file once all of its partitions are removed.
// `verify` does not read the index: it proves nothing about the evidence.
const (
	numIndexGroup  = 24
	numIndexBlock  = 64
	numIndexBits   = (numIndexBlock - 4) * 8 // 480
	numIndexProbes = 7
	// numIndexKeysPerBlock sizes a filter at 12 bits per number: about 1 %
	// false "maybe" answers.
	numIndexKeysPerBlock = numIndexBits / 12
	numIndexHeader       = 4 + 4 + 4 + 4 + 32 + 4
	numIndexSuffix       = ".nix"
)

var numIndexMagic = [4]byte{'G', 'W', 'N', 'X'}

var errNumIndex = errors.New("retention: number index entry damaged")

func numIndexPath(dir string, seq uint32) string {
	return filepath.Join(dir, fmt.Sprintf("numbers-%08d%s", seq/numIndexGroup*numIndexGroup, numIndexSuffix))
}

// numIndexSuffixDigits is how many trailing digits choose a number's block:
// the national, trunk-prefix and international forms of a number
// (NumberForms) share them, so a lookup reads one block per partition.
const numIndexSuffixDigits = 8

// stableNumberHash is the number's key in a filter: the high half (the
// block) from its last numIndexSuffixDigits digits, the low half (the
// bits) from all of them.
func stableNumberHash(digits []byte) uint64 {
	suffix := digits[max(0, len(digits)-numIndexSuffixDigits):]
	return fnv1a.Sum64(suffix)&^0xffffffff | fnv1a.Sum64(digits)&0xffffffff
}

// numberProbes returns the block of a hash among n and calls fn with the
// bits it sets there.
func numberProbes(h uint64, n uint32, fn func(bit uint32) bool) uint32 {
	blk := uint32((h >> 32) * uint64(n) >> 32)
	h1 := uint32(h)
	h2 := uint32(uint64(h1)*0x9E3779B97F4A7C15>>32) | 1
	for i := uint32(0); i < numIndexProbes; i++ {
		if !fn((h1 + i*h2) % numIndexBits) {
			break
		}
	}
	return blk
}

func numberBlock(h uint64, n uint32) uint32 { return uint32((h >> 32) * uint64(n) >> 32) }

func blockCRC(bits []byte, seq, blk uint32) uint32 {
	var t [8]byte
	binary.LittleEndian.PutUint32(t[:], seq)
	binary.LittleEndian.PutUint32(t[4:], blk)
	return crc32.Update(crc32.Checksum(bits, castagnoli), castagnoli, t[:])
}

// buildNumberFilter makes a partition's filter blocks from its number keys.
func buildNumberFilter(seq uint32, keys [][]byte) []byte {
	n := uint32(max(1, (len(keys)+numIndexKeysPerBlock-1)/numIndexKeysPerBlock))
	out := make([]byte, int(n)*numIndexBlock)
	for _, k := range keys {
		h := stableNumberHash(k)
		var bits [numIndexProbes]uint32
		i := 0
		blk := numberProbes(h, n, func(b uint32) bool { bits[i] = b; i++; return true })
		b := out[int(blk)*numIndexBlock:]
		for _, bit := range bits {
			b[bit/8] |= 1 << (bit % 8)
		}
	}
	for blk := uint32(0); blk < n; blk++ {
		b := out[int(blk)*numIndexBlock : int(blk+1)*numIndexBlock]
		binary.LittleEndian.PutUint32(b[numIndexBits/8:], blockCRC(b[:numIndexBits/8], seq, blk))
	}
	return out
}

// appendNumberEntry encodes one entry: header then filter blocks.
func appendNumberEntry(dst []byte, seq uint32, keys int, sha [32]byte, filter []byte) []byte {
	start := len(dst)
	dst = append(dst, numIndexMagic[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, seq)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(filter)/numIndexBlock))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(keys))
	dst = append(dst, sha[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
	return append(dst, filter...)
}

// numEntry locates one partition's filter in its group file.
type numEntry struct {
	sha    string // hex, as in the manifest
	off    int64  // of the first block
	blocks uint32
	// filter holds the blocks of a small filter once read (they are
	// immutable once appended); nil until then and for large filters.
	filter []byte
}

// numIndexSmall is the largest filter read whole in one read (and kept in
// memory by the store): 8 blocks, ~320 numbers. Larger filters are read a
// block per number form.
const numIndexSmall = 8 * numIndexBlock

// parseNumberHeader reads one entry header.
func parseNumberHeader(h []byte) (seq, blocks uint32, sha [32]byte, err error) {
	if len(h) < numIndexHeader || [4]byte(h[:4]) != numIndexMagic ||
		crc32.Checksum(h[:numIndexHeader-4], castagnoli) != binary.LittleEndian.Uint32(h[numIndexHeader-4:]) {
		return 0, 0, sha, errNumIndex
	}
	seq = binary.LittleEndian.Uint32(h[4:])
	blocks = binary.LittleEndian.Uint32(h[8:])
	copy(sha[:], h[16:48])
	if blocks == 0 {
		return 0, 0, sha, errNumIndex
	}
	return seq, blocks, sha, nil
}

// readNumberEntries walks a group file's headers from off, calling fn for
// each whole entry; it stops at the end, at a torn entry or at a damaged
// header, and returns the offset after the last whole entry.
func readNumberEntries(ra io.ReaderAt, size, off int64, fn func(seq uint32, e numEntry)) int64 {
	var h [numIndexHeader]byte
	for off+numIndexHeader <= size {
		if _, err := ra.ReadAt(h[:], off); err != nil {
			return off
		}
		seq, blocks, sha, err := parseNumberHeader(h[:])
		end := off + numIndexHeader + int64(blocks)*numIndexBlock
		if err != nil || end > size {
			return off
		}
		fn(seq, numEntry{sha: hex.EncodeToString(sha[:]), off: off + numIndexHeader, blocks: blocks})
		off = end
	}
	return off
}

// numberMaybe reports whether the filter block of h can hold it: false only
// when the block is whole and lacks a bit of h.
func numberMaybe(block []byte, seq, blk uint32, h uint64) bool {
	if len(block) != numIndexBlock || blockCRC(block[:numIndexBits/8], seq, blk) != binary.LittleEndian.Uint32(block[numIndexBits/8:]) {
		return true
	}
	maybe := true
	numberProbes(h, 1, func(bit uint32) bool {
		maybe = block[bit/8]&(1<<(bit%8)) != 0
		return maybe
	})
	return maybe
}

// numIndex is a store's view of its number index files: the entries read
// so far, per group file, and the lock that serialises appends.
type numIndex struct {
	mu     sync.Mutex // appends and deletions (writer, rebuild, removal)
	rmu    sync.Mutex // groups
	groups map[uint32]*numGroup
}

type numGroup struct {
	read    int64 // bytes of the file parsed
	entries map[uint32]numEntry
}

// entry returns the usable entry of partition seq whose segment has sha,
// reading what was appended to its group file since the last call.
func (x *numIndex) entry(dir string, seq uint32, sha string, f *os.File) (numEntry, bool) {
	x.rmu.Lock()
	defer x.rmu.Unlock()
	g := seq / numIndexGroup
	if x.groups == nil {
		x.groups = map[uint32]*numGroup{}
	}
	grp := x.groups[g]
	if grp == nil {
		grp = &numGroup{entries: map[uint32]numEntry{}}
		x.groups[g] = grp
	}
	e, ok := grp.entries[seq]
	if !ok || e.sha != sha {
		if st, err := f.Stat(); err == nil {
			if st.Size() < grp.read { // rewritten: start again
				grp.read = 0
				clear(grp.entries)
			}
			grp.read = readNumberEntries(f, st.Size(), grp.read, func(s uint32, e numEntry) { grp.entries[s] = e })
		}
		e, ok = grp.entries[seq]
	}
	return e, ok && e.sha == sha
}

// keep stores an entry with its filter read.
func (x *numIndex) keep(seq uint32, e numEntry) {
	x.rmu.Lock()
	if grp := x.groups[seq/numIndexGroup]; grp != nil {
		if old, ok := grp.entries[seq]; ok && old.sha == e.sha && old.off == e.off {
			grp.entries[seq] = e
		}
	}
	x.rmu.Unlock()
}

// forget drops what was read of a group file (deleted by retention).
func (x *numIndex) forget(g uint32) {
	x.rmu.Lock()
	delete(x.groups, g)
	x.rmu.Unlock()
}

// numberFilter answers, for one query, whether a sealed partition can hold
// any of the query's numbers, opening each group file once.
type numberFilter struct {
	s      *Store
	hashes []uint64
	files  map[uint32]*os.File
	block  [numIndexBlock]byte
	// Skipped counts partitions the index ruled out (for tests).
	skipped int
}

func newNumberFilter(s *Store, numbers []string) *numberFilter {
	f := &numberFilter{s: s, files: map[uint32]*os.File{}}
	for _, n := range numbers {
		f.hashes = append(f.hashes, stableNumberHash([]byte(n)))
	}
	return f
}

func (f *numberFilter) close() {
	for _, fh := range f.files {
		if fh != nil {
			fh.Close()
		}
	}
}

// maybe is false only when the partition's filter rules out every number.
func (f *numberFilter) maybe(v *partView) bool {
	if v.sha == "" || v.mem != nil || f.s.opt.NoNumberIndex {
		return true
	}
	g := v.seq / numIndexGroup
	fh, seen := f.files[g]
	if !seen {
		var err error
		fh, err = os.Open(numIndexPath(f.s.dir, v.seq))
		if os.IsNotExist(err) {
			f.s.nix.forget(g) // removed (or lost): drop what was read of it
		}
		f.files[g] = fh
	}
	if fh == nil {
		return true
	}
	e, ok := f.s.nix.entry(f.s.dir, v.seq, v.sha, fh)
	if !ok {
		return true
	}
	small := int64(e.blocks)*numIndexBlock <= numIndexSmall
	if small && e.filter == nil {
		buf := make([]byte, int(e.blocks)*numIndexBlock)
		if _, err := fh.ReadAt(buf, e.off); err != nil {
			return true
		}
		e.filter = buf
		f.s.nix.keep(v.seq, e)
	}
	read := int64(-1) // the block in f.block
	for _, h := range f.hashes {
		blk := numberBlock(h, e.blocks)
		b := f.block[:]
		if small {
			b = e.filter[int(blk)*numIndexBlock : int(blk+1)*numIndexBlock]
		} else if int64(blk) != read {
			// The forms of a number share a block: one read, usually.
			if _, err := fh.ReadAt(b, e.off+int64(blk)*numIndexBlock); err != nil {
				return true
			}
			read = int64(blk)
		}
		if numberMaybe(b, v.seq, blk, h) {
			return true
		}
	}
	f.skipped++
	return false
}

// addNumberEntry appends partition seq's entry to its group file, unless
// the partition has been removed meanwhile. The index is derived data: it
// is not fsynced (a torn entry is dropped when read and rebuilt at the next
// writer start).
func (s *Store) addNumberEntry(seq uint32, shaHex string, keys int, filter []byte) error {
	var sha [32]byte
	if b, err := hex.DecodeString(shaHex); err != nil || len(b) != len(sha) {
		return fmt.Errorf("retention: partition %d: bad segment hash %q", seq, shaHex)
	} else {
		copy(sha[:], b)
	}
	s.nix.mu.Lock()
	defer s.nix.mu.Unlock()
	if !fileExists(segPath(s.dir, seq)) {
		return nil
	}
	path := numIndexPath(s.dir, seq)
	// A torn or damaged entry (a crash during an append) would hide the
	// entries after it: the file is cut back to its whole entries first.
	if r, err := os.Open(path); err == nil {
		st, err := r.Stat()
		var end int64
		if err == nil {
			end = readNumberEntries(r, st.Size(), 0, func(uint32, numEntry) {})
		}
		r.Close()
		if err == nil && end < st.Size() {
			s.opt.Logf("retention: number index %s: %d damaged bytes at offset %d cut", filepath.Base(path), st.Size()-end, end)
			if err := os.Truncate(path, end); err != nil {
				return err
			}
		}
	}
	f, err := s.opt.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(appendNumberEntry(nil, seq, keys, sha, filter))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeNumberGroup deletes the group file of a removed partition once no
// partition of its group is left (oldest is the oldest partition kept, or
// 0 when none is). Called with mu held, after the segment is deleted.
func (s *Store) removeNumberGroup(removed uint32, oldest uint32, any bool) {
	g := removed / numIndexGroup
	if any && oldest/numIndexGroup == g {
		return
	}
	s.nix.mu.Lock()
	os.Remove(numIndexPath(s.dir, removed))
	s.nix.mu.Unlock()
	s.nix.forget(g)
}

// segmentNumberKeys lists the number keys of a sealed segment.
func segmentNumberKeys(seg *segment) ([][]byte, error) {
	var keys [][]byte
	err := seg.scan(secNumbers, func(k, _ []byte) error {
		keys = append(keys, append([]byte(nil), k...))
		return nil
	})
	return keys, err
}

// missingNumberEntries lists the sealed partitions with no usable entry.
// Called with mu held (writable stores, at open).
func (s *Store) missingNumberEntries() []partInfo {
	var missing []partInfo
	files := map[uint32]*os.File{}
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	for _, p := range s.parts {
		g := p.Seq / numIndexGroup
		f, seen := files[g]
		if !seen {
			f, _ = os.Open(numIndexPath(s.dir, p.Seq))
			files[g] = f
		}
		if f == nil {
			missing = append(missing, p)
			continue
		}
		if _, ok := s.nix.entry(s.dir, p.Seq, p.SHA256, f); !ok {
			missing = append(missing, p)
		}
	}
	return missing
}

// rebuildNumberIndex builds the entries of parts from their segments
// (their number sections), oldest first, until the store closes.
func (s *Store) rebuildNumberIndex(parts []partInfo) {
	defer s.nixWG.Done()
	for _, p := range parts {
		if s.nixStop.Load() {
			return
		}
		if err := s.rebuildNumberEntry(p); err != nil {
			s.opt.Logf("retention: number index of partition %d not rebuilt (lookups read its segment): %v", p.Seq, err)
		}
	}
}

func (s *Store) rebuildNumberEntry(p partInfo) error {
	f, err := os.Open(segPath(s.dir, p.Seq))
	if err != nil {
		if os.IsNotExist(err) {
			return nil // removed meanwhile
		}
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	// The entry is labelled with the manifest's hash: it must describe
	// that segment, not a file altered since.
	sha, _, err := SHA256File(segPath(s.dir, p.Seq))
	if err != nil {
		return err
	}
	if sha != p.SHA256 {
		return fmt.Errorf("segment does not match its manifest (gatewarden verify)")
	}
	seg, err := openSegment(f, st.Size(), s.dec)
	if err != nil {
		return err
	}
	keys, err := segmentNumberKeys(seg)
	if err != nil {
		return err
	}
	return s.addNumberEntry(p.Seq, p.SHA256, len(keys), buildNumberFilter(p.Seq, keys))
}

// numberFilterOf builds the filter of a segment's number section entries.
func numberFilterOf(seq uint32, nums []kv) []byte {
	keys := make([][]byte, len(nums))
	for i, e := range nums {
		keys[i] = e.key
	}
	return buildNumberFilter(seq, keys)
}
