package gen

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedSIPCapturesRegenerate keeps pcaps/sipi-*.pcap and their truth
// files byte-identical to what the generator writes today.
func TestCommittedSIPCapturesRegenerate(t *testing.T) {
	var total int64
	for _, c := range CommittedSIP {
		t.Run(c.Pcap, func(t *testing.T) {
			var p, tr bytes.Buffer
			sum, err := WriteSIP(&p, &tr, c.Options)
			if err != nil {
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
					t.Errorf("pcaps/%s differs from the generator's output: regenerate it as pcaps/README.md says", f.name)
				}
				total += int64(len(want))
			}
			truth, err := ReadSIPTruth(&tr)
			if err != nil || uint64(len(truth)) != sum.Messages {
				t.Fatalf("%d truth lines for %d messages: %v", len(truth), sum.Messages, err)
			}
			switch c.Options.Transport {
			case SIPOverUDP:
				if sum.Fragmented == 0 {
					t.Error("no fragmented datagram")
				}
			case SIPOverTCP:
				twoInOne, spanning := false, false
				for i := 1; i < len(truth); i++ {
					twoInOne = twoInOne || truth[i].Frame == truth[i-1].Frame
				}
				spanning = sum.Segments > sum.Messages
				if !twoInOne || !spanning {
					t.Errorf("TCP capture: two messages in one segment %v, messages across segments %v", twoInOne, spanning)
				}
			}
		})
	}
	if total > 100<<10 {
		t.Errorf("committed SIP captures total %d bytes", total)
	}
}
