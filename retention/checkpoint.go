package retention

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Tamper evidence anchored off the box. The manifest chain shows an edit
// inside the store, but whoever can rewrite the store can rewrite the whole
// chain, and a deleted newest partition or a cut open log leaves no trace
// inside it. So each seal, each retention removal and (at most every
// CheckpointInterval) the growth of the open log produce a checkpoint: the
// chain head, the number of partitions sealed and removed, the hash of
// removed.log, and the open log's length and hash, signed with the store's
// Ed25519 key. Checkpoints are appended to checkpoints.log, logged and handed
// to Options.OnCheckpoint (the daemon sends them to its alert sinks), so
// copies live off the box. VerifyCheckpoints then shows whether the store
// still contains and extends every checkpoint of such a copy.

const (
	checkpointFile = "checkpoints.log"
	keyFile        = "checkpoint.key" // Ed25519 seed, hex, mode 0600
)

// Checkpoint is one signed statement of the store's state.
type Checkpoint struct {
	N          uint64 `json:"n"`        // checkpoint sequence number, from 1
	Time       string `json:"time"`     // wall clock, RFC 3339
	Event      string `json:"event"`    // seal, removal or log
	Seq        uint32 `json:"seq"`      // the partition sealed or removed, or the open one
	HeadSeq    uint32 `json:"head_seq"` // chain head: newest sealed partition
	Head       string `json:"head"`     // its manifest's SHA-256
	Sealed     int    `json:"sealed"`   // partitions present
	Removed    int    `json:"removed"`  // lines in removed.log
	RemovedSHA string `json:"removed_sha256"`
	LogSeq     uint32 `json:"log_seq,omitempty"` // open partition, if any
	LogBytes   int64  `json:"log_bytes,omitempty"`
	LogSHA     string `json:"log_sha256,omitempty"` // of the open log's first LogBytes bytes
	LogMsgs    int    `json:"log_messages,omitempty"`
	Key        string `json:"key"` // Ed25519 public key, hex
	Sig        string `json:"sig,omitempty"`
}

// signed is the byte string the signature covers: the checkpoint's JSON
// without its signature.
func (c Checkpoint) signed() []byte {
	c.Sig = ""
	b, _ := json.Marshal(c)
	return b
}

// String is the checkpoint as one line of checkpoints.log.
func (c Checkpoint) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// verifySig checks the signature against the key the checkpoint names.
func (c Checkpoint) verifySig() bool {
	key, err := hex.DecodeString(c.Key)
	sig, err2 := hex.DecodeString(c.Sig)
	if err != nil || err2 != nil || len(key) != ed25519.PublicKeySize {
		return false
	}
	return ed25519.Verify(ed25519.PublicKey(key), c.signed(), sig)
}

// loadKey reads the store's signing key, creating it on first start.
func loadKey(dir string, create bool) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, keyFile)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) && create {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path+".tmp", []byte(hex.EncodeToString(priv.Seed())+"\n"), 0o600); err != nil {
			return nil, err
		}
		return priv, os.Rename(path+".tmp", path)
	}
	if err != nil {
		return nil, err
	}
	seed, err := hex.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("retention: %s is not an Ed25519 seed", path)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// PublicKey returns the hex Ed25519 public key that signs dir's checkpoints
// ("" when the store has no key yet).
func PublicKey(dir string) string {
	k, err := loadKey(dir, false)
	if err != nil {
		return ""
	}
	return hex.EncodeToString(k.Public().(ed25519.PublicKey))
}

