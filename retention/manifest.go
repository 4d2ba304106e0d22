package retention

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Evidence integrity: each sealed partition NNNNNNNN.seg has a manifest
// NNNNNNNN.manifest holding the segment's SHA-256 and the SHA-256 of the
// previous partition's manifest, so the manifests form a hash chain. CHAIN names
// the newest link (so dropping the newest partitions is seen too) and
// removed.log records every partition retention deleted, with its manifest
// hash, so the chain may legitimately start after them.

// Manifest describes one sealed partition.
type Manifest struct {
	Seq      uint32 `json:"seq"`
	MinTS    int64  `json:"min_ts"`
	MaxTS    int64  `json:"max_ts"`
	Messages int    `json:"messages"`
	Calls    int    `json:"calls"`
	Alerts   int    `json:"alerts"`
	Bytes    int64  `json:"bytes"`
	SHA256   string `json:"sha256"` // of the segment file
	Prev     string `json:"prev"`   // SHA-256 of the previous manifest file; empty for the first
	Sealed   string `json:"sealed"` // wall-clock time of sealing, for the operator
	// Skipped counts log records that failed their checksum on recovery and
	// are not in the segment.
	Skipped int `json:"skipped_records,omitempty"`
}

type chainHead struct {
	Seq      uint32 `json:"seq"`
	Manifest string `json:"manifest_sha256"`
}

// Removal is one line of removed.log.
type Removal struct {
	RemovedAt string `json:"removed_at"`
	Seq       uint32 `json:"seq"`
	Reason    string `json:"reason"` // age, budget or disk
	Bytes     int64  `json:"bytes"`
	MinTS     int64  `json:"min_ts"`
	MaxTS     int64  `json:"max_ts"`
	Messages  int    `json:"messages"`
	Manifest  string `json:"manifest_sha256"`
}

const (
	chainFile   = "CHAIN"
	removedFile = "removed.log"
)

func segPath(dir string, seq uint32) string { return filepath.Join(dir, fmt.Sprintf("%08d.seg", seq)) }
func manifestPath(dir string, seq uint32) string {
	return filepath.Join(dir, fmt.Sprintf("%08d.manifest", seq))
}
func walPath(dir string, seq uint32) string { return filepath.Join(dir, fmt.Sprintf("%08d.wal", seq)) }

// listSeqs returns the sequence numbers of files in dir with the given suffix.
func listSeqs(dir, suffix string) ([]uint32, error) {
	seqs, _, err := listSeqs2(dir, suffix, "")
	return seqs, err
}

// listSeqs2 lists two suffixes with one read of the directory (a store of
// six months holds ~13 000 files); an empty suffix2 lists nothing.
func listSeqs2(dir, suffix, suffix2 string) ([]uint32, []uint32, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, nil, err
	}
	a := seqsOf(names, suffix)
	var b []uint32
	if suffix2 != "" {
		b = seqsOf(names, suffix2)
	}
	return a, b, nil
}

