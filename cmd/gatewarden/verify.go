package main

import (
	"encoding/json"
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
// removed or reordered (or cannot be read), 2 on bad usage.
func verifyMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", stdout, stderr)
	fs.synopsis = "--data DIR [--format table|json]"
	fs.about = "Checks every sealed partition against its SHA-256 manifest chain; exits 1 if anything was altered, removed or reordered."
	data := fs.String("data", "", "the daemon's data_dir or the store inside it (required)")
	format := fs.String("format", "table", "table or json")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if *data == "" {
		return fs.usageError("--data is required")
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q", fs.Arg(0))
	}
	if *format != "table" && *format != "json" {
		return fs.usageError("--format must be table or json, not %q", *format)
	}
	storeDir, err := resolveData(*data)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden verify: %v\n", err)
		return 1
	}
	res, err := retention.Verify(storeDir)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden verify: %v\n", err)
		return 1
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
		fmt.Fprintf(stdout, "%s: %s checked, %d removed by retention, %s\n",
			status, plural(res.Partitions, "sealed partition", "sealed partitions"), res.Removed, plural(res.Open, "open log", "open logs"))
	}
	if !res.OK() {
		return 1
	}
	return 0
}
