package main

import (
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
	"github.com/gatewarden/gatewarden/internal/timerange"
	"github.com/gatewarden/gatewarden/retention"
)

func init() {
	register("report", "calls and flagged calls by rule, per partner and link, from the retained data", runReport)
}

func runReport(args []string) int { return reportMain(args, os.Stdout, os.Stderr) }

func reportMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("report", stdout, stderr)
	fs.synopsis = "--data DIR [--from T] [--to T] [--format table|json|csv]"
	fs.about = "Calls, flagged calls and alerts per partner, link and direction, with totals."
	data := fs.String("data", "", "the daemon's data_dir or the store inside it (required)")
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
	if *data == "" {
		return fs.usageError("--data is required")
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q", fs.Arg(0))
	}
	if *format != "table" && *format != "json" && *format != "csv" {
		return fs.usageError("--format must be table, json or csv, not %q", *format)
	}
	f, t, err := parseRange(*from, *to)
	if err != nil {
		return fs.usageError("%v", err)
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
	case *kpiFlag && *origin:
		return fs.usageError("--kpi and --origin are separate reports")
	case *kpiFlag:
		rows, err := kpiRows(st, f, t, kpi.Options{Hourly: *hourly, MergeLinks: *mergeLinks})
		if err == nil {
			err = writeKPI(stdout, *format, f, t, *hourly, rows)
		}
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden report: %v\n", err)
			return exitFailed
		}
		return exitOK
	case *origin:
		rows, err := originRows(st, f, t)
		if err == nil {
			err = writeOrigin(stdout, *format, f, t, rows)
		}
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden report: %v\n", err)
			return exitFailed
		}
		return exitOK
	}
	rows, err := st.Report(f, t)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden report: %v\n", storeError(storeDir, err))
		return exitFailed
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
		cw.Write([]string{"partner", "link", "direction", "calls", "flagged", "alerts", "rule", "rule_flagged"})
		for _, r := range rows {
			base := []string{r.Partner, r.Link, r.Direction, strconv.Itoa(r.Calls), strconv.Itoa(r.Flagged), strconv.Itoa(r.Alerts)}
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
		fmt.Fprintln(tw, "PARTNER\tLINK\tDIRECTION\tCALLS\tFLAGGED\tALERTS\tBY RULE")
		total := retention.ReportRow{ByRule: map[string]int{}}
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\n", orDash(r.Partner), orDash(r.Link), orDash(r.Direction), r.Calls, r.Flagged, r.Alerts, byRule(r.ByRule))
			total.Calls += r.Calls
			total.Flagged += r.Flagged
			total.Alerts += r.Alerts
			for rule, n := range r.ByRule {
				total.ByRule[rule] += n
			}
		}
		fmt.Fprintf(tw, "total\t\t\t%d\t%d\t%d\t%s\n", total.Calls, total.Flagged, total.Alerts, byRule(total.ByRule))
		err = tw.Flush()
	}
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden report: %v\n", err)
		return 1
	}
	return 0
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
