package main

// report --kpi (route quality per partner, link and direction) and report
// --origin (calls per origin country), both computed from the stored call
// records so that a replay of the same capture gives the same figures.

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/kpi"
	"github.com/gatewarden/gatewarden/retention"
)

// kpiRows computes the KPI rows of the calls that started in [from, to).
func kpiRows(st *retention.Store, from, to int64, opt kpi.Options) ([]kpi.Row, error) {
	tb := kpi.New(opt)
	err := st.ScanCalls(from, to, func(_ retention.Ref, c *analysis.Call) error {
		if c.Partner != "" {
			tb.Add(c)
		}
		return nil
	})
	return tb.Rows(), err
}

// figure formats a KPI for the table: "" when it has no value.
func figure(f kpi.Figure, percent bool) string {
	if !f.Valid() {
		return ""
	}
	if percent {
		return strconv.FormatFloat(100*float64(f), 'f', 1, 64)
	}
	return strconv.FormatFloat(float64(f), 'f', 3, 64)
}

// csvFigure formats a KPI for CSV at full precision (as JSON has it).
func csvFigure(f kpi.Figure) string {
	if !f.Valid() {
		return ""
	}
	return strconv.FormatFloat(float64(f), 'f', -1, 64)
}

func causeList(cs []kpi.CauseCount, max int) string {
	var parts []string
	for i, c := range cs {
		if max > 0 && i == max {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("%d %s=%d", c.Cause, c.Name, c.Calls))
	}
	return strings.Join(parts, "; ")
}

func writeKPI(w io.Writer, format string, from, to int64, hourly bool, rows []kpi.Row) error {
	switch format {
	case "json":
		return encodeReportJSON(w, struct {
			From string    `json:"from,omitempty"`
			To   string    `json:"to,omitempty"`
			Rows []kpi.Row `json:"rows"`
		}{formatTS(from), formatTS(to), append([]kpi.Row{}, rows...)})
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"partner", "link", "direction", "hour", "seizures", "answered", "user_outcome", "asr", "ner",
			"acd_s", "pdd_median_s", "pdd_p95_s", "pdd_calls", "causes"})
		for _, r := range rows {
			cw.Write([]string{r.Partner, r.Link, r.Direction, r.Hour, strconv.Itoa(r.Seizures), strconv.Itoa(r.Answered),
				strconv.Itoa(r.UserOutcome), csvFigure(r.ASR), csvFigure(r.NER), csvFigure(r.ACD),
				csvFigure(r.PDDMedian), csvFigure(r.PDDP95), strconv.Itoa(r.PDDCalls), causeList(r.Causes, 0)})
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "PARTNER\tLINK\tDIRECTION\t"
	if hourly {
		head += "HOUR\t"
	}
	fmt.Fprintln(tw, head+"SEIZURES\tANSWERED\tASR %\tNER %\tACD s\tPDD p50 s\tPDD p95 s\tRELEASE CAUSES")
	for _, r := range rows {
		line := orDash(r.Partner) + "\t" + orDash(r.Link) + "\t" + r.Direction + "\t"
		if hourly {
			line += r.Hour + "\t"
		}
		fmt.Fprintf(tw, "%s%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", line, r.Seizures, r.Answered,
			orDash(figure(r.ASR, true)), orDash(figure(r.NER, true)), orDash(figure(r.ACD, false)),
			orDash(figure(r.PDDMedian, false)), orDash(figure(r.PDDP95, false)), causeList(r.Causes, 3))
	}
	return tw.Flush()
}

// OriginRow counts the international calls from one origin country.
type OriginRow struct {
	Country  string `json:"origin_country"`
	Calls    int    `json:"calls"`
	Answered int    `json:"answered"`
}

// originRows counts calls per origin country. A transit call counts once, on
// its ingress leg (its egress leg inherits the origin).
func originRows(st *retention.Store, from, to int64) ([]OriginRow, error) {
	m := map[string]*OriginRow{}
	err := st.ScanCalls(from, to, func(_ retention.Ref, c *analysis.Call) error {
		if c.OriginCountry == "" || c.TransitOf != "" {
			return nil
		}
		r := m[c.OriginCountry]
		if r == nil {
			r = &OriginRow{Country: c.OriginCountry}
			m[c.OriginCountry] = r
		}
		r.Calls++
		if c.Outcome == analysis.OutcomeAnswered {
			r.Answered++
		}
		return nil
	})
	rows := make([]OriginRow, 0, len(m))
	for _, r := range m {
		rows = append(rows, *r)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Calls != rows[j].Calls {
			return rows[i].Calls > rows[j].Calls
		}
		return rows[i].Country < rows[j].Country
	})
	return rows, err
}

func writeOrigin(w io.Writer, format string, from, to int64, rows []OriginRow) error {
	switch format {
	case "json":
		return encodeReportJSON(w, struct {
			From string      `json:"from,omitempty"`
			To   string      `json:"to,omitempty"`
			Rows []OriginRow `json:"rows"`
		}{formatTS(from), formatTS(to), append([]OriginRow{}, rows...)})
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"origin_country", "calls", "answered"})
		for _, r := range rows {
			cw.Write([]string{r.Country, strconv.Itoa(r.Calls), strconv.Itoa(r.Answered)})
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORIGIN\tCALLS\tANSWERED")
	total := 0
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", r.Country, r.Calls, r.Answered)
		total += r.Calls
	}
	fmt.Fprintf(tw, "total\t%d\t\n", total)
	return tw.Flush()
}

func encodeReportJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // links read "a>b", not "a\u003eb"
	return enc.Encode(v)
}
