package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gatewarden/gatewarden/retention"
)

func init() {
	register("verify", "check retained partitions against their SHA-256 manifest chain", runVerify)
}

func runVerify(args []string) int { return verifyMain(args, os.Stdout, os.Stderr) }

// verifyMain exits 0 when the store is intact, 1 when data was altered,
// removed or reordered (or cannot be read), or when it no longer contains
// and extends every checkpoint of --checkpoint FILE (a copy of its
// checkpoints.log kept off the box; - reads standard input), 2 on bad usage.
// The last line of the table is the chain head and its newest checkpoint.
func verifyMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "retention directory (required)")
	format := fs.String("format", "table", "table or json")
	cpFile := fs.String("checkpoint", "", "a copy of the store's checkpoints.log kept off the box (- for stdin): fail unless the store still contains and extends every checkpoint in it")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *data == "" || fs.NArg() > 0 || (*format != "table" && *format != "json") {
		fmt.Fprintln(stderr, "gatewarden verify: usage: gatewarden verify --data DIR [--checkpoint FILE|-] [--format table|json]")
		return 2
	}
	res, err := retention.Verify(*data)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden verify: %v\n", err)
		return 1
	}
	if *cpFile != "" {
		probs, err := verifyAgainst(*data, *cpFile)
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden verify: %v\n", err)
			return 1
		}
		res.Problems = append(res.Problems, probs...)
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		out := struct {
			OK bool `json:"ok"`
			*retention.VerifyResult
		}{res.OK(), res}
		if out.Problems == nil {
			out.Problems = []retention.Problem{}
		}
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(stderr, "gatewarden verify: %v\n", err)
			return 1
		}
	} else {
		for _, p := range res.Problems {
			fmt.Fprintln(stdout, p.String())
		}
		status := "OK"
		if !res.OK() {
			status = "FAILED"
		}
		fmt.Fprintf(stdout, "%s: %d sealed partitions checked, %d removed by retention, %d open logs\n",
			status, res.Partitions, res.Removed, res.Open)
		fmt.Fprintf(stdout, "checkpoint signing key (Ed25519): %s\n", orNone(res.PublicKey))
		cp := "none"
		if res.Checkpoint != nil {
			cp = res.Checkpoint.String()
		}
		fmt.Fprintf(stdout, "head: partition %08d manifest %s checkpoint %s\n", res.Head, orNone(res.HeadHash), cp)
	}
	if !res.OK() {
		return 1
	}
	return 0
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// verifyAgainst checks the store against a copy of its checkpoints.log.
func verifyAgainst(dir, file string) ([]retention.Problem, error) {
	var r io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	cps, err := retention.ReadCheckpoints(r)
	if err != nil {
		return nil, err
	}
	if len(cps) == 0 {
		return nil, fmt.Errorf("%s holds no checkpoints", file)
	}
	return retention.VerifyCheckpoints(dir, cps)
}
