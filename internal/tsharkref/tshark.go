package tsharkref

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Capture is one capture file and how tshark must read it.
type Capture struct {
	Path string
	// Name is the file name without its extension; golden files are named
	// after it.
	Name string
	// Args are the tshark options from NAME.tshark-args, plus the MTP3
	// standard implied by NAME.pc-bits when the options do not set one.
	Args []string
	// PCBits is the MTP3 point-code width (NAME.pc-bits, default 14).
	PCBits uint8
	// MTP2FCSLen is 2 when the options tell tshark MTP2 frames end in a
	// frame check sequence.
	MTP2FCSLen int8
}

// LoadCapture reads the side files of a capture.
func LoadCapture(path string) (Capture, error) { return LoadCaptureSidecars(path, "") }

// LoadCaptureSidecars is LoadCapture for a capture in a directory that cannot
// hold side files (the read-only public captures): each side file is read
// from beside the capture, or else from sidecarDir (if not empty) under the
// same name.
func LoadCaptureSidecars(path, sidecarDir string) (Capture, error) {
	c := Capture{Path: path, PCBits: 14}
	base := filepath.Base(path)
	c.Name = strings.TrimSuffix(base, filepath.Ext(base))
	side := func(ext string) (string, []byte, error) {
		p := path + ext
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) && sidecarDir != "" {
			p = filepath.Join(sidecarDir, base+ext)
			b, err = os.ReadFile(p)
		}
		return p, b, err
	}

	if p, b, err := side(".tshark-args"); err == nil {
		args, err := SplitArgs(string(b))
		if err != nil {
			return c, fmt.Errorf("%s: %w", p, err)
		}
		c.Args = args
	} else if !errors.Is(err, os.ErrNotExist) {
		return c, err
	}
	if p, b, err := side(".pc-bits"); err == nil {
		n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 8)
		if err != nil || (n != 14 && n != 16 && n != 24) {
			return c, fmt.Errorf("%s: want 14, 16 or 24, have %q", p, strings.TrimSpace(string(b)))
		}
		c.PCBits = uint8(n)
	} else if !errors.Is(err, os.ErrNotExist) {
		return c, err
	}

	setsStandard := false
	for _, a := range c.Args {
		if strings.HasPrefix(a, "mtp3.standard:") {
			setsStandard = true
		}
		if strings.EqualFold(a, "mtp2.capture_contains_frame_check_sequence:TRUE") {
			c.MTP2FCSLen = 2
		}
	}
	// A 24-bit capture is China's ITU variant unless its options say
	// otherwise (ansi_map_win.pcap names ANSI itself).
	if !setsStandard {
		switch c.PCBits {
		case 24:
			c.Args = append(c.Args, "-o", "mtp3.standard:Chinese ITU")
		case 16:
			c.Args = append(c.Args, "-o", "mtp3.standard:Japan")
		}
	}
	return c, nil
}

// SplitArgs splits a tshark-args file into arguments: whitespace separates,
// single or double quotes group, '#' starts a comment at a word boundary.
func SplitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == '#' && !inWord:
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return args, nil
			}
			return splitRest(args, s[i+j:])
		case unicode.IsSpace(r):
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}

func splitRest(args []string, rest string) ([]string, error) {
	more, err := SplitArgs(rest)
	return append(args, more...), err
}

// captureExts are the file extensions FindCaptures treats as captures.
var captureExts = map[string]bool{".pcap": true, ".pcapng": true, ".cap": true}

// FindCaptures lists the captures in the given directories, sorted by path. A
// directory that does not exist contributes nothing. Two captures with the
// same Name are an error, since they would share a golden file.
func FindCaptures(dirs ...string) ([]Capture, error) { return FindCapturesSidecars("", dirs...) }

// FindCapturesSidecars is FindCaptures with side files also read from
// sidecarDir (see LoadCaptureSidecars).
func FindCapturesSidecars(sidecarDir string, dirs ...string) ([]Capture, error) {
	var out []Capture
	seen := map[string]string{}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() || !captureExts[filepath.Ext(e.Name())] {
				continue
			}
			c, err := LoadCaptureSidecars(filepath.Join(dir, e.Name()), sidecarDir)
			if err != nil {
				return nil, err
			}
			if prev, dup := seen[c.Name]; dup {
				return nil, fmt.Errorf("captures %s and %s share the golden name %q", prev, c.Path, c.Name)
			}
			seen[c.Name] = c.Path
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// FileSHA256 is the hex sha256 of a file's content.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Binary is the tshark executable: $TSHARK, or tshark on the PATH.
func Binary() string {
	if b := os.Getenv("TSHARK"); b != "" {
		return b
	}
	return "tshark"
}

// Available reports whether tshark can be run.
func Available() bool {
	_, err := exec.LookPath(Binary())
	return err == nil
}

// command builds a tshark invocation that ignores any personal preferences,
// so the dissection depends only on the capture's options.
func command(ctx context.Context, args ...string) (*exec.Cmd, func(), error) {
	cfg, err := os.MkdirTemp("", "tsharkref-config-")
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, Binary(), args...)
	cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+cfg)
	return cmd, func() { os.RemoveAll(cfg) }, nil
}

