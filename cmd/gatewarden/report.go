package main

import (
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

	"github.com/gatewarden/gatewarden/analysis/kpi"
	"github.com/gatewarden/gatewarden/retention"
)

func init() {
	register("report", "calls and flagged calls by rule, per partner and link, from the retained data", runReport)
}

func runReport(args []string) int { return reportMain(args, os.Stdout, os.Stderr) }

func reportMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "retention directory (required)")
	from := fs.String("from", "", "start of the time range (RFC 3339, YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC)")
	to := fs.String("to", "", "end of the time range (exclusive; a bare date includes that day)")
	format := fs.String("format", "table", "table, json or csv")
	kpiFlag := fs.Bool("kpi", false, "route quality instead: seizures, answered, ASR, NER, ACD, PDD and release causes per partner, link and direction")
	hourly := fs.Bool("hourly", false, "with --kpi: one row per hour")
	mergeLinks := fs.Bool("merge-links", false, "with --kpi: one row per partner and direction")
	origin := fs.Bool("origin", false, "international calls per origin country instead")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "gatewarden report: "+format+"\n", a...)
		return 2
	}
	if *data == "" {
		return fail("--data is required")
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
	st, err := retention.Open(*data, retention.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden report: %v\n", err)
		return 1
	}
	switch {
	case *kpiFlag && *origin:
		return fail("--kpi and --origin are separate reports")
	case *kpiFlag:
		rows, err := kpiRows(st, f, t, kpi.Options{Hourly: *hourly, MergeLinks: *mergeLinks})
		if err == nil {
			err = writeKPI(stdout, *format, f, t, *hourly, rows)
		}
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden report: %v\n", err)
			return 1
		}
		return 0
	case *origin:
		rows, err := originRows(st, f, t)
		if err == nil {
			err = writeOrigin(stdout, *format, f, t, rows)
		}
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden report: %v\n", err)
			return 1
		}
		return 0
	}
	rows, err := st.Report(f, t)
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
			From string                `json:"from,omitempty"`
			To   string                `json:"to,omitempty"`
			Rows []retention.ReportRow `json:"rows"`
		}{formatTS(f), formatTS(t), append([]retention.ReportRow{}, rows...)})
	case "csv":
		cw := csv.NewWriter(stdout)
		cw.Write([]string{"partner", "link", "calls", "flagged", "alerts", "rule", "rule_flagged"})
		for _, r := range rows {
			base := []string{r.Partner, r.Link, strconv.Itoa(r.Calls), strconv.Itoa(r.Flagged), strconv.Itoa(r.Alerts)}
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
		fmt.Fprintln(tw, "PARTNER\tLINK\tCALLS\tFLAGGED\tALERTS\tBY RULE")
		var calls, flagged int
		for _, r := range rows {
			var by []string
			for _, rule := range sortedRules(r.ByRule) {
				by = append(by, fmt.Sprintf("%s=%d", rule, r.ByRule[rule]))
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", orDash(r.Partner), orDash(r.Link), r.Calls, r.Flagged, r.Alerts, strings.Join(by, " "))
			calls += r.Calls
			flagged += r.Flagged
		}
		fmt.Fprintf(tw, "total\t\t%d\t%d\t\t\n", calls, flagged)
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
