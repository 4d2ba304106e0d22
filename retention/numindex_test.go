package retention

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/decode"
)

// numIndexStore writes n calls spread over days of hourly partitions and
// returns the directory and the calling and called numbers used.
func numIndexStore(t testing.TB, n int, days int, opt Options) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	opt.NoSync, opt.MinFreeBytes = true, -1
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	var nums []string
	g := newGenerator(5, t0, int64(time.Duration(days)*24*time.Hour)/int64(n))
	g.run(n, func(m *decode.Message) {
		if err := s.AddMessage(m, g.source); err != nil {
			t.Fatal(err)
		}
	}, func(c *genCall, rec *analysis.Call) {
		if len(nums) < 200 {
			nums = append(nums, c.calling, c.called)
		}
		if err := s.AddCall(rec); err != nil {
			t.Fatal(err)
		}
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, nums
}

func lookupRefs(t testing.TB, dir string, noIndex bool, num string) []Ref {
	t.Helper()
	s, err := Open(dir, Options{ReadOnly: true, NoNumberIndex: noIndex})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.QueryCalls(Query{Numbers: NumberForms(num, "86")})
	if err != nil {
		t.Fatal(err)
	}
	return refsOf(res)
}

// skippedBy counts the sealed partitions the number index rules out for num.
func skippedBy(t testing.TB, dir, num string) (skipped, sealed int) {
	t.Helper()
	s, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sn, err := s.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.close()
	nf := newNumberFilter(s, NumberForms(num, "86"))
	defer nf.close()
	for _, v := range sn.views {
		if v.sha != "" {
			sealed++
			nf.maybe(v)
		}
	}
	return nf.skipped, sealed
}

const absentNumber = "8613999999999"

// sameLookups checks that lookups with and without the index agree, for
// the stored numbers and one stored nowhere.
func sameLookups(t *testing.T, dir string, nums []string) {
	t.Helper()
	for _, num := range append(nums[:40:40], absentNumber) {
		with, without := lookupRefs(t, dir, false, num), lookupRefs(t, dir, true, num)
		if !slices.Equal(with, without) {
			t.Fatalf("%s: with the index %v, without %v", num, with, without)
		}
		if num != absentNumber && len(with) == 0 {
			t.Fatalf("%s not found", num)
		}
	}
	if got := lookupRefs(t, dir, false, absentNumber); len(got) != 0 {
		t.Fatalf("absent number found: %v", got)
	}
}

func nixFiles(t testing.TB, dir string) []string {
	m, err := filepath.Glob(filepath.Join(dir, "numbers-*"+numIndexSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNumberIndexSameResults(t *testing.T) {
	// small: filters of a few blocks, read whole; large: ~30 blocks per
	// partition, read a block per lookup.
	for _, c := range []struct {
		name        string
		calls, days int
		minParts    int
	}{{"small", 3000, 3, 70}, {"large", 12000, 1, 23}} {
		t.Run(c.name, func(t *testing.T) {
			dir, nums := numIndexStore(t, c.calls, c.days, Options{})
			if len(nixFiles(t, dir)) < c.days {
				t.Fatalf("number index files: %v", nixFiles(t, dir))
			}
			s, err := Open(dir, Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(numIndexPath(dir, s.Partitions()[1].Seq))
			if err != nil {
				t.Fatal(err)
			}
			e, _ := s.nix.entry(dir, s.Partitions()[1].Seq, s.Partitions()[1].SHA256, f)
			f.Close()
			s.Close()
			if small := int64(e.blocks)*numIndexBlock <= numIndexSmall; small != (c.name == "small") {
				t.Fatalf("%d blocks in a filter of the %s case", e.blocks, c.name)
			}
			sameLookups(t, dir, nums)
			skipped, sealed := skippedBy(t, dir, absentNumber)
			if sealed < c.minParts || skipped < sealed*9/10 {
				t.Fatalf("absent number: %d of %d sealed partitions skipped", skipped, sealed)
			}
			skipped, _ = skippedBy(t, dir, nums[0])
			if skipped < sealed*8/10 {
				t.Fatalf("stored number: %d of %d sealed partitions skipped", skipped, sealed)
			}
		})
	}
}

// A store without index files (sealed before the index existed, or the
// files lost) answers the same, and the next writer rebuilds them.
func TestNumberIndexMissingRebuilt(t *testing.T) {
	dir, nums := numIndexStore(t, 2000, 2, Options{})
	before := nixFiles(t, dir)
	want := map[string][]byte{}
	for _, p := range before {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want[p] = b
		os.Remove(p)
	}
	sameLookups(t, dir, nums)
	if skipped, _ := skippedBy(t, dir, absentNumber); skipped != 0 {
		t.Fatalf("%d partitions skipped without an index", skipped)
	}
	s, err := Open(dir, Options{NoSync: true, MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	s.nixWG.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for p, b := range want {
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, b) {
			t.Fatalf("%s rebuilt differs from the one written at seal time", p)
		}
	}
	sameLookups(t, dir, nums)
}

// A crash during an append leaves a torn entry: the entries after it are
// unreadable, so the next writer cuts it and rebuilds what is missing.
func TestNumberIndexTornTail(t *testing.T) {
	dir, nums := numIndexStore(t, 2000, 2, Options{})
	files := nixFiles(t, dir)
	p := files[0]
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// Cut the file inside its third entry's blocks.
	off := int64(0)
	for range 2 {
		_, blocks, _, err := parseNumberHeader(b[off:])
		if err != nil {
			t.Fatal(err)
		}
		off += numIndexHeader + int64(blocks)*numIndexBlock
	}
	if err := os.WriteFile(p, b[:off+numIndexHeader+10], 0o644); err != nil {
		t.Fatal(err)
	}
	sameLookups(t, dir, nums)
	skipped, sealed := skippedBy(t, dir, absentNumber)
	if skipped == sealed {
		t.Fatal("the cut entries are still used")
	}
	s, err := Open(dir, Options{NoSync: true, MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	s.nixWG.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if skipped, sealed := skippedBy(t, dir, absentNumber); skipped < sealed*9/10 {
		t.Fatalf("after the rebuild: %d of %d partitions skipped", skipped, sealed)
	}
	sameLookups(t, dir, nums)
}

// Damage costs speed, never a result: a flipped bit in a filter block
// makes that partition read its segment; a damaged header ends the file.
func TestNumberIndexDamaged(t *testing.T) {
	dir, nums := numIndexStore(t, 2000, 2, Options{})
	files := nixFiles(t, dir)
	for i, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			// every bit of every block set: wrong filters, but each block's
			// check fails, so none is used.
			for off := int64(0); off < int64(len(b)); {
				_, blocks, _, err := parseNumberHeader(b[off:])
				if err != nil {
					t.Fatal(err)
				}
				blk := b[off+numIndexHeader : off+numIndexHeader+int64(blocks)*numIndexBlock]
				for j := range blk {
					if j%numIndexBlock < numIndexBits/8 {
						blk[j] = 0
					}
				}
				off += numIndexHeader + int64(blocks)*numIndexBlock
			}
		} else {
			b[5] ^= 1 // first header
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sameLookups(t, dir, nums)
	// The index is not evidence: verify neither reads it nor fails on it.
	res, err := Verify(dir)
	if err != nil || !res.OK() {
		t.Fatalf("verify with a damaged number index: %v %+v", err, res)
	}
}

// An entry describes one segment: a segment replaced under the same
// sequence number (its manifest naming another hash) is read, not skipped.
func TestNumberIndexOtherSegment(t *testing.T) {
	dir, _ := numIndexStore(t, 500, 1, Options{})
	s, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := s.Partitions()[0]
	f, err := os.Open(numIndexPath(dir, p.Seq))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, ok := s.nix.entry(dir, p.Seq, p.SHA256, f); !ok {
		t.Fatal("no entry for a sealed partition")
	}
	other := strings.Repeat("0", hex.EncodedLen(32))
	if _, ok := s.nix.entry(dir, p.Seq, other, f); ok {
		t.Fatal("entry used for a segment with another hash")
	}
}

// Retention removes a group's file with its last partition.
func TestNumberIndexRemoval(t *testing.T) {
	dir, _ := numIndexStore(t, 4000, 4, Options{RetentionDays: 2})
	s, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	parts := s.Partitions()
	s.Close()
	groups := map[string]bool{}
	for _, p := range parts {
		groups[numIndexPath(dir, p.Seq)] = true
	}
	files := nixFiles(t, dir)
	if len(files) != len(groups) {
		t.Fatalf("%d number index files for %d groups of partitions %d..%d: %v", len(files), len(groups), parts[0].Seq, parts[len(parts)-1].Seq, files)
	}
	for _, f := range files {
		if !groups[f] {
			t.Fatalf("%s left after its partitions were removed", f)
		}
	}
	if parts[0].Seq < numIndexGroup {
		t.Fatalf("nothing removed: oldest partition %d", parts[0].Seq)
	}
}

// The filter never rules out a number it was built with.
func TestNumberFilterNoFalseAbsent(t *testing.T) {
	var keys [][]byte
	for i := range 5000 {
		keys = append(keys, []byte("8613"+strings.Repeat("7", i%5)+string(rune('0'+i%10))+hex.EncodeToString([]byte{byte(i), byte(i >> 8)})))
	}
	filter := buildNumberFilter(7, keys)
	n := uint32(len(filter) / numIndexBlock)
	falsePos := 0
	for i, k := range keys {
		h := stableNumberHash(k)
		blk := numberBlock(h, n)
		if !numberMaybe(filter[blk*numIndexBlock:(blk+1)*numIndexBlock], 7, blk, h) {
			t.Fatalf("key %d (%s) ruled out", i, k)
		}
		h = stableNumberHash(append([]byte("x"), k...))
		blk = numberBlock(h, n)
		if numberMaybe(filter[blk*numIndexBlock:(blk+1)*numIndexBlock], 7, blk, h) {
			falsePos++
		}
	}
	if falsePos > len(keys)*3/100 {
		t.Fatalf("%d false maybes of %d", falsePos, len(keys))
	}
	// The same block under another partition fails its check: maybe.
	h := stableNumberHash([]byte("x"))
	blk := numberBlock(h, n)
	if !numberMaybe(filter[blk*numIndexBlock:(blk+1)*numIndexBlock], 8, blk, h) {
		t.Fatal("block of partition 7 used for partition 8")
	}
}

// FuzzNumberIndex reads arbitrary bytes as a number index file: entries
// found lie inside the data, probing them never panics, and a damaged
// file ends the walk instead of misreading.
func FuzzNumberIndex(f *testing.F) {
	var sha [32]byte
	keys := [][]byte{[]byte("8613800138000"), []byte("13800138000"), []byte("0013800138000")}
	good := appendNumberEntry(nil, 3, len(keys), sha, buildNumberFilter(3, keys))
	good = appendNumberEntry(good, 4, 1, sha, buildNumberFilter(4, keys[:1]))
	f.Add(good)
	f.Add(good[:len(good)-7])
	f.Add(good[:numIndexHeader])
	f.Fuzz(func(t *testing.T, data []byte) {
		end := readNumberEntries(bytes.NewReader(data), int64(len(data)), 0, func(seq uint32, e numEntry) {
			if e.blocks == 0 || e.off+int64(e.blocks)*numIndexBlock > int64(len(data)) {
				t.Fatalf("entry of partition %d outside the data: %+v", seq, e)
			}
			for _, k := range keys {
				h := stableNumberHash(k)
				blk := numberBlock(h, e.blocks)
				if blk >= e.blocks {
					t.Fatalf("block %d of %d", blk, e.blocks)
				}
				off := e.off + int64(blk)*numIndexBlock
				numberMaybe(data[off:off+numIndexBlock], seq, blk, h)
			}
		})
		if end < 0 || end > int64(len(data)) {
			t.Fatalf("walk ended at %d of %d bytes", end, len(data))
		}
	})
}
