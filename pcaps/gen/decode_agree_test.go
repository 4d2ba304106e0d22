package gen

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
)

// decodeFile runs the real pipeline (capture reader, decoder, JSON output of
// `gatewarden decode`) over a capture and returns its lines.
func decodeFile(t *testing.T, path string, pcBits uint8) ([]string, decode.Stats) {
	t.Helper()
	f, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	dec := decode.New(decode.Config{PCBits: pcBits}, func(m *decode.Message) {
		out = append(out, string(decode.AppendJSON(nil, m, path)))
	})
	var fr decode.Frame
	for {
		err := f.Next(&fr)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		dec.Decode(&fr)
	}
	dec.Flush()
	return out, dec.Stats()
}

// agree requires the decoder's lines to equal the truth lines exactly, in
// order: nothing missing, nothing twice (retransmissions included).
func agree(t *testing.T, got []string, truth []byte) {
	t.Helper()
	want := strings.Split(strings.TrimSuffix(string(truth), "\n"), "\n")
	n := min(len(got), len(want))
	bad := 0
	for i := 0; i < n; i++ {
		if got[i] != want[i] {
			if bad++; bad <= 5 {
				t.Errorf("message %d:\n decode %s\n  truth %s", i+1, got[i], want[i])
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("decode gave %d messages, truth has %d", len(got), len(want))
	}
	if bad > 5 {
		t.Errorf("%d messages differ", bad)
	}
}

func TestDecodeAgreesWithTruth(t *testing.T) {
	for _, pcBits := range []uint8{14, 24} {
		dir := t.TempDir()
		path := filepath.Join(dir, "gen.pcap")
		var p, tr bytes.Buffer
		sum, err := Write(&p, &tr, Options{Seed: 11, Calls: 1500, PCBits: pcBits, File: path})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, p.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		got, stats := decodeFile(t, path, pcBits)
		agree(t, got, tr.Bytes())
		if d := stats.Reasons[decode.SkipSCTPDuplicate]; d != sum.Retransmissions {
			t.Errorf("%d-bit: decoder skipped %d duplicates, generator retransmitted %d", pcBits, d, sum.Retransmissions)
		}
		for r := decode.Reason(1); r < decode.NumReasons; r++ {
			if r.IsDrop() && stats.Reasons[r] != 0 {
				t.Errorf("%d-bit: decoder dropped %d for %v", pcBits, stats.Reasons[r], r)
			}
		}
	}
}

func TestDecodeAgreesWithCommittedTruth(t *testing.T) {
	for _, c := range Committed {
		path := filepath.Join("..", c.Pcap)
		truth, err := os.ReadFile(filepath.Join("..", c.Truth))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := decodeFile(t, path, c.PCBits)
		// the truth names the file as `gatewarden gen` was told (run from pcaps/)
		for i := range got {
			got[i] = strings.Replace(got[i], `"file":"`+path+`"`, `"file":"`+c.Pcap+`"`, 1)
		}
		agree(t, got, truth)
	}
}

// Every traffic mix decodes to exactly its truth: the extra chunks, M2PA-only
// links and bursts add no message and lose none.
func TestDecodeAgreesWithTruthMixes(t *testing.T) {
	for _, mix := range Mixes {
		t.Run(mix, func(t *testing.T) {
			opt, err := MixOptions(mix, 5, 800, 14)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "gen.pcap")
			opt.File = path
			var p, tr bytes.Buffer
			sum, err := Write(&p, &tr, opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, p.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			if sum.Messages < 3000 {
				t.Fatalf("only %d messages", sum.Messages)
			}
			if (opt.ExtraChunkPercent > 0) != (sum.ExtraChunks > 0) {
				t.Errorf("extra chunk percent %d, %d extra chunks written", opt.ExtraChunkPercent, sum.ExtraChunks)
			}
			got, stats := decodeFile(t, path, 14)
			agree(t, got, tr.Bytes())
			if d := stats.Reasons[decode.SkipSCTPDuplicate]; d != sum.Retransmissions {
				t.Errorf("decoder skipped %d duplicates, generator retransmitted %d", d, sum.Retransmissions)
			}
			for r := decode.Reason(1); r < decode.NumReasons; r++ {
				if r.IsDrop() && stats.Reasons[r] != 0 {
					t.Errorf("decoder dropped %d for %v", stats.Reasons[r], r)
				}
			}
		})
	}
	if _, err := MixOptions("nonesuch", 1, 1, 14); err == nil {
		t.Error("an unknown mix was accepted")
	}
}
