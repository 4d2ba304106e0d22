package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatewarden/gatewarden/decode"
)

type merged struct {
	source uint16
	frame  uint64
	ts     int64
	data   string
}

func mergeAll(t *testing.T, r *Reader) []merged {
	t.Helper()
	var out []merged
	var f decode.Frame
	for {
		err := r.Next(&f)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, merged{f.Source, f.Frame, f.TS, string(f.Data)})
	}
}

func TestMergeTimestampOrder(t *testing.T) {
	dir := sharedPcaps(t)
	// test2 and test3 are two legs of one call: their frames interleave.
	paths := []string{filepath.Join(dir, "sng_ss7mon_test3.pcap"), filepath.Join(dir, "sng_ss7mon_test2.pcap")}
	r, err := OpenFiles(paths)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := mergeAll(t, r)
	if len(got) != 9+7 {
		t.Fatalf("%d frames, want 16", len(got))
	}
	next := []uint64{1, 1}
	switched := 0
	for i, m := range got {
		if i > 0 && m.ts < got[i-1].ts {
			t.Errorf("frame %d (source %d #%d) at %d before previous %d", i, m.source, m.frame, m.ts, got[i-1].ts)
		}
		if i > 0 && m.source != got[i-1].source {
			switched++
		}
		if m.frame != next[m.source] {
			t.Errorf("source %d: frame %d, want %d", m.source, m.frame, next[m.source])
		}
		next[m.source]++
	}
	if switched < 4 {
		t.Errorf("sources switched only %d times: not interleaved", switched)
	}
	// The first frame of all is test2's (1329399796.326167 < .353595).
	if got[0].source != 1 || r.SourceName(1) != paths[1] {
		t.Errorf("first frame from source %d (%s)", got[0].source, r.SourceName(got[0].source))
	}
	if len(r.Errors()) != 0 {
		t.Errorf("errors: %v", r.Errors())
	}
	// Files stay describable after they are read.
	if f := r.File(0); f == nil || f.Name() != paths[0] || f.Frames() != 9 {
		t.Errorf("File(0) after the run: %+v", f)
	}
}

func TestMergeStableForEqualTimestamps(t *testing.T) {
	path := filepath.Join(sharedPcaps(t), "sng_ss7mon_test1.pcap")
	r, err := OpenFiles([]string{path, path, path})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := mergeAll(t, r)
	if len(got) != 3*25 {
		t.Fatalf("%d frames, want 75", len(got))
	}
	for i, m := range got {
		// Every timestamp is in all three files: file order, then frame.
		wantSource := uint16(i % 3)
		wantFrame := uint64(i/3 + 1)
		if m.source != wantSource || m.frame != wantFrame {
			t.Fatalf("position %d: source %d frame %d, want source %d frame %d", i, m.source, m.frame, wantSource, wantFrame)
		}
		if m.data != got[i-i%3].data {
			t.Fatalf("position %d: data differs from source 0's", i)
		}
	}
}

func TestMergeKeepsGoingPastBadFiles(t *testing.T) {
	dir := sharedPcaps(t)
	tmp := t.TempDir()
	raw, err := os.ReadFile(filepath.Join(dir, "mod_isup_validate.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(tmp, "truncated.pcap")
	if err := os.WriteFile(truncated, raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	paths := []string{
		filepath.Join(tmp, "does-not-exist.pcap"),
		truncated,
		filepath.Join(dir, "sng_ss7mon_test2.pcap"),
	}
	r, err := OpenFiles(paths)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := mergeAll(t, r)
	counts := map[uint16]int{}
	for _, m := range got {
		counts[m.source]++
	}
	if counts[0] != 0 || counts[2] != 7 || counts[1] == 0 || counts[1] >= 141 {
		t.Errorf("frames per source %v", counts)
	}
	if r.Unreadable() != 1 {
		t.Errorf("unreadable %d, want 1", r.Unreadable())
	}
	errs := r.Errors()
	if len(errs) != 2 {
		t.Fatalf("errors %v, want 2", errs)
	}
	var fe *FrameError
	if !errors.As(errs[1], &fe) || fe.File != truncated || fe.Frame != uint64(counts[1]+1) {
		t.Errorf("second error %v, want a FrameError for %s frame %d", errs[1], truncated, counts[1]+1)
	}
}

func TestOpenFilesArguments(t *testing.T) {
	if _, err := OpenFiles(nil); err == nil {
		t.Error("no files accepted")
	}
}

// BenchmarkReadPcap reads shared captures through the merging reader,
// reopening at the end (outside the timer); frames/s is reported. Steady
// state must not allocate.
func BenchmarkReadPcap(b *testing.B) {
	dir := sharedPcaps(b)
	raw, err := os.ReadFile(filepath.Join(dir, "isup_load_generator.pcap"))
	if err != nil {
		b.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	gzPath := filepath.Join(b.TempDir(), "isup_load_generator.pcap.gz")
	if err := os.WriteFile(gzPath, gz.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, path string }{
		{"pcapng", filepath.Join(dir, "isup_load_generator.pcap")},
		{"pcap", filepath.Join(dir, "mod_isup_validate.pcap")},
		{"pcapng.gz", gzPath},
	} {
		b.Run(bc.name, func(b *testing.B) { benchmarkRead(b, bc.path) })
	}
}

func benchmarkRead(b *testing.B, path string) {
	var f decode.Frame
	// Opening and the first frame (which sizes the reader's buffers) are
	// outside the timer: the steady state is what is measured.
	open := func() *Reader {
		r, err := OpenFiles([]string{path})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Next(&f); err != nil {
			b.Fatal(err)
		}
		return r
	}
	r := open()
	frames := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := r.Next(&f)
		if err == io.EOF {
			b.StopTimer()
			r.Close()
			r = open()
			b.StartTimer()
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		frames++
	}
	b.StopTimer()
	r.Close()
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
}
