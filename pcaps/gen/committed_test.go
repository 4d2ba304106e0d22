package gen

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedCapturesRegenerate keeps pcaps/*.pcap and their truth files
// byte-identical to what the generator writes today.
func TestCommittedCapturesRegenerate(t *testing.T) {
	for _, c := range Committed {
		t.Run(c.Pcap, func(t *testing.T) {
			var p, tr bytes.Buffer
			if _, err := Write(&p, &tr, c.Options()); err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				name string
				got  []byte
			}{{c.Pcap, p.Bytes()}, {c.Truth, tr.Bytes()}} {
				want, err := os.ReadFile(filepath.Join("..", f.name))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(f.got, want) {
					t.Errorf("pcaps/%s differs from the generator's output (%d vs %d bytes): regenerate it as pcaps/README.md says",
						f.name, len(f.got), len(want))
				}
			}
		})
	}
}

func TestCommittedCapturesAreSmall(t *testing.T) {
	var total int64
	for _, c := range Committed {
		for _, name := range []string{c.Pcap, c.Truth} {
			st, err := os.Stat(filepath.Join("..", name))
			if err != nil {
				t.Fatal(err)
			}
			total += st.Size()
		}
	}
	if total > 700<<10 {
		t.Fatalf("committed captures total %d bytes, want well under 1 MB", total)
	}
}
