package main

// The command-line conventions every subcommand shares, in one place:
//
//   - flags may stand before or after the arguments (`replay x.pcap --config
//     c.yaml`); "--" ends the flags;
//   - -h, -help and --help print the command's usage on stdout and exit 0;
//     a usage error prints the reason and the usage on stderr and exits 2;
//   - exit codes: 0 ok, 1 failure, 2 usage, 3 an input was damaged part-way
//     and the rest was processed (see the constants in main.go);
//   - --data accepts the daemon's data_dir or the store inside it, and a
//     directory without a store is refused (openData);
//   - long runs print a progress line on stderr when it is a terminal.
//
// Why a small helper over the standard flag package rather than
// github.com/spf13/pflag (which interleaves flags too): pflag reads a single
// dash as a run of one-letter flags, so the `-data DIR` spelling that
// scripts and the RUNBOOK already use would change meaning; the standard
// package accepts -data and --data alike and needs about thirty lines to
// take flags after arguments. No new dependency either.

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gatewarden/gatewarden/retention"
)

// flagSet is a flag.FlagSet that takes flags anywhere among the arguments
// and prints help on stdout.
type flagSet struct {
	*flag.FlagSet
	name     string
	stdout   io.Writer
	synopsis string // after "gatewarden NAME"; default "[flags]"
	about    string // paragraph printed under the synopsis
	args     []string
}

// newFlagSet returns the flag set of subcommand name: help goes to stdout,
// errors to stderr.
func newFlagSet(name string, stdout, stderr io.Writer) *flagSet {
	f := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), name: name, stdout: stdout, synopsis: "[flags]"}
	f.SetOutput(stderr)
	f.Usage = func() {
		w := f.Output()
		fmt.Fprintf(w, "usage: gatewarden %s %s\n\n", f.name, f.synopsis)
		if f.about != "" {
			fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(f.about))
		}
		fmt.Fprintf(w, "flags:\n")
		f.PrintDefaults()
	}
	return f
}

// Parse parses flags wherever they stand among args. On -h or --help it
// prints the usage on stdout and returns flag.ErrHelp; on a bad flag it
// prints the error and usage on the error output.
func (f *flagSet) Parse(args []string) error {
	var buf bytes.Buffer
	errOut := f.Output()
	f.SetOutput(&buf)
	defer f.SetOutput(errOut)
	f.args = f.args[:0]
	for {
		err := f.FlagSet.Parse(args)
		if err != nil {
			if errors.Is(err, flag.ErrHelp) {
				io.Copy(f.stdout, &buf)
			} else {
				io.Copy(errOut, &buf)
			}
			return err
		}
		rest := f.FlagSet.Args()
		if len(rest) == 0 {
			break
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			f.args = append(f.args, rest...) // after "--" nothing is a flag
			break
		}
		f.args = append(f.args, rest[0])
		args = rest[1:]
	}
	io.Copy(errOut, &buf)
	return nil
}

// Args are the arguments that are not flags, in order.
func (f *flagSet) Args() []string { return f.args }

// NArg is len(Args()).
func (f *flagSet) NArg() int { return len(f.args) }

// Arg is the i'th argument, or "".
func (f *flagSet) Arg(i int) string {
	if i < 0 || i >= len(f.args) {
		return ""
	}
	return f.args[i]
}

// parseExit is the exit code for an error from Parse: 0 for help, else 2.
func parseExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// usageError prints "gatewarden NAME: reason" and where to find the usage on
// the error output, and returns exitUsage.
func (f *flagSet) usageError(format string, a ...any) int {
	fmt.Fprintf(f.Output(), "gatewarden %s: "+format+"\n", append([]any{f.name}, a...)...)
	fmt.Fprintf(f.Output(), "Run 'gatewarden %s --help' for usage.\n", f.name)
	return exitUsage
}

// openData opens the store a --data flag names, read-only: the daemon's
// data_dir or the store inside it. A directory without a store is an error
// that says so, never an empty answer.
func openData(dir string) (*retention.Store, error) {
	storeDir, err := resolveData(dir)
	if err != nil {
		return nil, err
	}
	return retention.Open(storeDir, retention.Options{ReadOnly: true})
}

