package retention_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/retention"
)

// What the Redecoder makes of a stored message is what the decoder made of
// it at capture: the same protocol, ISUP type, circuit and calling number,
// for ISUP over MTP3 and SIP-I alike; stored bytes that do not decode say
// why.
func TestRedecoderAgreesWithCapture(t *testing.T) {
	for _, pcap := range []string{"../../shared/pcaps/sng_ss7mon_test2.pcap", "../pcaps/sipi-udp.pcap"} {
		t.Run(filepath.Base(pcap), func(t *testing.T) {
			if _, err := os.Stat(pcap); err != nil {
				t.Fatalf("capture not available (part of the test contract): %v", err)
			}
			r, err := capture.OpenFiles([]string{pcap})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			dir := t.TempDir()
			s, err := retention.Open(dir, retention.Options{})
			if err != nil {
				t.Fatal(err)
			}
			type key struct {
				frame uint64
				ts    int64
			}
			want := map[key]decode.Message{}
			dec := decode.New(decode.Config{SIP: true}, func(m *decode.Message) {
				want[key{m.Frame, m.TS}] = *m
				if err := s.AddMessage(m, r.SourceName(m.Source)); err != nil {
					t.Fatal(err)
				}
			})
			var f decode.Frame
			for r.Next(&f) == nil {
				dec.Decode(&f)
			}
			dec.Flush()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			ro, err := retention.Open(dir, retention.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			calls, err := ro.QueryCalls(retention.Query{})
			if err != nil {
				t.Fatal(err)
			}
			var rd retention.Redecoder
			n := 0
			for _, c := range calls {
				for i := range c.Ladder {
					m := &c.Ladder[i]
					w, ok := want[key{m.Frame, m.TS}]
					if !ok {
						t.Fatalf("frame %d was not decoded at capture", m.Frame)
					}
					got, ok := rd.Decode(m)
					if !ok || rd.Reason() != "" {
						t.Fatalf("frame %d: not redecoded: %s", m.Frame, rd.Reason())
					}
					if got.Protocol != w.Protocol || got.HasISUP != w.HasISUP || got.ISUP.Type != w.ISUP.Type ||
						got.ISUP.CIC != w.ISUP.CIC || got.ISUP.Calling.DigitString() != w.ISUP.Calling.DigitString() {
						t.Errorf("frame %d: redecoded %v type %d cic %d calling %q, captured %v type %d cic %d calling %q", m.Frame,
							got.Protocol, got.ISUP.Type, got.ISUP.CIC, got.ISUP.Calling.DigitString(),
							w.Protocol, w.ISUP.Type, w.ISUP.CIC, w.ISUP.Calling.DigitString())
					}
					n++
				}
			}
			if n == 0 {
				t.Fatal("no stored messages")
			}
			// Bytes that are no ISUP message: false, with the reason.
			bad := calls[0].Ladder[0]
			bad.MTP3 = []byte{0x85}
			if _, ok := rd.Decode(&bad); ok || rd.Reason() == "" {
				t.Errorf("garbage redecoded: ok %v reason %q", ok, rd.Reason())
			}
		})
	}
}
