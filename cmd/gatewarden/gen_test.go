package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gatewarden/gatewarden/pcaps/gen"
)

// TestGenReproducesCommittedCaptures runs the command exactly as
// pcaps/README.md says and requires the committed bytes.
func TestGenReproducesCommittedCaptures(t *testing.T) {
	pcaps, err := filepath.Abs(filepath.Join("..", "..", "pcaps"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	for _, c := range gen.Committed {
		code := runGen([]string{"--seed", strconv.FormatInt(c.Seed, 10), "--calls", strconv.Itoa(c.Calls),
			"--pc-bits", strconv.Itoa(int(c.PCBits)), "--out", c.Pcap, "--truth", c.Truth})
		if code != 0 {
			t.Fatalf("gen exit %d", code)
		}
		for _, name := range []string{c.Pcap, c.Truth} {
			got, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(pcaps, name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: gatewarden gen output differs from pcaps/%s", name, name)
			}
		}
	}
}

func TestGenRejectsBadFlags(t *testing.T) {
	t.Chdir(t.TempDir())
	if code := runGen([]string{"--pc-bits", "16"}); code != 2 {
		t.Errorf("--pc-bits 16: exit %d, want 2", code)
	}
	if code := runGen([]string{"--nonsense"}); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
	if code := runGen([]string{"--out", filepath.Join("missing", "dir", "x.pcap")}); code != 1 {
		t.Errorf("unwritable output: exit %d, want 1", code)
	}
}