// ReadCheckpoints parses checkpoint lines (a copy of checkpoints.log). A
// last line without its newline (copied while it was being written) is
// left out.
func ReadCheckpoints(r io.Reader) ([]Checkpoint, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<30))
	if err != nil {
		return nil, err
	}
	if i := bytes.LastIndexByte(b, '\n'); i+1 < len(b) {
		b = b[:i+1]
	}
	var out []Checkpoint
	for line, l := range bytes.Split(b, []byte{'\n'}) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var c Checkpoint
		if err := json.Unmarshal(l, &c); err != nil {
			return out, fmt.Errorf("checkpoint line %d: %w", line+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func readStoreCheckpoints(dir string) ([]Checkpoint, error) {
	f, err := openIfExists(filepath.Join(dir, checkpointFile))
	if f == nil {
		return nil, err
	}
	defer f.Close()
	return ReadCheckpoints(f)
}

// removedDigest hashes removed.log as it is: line count and SHA-256.
func removedDigest(dir string) (int, string) {
	b, _ := os.ReadFile(filepath.Join(dir, removedFile))
	return bytes.Count(b, []byte{'\n'}), sha256Hex(b)
}

// loadCheckpoints makes or reads the signing key and finds the last
// checkpoint number; a store that had none gets a first one now.
func (s *Store) loadCheckpoints() error {
	fresh := PublicKey(s.dir) == ""
	key, err := loadKey(s.dir, true)
	if err != nil {
		return fmt.Errorf("retention: checkpoint key: %w", err)
	}
	s.key = key
	cps, err := readStoreCheckpoints(s.dir)
	if err != nil {
		return err
	}
	if n := len(cps); n > 0 {
		s.cpN = cps[n-1].N
	}
	if fresh || len(cps) == 0 {
		s.checkpoint("start", 0)
	}
	return nil
}

// checkpoint signs and records the store's state. Called with mu held; a
// failure to record it is logged, never stops the store.
func (s *Store) checkpoint(event string, seq uint32) {
	if s.key == nil {
		return
	}
	c := Checkpoint{N: s.cpN + 1, Time: time.Now().UTC().Format(time.RFC3339Nano), Event: event, Seq: seq,
		HeadSeq: s.head.Seq, Head: s.head.Manifest, Sealed: len(s.parts),
		Key: hex.EncodeToString(s.key.Public().(ed25519.PublicKey))}
	c.Removed, c.RemovedSHA = removedDigest(s.dir)
	switch cl := s.commit.log; {
	case s.opt.Committed:
		// A committing writer's open log is signed up to its last commit
		// only: what follows may be cut at recovery (see commit.go).
		if s.cur && cl.seq == s.curSeq && cl.bytes > 0 {
			c.LogSeq, c.LogBytes, c.LogMsgs, c.LogSHA = cl.seq, cl.bytes, cl.msgs, cl.sha
		}
	case s.cur && s.walHash != nil:
		c.LogSeq, c.LogBytes, c.LogMsgs = s.curSeq, s.walHashed, int(s.walHashedOrd)
		c.LogSHA = hex.EncodeToString(s.walHash.Sum(nil))
	}
	c.Sig = hex.EncodeToString(ed25519.Sign(s.key, c.signed()))
	line := c.String()
	if err := s.appendWithReserve(checkpointFile, []byte(line+"\n")); err != nil {
		s.opt.Errorf("retention: cannot record checkpoint %d: %v", c.N, err)
		return
	}
	s.cpN = c.N
	s.cpLogBytes = c.LogBytes
	s.cpAt = time.Now()
	s.opt.Logf("retention: checkpoint %s", line)
	if s.opt.OnCheckpoint != nil {
		s.opt.OnCheckpoint(c)
	}
}

// Checkpoint writes the open log out and records a checkpoint of it now
// (the daemon calls it at SIGTERM; a periodic one follows the log's growth).
func (s *Store) Checkpoint() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opt.ReadOnly {
		return ErrReadOnly
	}
	if err := s.writeBuffer(true); err != nil {
		return err
	}
	if s.cur {
		s.checkpoint("log", s.curSeq)
	} else {
		s.checkpoint("state", 0)
	}
	return nil
}

// hashWritten extends the open log's running hash over bytes just written.
func (s *Store) hashWritten(p []byte) {
	if s.walHash == nil {
		s.walHash = sha256.New()
	}
	s.walHash.Write(p)
	s.walHashed += int64(len(p))
}

// VerifyCheckpoints checks that the store in dir still contains and extends
// every checkpoint in cps (a copy of its checkpoints.log kept off the box).
// Each finding is one Problem; none means the store is consistent with the
// copy.
func VerifyCheckpoints(dir string, cps []Checkpoint) ([]Problem, error) {
	var out []Problem
	add := func(c Checkpoint, seq uint32, kind, format string, args ...any) {
		out = append(out, Problem{Seq: seq, Kind: kind, Detail: fmt.Sprintf("checkpoint %d (%s %s): ", c.N, c.Event, c.Time) + fmt.Sprintf(format, args...)})
	}
	own, err := readStoreCheckpoints(dir)
	if err != nil {
		return nil, err
	}
	ownLines := map[string]bool{}
	for _, c := range own {
		ownLines[c.String()] = true
	}
	key := PublicKey(dir)
	removals, _ := readRemovals(dir)
	removedAt := map[uint32]string{}
	for _, r := range removals {
		removedAt[r.Seq] = r.Manifest
	}
	rb, _ := os.ReadFile(filepath.Join(dir, removedFile))
	mseqs, _ := listSeqs(dir, ".manifest")
	for _, c := range cps {
		if !c.verifySig() {
			add(c, c.Seq, "altered", "signature does not verify")
			continue
		}
		switch {
		case key == "":
			add(c, c.Seq, "missing", "the store has no signing key (%s is gone)", keyFile)
		case c.Key != key:
			add(c, c.Seq, "altered", "signed by key %.16s…, the store's key is %.16s…", c.Key, key)
		}
		if !ownLines[c.String()] {
			add(c, c.Seq, "missing", "not in the store's %s (cut or rewritten)", checkpointFile)
		}
		// The chain head it signed is still there, or was removed with a record.
		if c.HeadSeq != 0 {
			mb, err := os.ReadFile(manifestPath(dir, c.HeadSeq))
			switch {
			case err == nil && sha256Hex(mb) != c.Head:
				add(c, c.HeadSeq, "altered", "partition %d's manifest is not the one signed (chain rewritten)", c.HeadSeq)
			case err != nil && removedAt[c.HeadSeq] == "":
				add(c, c.HeadSeq, "missing", "signed head partition %d is gone and no removal of it is recorded", c.HeadSeq)
			case err != nil && removedAt[c.HeadSeq] != c.Head:
				add(c, c.HeadSeq, "altered", "removal record of partition %d names another manifest than the one signed", c.HeadSeq)
			}
		}
		if len(mseqs)+len(removals) < c.Sealed+c.Removed {
			add(c, c.HeadSeq, "missing", "%d partitions sealed and %d removed at the checkpoint; %d present and %d removed now",
				c.Sealed, c.Removed, len(mseqs), len(removals))
		}
		// removed.log only grows: its first lines are the ones signed.
		if n := nthLine(rb, c.Removed); n < 0 || sha256Hex(rb[:n]) != c.RemovedSHA {
			add(c, 0, "altered", "%s no longer begins with the %d removal records signed", removedFile, c.Removed)
		}
		if c.LogSeq != 0 && c.LogBytes > 0 {
			checkLog(dir, c, removedAt, add)
		}
	}
	return out, nil
}

// checkLog checks the open log a checkpoint signed: still there with the
// signed bytes as its prefix, or sealed since with at least its messages.
func checkLog(dir string, c Checkpoint, removedAt map[uint32]string, add func(Checkpoint, uint32, string, string, ...any)) {
	f, err := os.Open(walPath(dir, c.LogSeq))
	if err == nil {
		defer f.Close()
		h := sha256.New()
		n, _ := io.CopyN(h, f, c.LogBytes)
		switch {
		case n < c.LogBytes:
			add(c, c.LogSeq, "missing", "open log of partition %d was %d bytes at the checkpoint, %d now (truncated)", c.LogSeq, c.LogBytes, n)
		case hex.EncodeToString(h.Sum(nil)) != c.LogSHA:
			add(c, c.LogSeq, "altered", "open log of partition %d: its first %d bytes are not the ones signed", c.LogSeq, c.LogBytes)
		}
		return
	}
	mb, err := os.ReadFile(manifestPath(dir, c.LogSeq))
	if err != nil {
		if removedAt[c.LogSeq] == "" {
			add(c, c.LogSeq, "missing", "open log of partition %d (%d bytes, %d messages at the checkpoint) is gone, and the partition was neither sealed nor removed", c.LogSeq, c.LogBytes, c.LogMsgs)
		}
		return
	}
	var m Manifest
	if json.Unmarshal(mb, &m) == nil && m.Messages+m.Skipped < c.LogMsgs {
		add(c, c.LogSeq, "missing", "partition %d was sealed with %d messages; its open log held %d at the checkpoint (truncated before sealing)", c.LogSeq, m.Messages, c.LogMsgs)
	}
}

// nthLine is the length of b's first n lines, or -1 if it has fewer.
func nthLine(b []byte, n int) int {
	off := 0
	for i := 0; i < n; i++ {
		j := bytes.IndexByte(b[off:], '\n')
		if j < 0 {
			return -1
		}
		off += j + 1
	}
	return off
}

// verifyOwnCheckpoints is part of Verify: every checkpoint in the store's own
// checkpoints.log is signed by its key, every removal has a signed removal
// checkpoint, and the store contains and extends the newest checkpoint.
func verifyOwnCheckpoints(dir string, removals []Removal, add func(seq uint32, kind, format string, args ...any)) (last *Checkpoint) {
	cps, err := readStoreCheckpoints(dir)
	if err != nil {
		add(0, "altered", "%v", err)
		return nil
	}
	key := PublicKey(dir)
	if key != "" && len(cps) == 0 {
		if ms, _ := listSeqs(dir, ".manifest"); len(ms)+len(removals) > 0 {
			add(0, "missing", "%s is missing or empty, though the store has a signing key and partitions", checkpointFile)
		}
	}
	signedRemoval := map[uint32]bool{}
	for i := range cps {
		c := cps[i]
		if !c.verifySig() || c.Key != key {
			add(c.Seq, "altered", "checkpoint %d in %s is not signed by the store's key", c.N, checkpointFile)
			continue
		}
		if c.Event == "removal" {
			signedRemoval[c.Seq] = true
		}
		last = &cps[i]
	}
	// Removals logged before the store had a key are vouched for by its
	// first checkpoint.
	before := 0
	if len(cps) > 0 {
		before = cps[0].Removed
	}
	if key != "" {
		for i, r := range removals {
			if !signedRemoval[r.Seq] && i >= before {
				add(r.Seq, "missing", "removal of partition %d in %s has no signed retention checkpoint (forged, or the partition was deleted by hand)", r.Seq, removedFile)
			}
		}
	}
	if last != nil {
		probs, err := VerifyCheckpoints(dir, []Checkpoint{*last})
		if err != nil {
			add(0, "altered", "%v", err)
		}
		for _, p := range probs {
			add(p.Seq, p.Kind, "%s", p.Detail)
		}
	}
	return last
}

// cutPartialLine truncates an append-only line file after its last newline.
func cutPartialLine(path string) error {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if i := bytes.LastIndexByte(b, '\n'); i+1 < len(b) {
		return os.Truncate(path, int64(i+1))
	}
	return nil
}
