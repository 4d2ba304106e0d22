package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gatewarden/gatewarden/pcaps/gen"
)

func init() {
	register("gen", "write a synthetic interconnect capture and its truth file", runGen)
}

func runGen(args []string) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	seed := fs.Int64("seed", 1, "pseudo-random seed (same seed, same bytes)")
	calls := fs.Int("calls", 200, "number of calls")
	pcBits := fs.Uint("pc-bits", 14, "point-code width: 14 (ITU) or 24 (China)")
	out := fs.String("out", "gen.pcap", "capture file to write")
	truth := fs.String("truth", "", "truth file to write (JSON lines; empty: none)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *pcBits != 14 && *pcBits != 24 {
		fmt.Fprintln(os.Stderr, "gatewarden gen: --pc-bits must be 14 or 24")
		return 2
	}
	pf, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatewarden gen:", err)
		return 1
	}
	var tw io.Writer
	var tf *os.File
	if *truth != "" {
		if tf, err = os.Create(*truth); err != nil {
			fmt.Fprintln(os.Stderr, "gatewarden gen:", err)
			return 1
		}
		tw = tf
	}
	sum, err := gen.Write(pf, tw, gen.Options{Seed: *seed, Calls: *calls, PCBits: uint8(*pcBits), File: *out})
	if cerr := pf.Close(); err == nil {
		err = cerr
	}
	if tf != nil {
		if cerr := tf.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatewarden gen:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "gatewarden gen: %s: %d packets, %d ISUP messages, %d calls (%d skipped), %d bundled packets, %d fragmented (%d across packets), %d retransmissions\n",
		*out, sum.Packets, sum.Messages, sum.Calls, sum.SkippedCalls, sum.BundledPackets, sum.Fragmented, sum.FragmentedSplit, sum.Retransmissions)
	return 0
}
