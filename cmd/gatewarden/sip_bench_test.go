package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/internal/tsharkref"
	"github.com/gatewarden/gatewarden/pcaps/gen"
	"github.com/gatewarden/gatewarden/pipeline"
)

// BenchmarkReplaySIP runs the whole pipeline (decode with TCP reassembly,
// SIP dialogs, every rule) on a generated SIP-I capture over TCP, made at run
// time and never committed: 20 000 calls, about 118 000 SIP messages, most
// with multipart SDP + ISUP bodies, messages spread over 700-byte segments.
// One op is the whole file. Reports messages per CPU-second (the per-core
// rate), and with GATEWARDEN_BENCH_TSHARK=1 the CPU seconds tshark takes to
// print the SIP and ISUP fields of the same file.
//
//	go test ./cmd/gatewarden -run '^$' -bench ReplaySIP -benchtime 3x
func BenchmarkReplaySIP(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "sipi.pcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	sum, err := gen.WriteSIP(f, nil, gen.SIPOptions{Seed: 9, Calls: 20000, Transport: gen.SIPOverTCP, Segment: 700})
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	cfg := filepath.Join(dir, "gatewarden.yaml")
	os.WriteFile(cfg, []byte(sipPartnerConfig), 0o644)
	setup, err := pipeline.LoadGeneration(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("replay", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cpuSeconds()
		var messages uint64
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r, err := capture.OpenFiles([]string{path})
			if err != nil {
				b.Fatal(err)
			}
			p := newReplayPipeline(setup, io.Discard, nil, nil, nil)
			if err := p.run(r, func(error) {}); err != nil {
				b.Fatal(err)
			}
			r.Close()
			ps := p.p.Stats()
			if st := ps.Decode; st.SIPMessages != sum.Messages || st.Drops() != 0 {
				b.Fatalf("decoded %d SIP messages of %d: %s", st.SIPMessages, sum.Messages, st.Summary())
			}
			if n := ps.Calls.Closed; n != sum.Calls {
				b.Fatalf("%d calls closed, %d generated", n, sum.Calls)
			}
			messages += ps.Decode.Messages
		}
		b.StopTimer()
		cpu := cpuSeconds() - cpu0
		b.ReportMetric(float64(messages)/cpu, "msgs/cpu-s")
		b.ReportMetric(float64(messages)/b.Elapsed().Seconds(), "msgs/s")
	})
	if os.Getenv("GATEWARDEN_BENCH_TSHARK") == "" || !tsharkref.Available() {
		return
	}
	b.Run("tshark-fields", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			before := childCPUSeconds()
			cmd := exec.Command(tsharkref.Binary(), "-n", "-r", path, "-Y", "sip", "-T", "fields",
				"-e", "frame.number", "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.Call-ID", "-e", "sip.CSeq.seq",
				"-e", "sip.from.user", "-e", "sip.to.user", "-e", "sip.pai.user", "-e", "sip.Privacy", "-e", "sip.Reason",
				"-e", "isup.message_type", "-e", "isup.calling", "-e", "isup.called", "-e", "isup.cause_indicator")
			cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+b.TempDir())
			cmd.Stdout = io.Discard
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(childCPUSeconds()-before, "tshark-cpu-s")
			b.ReportMetric(float64(sum.Messages)/(childCPUSeconds()-before), "tshark-msgs/cpu-s")
		}
	})
}
