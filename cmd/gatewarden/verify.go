package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/gatewarden/gatewarden/central"
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
	fs := newFlagSet("verify", stdout, stderr)
	fs.synopsis = "--data DIR [--checkpoint FILE|-] [--clickhouse DSN [--box NAME]] [--format table|json]"
	fs.about = "Checks every sealed partition against its SHA-256 manifest chain; exits 1 if anything was altered, removed or reordered."
	data := fs.String("data", "", "the daemon's data_dir or the store inside it (required)")
	format := fs.String("format", "table", "table or json")
	cpFile := fs.String("checkpoint", "", "a copy of the store's checkpoints.log kept off the box (- for stdin): fail unless the store still contains and extends every checkpoint in it")
	dsn := fs.String("clickhouse", "", "also check the store against what it shipped to this central store (clickhouse://host:port/database)")
	box := fs.String("box", "", "with --clickhouse: the box the store shipped as (default: from its shipping cursor)")
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
	if *cpFile != "" {
		probs, err := verifyAgainst(storeDir, *cpFile)
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden verify: %v\n", err)
			return 1
		}
		res.Problems = append(res.Problems, probs...)
	}
	var witness *central.WitnessResult
	if *dsn != "" {
		if witness, err = verifyCentral(storeDir, *dsn, *box); err != nil {
			fmt.Fprintf(stderr, "gatewarden verify: %v\n", err)
			return 1
		}
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		out := struct {
			OK bool `json:"ok"`
			*retention.VerifyResult
			Central *central.WitnessResult `json:"central,omitempty"`
		}{res.OK() && (witness == nil || witness.OK()), res, witness}
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
		if witness != nil {
			for _, p := range witness.Problems {
				fmt.Fprintln(stdout, p.String())
			}
		}
		status := "OK"
		if !res.OK() || witness != nil && !witness.OK() {
			status = "FAILED"
		}
		fmt.Fprintf(stdout, "%s: %s checked, %d removed by retention, %s\n",
			status, plural(res.Partitions, "sealed partition", "sealed partitions"), res.Removed, plural(res.Open, "open log", "open logs"))
		if witness != nil {
			fmt.Fprintf(stdout, "central: box %s shipped %s: %d held with the shipped manifest, %d removed by retention (logged); %s checked; %s\n",
				witness.Box, plural(witness.Shipped, "partition", "partitions"), witness.Matched, witness.Removed,
				plural(witness.Checkpoints, "signed checkpoint", "signed checkpoints"), plural(len(witness.Problems), "problem", "problems"))
		}
		fmt.Fprintf(stdout, "checkpoint signing key (Ed25519): %s\n", orNone(res.PublicKey))
		cp := "none"
		if res.Checkpoint != nil {
			cp = res.Checkpoint.String()
		}
		fmt.Fprintf(stdout, "head: partition %08d manifest %s checkpoint %s\n", res.Head, orNone(res.HeadHash), cp)
	}
	if !res.OK() || witness != nil && !witness.OK() {
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

// verifyCentral checks the store at data against the manifests it shipped.
func verifyCentral(data, dsn, box string) (*central.WitnessResult, error) {
	o, err := central.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if box == "" {
		cur, err := central.LoadCursor(data, o.Database)
		if err != nil {
			return nil, err
		}
		if box = cur.Box; box == "" {
			return nil, fmt.Errorf("%s has no shipping cursor for database %s: give --box", data, o.Database)
		}
	}
	ctx := context.Background()
	c, err := central.Open(ctx, o)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	w, err := c.VerifyAgainst(ctx, data, box)
	if err == nil && w.Shipped == 0 {
		err = fmt.Errorf("the central store holds no manifest of box %s: nothing to verify against", box)
	}
	return w, err
}