// resolveData is the store directory for --data (see retention.Locate).
func resolveData(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("--data is required: the daemon's data_dir or the store inside it")
	}
	d, err := retention.Locate(dir)
	if err != nil {
		return "", fmt.Errorf("--data: %w", err)
	}
	return d, nil
}

// storeError adds to a read error from a damaged partition (which names the
// partition) what to run next.
func storeError(storeDir string, err error) error {
	var ce *retention.CorruptError
	if errors.As(err, &ce) {
		return fmt.Errorf("%w: run `gatewarden verify --data %s` to check every partition against the manifest chain", err, storeDir)
	}
	return err
}

// Log formats of the long-running commands (run, serve): one format for both,
// JSON unless --log-format text.
const (
	logFormatJSON = "json"
	logFormatText = "text"
)

// logFormatFlag adds --log-format to a long-running command.
func (f *flagSet) logFormatFlag() *string {
	return f.String("log-format", logFormatJSON, "log lines as json (one object per line) or text (key=value)")
}

// newCLILogger is the logger of a long-running command: format json or
// text, level debug, info (""), warn or error.
func newCLILogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var l slog.Level
	switch level {
	case "debug":
		l = slog.LevelDebug
	case "", "info":
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		return nil, fmt.Errorf("log level %q is not one of debug, info, warn, error", level)
	}
	opt := &slog.HandlerOptions{Level: l}
	switch format {
	case logFormatJSON:
		return slog.New(slog.NewJSONHandler(w, opt)), nil
	case logFormatText:
		return slog.New(slog.NewTextHandler(w, opt)), nil
	}
	return nil, fmt.Errorf("--log-format must be %s or %s, not %q", logFormatJSON, logFormatText, format)
}

// helpOut is standard output for the commands without a stdout parameter
// (run, serve, decode's flags, gen, version); tests replace it.
var helpOut io.Writer = os.Stdout

// version is set at link time (-ldflags "-X main.version=v1.2.3"); a module
// build's version is used otherwise.
var version = ""

// versionLine is "gatewarden VERSION (commit REV[, modified], BUILT) GO OS/ARCH".
func versionLine() string {
	v, rev, when, modified := version, "", "", false
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	commit := "commit unknown (built without VCS information)"
	if rev != "" {
		commit = "commit " + rev
		if modified {
			commit += ", modified"
		}
		if when != "" {
			commit += ", " + when
		}
	}
	return fmt.Sprintf("gatewarden %s (%s) %s %s/%s", v, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func init() {
	register("version", "print the version, commit and Go version", func(args []string) int {
		return versionMain(args, helpOut, os.Stderr)
	})
}

func versionMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", stdout, stderr)
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q", fs.Arg(0))
	}
	fmt.Fprintln(stdout, versionLine())
	return exitOK
}

// progressEvery is how often a progress line is redrawn (a variable so a
// test can redraw on every frame).
var progressEvery = 500 * time.Millisecond

// progressClockEvery is how many calls of due share one reading of the
// clock (a power of two). Reading it per frame was a tenth of a `decode`
// run's CPU (BenchmarkDecodeMixProcess); a few hundred frames take well
// under a millisecond, so the redraw is no later than progressEvery by any
// amount a person can see.
const progressClockEvery = 256

// progress redraws one status line on a terminal. Wall-clock time only
// paces the display; nothing analysed depends on it.
type progress struct {
	w     io.Writer
	label string
	last  time.Time
	calls uint64
	shown bool
}

// newProgress returns a progress line on stderr when it is a terminal, else
// nil (whose methods do nothing).
func newProgress(stderr io.Writer, label string) *progress {
	if !isTerminal(stderr) {
		return nil
	}
	return &progress{w: stderr, label: label, last: time.Now()}
}

// due reports whether the line should be redrawn now; callers build the
// text only then. The clock is read on the first call and then once every
// progressClockEvery calls.
func (p *progress) due() bool {
	if p == nil {
		return false
	}
	p.calls++
	if p.calls%progressClockEvery != 1 {
		return false
	}
	now := time.Now()
	if now.Sub(p.last) < progressEvery {
		return false
	}
	p.last = now
	return true
}

// show redraws the line.
func (p *progress) show(format string, a ...any) {
	if p == nil {
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%s: "+format, append([]any{p.label}, a...)...)
	p.shown = true
}

// done clears the line so the summary that follows starts clean.
func (p *progress) done() {
	if p != nil && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// plural is "1 call", "2 calls".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
