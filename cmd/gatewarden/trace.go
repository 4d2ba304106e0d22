package main

import (
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/config"
	"github.com/gatewarden/gatewarden/analysis/rules"
	"github.com/gatewarden/gatewarden/analysis/transit"
	"github.com/gatewarden/gatewarden/central"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/internal/timerange"
	"github.com/gatewarden/gatewarden/retention"
)

func init() {
	register("trace", "trace calls back to partner, link and point code from the retained signalling", runTrace)
}

func runTrace(args []string) int { return traceMain(args, os.Stdout, os.Stderr) }

// parseRange reads --from and --to with the shared parser the web API uses.
func parseRange(from, to string) (int64, int64, error) {
	f, t, err := timerange.Range(from, to)
	if err != nil {
		return 0, 0, fmt.Errorf("--%w", err)
	}
	return f, t, nil
}

func formatTS(ns int64) string { return timerange.Format(ns) }

type optionalUint struct {
	v   uint32
	set bool
}

func (o *optionalUint) String() string {
	if !o.set {
		return ""
	}
	return strconv.FormatUint(uint64(o.v), 10)
}

func (o *optionalUint) Set(s string) error {
	v, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return fmt.Errorf("not a number: %q", s)
	}
	o.v, o.set = uint32(v), true
	return nil
}

func (o *optionalUint) ptr() *uint32 {
	if !o.set {
		return nil
	}
	return &o.v
}

// Output records of trace. Field names are a public contract.
type traceNumber struct {
	Digits string `json:"digits"`
	NAI    uint8  `json:"nai"`
}

type traceMessage struct {
	TS        string         `json:"ts"`
	Type      string         `json:"type"`
	Source    string         `json:"source"`
	Frame     uint64         `json:"frame"`
	Transport string         `json:"transport"`
	Protocol  string         `json:"protocol"`
	Src       string         `json:"src,omitempty"`
	Dst       string         `json:"dst,omitempty"`
	Stream    uint16         `json:"stream"`
	RC        *uint32        `json:"rc,omitempty"`
	OPC       uint32         `json:"opc"`
	DPC       uint32         `json:"dpc"`
	SLS       uint8          `json:"sls"`
	CIC       uint32         `json:"cic"`
	Calling   *traceNumber   `json:"calling,omitempty"`
	Called    *traceNumber   `json:"called,omitempty"`
	Redirect  *traceNumber   `json:"redirecting,omitempty"`
	OrigCalld *traceNumber   `json:"original_called,omitempty"`
	Generic   []traceNumber  `json:"generic,omitempty"`
	Cause     *uint8         `json:"cause,omitempty"`
	MTP3      string         `json:"mtp3"` // hex of SIO, routing label and ISUP
	decoded   decode.Message // for table and CSV
}

type traceIngress struct {
	Partner   string  `json:"partner,omitempty"`
	Link      string  `json:"link"`
	Peer      string  `json:"peer,omitempty"` // address that sent the IAM
	Local     string  `json:"local,omitempty"`
	Source    string  `json:"source"` // capture file or interface
	Transport string  `json:"transport"`
	Protocol  string  `json:"protocol"`
	OPC       uint32  `json:"opc"`
	DPC       uint32  `json:"dpc"`
	CIC       uint32  `json:"cic"`
	RC        *uint32 `json:"rc,omitempty"`
}

