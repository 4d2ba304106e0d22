package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/gatewarden/gatewarden/central"
)

func init() {
	register("report", "calls and flagged calls by rule, per partner and link, from the retained data", runReport)
}

func runReport(args []string) int { return reportMain(args, os.Stdout, os.Stderr) }

func reportMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "retention directory (this or --clickhouse)")
	dsn := fs.String("clickhouse", "", "report over the central store instead: clickhouse://host:port/database (one row per box, partner and link)")
	box := fs.String("box", "", "with --clickhouse: only this box")
	from := fs.String("from", "", "start of the time range (RFC 3339, YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC)")
	to := fs.String("to", "", "end of the time range (exclusive; a bare date includes that day)")
	format := fs.String("format", "table", "table, json or csv")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "gatewarden report: "+format+"\n", a...)
		return 2
	}
	if (*data == "") == (*dsn == "") {
		return fail("give --data DIR or --clickhouse DSN")
	}
	if *box != "" && *dsn == "" {
		return fail("--box needs --clickhouse")
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	if *format != "table" && *format != "json" && *format != "csv" {
		return fail("--format must be table, json or csv")
	}
	f, t, err := parseRange(*from, *to)
	if err != nil {
		return fail("%v", err)
	}
	ctx := context.Background()
	a, err := central.OpenArchive(ctx, *data, *dsn, "")
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden report: %v\n", err)
		return 1
	}
	defer a.Close()
	rows, err := a.Report(ctx, f, t, *box)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden report: %v\n", err)
		return 1
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // links read "a>b", not "a\u003eb"
		err = enc.Encode(struct {
			From string              `json:"from,omitempty"`
			To   string              `json:"to,omitempty"`
			Rows []central.ReportRow `json:"rows"`
		}{formatTS(f), formatTS(t), append([]central.ReportRow{}, rows...)})
	case "csv":
		cw := csv.NewWriter(stdout)
		head := []string{"partner", "link", "calls", "flagged", "alerts", "rule", "rule_flagged"}
		if *dsn != "" {
			head = append([]string{"box"}, head...)
		}
		cw.Write(head)
		for _, r := range rows {
			base := []string{r.Partner, r.Link, strconv.Itoa(r.Calls), strconv.Itoa(r.Flagged), strconv.Itoa(r.Alerts)}
			if *dsn != "" {
				base = append([]string{r.Box}, base...)
			}
			if len(r.ByRule) == 0 {
				cw.Write(append(base, "", ""))
			}
			for _, rule := range sortedRules(r.ByRule) {
				cw.Write(append(base, rule, strconv.Itoa(r.ByRule[rule])))
			}
		}
		cw.Flush()
		err = cw.Error()
	default:
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		boxCol := func(b string) string { return "" }
		if *dsn != "" {
			boxCol = func(b string) string { return b + "\t" }
		}
		fmt.Fprintln(tw, boxCol("BOX")+"PARTNER\tLINK\tCALLS\tFLAGGED\tALERTS\tBY RULE")
		var calls, flagged int
		for _, r := range rows {
			var by []string
			for _, rule := range sortedRules(r.ByRule) {
				by = append(by, fmt.Sprintf("%s=%d", rule, r.ByRule[rule]))
			}
			fmt.Fprintf(tw, "%s%s\t%s\t%d\t%d\t%d\t%s\n", boxCol(r.Box), orDash(r.Partner), orDash(r.Link), r.Calls, r.Flagged, r.Alerts, strings.Join(by, " "))
			calls += r.Calls
			flagged += r.Flagged
		}
		fmt.Fprintf(tw, "%stotal\t\t%d\t%d\t\t\n", boxCol(""), calls, flagged)
		err = tw.Flush()
	}
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden report: %v\n", err)
		return 1
	}
	return 0
}

func sortedRules(m map[string]int) []string {
	rules := make([]string, 0, len(m))
	for r := range m {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	return rules
}
