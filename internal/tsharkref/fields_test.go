package tsharkref

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var benchCapture = flag.String("tsharkref.capture", filepath.Join("..", "..", "..", "shared", "pcaps", "isup_load_generator.pcap"),
	"capture that BenchmarkTsharkFields dissects")

func TestRunFields(t *testing.T) {
	if !Available() {
		t.Skip("tshark not installed")
	}
	c, err := LoadCapture(filepath.Join("testdata", "crafted_m3ua.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	n, err := RunFields(context.Background(), c, &out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	// Frames 1 (two bundled messages), 3, 4 and 5; frame 2 is a resent chunk.
	if n != 4 || len(lines) != 4 {
		t.Fatalf("%d lines reported, %d written:\n%s", n, len(lines), out.String())
	}
	cols := strings.Split(lines[0], "\t")
	if len(cols) != len(FieldNames) {
		t.Fatalf("%d columns, want %d", len(cols), len(FieldNames))
	}
	col := func(name string) string {
		for i, f := range FieldNames {
			if f == name {
				return cols[i]
			}
		}
		t.Fatalf("no field %s", name)
		return ""
	}
	if col("frame.number") != "1" || col("isup.cic") != "1,1" || col("isup.message_type") != "1,6" ||
		col("isup.called") != "12B4CE5F" || col("isup.generic_number") != "13912345678,8675512345678" {
		t.Errorf("first line: %s", lines[0])
	}
}

// BenchmarkTsharkFields times tshark extracting what `gatewarden decode`
// prints, for comparison with the decoder's own benchmarks:
//
//	go test ./internal/tsharkref -run '^$' -bench TsharkFields -benchtime 1x [-tsharkref.capture FILE]
func BenchmarkTsharkFields(b *testing.B) {
	if !Available() {
		b.Skip("tshark not installed")
	}
	if _, err := os.Stat(*benchCapture); err != nil {
		b.Fatal(err)
	}
	c, err := LoadCapture(*benchCapture)
	if err != nil {
		b.Fatal(err)
	}
	var lines int
	for i := 0; i < b.N; i++ {
		if lines, err = RunFields(context.Background(), c, discard{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(lines), "frames")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
