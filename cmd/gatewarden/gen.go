package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gatewarden/gatewarden/pcaps/gen"
)

func init() {
	register("gen", "write a synthetic interconnect capture and its truth file", runGen)
}

func runGen(args []string) int {
	fs := newFlagSet("gen", helpOut, os.Stderr)
	fs.about = "Writes a synthetic interconnect capture (deterministic for a seed) and, with --truth, what it contains."
	seed := fs.Int64("seed", 1, "pseudo-random seed (same seed, same bytes)")
	calls := fs.Int("calls", 200, "number of calls")
	pcBits := fs.Uint("pc-bits", 14, "point-code width: 14 (ITU) or 24 (China)")
	out := fs.String("out", "gen.pcap", "capture file to write")
	truth := fs.String("truth", "", "truth file to write (JSON lines; empty: none)")
	scenario := fs.String("scenario", "", "YAML file of scripted calls to add to the random ones (see pcaps/gen/scenario.go)")
	labels := fs.String("labels", "", "write one JSON line per labelled scripted call: where its IAM is")
	sipTransport := fs.String("sip", "", "write SIP-I/SIP calls over udp, tcp or sctp instead of SS7 (truth: one JSON line per SIP message)")
	ipv6 := fs.Bool("ipv6", false, "with --sip: IPv6")
	mtu := fs.Int("mtu", 0, "with --sip over udp: fragment IPv4 datagrams longer than this (default 1500)")
	segment := fs.Int("segment", 0, "with --sip over tcp: bytes per TCP segment, so longer messages span segments (default 1460)")
	mix := fs.String("mix", "", "traffic mix of the random calls: "+strings.Join(gen.Mixes, ", ")+" (empty: default)")
	bicc := fs.Bool("bicc", false, "BICC (SI 13, 32-bit call instance codes) with a softswitch partner instead of ISUP with the default partners")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q", fs.Arg(0))
	}
	if *pcBits != 14 && *pcBits != 24 {
		return fs.usageError("--pc-bits must be 14 or 24")
	}
	if *sipTransport != "" {
		return writeSIPCapture(gen.SIPOptions{Seed: *seed, Calls: *calls, Transport: *sipTransport, IPv6: *ipv6, MTU: *mtu, Segment: *segment}, *out, *truth)
	}
	opt := gen.Options{Seed: *seed, Calls: *calls, PCBits: uint8(*pcBits), BICC: *bicc, File: *out}
	if *mix != "" {
		if *bicc || *scenario != "" {
			return fs.usageError("--mix cannot be combined with --bicc or --scenario")
		}
		m, err := gen.MixOptions(*mix, *seed, *calls, uint8(*pcBits))
		if err != nil {
			return fs.usageError("%v", err)
		}
		m.File = *out
		opt = m
	}
	if *scenario != "" {
		f, err := os.Open(*scenario)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gatewarden gen:", err)
			return 1
		}
		scripted, err := gen.LoadScenario(f, gen.DefaultStart)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "gatewarden gen: %s: %v\n", *scenario, err)
			return 2
		}
		partners := gen.DefaultPartners(opt.PCBits)
		if opt.BICC {
			partners = gen.BICCPartners(opt.PCBits)
		}
		opt.Source = gen.Merge(gen.NewSliceSource(scripted),
			gen.NewRandomSource(opt.Seed, opt.Calls, partners, gen.DefaultStart.Add(time.Second)))
	}
	var labelLines []byte
	if *labels != "" {
		opt.OnCall = func(r gen.CallRecord) {
			if r.Call.Label == "" {
				return
			}
			b, _ := json.Marshal(labelLine{Label: r.Call.Label, Partner: r.Call.Partner, TS: r.TS.Format(gen.TSLayout),
				Frame: r.Frame, Src: r.Src, Dst: r.Dst, OPC: r.OPC, DPC: r.DPC, CIC: r.CIC})
			labelLines = append(append(labelLines, b...), '\n')
		}
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
	sum, err := gen.Write(pf, tw, opt)
	if cerr := pf.Close(); err == nil {
		err = cerr
	}
	if tf != nil {
		if cerr := tf.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil && *labels != "" {
		err = os.WriteFile(*labels, labelLines, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatewarden gen:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "gatewarden gen: %s: %d packets, %d ISUP messages, %d calls (%d skipped), %d bundled packets, %d fragmented (%d across packets), %d retransmissions, %d non-ISUP chunks bundled\n",
		*out, sum.Packets, sum.Messages, sum.Calls, sum.SkippedCalls, sum.BundledPackets, sum.Fragmented, sum.FragmentedSplit, sum.Retransmissions, sum.ExtraChunks)
	return 0
}

// labelLine locates a labelled scripted call in the capture.
type labelLine struct {
	Label   string `json:"label"`
	Partner string `json:"partner"`
	TS      string `json:"ts"`
	Frame   uint64 `json:"frame"`
	Src     string `json:"src"`
	Dst     string `json:"dst"`
	OPC     uint32 `json:"opc"`
	DPC     uint32 `json:"dpc"`
	CIC     uint32 `json:"cic"`
}

// writeSIPCapture is `gatewarden gen --sip`.
func writeSIPCapture(opt gen.SIPOptions, out, truth string) int {
	pf, err := os.Create(out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatewarden gen:", err)
		return 1
	}
	var tw io.Writer
	var tf *os.File
	if truth != "" {
		if tf, err = os.Create(truth); err != nil {
			fmt.Fprintln(os.Stderr, "gatewarden gen:", err)
			return 1
		}
		tw = tf
	}
	sum, err := gen.WriteSIP(pf, tw, opt)
	if cerr := pf.Close(); err == nil {
		err = cerr
	}
	if tf != nil {
		if cerr := tf.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gatewarden gen: %s: %v\n", out, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "gatewarden gen: %s: %d packets, %d SIP messages, %d calls, %d fragmented datagrams, %d TCP segments\n",
		out, sum.Packets, sum.Messages, sum.Calls, sum.Fragmented, sum.Segments)
	return 0
}
