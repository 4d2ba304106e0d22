package main

import (
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatewarden/gatewarden/central"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/retention"
)

func init() {
	register("trace", "trace calls back to partner, link and point code from the retained signalling", runTrace)
}

func runTrace(args []string) int { return traceMain(args, os.Stdout, os.Stderr) }

// parseTimeArg reads RFC 3339, a date, or a date with HH:MM[:SS] (times
// without an offset are UTC). A bare date as an upper bound means the end of
// that day, so --to 2025-01-31 includes the 31st.
func parseTimeArg(s string, upper bool) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixNano(), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixNano(), nil
		}
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		if upper {
			t = t.AddDate(0, 0, 1)
		}
		return t.UnixNano(), nil
	}
	return 0, fmt.Errorf("bad time %q: want RFC 3339 (2025-01-31T08:00:00+08:00), a date (2025-01-31) or date and time (2025-01-31T08:00, UTC)", s)
}

func parseRange(from, to string) (int64, int64, error) {
	f, err := parseTimeArg(from, false)
	if err != nil {
		return 0, 0, fmt.Errorf("--from: %w", err)
	}
	t, err := parseTimeArg(to, true)
	if err != nil {
		return 0, 0, fmt.Errorf("--to: %w", err)
	}
	if f != 0 && t != 0 && t <= f {
		return 0, 0, errors.New("--to must be after --from")
	}
	return f, t, nil
}