// Version is tshark's version number, e.g. "4.0.17".
func Version(ctx context.Context) (string, error) {
	cmd, done, err := command(ctx, "--version")
	if err != nil {
		return "", err
	}
	defer done()
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("tshark --version: %w", err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	// "TShark (Wireshark) 4.0.17 (Git v4.0.17 packaged as ...)."
	f := strings.Fields(line)
	if len(f) < 3 {
		return "", fmt.Errorf("tshark --version: unexpected %q", line)
	}
	return f[2], nil
}

// PDMLArgs is the tshark command line (without the program name) that
// Run uses for a capture.
func PDMLArgs(c Capture) []string {
	args := []string{"-n", "-r", c.Path}
	args = append(args, c.Args...)
	return append(args, "-Y", DisplayFilter, "-T", "pdml")
}

// DisplayFilter selects the frames carrying a message gatewarden decodes:
// ISUP, BICC (which tshark dissects as its own protocol) and SIP.
const DisplayFilter = "isup || bicc || sip"

// Run dissects a capture with tshark and returns one record per ISUP message.
func Run(ctx context.Context, c Capture) ([]Record, error) {
	var recs []Record
	err := Stream(ctx, c, func(r *Record) error {
		recs = append(recs, *r)
		return nil
	})
	return recs, err
}

// Stream is Run without holding the records: emit sees each in frame order.
func Stream(ctx context.Context, c Capture, emit func(*Record) error) error {
	cmd, done, err := command(ctx, PDMLArgs(c)...)
	if err != nil {
		return err
	}
	defer done()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("tshark: %w", err)
	}
	perr := ParsePDML(bufio.NewReaderSize(out, 1<<16), emit)
	if perr != nil {
		// Let tshark finish writing into a closed pipe rather than block.
		io.Copy(io.Discard, out)
	}
	werr := cmd.Wait()
	if werr != nil {
		return fmt.Errorf("tshark %s: %w: %s", strings.Join(PDMLArgs(c), " "), werr, lastLines(stderr.String()))
	}
	return perr
}

// lastLines keeps an error message short and drops tshark's root warning.
func lastLines(s string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if !strings.HasPrefix(l, "Running as user") && l != "" {
			keep = append(keep, l)
		}
	}
	if len(keep) > 5 {
		keep = keep[len(keep)-5:]
	}
	return strings.Join(keep, "; ")
}

// FieldNames are the tshark fields matching what `gatewarden decode` prints
// per ISUP message: time, frame, endpoints, routing label, CIC, type, every
// address parameter with its indicators, generic numbers, redirection
// information, category and cause.
var FieldNames = []string{
	"frame.time_epoch", "frame.number",
	"ip.src", "ipv6.src", "sctp.srcport", "ip.dst", "ipv6.dst", "sctp.dstport",
	"m3ua.protocol_data_opc", "m3ua.protocol_data_dpc", "m3ua.protocol_data_ni", "m3ua.protocol_data_sls",
	"mtp3.opc", "mtp3.dpc", "mtp3.network_indicator", "mtp3.sls",
	"isup.cic", "bicc.cic", "isup.message_type",
	"isup.called", "isup.calling", "isup.redirecting", "isup.original_called_number",
	"isup.redirection_number", "isup.location_number", "isup.generic_number",
	"isup.called_party_nature_of_address_indicator", "isup.calling_party_nature_of_address_indicator",
	"isup.numbering_plan_indicator", "isup.inn_indicator", "isup.ni_indicator",
	"isup.address_presentation_restricted_indicator", "isup.screening_indicator",
	"isup.screening_indicator_enhanced", "isup.number_qualifier_indicator",
	"isup.redirecting_ind", "isup.original_redirection_reason", "isup.redirection_counter",
	"isup.redirection_reason",
	"isup.calling_partys_category", "isup.cause_indicator", "q931.cause_location",
}

// FieldsArgs is the tshark command line (without the program name) that
// extracts FieldNames for every frame carrying ISUP, one line per frame, as
// the baseline for timing `gatewarden decode`.
func FieldsArgs(c Capture) []string {
	args := []string{"-n", "-r", c.Path}
	args = append(args, c.Args...)
	args = append(args, "-Y", DisplayFilter, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-E", "separator=\t")
	for _, f := range FieldNames {
		args = append(args, "-e", f)
	}
	return args
}

// RunFields runs the FieldsArgs extraction, writing tshark's output to w, and
// returns the number of lines (frames) it wrote.
func RunFields(ctx context.Context, c Capture, w io.Writer) (int, error) {
	cmd, done, err := command(ctx, FieldsArgs(c)...)
	if err != nil {
		return 0, err
	}
	defer done()
	var stderr bytes.Buffer
	lc := &lineCounter{w: w}
	cmd.Stdout, cmd.Stderr = lc, &stderr
	if err := cmd.Run(); err != nil {
		return lc.lines, fmt.Errorf("tshark %s: %w: %s", strings.Join(FieldsArgs(c), " "), err, lastLines(stderr.String()))
	}
	return lc.lines, nil
}

type lineCounter struct {
	w     io.Writer
	lines int
}

func (l *lineCounter) Write(p []byte) (int, error) {
	l.lines += bytes.Count(p, []byte{'\n'})
	return l.w.Write(p)
}
