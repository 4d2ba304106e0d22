package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/gatewarden/gatewarden/analysis/kpi"
	"github.com/gatewarden/gatewarden/central"
	"github.com/gatewarden/gatewarden/internal/timerange"
	"github.com/gatewarden/gatewarden/retention"
)

func init() {
	register("report", "calls and flagged calls by rule, per partner and link, from the retained data", runReport)
}

func runReport(args []string) int { return reportMain(args, os.Stdout, os.Stderr) }

func reportMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("report", stdout, stderr)
	fs.synopsis = "(--data DIR | --clickhouse DSN [--box NAME]) [--from T] [--to T] [--format table|json|csv]"
	fs.about = "Calls, flagged calls and alerts per partner, link and direction, with totals."
	data := fs.String("data", "", "the daemon's data_dir or the store inside it (this or --clickhouse)")
	dsn := fs.String("clickhouse", "", "report over the central store instead: clickhouse://host:port/database (one row per box, partner, link and direction)")
	box := fs.String("box", "", "with --clickhouse: only this box")
	from := fs.String("from", "", "start of the time range ("+timerange.Forms+")")
	to := fs.String("to", "", "end of the time range (exclusive; a bare date includes that day)")
	format := fs.String("format", "table", "table, json or csv")
	kpiFlag := fs.Bool("kpi", false, "route quality instead: seizures, answered, ASR, NER, ACD, PDD and release causes per partner, link and direction")
	hourly := fs.Bool("hourly", false, "with --kpi: one row per hour")
	mergeLinks := fs.Bool("merge-links", false, "with --kpi: one row per partner and direction")
	origin := fs.Bool("origin", false, "international calls per origin country instead")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if (*data == "") == (*dsn == "") {
		return fs.usageError("give --data DIR or --clickhouse DSN")
	}
	if *dsn != "" && (*kpiFlag || *origin) {
		return fs.usageError("--kpi and --origin need --data (the central store has no KPI or origin report yet)")
	}
	if *box != "" && *dsn == "" {
		return fs.usageError("--box needs --clickhouse")
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q", fs.Arg(0))
	}
	if *format != "table" && *format != "json" && *format != "csv" {
		return fs.usageError("--format must be table, json or csv, not %q", *format)
	}
	switch {
	case *kpiFlag && *origin:
		return fs.usageError("--kpi and --origin are separate reports")
	case (*hourly || *mergeLinks) && !*kpiFlag:
		return fs.usageError("--hourly and --merge-links go with --kpi")
	}
	f, t, err := parseRange(*from, *to)
	if err != nil {
		return fs.usageError("%v", err)
	}
	if *dsn != "" {
		a, err := central.OpenArchive(context.Background(), "", *dsn, "")
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden report: %v\n", err)
			return exitFailed
		}
		defer a.Close()
		return writeReport(a, *box, f, t, *format, true, func(err error) error { return err }, stdout, stderr)
	}
	storeDir, err := resolveData(*data)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden report: %v\n", err)
		return exitFailed
	}
	st, err := retention.Open(storeDir, retention.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden report: %v\n", err)
		return exitFailed
	}
	defer st.Close()
	switch {
	case *kpiFlag:
		rows, err := kpiRows(st, f, t, kpi.Options{Hourly: *hourly, MergeLinks: *mergeLinks})
		if err == nil {
			err = writeKPI(stdout, *format, f, t, *hourly, rows)
		}
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden report: %v\n", storeError(storeDir, err))
			return exitFailed
		}
		return exitOK
	case *origin:
		rows, err := originRows(st, f, t)
		if err == nil {
			err = writeOrigin(stdout, *format, f, t, rows)
		}
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden report: %v\n", storeError(storeDir, err))
			return exitFailed
		}
		return exitOK
	}
	return writeReport(&central.Local{Store: st}, "", f, t, *format, false,
		func(err error) error { return storeError(storeDir, err) }, stdout, stderr)
}

// writeReport writes the partner and link report of an archive (a box's
// store, or the central one with a box column).
func writeReport(a central.Archive, box string, f, t int64, format string, withBox bool, explain func(error) error, stdout, stderr io.Writer) int {
	rows, err := a.Report(context.Background(), f, t, box)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden report: %v\n", explain(err))
		return exitFailed
	}
	boxCol := func(string) []string { return nil }
	if withBox {
		boxCol = func(b string) []string { return []string{b} }
	}
	switch format {
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
		cw.Write(append(boxCol("box"), "partner", "link", "direction", "calls", "flagged", "alerts", "rule", "rule_flagged"))
		for _, r := range rows {
			base := append(boxCol(r.Box), r.Partner, r.Link, r.Direction, strconv.Itoa(r.Calls), strconv.Itoa(r.Flagged), strconv.Itoa(r.Alerts))
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
		cols := func(c ...string) string { return strings.Join(append(boxCol(c[0]), c[1:]...), "\t") }
		fmt.Fprintln(tw, cols("BOX", "PARTNER", "LINK", "DIRECTION", "CALLS", "FLAGGED", "ALERTS", "BY RULE"))
		total := retention.ReportRow{ByRule: map[string]int{}}
		for _, r := range rows {
			fmt.Fprintln(tw, cols(r.Box, orDash(r.Partner), orDash(r.Link), orDash(r.Direction), strconv.Itoa(r.Calls),
				strconv.Itoa(r.Flagged), strconv.Itoa(r.Alerts), byRule(r.ByRule)))
			total.Calls += r.Calls
			total.Flagged += r.Flagged
			total.Alerts += r.Alerts
			for rule, n := range r.ByRule {
				total.ByRule[rule] += n
			}
		}
		fmt.Fprintln(tw, cols("", "total", "", "", strconv.Itoa(total.Calls), strconv.Itoa(total.Flagged), strconv.Itoa(total.Alerts), byRule(total.ByRule)))
		err = tw.Flush()
	}
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden report: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// byRule is "rule=n rule=n" in rule order.
func byRule(m map[string]int) string {
	var by []string
	for _, rule := range sortedRules(m) {
		by = append(by, fmt.Sprintf("%s=%d", rule, m[rule]))
	}
	return strings.Join(by, " ")
}

func sortedRules(m map[string]int) []string {
	rules := make([]string, 0, len(m))
	for r := range m {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	return rules
}
