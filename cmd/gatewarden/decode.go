package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
)

func init() {
	register("decode", "decode capture files into one JSON object per ISUP message", runDecode)
}

func runDecode(args []string) int { return decodeMain(args, os.Stdout, os.Stderr) }

// Sidecar files beside a capture (the convention of /work/shared/pcaps).
const (
	sidecarPCBits     = ".pc-bits"     // "24": the point-code width of the capture
	sidecarTsharkArgs = ".tshark-args" // tshark options; the MTP2 FCS preference is honoured
	tsharkFCSTrue     = "mtp2.capture_contains_frame_check_sequence:TRUE"
)

// decodeOutBuf is the size of decode's output buffer: JSON is written in
// chunks of at least half of it.
const decodeOutBuf = 256 << 10

// decodeOptions are the parsed command line.
type decodeOptions struct {
	pcBits       uint8
	fcs          int8 // -1: not given
	sourcePCBits map[string]uint8
	linkPCBits   map[netip.Addr]uint8
	maxErrors    int
	checksums    bool
	sip          bool
	files        []string
}

func parseDecodeFlags(args []string, stderr io.Writer) (*decodeOptions, int) {
	fs := newFlagSet("decode", helpOut, stderr)
	pcBits := fs.String("pc-bits", "14", "MTP3 point-code width: 14 (ITU) or 24 (China/ANSI); a NAME.pc-bits file beside a capture overrides it for that capture")
	fcs := fs.String("fcs", "", "FCS bytes at the end of MTP2 frames: 0, 2 or 4 (default: the pcapng if_fcslen, else 2 when NAME.tshark-args says "+tsharkFCSTrue+", else 0)")
	ifacePC := fs.String("iface-pc-bits", "", "per-capture point-code width, FILE=BITS[,FILE=BITS...]; FILE is the path as given or its base name")
	linkPC := fs.String("link-pc-bits", "", "per-association point-code width for SIGTRAN, ADDR=BITS[,ADDR=BITS...] (either IP address of the association)")
	checksums := fs.Bool("verify-checksums", false, "verify SCTP CRC32c and count bad ones in the summary (taps often see unfilled, offloaded checksums)")
	sip := fs.Bool("sip", true, "also decode SIP over UDP, TCP and SCTP, with application/ISUP bodies as SIP-I")
	maxErrors := fs.Int("max-errors", 10, "errors printed per drop reason before the rest are only counted (0: no limit)")
	fs.synopsis = "[flags] FILE...   (FILE - reads standard input)"
	fs.about = "Reads pcap/pcapng files (gzip-compressed too) in timestamp order and prints one JSON\n" +
		"object per ISUP, BICC or SIP message on stdout. Errors and a summary go to stderr. Exit status: 0 ok,\n" +
		"1 a file could not be read, 2 usage, 3 a capture was damaged part-way (the rest was decoded)."
	if err := fs.Parse(args); err != nil {
		return nil, parseExit(err)
	}
	usageErr := func(format string, a ...any) (*decodeOptions, int) {
		fmt.Fprintf(stderr, "gatewarden decode: "+format+"\n", a...)
		return nil, exitUsage
	}
	o := &decodeOptions{fcs: -1, maxErrors: *maxErrors, checksums: *checksums, sip: *sip, files: fs.Args()}
	var err error
	if o.pcBits, err = parsePCBits(*pcBits); err != nil {
		return usageErr("invalid --pc-bits %q: %v", *pcBits, err)
	}
	if *fcs != "" {
		switch *fcs {
		case "0", "2", "4":
			n, _ := strconv.Atoi(*fcs)
			o.fcs = int8(n)
		default:
			return usageErr("invalid --fcs %q: valid values are 0, 2 and 4", *fcs)
		}
	}
	if o.sourcePCBits, err = parseAssignments(*ifacePC, "FILE=BITS", func(k string) (string, error) { return k, nil }); err != nil {
		return usageErr("invalid --iface-pc-bits %q: %v", *ifacePC, err)
	}
	if o.linkPCBits, err = parseAssignments(*linkPC, "ADDR=BITS", netip.ParseAddr); err != nil {
		return usageErr("invalid --link-pc-bits %q: %v", *linkPC, err)
	}
	if o.maxErrors < 0 {
		return usageErr("invalid --max-errors %d: must be 0 (no limit) or more", o.maxErrors)
	}
	if len(o.files) == 0 {
		return nil, fs.usageError("no capture files given (- reads standard input)")
	}
	if len(o.files) > 65535 {
		return usageErr("%d files: at most 65535 per run", len(o.files))
	}
	return o, exitOK
}