type traceAlert struct {
	TS       string `json:"ts"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Detail   string `json:"detail,omitempty"`
}

type traceCall struct {
	Box       string         `json:"box,omitempty"` // central store: the box that saw it
	CallID    string         `json:"call_id"`
	Start     string         `json:"start"`
	Outcome   string         `json:"outcome,omitempty"`
	Cause     uint8          `json:"cause,omitempty"`
	Direction string         `json:"direction,omitempty"`
	Calling   string         `json:"calling,omitempty"`
	Called    string         `json:"called,omitempty"`
	Ingress   *traceIngress  `json:"ingress,omitempty"`
	Alerts    []traceAlert   `json:"alerts"`
	Ladder    []traceMessage `json:"ladder"`
	// Path: central store only, the call's legs across boxes (central.Path).
	Path []central.Hop `json:"path,omitempty"`
	// OriginCountry of an international call (ISO 3166-1 alpha-2).
	OriginCountry string `json:"origin_country,omitempty"`
	// Transit: this call is one leg of a call through the gateway.
	Transit *traceTransit `json:"transit,omitempty"`
}

// traceTransit shows the other leg of a transit call and what the gateway
// changed between the ingress and the egress leg.
type traceTransit struct {
	Leg     string           `json:"leg"` // which leg this call is: ingress or egress
	OtherID string           `json:"other_call_id"`
	Other   *traceCall       `json:"other_leg,omitempty"` // nil when not retained
	Changes []transit.Change `json:"changes"`
}

func numberOf(n *decode.Number) *traceNumber {
	if !n.Present {
		return nil
	}
	return &traceNumber{Digits: n.DigitString(), NAI: n.NAI}
}

func buildTraceCall(c *retention.CallResult, rd *retention.Redecoder) traceCall {
	tc := traceCall{Start: formatTS(c.Start()), Alerts: []traceAlert{}, Ladder: []traceMessage{}}
	tc.CallID = fmt.Sprintf("p%d.%d", c.Ref.Seq(), c.Ref.Ord())
	if r := c.Call; r != nil {
		tc.CallID, tc.Outcome, tc.Cause, tc.Direction = r.ID, r.Outcome.String(), r.Cause, r.Direction.String()
		tc.OriginCountry = r.OriginCountry
		if r.Calling != nil {
			tc.Calling = r.Calling.Digits
		}
		if r.Called != nil {
			tc.Called = r.Called.Digits
		}
	}
	if iam := c.IAM(); iam != nil {
		in := &traceIngress{Link: retention.LinkName(iam), Source: iam.Source, Transport: iam.Transport.String(), Protocol: iam.Protocol().String(),
			OPC: iam.Label.OPC, DPC: iam.Label.DPC, CIC: iam.CIC}
		if iam.Src.IsValid() {
			in.Peer, in.Local = iam.Src.String(), iam.Dst.String()
		}
		if iam.HasRC {
			rc := iam.RoutingContext
			in.RC = &rc
		}
		if c.Call != nil {
			in.Partner = c.Call.Partner
			if c.Call.Link != "" {
				in.Link = c.Call.Link
			}
		}
		tc.Ingress = in
	}
	for _, a := range c.Alerts {
		tc.Alerts = append(tc.Alerts, traceAlert{TS: formatTS(a.TS), Rule: a.Rule, Severity: a.Severity.String(), Detail: a.Detail})
		if tc.Ingress != nil && tc.Ingress.Partner == "" {
			tc.Ingress.Partner = a.Partner
		}
	}
	for i := range c.Ladder {
		m := &c.Ladder[i]
		tm := traceMessage{TS: formatTS(m.TS), Type: m.TypeName(), Source: m.Source, Frame: m.Frame,
			Transport: m.Transport.String(), Protocol: m.Protocol().String(), Stream: m.Stream, OPC: m.Label.OPC, DPC: m.Label.DPC, SLS: m.Label.SLS, CIC: m.CIC,
			MTP3: hex.EncodeToString(m.MTP3)}
		if m.Src.IsValid() {
			tm.Src, tm.Dst = m.Src.String(), m.Dst.String()
		}
		if m.HasRC {
			rc := m.RoutingContext
			tm.RC = &rc
		}
		if d, ok := rd.Decode(m); ok {
			tm.decoded = d
			is := &d.ISUP
			tm.Calling, tm.Called = numberOf(&is.Calling), numberOf(&is.Called)
			tm.Redirect, tm.OrigCalld = numberOf(&is.Redirecting), numberOf(&is.OriginalCalled)
			for g := 0; g < int(is.NGeneric) && g < len(is.Generic); g++ {
				tm.Generic = append(tm.Generic, *numberOf(&is.Generic[g]))
			}
			if is.Cause.Present {
				v := is.Cause.Value
				tm.Cause = &v
			}
			if i == 0 && c.Call == nil && tc.Calling == "" && tm.Calling != nil {
				tc.Calling = tm.Calling.Digits
			}
			if i == 0 && c.Call == nil && tc.Called == "" && tm.Called != nil {
				tc.Called = tm.Called.Digits
			}
		}
		tc.Ladder = append(tc.Ladder, tm)
	}
	return tc
}

func (m *traceMessage) summary() string {
	var parts []string
	add := func(label string, n *traceNumber) {
		if n != nil {
			parts = append(parts, label+"="+n.Digits)
		}
	}
	add("calling", m.Calling)
	add("called", m.Called)
	add("redirecting", m.Redirect)
	add("original_called", m.OrigCalld)
	for i := range m.Generic {
		add("generic", &m.Generic[i])
	}
	if m.Cause != nil {
		parts = append(parts, fmt.Sprintf("cause=%d (%s)", *m.Cause, decode.ValueName("cause.value", uint64(*m.Cause))))
	}
	return strings.Join(parts, " ")
}

func traceMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("trace", stdout, stderr)
	fs.synopsis = "(--data DIR | --clickhouse DSN [--box NAME]) (--number N | --rule ID | --from T --to T) [flags]"
	fs.about = "Traces calls back to the partner, link and point code that delivered them, with the full ladder of signalling."
	data := fs.String("data", "", "the daemon's data_dir or the store inside it (this or --clickhouse)")
	dsn := fs.String("clickhouse", "", "query the central store instead: clickhouse://host:port/database (every box; calls carry their box and path)")
	box := fs.String("box", "", "with --clickhouse: only calls seen by this box")
	number := fs.String("number", "", "number to trace (digits; +, spaces, dashes, dots, brackets allowed); commas separate several")
	cc := fs.String("cc", config.DefaultHomeCountryCode, "country code used to also match the national and international forms of --number (empty: exact digits only; default: home_country_code of --config)")
	from := fs.String("from", "", "start of the time range ("+timerange.Forms+")")
	to := fs.String("to", "", "end of the time range (exclusive; a bare date includes that day)")
	role := fs.String("role", "any", "role of --number: calling, called, redirecting, original_called, generic, redirection or any")
	partner := fs.String("partner", "", "partner name (checked against --config's partners, else the store's)")
	cfgPath := fs.String("config", "", "configuration whose partners --partner is checked against, and whose home_country_code is the default of --cc (optional)")
	link := fs.String("link", "", `link: "src>dst", an address, or a capture source`)
	var opc, dpc, cic optionalUint
	fs.Var(&opc, "opc", "originating point code of the IAM")
	fs.Var(&dpc, "dpc", "destination point code of the IAM")
	fs.Var(&cic, "cic", "circuit identification code")
	rule := fs.String("rule", "", "rule ID, e.g. cli.generic_number")
	format := fs.String("format", "table", "table, json or csv")
	pcap := fs.String("pcap", "", "also write the matching messages, with their link framing as captured, to this pcapng file")
	limit := fs.Int("limit", 10000, "at most this many calls (0: all)")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if (*data == "") == (*dsn == "") {
		return fs.usageError("give --data DIR or --clickhouse DSN")
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
	if *limit < 0 {
		return fs.usageError("--limit must be 0 (all) or more")
	}
	q := retention.Query{Partner: *partner, Link: *link, Rule: *rule, OPC: opc.ptr(), DPC: dpc.ptr(), CIC: cic.ptr(), Limit: *limit}
	var err error
	if q.From, q.To, err = parseRange(*from, *to); err != nil {
		return fs.usageError("%v", err)
	}
	var cfg *config.Config
	if *cfgPath != "" {
		if cfg, err = config.Load(*cfgPath); err != nil {
			return fs.usageError("--config: %v", err)
		}
		ccSet := false
		fs.Visit(func(f *flag.Flag) { ccSet = ccSet || f.Name == "cc" })
		if !ccSet {
			*cc = cfg.HomeCountryCode // one country code: the configuration's
		}
	}
	if *role != "any" {
		r, ok := retention.ParseRole(*role)
		if !ok {
			return fs.usageError("--role must be calling, called, redirecting, original_called, generic, redirection or any, not %q", *role)
		}
		q.Roles = 1 << r
	}
	if !validCountryCode(*cc) {
		return fs.usageError("--cc %q is not a country code: 1 to 3 digits, or empty for exact digits only", *cc)
	}
	if q.Rule != "" && !slices.Contains(rules.IDs, q.Rule) {
		return fs.usageError("--rule %q is not a rule; rule IDs: %s", q.Rule, strings.Join(rules.IDs, ", "))
	}
	for _, n := range strings.Split(*number, ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		digits, err := retention.ParseNumber(n)
		if err != nil {
			return fs.usageError("--number: %v", err)
		}
		q.Numbers = append(q.Numbers, retention.NumberForms(digits, *cc)...)
	}
	if len(q.Numbers) == 0 && q.Rule == "" && q.From == 0 && q.To == 0 {
		return fs.usageError("give --number, --rule or a time range (--from/--to): tracing the whole store is not a query")
	}
	var known []string // partners --partner may name, when a configuration says
	if cfg != nil {
		for i := range cfg.Partners {
			known = append(known, cfg.Partners[i].Name)
		}
		if q.Partner != "" && !slices.Contains(known, q.Partner) {
			return fs.usageError("--partner %q is not in %s; partners: %s", q.Partner, *cfgPath, listOrNone(known))
		}
	}
	var calls []retention.CallResult
	var tr *traced          // central store
	var st *retention.Store // the box's store
	if *dsn != "" {
		if calls, tr, err = traceCentral(*dsn, *box, q); err != nil {
			fmt.Fprintf(stderr, "gatewarden trace: %v\n", err)
			return exitFailed
		}
		defer tr.archive.Close()
	} else {
		storeDir, err := resolveData(*data)
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden trace: %v\n", err)
			return exitFailed
		}
		if st, err = retention.Open(storeDir, retention.Options{ReadOnly: true}); err != nil {
			fmt.Fprintf(stderr, "gatewarden trace: %v\n", err)
			return exitFailed
		}
		defer st.Close()
		if calls, err = st.QueryCalls(q); err != nil {
			fmt.Fprintf(stderr, "gatewarden trace: %v\n", storeError(storeDir, err))
			return exitFailed
		}
		if len(calls) == 0 && q.Partner != "" && *cfgPath == "" {
			// No answer: say whether the partner was a typo. Asked only now, as
			// listing the store's partners reads every call record in range.
			rows, err := st.Report(q.From, q.To)
			if err != nil {
				fmt.Fprintf(stderr, "gatewarden trace: %v\n", storeError(storeDir, err))
				return exitFailed
			}
			stored := storedPartners(rows)
			if !slices.Contains(stored, q.Partner) {
				return fs.usageError("--partner %q has no calls in the store%s; partners there: %s", q.Partner, rangeText(*from, *to), listOrNone(stored))
			}
		}
	}
	if *pcap != "" {
		n, err := writeTracePcap(*pcap, calls)
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden trace: --pcap: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stderr, "gatewarden trace: wrote %s to %s\n", plural(n, "message", "messages"), *pcap)
	}
	var rd retention.Redecoder
	out := make([]traceCall, 0, len(calls))
	for i := range calls {
		tc := buildTraceCall(&calls[i], &rd)
		if st != nil {
			if tc.Transit, err = traceTransitOf(st, calls[i].Call, *cc, &rd); err != nil {
				fmt.Fprintf(stderr, "gatewarden trace: %v\n", err)
				return 1
			}
		}
		out = append(out, tc)
	}
	if tr != nil {
		if err := tr.details(out); err != nil {
			fmt.Fprintf(stderr, "gatewarden trace: %v\n", err)
			return 1
		}
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // links read "a>b", not "a\u003eb"
		err = enc.Encode(out)
	case "csv":
		err = writeTraceCSV(stdout, out)
	default:
		err = writeTraceTable(stdout, out)
	}
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden trace: %v\n", err)
		return 1
	}
	if *limit > 0 && len(calls) >= *limit {
		fmt.Fprintf(stderr, "gatewarden trace: stopped at --limit %d\n", *limit)
	}
	return 0
}

// traceTransitOf finds the other leg of a transit call; nil when c is not one.
func traceTransitOf(st *retention.Store, c *analysis.Call, cc string, rd *retention.Redecoder) (*traceTransit, error) {
	if c == nil || c.TransitOf == "" && c.TransitTo == "" {
		return nil, nil
	}
	tt := &traceTransit{Leg: "egress", OtherID: c.TransitOf, Changes: []transit.Change{}}
	if c.TransitOf == "" {
		tt.Leg, tt.OtherID = "ingress", c.TransitTo
	}
	other, ok, err := st.OtherLeg(c, cc)
	if err != nil || !ok {
		return tt, err
	}
	oc := buildTraceCall(&other, rd)
	tt.Other = &oc
	if other.Call != nil {
		tt.Leg, tt.Changes = transit.Compare(c, other.Call)
	}
	return tt, nil
}

func rulesOf(c *traceCall) string {
	var r []string
	for _, a := range c.Alerts {
		r = append(r, a.Rule)
	}
	return strings.Join(r, ";")
}

func writeTraceTable(w io.Writer, calls []traceCall) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i := range calls {
		c := &calls[i]
		box := ""
		if c.Box != "" {
			box = "box=" + c.Box + " "
		}
		fmt.Fprintf(tw, "call %s%s\t%s\toutcome=%s\tcalling=%s\tcalled=%s\n", box, c.CallID, c.Start, orDash(c.Outcome), orDash(c.Calling), orDash(c.Called))
		for _, h := range c.Path {
			mark := ""
			if h.CallerIDChanged {
				mark = "\tCALLER ID CHANGED"
			}
			fmt.Fprintf(tw, "  hop\t%s\tbox=%s\t%s\tpartner=%s\tlink=%s\topc=%d dpc=%d cic=%d\tcalling=%s%s\n",
				h.TS, h.Box, h.Direction, orDash(h.Partner), orDash(h.Link), h.OPC, h.DPC, h.CIC, orDash(h.Calling), mark)
		}
		if in := c.Ingress; in != nil {
			rc := "-"
			if in.RC != nil {
				rc = strconv.FormatUint(uint64(*in.RC), 10)
			}
			fmt.Fprintf(tw, "  %s\tpartner=%s\tlink=%s\tpeer=%s\t%s opc=%d dpc=%d cic=%d rc=%s\tsource=%s\n",
				c.side(), orDash(in.Partner), in.Link, orDash(in.Peer), in.Protocol, in.OPC, in.DPC, in.CIC, rc, in.Source)
		}
		if c.OriginCountry != "" {
			fmt.Fprintf(tw, "  origin\t%s\n", c.OriginCountry)
		}
		for _, a := range c.Alerts {
			fmt.Fprintf(tw, "  alert\t%s\t%s\t%s\t%s\n", a.TS, a.Rule, a.Severity, a.Detail)
		}
		writeTraceLadder(tw, "", c.Ladder)
		if t := c.Transit; t != nil {
			other := "ingress"
			if t.Leg == "ingress" {
				other = "egress"
			}
			fmt.Fprintf(tw, "  transit\t%s leg; %s leg is call %s\n", t.Leg, other, t.OtherID)
			if o := t.Other; o != nil {
				partner, link := "-", "-"
				if o.Ingress != nil {
					partner, link = orDash(o.Ingress.Partner), o.Ingress.Link
				}
				fmt.Fprintf(tw, "  %s leg\t%s\tpartner=%s\tlink=%s\tcalling=%s\tcalled=%s\n", other, o.Start, partner, link, orDash(o.Calling), orDash(o.Called))
				writeTraceLadder(tw, other+" ", o.Ladder)
			} else {
				fmt.Fprintf(tw, "  %s leg\tnot retained\n", other)
			}
			for _, ch := range t.Changes {
				fmt.Fprintf(tw, "  changed\t%s\t%s -> %s\n", ch.Field, orDash(ch.Ingress), orDash(ch.Egress))
			}
		}
	}
	fmt.Fprintln(tw, plural(len(calls), "call", "calls"))
	return tw.Flush()
}

// side names the IAM's link for the table: where an ingress call entered,
// where an egress call left.
func (c *traceCall) side() string {
	switch c.Direction {
	case analysis.DirectionIngress.String():
		return "ingress"
	case analysis.DirectionEgress.String():
		return "egress"
	}
	return "iam_link"
}

// validCountryCode accepts "" (exact digits only) or 1 to 3 digits.
func validCountryCode(cc string) bool {
	if len(cc) > 3 {
		return false
	}
	for _, c := range cc {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// storedPartners are the partner names the report rows name.
func storedPartners(rows []retention.ReportRow) []string {
	var names []string
	for _, r := range rows {
		if r.Partner != "" && !slices.Contains(names, r.Partner) {
			names = append(names, r.Partner)
		}
	}
	slices.Sort(names)
	return names
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

func rangeText(from, to string) string {
	if from == "" && to == "" {
		return ""
	}
	return fmt.Sprintf(" between %s and %s", orDash(from), orDash(to))
}

func writeTraceLadder(tw io.Writer, prefix string, ladder []traceMessage) {
	for j := range ladder {
		m := &ladder[j]
		route := "-"
		if m.Src != "" {
			route = m.Src + ">" + m.Dst
		}
		fmt.Fprintf(tw, "  %s%s\t%s %s\t%d>%d cic=%d\t%s\t%s\n", prefix, m.TS, m.Protocol, m.Type, m.OPC, m.DPC, m.CIC, route, m.summary())
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeTraceCSV(w io.Writer, calls []traceCall) error {
	cw := csv.NewWriter(w)
	// The IAM's link is where an ingress call entered and where an egress
	// call left: the columns say "iam_", which is true either way.
	cw.Write([]string{"call_id", "start", "outcome", "direction", "partner", "link", "peer", "iam_opc", "iam_rc", "calling", "called", "rules",
		"ts", "type", "opc", "dpc", "cic", "src", "dst", "source", "frame", "detail", "mtp3"})
	for i := range calls {
		c := &calls[i]
		var partner, link, peer, opc, rc string
		if in := c.Ingress; in != nil {
			partner, link, peer, opc = in.Partner, in.Link, in.Peer, strconv.FormatUint(uint64(in.OPC), 10)
			if in.RC != nil {
				rc = strconv.FormatUint(uint64(*in.RC), 10)
			}
		}
		for j := range c.Ladder {
			m := &c.Ladder[j]
			cw.Write([]string{c.CallID, c.Start, c.Outcome, c.Direction, partner, link, peer, opc, rc, c.Calling, c.Called, rulesOf(c),
				m.TS, m.Type, strconv.FormatUint(uint64(m.OPC), 10), strconv.FormatUint(uint64(m.DPC), 10),
				strconv.FormatUint(uint64(m.CIC), 10), m.Src, m.Dst, m.Source, strconv.FormatUint(m.Frame, 10), m.summary(), m.MTP3})
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeTracePcap writes the calls' messages to path (retention.WritePcap).
func writeTracePcap(path string, calls []retention.CallResult) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	n, err := retention.WritePcap(f, calls)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}