func formatTS(ns int64) string {
	if ns == 0 {
		return ""
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

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
}

// redecoder runs the stored MTP3 bytes through the project's decoder, so the
// ladder shows exactly what a capture of those bytes would.
type redecoder struct {
	decs map[uint8]*decode.Decoder
	got  decode.Message
	ok   bool
}

func (r *redecoder) decode(m *retention.Message) (decode.Message, bool) {
	if r.decs == nil {
		r.decs = map[uint8]*decode.Decoder{}
	}
	d := r.decs[m.Label.PCBits]
	if d == nil {
		d = decode.New(decode.Config{PCBits: m.Label.PCBits}, func(dm *decode.Message) {
			r.got = *dm
			r.got.MTP3, r.got.ISUP.Raw = nil, nil
			r.ok = true
		})
		r.decs[m.Label.PCBits] = d
	}
	r.ok = false
	d.Decode(&decode.Frame{TS: m.TS, LinkType: decode.LinkTypeMTP3, FCSLen: -1, Data: m.MTP3})
	return r.got, r.ok
}

func numberOf(n *decode.Number) *traceNumber {
	if !n.Present {
		return nil
	}
	return &traceNumber{Digits: n.DigitString(), NAI: n.NAI}
}

func buildTraceCall(c *retention.CallResult, rd *redecoder) traceCall {
	tc := traceCall{Start: formatTS(c.Start()), Alerts: []traceAlert{}, Ladder: []traceMessage{}}
	tc.CallID = fmt.Sprintf("p%d.%d", c.Ref.Seq(), c.Ref.Ord())
	if r := c.Call; r != nil {
		tc.CallID, tc.Outcome, tc.Cause, tc.Direction = r.ID, r.Outcome.String(), r.Cause, r.Direction.String()
		if r.Calling != nil {
			tc.Calling = r.Calling.Digits
		}
		if r.Called != nil {
			tc.Called = r.Called.Digits
		}
	}
	if iam := c.IAM(); iam != nil {
		in := &traceIngress{Link: retention.LinkName(iam), Source: iam.Source, Transport: iam.Transport.String(),
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
		tm := traceMessage{TS: formatTS(m.TS), Type: decode.MessageTypeName(m.Type), Source: m.Source, Frame: m.Frame,
			Transport: m.Transport.String(), Stream: m.Stream, OPC: m.Label.OPC, DPC: m.Label.DPC, SLS: m.Label.SLS, CIC: m.CIC,
			MTP3: hex.EncodeToString(m.MTP3)}
		if m.Src.IsValid() {
			tm.Src, tm.Dst = m.Src.String(), m.Dst.String()
		}
		if m.HasRC {
			rc := m.RoutingContext
			tm.RC = &rc
		}
		if d, ok := rd.decode(m); ok {
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
		parts = append(parts, fmt.Sprintf("cause=%d", *m.Cause))
	}
	return strings.Join(parts, " ")
}

func traceMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "retention directory (this or --clickhouse)")
	dsn := fs.String("clickhouse", "", "query the central store instead: clickhouse://host:port/database")
	box := fs.String("box", "", "with --clickhouse: only calls seen by this box")
	number := fs.String("number", "", "number to trace; commas separate several")
	cc := fs.String("cc", "86", "country code used to also match the national and international forms of --number (empty: exact digits only)")
	from := fs.String("from", "", "start of the time range (RFC 3339, YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC)")
	to := fs.String("to", "", "end of the time range (exclusive; a bare date includes that day)")
	role := fs.String("role", "any", "role of --number: calling, called, redirecting, original_called, generic, redirection or any")
	partner := fs.String("partner", "", "partner name")
	link := fs.String("link", "", `link: "src>dst", an address, or a capture source`)
	var opc, dpc, cic optionalUint
	fs.Var(&opc, "opc", "originating point code of the IAM")
	fs.Var(&dpc, "dpc", "destination point code of the IAM")
	fs.Var(&cic, "cic", "circuit identification code")
	rule := fs.String("rule", "", "rule ID, e.g. cli.generic_number")
	format := fs.String("format", "table", "table, json or csv")
	pcap := fs.String("pcap", "", "also write the matching messages to this capture (MTP3 link type 141)")
	limit := fs.Int("limit", 10000, "at most this many calls (0: all)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "gatewarden trace: "+format+"\n", a...)
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
	q := retention.Query{Partner: *partner, Link: *link, Rule: *rule, OPC: opc.ptr(), DPC: dpc.ptr(), CIC: cic.ptr(), Limit: *limit}
	var err error
	if q.From, q.To, err = parseRange(*from, *to); err != nil {
		return fail("%v", err)
	}
	if *role != "any" {
		r, ok := retention.ParseRole(*role)
		if !ok {
			return fail("--role must be calling, called, redirecting, original_called, generic, redirection or any")
		}
		q.Roles = 1 << r
	}
	for _, n := range strings.Split(*number, ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		forms := retention.NumberForms(n, *cc)
		if forms[0] == "" {
			return fail("--number %q has no digits", n)
		}
		q.Numbers = append(q.Numbers, forms...)
	}
	if len(q.Numbers) == 0 && q.Rule == "" && q.From == 0 && q.To == 0 {
		return fail("give --number, --rule or a time range (--from/--to): tracing the whole store is not a query")
	}
	calls, tr, err := traceQuery(*data, *dsn, *box, q)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden trace: %v\n", err)
		return 1
	}
	if *pcap != "" {
		f, err := os.Create(*pcap)
		if err == nil {
			var n int
			n, err = retention.WritePcap(f, calls)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				fmt.Fprintf(stderr, "gatewarden trace: wrote %d messages to %s\n", n, *pcap)
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden trace: --pcap: %v\n", err)
			return 1
		}
	}
	var rd redecoder
	out := make([]traceCall, 0, len(calls))
	for i := range calls {
		out = append(out, buildTraceCall(&calls[i], &rd))
	}
	if err := tr.details(out); err != nil {
		fmt.Fprintf(stderr, "gatewarden trace: %v\n", err)
		return 1
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
		fmt.Fprintf(stderr, "gatewarden trace: stopped at --limit %d calls\n", *limit)
	}
	return 0
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
			fmt.Fprintf(tw, "  ingress\tpartner=%s\tlink=%s\tpeer=%s\topc=%d dpc=%d cic=%d rc=%s\tsource=%s\n",
				orDash(in.Partner), in.Link, orDash(in.Peer), in.OPC, in.DPC, in.CIC, rc, in.Source)
		}
		for _, a := range c.Alerts {
			fmt.Fprintf(tw, "  alert\t%s\t%s\t%s\t%s\n", a.TS, a.Rule, a.Severity, a.Detail)
		}
		for j := range c.Ladder {
			m := &c.Ladder[j]
			route := "-"
			if m.Src != "" {
				route = m.Src + ">" + m.Dst
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d>%d cic=%d\t%s\t%s\n", m.TS, m.Type, m.OPC, m.DPC, m.CIC, route, m.summary())
		}
	}
	fmt.Fprintf(tw, "%d calls\n", len(calls))
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeTraceCSV(w io.Writer, calls []traceCall) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"call_id", "start", "outcome", "partner", "link", "peer", "ingress_opc", "ingress_rc", "calling", "called", "rules",
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
			cw.Write([]string{c.CallID, c.Start, c.Outcome, partner, link, peer, opc, rc, c.Calling, c.Called, rulesOf(c),
				m.TS, m.Type, strconv.FormatUint(uint64(m.OPC), 10), strconv.FormatUint(uint64(m.DPC), 10),
				strconv.FormatUint(uint64(m.CIC), 10), m.Src, m.Dst, m.Source, strconv.FormatUint(m.Frame, 10), m.summary(), m.MTP3})
		}
	}
	cw.Flush()
	return cw.Error()
}