func parsePCBits(s string) (uint8, error) {
	switch strings.TrimSpace(s) {
	case "14":
		return 14, nil
	case "24":
		return 24, nil
	}
	return 0, errors.New("valid values are 14 and 24")
}

// parseAssignments parses "KEY=BITS,KEY=BITS"; form names KEY=BITS in errors.
func parseAssignments[K comparable](s, form string, key func(string) (K, error)) (map[K]uint8, error) {
	if s == "" {
		return nil, nil
	}
	m := make(map[K]uint8)
	for _, item := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(item, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not %s", item, form)
		}
		kk, err := key(k)
		if err != nil {
			return nil, err
		}
		bits, err := parsePCBits(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", item, err)
		}
		m[kk] = bits
	}
	return m, nil
}

// readSidecars returns the point-code width (0 if none) and MTP2 FCS length
// (-1 if none) that files beside a capture ask for.
func readSidecars(path string, stderr io.Writer) (pcBits uint8, fcs int8) {
	fcs = -1
	if b, err := os.ReadFile(path + sidecarPCBits); err == nil {
		if bits, err := parsePCBits(string(b)); err == nil {
			pcBits = bits
		} else {
			fmt.Fprintf(stderr, "gatewarden decode: %s%s: ignored: %v\n", path, sidecarPCBits, err)
		}
	}
	if b, err := os.ReadFile(path + sidecarTsharkArgs); err == nil {
		if strings.Contains(string(b), tsharkFCSTrue) {
			fcs = 2
		}
	}
	return pcBits, fcs
}

// errorPrinter prints decoder drops with file and frame, at most limit per
// reason; the rest are counted and summarised at the end.
type errorPrinter struct {
	w          io.Writer
	names      func(uint16) string
	limit      int
	printed    [decode.NumReasons]int
	suppressed [decode.NumReasons]uint64
}

func (p *errorPrinter) handle(source uint16, frame uint64, reason decode.Reason) {
	if !reason.IsDrop() || reason >= decode.NumReasons {
		return // skips are valid non-ISUP traffic: the summary counts them
	}
	if p.limit > 0 && p.printed[reason] >= p.limit {
		p.suppressed[reason]++
		return
	}
	p.printed[reason]++
	fmt.Fprintf(p.w, "gatewarden decode: %s: frame %d: %s\n", p.names(source), frame, reason)
}

func (p *errorPrinter) summary() {
	for r, n := range p.suppressed {
		if n > 0 {
			fmt.Fprintf(p.w, "gatewarden decode: %s: %d more not shown (--max-errors %d)\n", decode.Reason(r), n, p.limit)
		}
	}
}

// applyFCS sets the FCS length of an MTP2 frame: an explicit --fcs wins, then
// the capture's own if_fcslen, then the sidecar; else it stays -1 and the
// decoder uses Config.MTP2FCSLen.
func applyFCS(f *decode.Frame, flagFCS int8, fileFCS []int8) {
	if f.LinkType != decode.LinkTypeMTP2 && f.LinkType != decode.LinkTypeMTP2WithPHdr {
		return
	}
	if flagFCS >= 0 {
		f.FCSLen = flagFCS
	} else if f.FCSLen < 0 && int(f.Source) < len(fileFCS) {
		f.FCSLen = fileFCS[f.Source]
	}
}

