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
// removed or reordered (or cannot be read), 2 on bad usage.
func verifyMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "retention directory (required)")
	format := fs.String("format", "table", "table or json")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *data == "" || fs.NArg() > 0 || (*format != "table" && *format != "json") {
		fmt.Fprintln(stderr, "gatewarden verify: usage: gatewarden verify --data DIR [--format table|json]")
		return 2
	}
	res, err := retention.Verify(*data)
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
		fmt.Fprintf(stdout, "%s: %d sealed partitions checked, %d removed by retention, %d open logs\n",
			status, res.Partitions, res.Removed, res.Open)
	}
	if !res.OK() {
		return 1
	}
	return 0
}
