package tsharkref

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// GoldenSuffix names a capture's tshark golden file: NAME + GoldenSuffix.
const GoldenSuffix = ".tshark.jsonl"

// EncodeGolden writes a golden file: the header line, then one record per line.
func EncodeGolden(w io.Writer, h Header, recs []Record) error {
	h.Messages = len(recs)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(h); err != nil {
		return err
	}
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// DecodeGolden reads a golden file strictly: unknown fields, a missing header
// or a record count that disagrees with the header are errors.
func DecodeGolden(r io.Reader) (Header, []Record, error) {
	var h Header
	var recs []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var err error
		if line == 1 {
			err = dec.Decode(&h)
		} else {
			var rec Record
			if err = dec.Decode(&rec); err == nil {
				recs = append(recs, rec)
			}
		}
		if err != nil {
			return h, nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return h, nil, err
	}
	if line == 0 {
		return h, nil, fmt.Errorf("empty golden file: no header")
	}
	if h.Capture == "" {
		return h, nil, fmt.Errorf("header names no capture")
	}
	if h.Messages != len(recs) {
		return h, nil, fmt.Errorf("header says %d messages, file has %d", h.Messages, len(recs))
	}
	return h, recs, nil
}

// linkKey identifies an MTP2 link (one direction of it) in tshark's terms.
type linkKey struct {
	transport        string
	iface, link, dir int64
	src, dst         string
}

func keyOf(r *Record) linkKey {
	k := linkKey{transport: r.Transport, iface: -1, link: -1, dir: -1, src: r.Src, dst: r.Dst}
	if r.Iface != nil {
		k.iface = int64(*r.Iface)
	}
	if r.Link != nil {
		k.link = int64(*r.Link)
	}
	if r.Dir != nil {
		k.dir = int64(*r.Dir)
	}
	return k
}

// Retransmissions marks the records that are retransmitted copies of an
// earlier one, which tshark shows again but a monitor reports once:
//   - SCTP: same association (addresses, ports, verification tag), same TSN
//     and same ISUP bytes as an earlier DATA chunk (RFC 9260 6.2: a TSN is
//     acknowledged once; a resent chunk keeps its TSN);
//   - MTP2: same link, same FSN and same bytes as the latest MSU with that
//     FSN, without the link's FSN having moved on since (Q.703 5.3: a
//     retransmitted MSU keeps its FSN; new MSUs take the next FSN mod 128).
//
// Records with neither a TSN nor an FSN are never marked.
func Retransmissions(recs []Record) []bool {
	dup := make([]bool, len(recs))
	type sctpKey struct {
		src, dst string
		vtag     uint32
		tsn      uint32
		hash     string
	}
	seenSCTP := map[sctpKey]bool{}
	type mtp2State struct {
		last   uint32 // FSN of the newest MSU accepted on the link
		byFSN  map[uint32]string
		primed bool
	}
	links := map[linkKey]*mtp2State{}
	for i := range recs {
		r := &recs[i]
		switch {
		case r.TSN != nil:
			k := sctpKey{src: r.Src, dst: r.Dst, tsn: *r.TSN, hash: r.ISUPHash}
			if r.VTag != nil {
				k.vtag = *r.VTag
			}
			if seenSCTP[k] {
				dup[i] = true
			}
			seenSCTP[k] = true
		case r.FSN != nil && r.Transport == "mtp2":
			k := keyOf(r)
			st := links[k]
			if st == nil {
				st = &mtp2State{byFSN: map[uint32]string{}}
				links[k] = st
			}
			fsn := *r.FSN & 0x7f
			ahead := (fsn - st.last) & 0x7f // 1..63: a new MSU
			if st.primed && (ahead == 0 || ahead >= 64) && st.byFSN[fsn] == r.ISUPHash {
				dup[i] = true
				continue
			}
			st.primed, st.last = true, fsn
			st.byFSN[fsn] = r.ISUPHash
		}
	}
	return dup
}