func seqsOf(names []string, suffix string) []uint32 {
	var seqs []uint32
	for _, name := range names {
		if !strings.HasSuffix(name, suffix) {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(name, suffix), 10, 32)
		if err != nil || len(name) != 8+len(suffix) {
			continue
		}
		seqs = append(seqs, uint32(n))
	}
	slices.Sort(seqs)
	return seqs
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// SHA256File returns the hex SHA-256 of a file's content and its size: how
// the store names segment contents in manifests, and how replay recognises
// a capture it has stored before.
func SHA256File(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func readChain(dir string) (chainHead, error) {
	var h chainHead
	b, err := os.ReadFile(filepath.Join(dir, chainFile))
	if os.IsNotExist(err) {
		return h, nil
	}
	if err != nil {
		return h, err
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("retention: %s: %w", chainFile, err)
	}
	return h, nil
}

// openIfExists opens a store file that is only written once there is
// something to record: a missing file is (nil, nil).
func openIfExists(path string) (*os.File, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	return f, err
}

func readRemovals(dir string) ([]Removal, error) {
	f, err := openIfExists(filepath.Join(dir, removedFile))
	if f == nil {
		return nil, err
	}
	defer f.Close()
	var out []Removal
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var r Removal
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return out, fmt.Errorf("retention: %s line %d: %w", removedFile, line, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// Problem is one integrity finding of Verify.
type Problem struct {
	Seq    uint32 `json:"seq"`
	Kind   string `json:"kind"` // altered, missing, reordered, damaged, unsealed
	Offset int64  `json:"offset,omitempty"`
	Detail string `json:"detail"`
}

func (p Problem) String() string {
	if p.Kind == "damaged" {
		return fmt.Sprintf("partition %08d: %s at offset %d: %s", p.Seq, p.Kind, p.Offset, p.Detail)
	}
	return fmt.Sprintf("partition %08d: %s: %s", p.Seq, p.Kind, p.Detail)
}

// VerifyResult is what Verify found.
type VerifyResult struct {
	Partitions int         `json:"partitions"` // sealed partitions checked
	Removed    int         `json:"removed"`    // partitions retention removed (from removed.log)
	Open       int         `json:"open"`       // unsealed write-ahead logs (a writer is running or crashed)
	Head       uint32      `json:"head_seq"`   // chain head: newest sealed partition
	HeadHash   string      `json:"head"`       // its manifest's SHA-256
	PublicKey  string      `json:"public_key"` // Ed25519 key that signs checkpoints (hex)
	Checkpoint *Checkpoint `json:"checkpoint"` // the newest signed checkpoint in the store
	Problems   []Problem   `json:"problems"`
}

// OK reports whether no altered, missing or reordered data was found. Open
// write-ahead logs are not sealed evidence yet and do not fail verification.
func (v *VerifyResult) OK() bool {
	for _, p := range v.Problems {
		if p.Kind != "unsealed" {
			return false
		}
	}
	return true
}

// Verify checks every sealed partition in dir against its manifest and the
// manifest chain. It reads the directory only; it needs no lock.
func Verify(dir string) (*VerifyResult, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	res := &VerifyResult{}
	add := func(seq uint32, kind, format string, args ...any) {
		res.Problems = append(res.Problems, Problem{Seq: seq, Kind: kind, Detail: fmt.Sprintf(format, args...)})
	}
	mseqs, err := listSeqs(dir, ".manifest")
	if err != nil {
		return nil, err
	}
	sseqs, err := listSeqs(dir, ".seg")
	if err != nil {
		return nil, err
	}
	wseqs, err := listSeqs(dir, ".wal")
	if err != nil {
		return nil, err
	}
	removals, err := readRemovals(dir)
	if err != nil {
		add(0, "altered", "%v", err)
	}
	res.Removed = len(removals)
	removedHash := map[uint32]string{}
	var maxRemoved uint32
	for _, r := range removals {
		removedHash[r.Seq] = r.Manifest
		maxRemoved = max(maxRemoved, r.Seq)
	}
	var prevSeq uint32
	var prevHash string
	head, err := readChain(dir)
	if err != nil {
		add(0, "altered", "%v", err)
	}
	hasManifest := map[uint32]bool{}
	for _, s := range mseqs {
		hasManifest[s] = true
	}
	for _, s := range sseqs {
		if !hasManifest[s] {
			add(s, "altered", "segment without a manifest")
		}
	}
	for _, s := range wseqs {
		if hasManifest[s] {
			add(s, "altered", "write-ahead log beside a sealed partition")
		} else {
			res.Open++
			add(s, "unsealed", "open write-ahead log (not yet sealed)")
		}
		_, rep, err := readWAL(walPath(dir, s), false)
		if err != nil {
			add(s, "missing", "write-ahead log unreadable: %v", err)
			continue
		}
		for _, d := range rep.Damage {
			what := "fail their checksum; recovery will skip them"
			if d.Fixed {
				what = "has a damaged length field; its payload matches its checksum and recovery keeps it"
			}
			res.Problems = append(res.Problems, Problem{Seq: s, Kind: "damaged", Offset: d.Off,
				Detail: fmt.Sprintf("%d bytes of the write-ahead log %s", d.Bytes, what)})
		}
	}

	res.Checkpoint = verifyOwnCheckpoints(dir, removals, add)
	res.PublicKey = PublicKey(dir)
	for i, seq := range mseqs {
		res.Partitions++
		mb, err := os.ReadFile(manifestPath(dir, seq))
		if err != nil {
			add(seq, "missing", "manifest unreadable: %v", err)
			continue
		}
		mhash := sha256Hex(mb)
		var m Manifest
		if err := json.Unmarshal(mb, &m); err != nil {
			add(seq, "altered", "manifest does not parse: %v", err)
			prevSeq, prevHash = seq, mhash
			continue
		}
		if m.Seq != seq {
			add(seq, "reordered", "manifest says partition %d", m.Seq)
		}
		if seq <= maxRemoved {
			add(seq, "altered", "partition listed in %s as removed is still present, or a newer one was removed first", removedFile)
		}
		// Link to the previous partition. Sequence numbers may skip (a log
		// with no records is discarded, not sealed); the hash link may not.
		switch {
		case i == 0 && len(removals) == 0:
			if m.Prev != "" {
				add(seq, "missing", "first partition links to a predecessor that is gone and whose removal is not logged")
			}
		case i == 0:
			last := removals[len(removals)-1]
			if m.Prev != last.Manifest {
				add(seq, "missing", "chain does not continue from the last removed partition %d", last.Seq)
			}
		case m.Prev != prevHash:
			if seq != prevSeq+1 {
				add(seq, "missing", "partitions between %d and %d are missing", prevSeq, seq)
			} else {
				add(seq, "reordered", "chain link does not match partition %d's manifest", prevSeq)
			}
		}
		prevSeq, prevHash = seq, mhash
		sum, size, err := SHA256File(segPath(dir, seq))
		if os.IsNotExist(err) {
			add(seq, "missing", "segment file is missing")
			continue
		}
		if err != nil {
			add(seq, "missing", "segment unreadable: %v", err)
			continue
		}
		if size != m.Bytes {
			add(seq, "altered", "segment is %d bytes, manifest says %d", size, m.Bytes)
		}
		if sum != m.SHA256 {
			add(seq, "altered", "segment SHA-256 %s does not match manifest %s", sum[:16], m.SHA256[:min(16, len(m.SHA256))])
		}
	}
	res.Head, res.HeadHash = head.Seq, head.Manifest
	// The newest link must be the one CHAIN names.
	if head.Seq != 0 {
		switch {
		case len(mseqs) == 0 && removedHash[head.Seq] == "":
			add(head.Seq, "missing", "every partition up to the chain head is gone")
		case len(mseqs) > 0 && prevSeq < head.Seq:
			add(head.Seq, "missing", "partitions %d..%d named by %s are missing", prevSeq+1, head.Seq, chainFile)
		case len(mseqs) > 0 && prevSeq > head.Seq:
			add(prevSeq, "altered", "partition newer than the chain head %d", head.Seq)
		case len(mseqs) > 0 && prevHash != head.Manifest:
			add(prevSeq, "altered", "newest manifest does not match %s", chainFile)
		}
	} else if len(mseqs) > 0 {
		add(mseqs[0], "altered", "%s is missing", chainFile)
	}
	return res, nil
}

// readManifestFile reads a small file (a manifest) into buf, reusing its
// storage, and returns the bytes read. Opening a store reads thousands of
// manifests (one per hourly partition: 4 320 for six months); os.ReadFile
// costs each one an fstat, a poller registration attempt and a new buffer,
// which made up a third of a cold six-month lookup's Open.
func readManifestFile(path string, buf []byte) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return buf[:0], &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return buf, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}