func decodeMain(args []string, stdout, stderr io.Writer) int {
	o, code := parseDecodeFlags(args, stderr)
	if o == nil {
		return code
	}
	// A shell glob over a capture directory also names the sidecars: they
	// are read with their capture, not as captures.
	o.files = withoutSidecars(o.files)
	// Files are memory-mapped (no copy from the page cache); runMapped
	// reports a file that shrinks under the loop.
	r, err := capture.OpenFilesMapped(o.files)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden decode: %v\n", err)
		return exitUsage
	}
	defer r.Close()
	errs := r.Errors()
	notCapture := 0
	for _, err := range errs {
		if errors.Is(err, capture.ErrNotCapture) {
			notCapture++
			fmt.Fprintf(stderr, "gatewarden decode: skipped: %v\n", err)
		} else {
			fmt.Fprintf(stderr, "gatewarden decode: %v\n", err)
		}
	}
	unreadable := r.Unreadable() - notCapture
	reported := len(errs)

	cfg := decode.Config{PCBits: o.pcBits, LinkPCBits: o.linkPCBits, VerifySCTPChecksums: o.checksums, SIP: o.sip}
	if o.fcs >= 0 {
		cfg.MTP2FCSLen = o.fcs
	}
	// Per-file settings: sidecars first, then --iface-pc-bits.
	fileFCS := make([]int8, len(o.files))
	for i, path := range o.files {
		bits, fcs := readSidecars(path, stderr)
		if b, ok := o.sourcePCBits[path]; ok {
			bits = b
		} else if b, ok := o.sourcePCBits[filepath.Base(path)]; ok {
			bits = b
		}
		if bits != 0 {
			if cfg.SourcePCBits == nil {
				cfg.SourcePCBits = make(map[uint16]uint8)
			}
			cfg.SourcePCBits[uint16(i)] = bits
		}
		fileFCS[i] = fcs
	}

	growPipe(stdout)
	// Lines are encoded straight into the output buffer (no copy from a
	// line buffer) and it is written once it is half full, so a line (a few
	// hundred bytes; at most about twice a 64 KiB frame in hex) never makes it
	// grow.
	var (
		out      = make([]byte, 0, decodeOutBuf)
		enc      decode.JSONEncoder
		writeErr error
	)
	dec := decode.New(cfg, func(m *decode.Message) {
		if writeErr != nil {
			return
		}
		out = enc.Append(out, m, r.SourceName(m.Source))
		out = append(out, '\n')
		if len(out) >= decodeOutBuf/2 {
			_, writeErr = stdout.Write(out)
			out = out[:0]
		}
	})
	printer := &errorPrinter{w: stderr, names: r.SourceName, limit: o.maxErrors}
	dec.SetErrorHandler(printer.handle)

	var f decode.Frame
	prog := newProgress(stderr, "gatewarden decode")
	var frames uint64
	fault := runMapped(func() {
		for writeErr == nil {
			err := r.Next(&f)
			if frames++; prog.due() {
				st := dec.Stats()
				prog.show("%d frames, %d messages, %s", frames, st.Messages, r.SourceName(f.Source))
			}
			if errs := r.Errors(); len(errs) > reported {
				for _, err := range errs[reported:] {
					fmt.Fprintf(stderr, "gatewarden decode: %v\n", err)
				}
				reported = len(errs)
			}
			if err == io.EOF {
				break
			}
			applyFCS(&f, o.fcs, fileFCS)
			dec.Decode(&f)
		}
	})
	if fault != nil {
		fmt.Fprintf(stderr, "gatewarden decode: frame %d of %s: %v\n", f.Frame, r.SourceName(f.Source), fault)
	}
	if writeErr == nil && fault == nil {
		dec.Flush()
	}
	if writeErr == nil && len(out) > 0 {
		_, writeErr = stdout.Write(out)
	}
	prog.done()
	printer.summary()
	stats := dec.Stats()
	broken := len(r.Errors()) - r.Unreadable()
	fmt.Fprintf(stderr, "gatewarden decode: files=%d unreadable=%d not_capture=%d broken=%d %s\n",
		len(o.files), unreadable, notCapture, broken, stats.Summary())
	if writeErr != nil {
		fmt.Fprintf(stderr, "gatewarden decode: writing output: %v\n", writeErr)
		return exitFailed
	}
	if unreadable > 0 || notCapture == len(o.files) {
		return exitFailed
	}
	if broken > 0 || fault != nil {
		return exitDamaged
	}
	return exitOK
}

// runMapped runs loop, which reads memory-mapped capture files
// (capture.OpenFilesMapped), and returns the fault raised when one of them
// shrank under it, nil when none did; any other panic goes on.
func runMapped(loop func()) (fault error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			if fault = capture.MappedFault(v); fault == nil {
				panic(v)
			}
		}
	}()
	loop()
	return nil
}

// withoutSidecars drops NAME.pc-bits and NAME.tshark-args when NAME is given
// too.
func withoutSidecars(files []string) []string {
	given := make(map[string]bool, len(files))
	for _, f := range files {
		given[f] = true
	}
	kept := files[:0:0]
	for _, f := range files {
		if base, ok := strings.CutSuffix(f, sidecarPCBits); ok && given[base] {
			continue
		}
		if base, ok := strings.CutSuffix(f, sidecarTsharkArgs); ok && given[base] {
			continue
		}
		kept = append(kept, f)
	}
	return kept
}
