package retention

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/decode"
)

// A kill between writing CHAIN and removing the sealed log, or between the
// manifest and CHAIN: the next Open holds every record once.
func TestHalfSealedLogIsNotSealedTwice(t *testing.T) {
	for _, stage := range []string{"chain written", "manifest written"} {
		t.Run(stage, func(t *testing.T) {
			s := openTest(t, t.TempDir(), Options{})
			var l linker
			g := newGenerator(6, t0, int64(time.Second))
			var n uint64
			g.run(60, func(m *decode.Message) {
				n++
				if err := l.add(s, m, g.source); err != nil {
					t.Fatal(err)
				}
			}, nil2)
			dir := crashCopy(t, s) // the open log, as a kill leaves it
			wal, err := os.ReadFile(walPath(dir, s.curSeq))
			if err != nil {
				t.Fatal(err)
			}
			r := openTest(t, dir, Options{}) // seals it
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			seq := r.Partitions()[0].Seq
			// Put the log back as if the kill came before its removal.
			os.WriteFile(walPath(dir, seq), wal, 0o644)
			if stage == "manifest written" {
				os.Remove(filepath.Join(dir, chainFile))
			}
			if got := storedMessages(t, dir); got != n {
				t.Fatalf("store holds %d messages, want %d", got, n)
			}
		})
	}
}
