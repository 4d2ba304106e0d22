package main

// Route KPIs on /metrics: cumulative counters per partner, link and
// direction, from which a dashboard takes ASR (answered/seizures), NER
// (user_outcomes/seizures), ACD (talk seconds/answered) and PDD quantiles
// (histogram_quantile over the pdd buckets). Counted from closed calls with
// the definitions of analysis/kpi, the same as `report --kpi`.

import (
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/VictoriaMetrics/metrics"

	"github.com/gatewarden/gatewarden/analysis/kpi"
	"github.com/gatewarden/gatewarden/decode"
)

func writeRouteMetrics(w io.Writer, routes map[kpi.Key]kpi.RouteCounters) {
	keys := make([]kpi.Key, 0, len(routes))
	for k := range routes {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Partner != b.Partner {
			return a.Partner < b.Partner
		}
		if a.Link != b.Link {
			return a.Link < b.Link
		}
		return a.Direction < b.Direction
	})
	type series struct {
		name string
		val  func(r *kpi.RouteCounters) uint64
	}
	for _, s := range []series{
		{"gatewarden_route_seizures_total", func(r *kpi.RouteCounters) uint64 { return r.Seizures }},
		{"gatewarden_route_answered_total", func(r *kpi.RouteCounters) uint64 { return r.Answered }},
		{"gatewarden_route_user_outcomes_total", func(r *kpi.RouteCounters) uint64 { return r.UserOutcome }},
	} {
		for _, k := range keys {
			r := routes[k]
			metrics.WriteCounterUint64(w, metricName(s.name, routeLabels(k)...), s.val(&r))
		}
	}
	for _, k := range keys {
		r := routes[k]
		metrics.WriteCounterFloat64(w, metricName("gatewarden_route_talk_seconds_total", routeLabels(k)...), float64(r.TalkNanos)/1e9)
	}
	for _, k := range keys {
		r := routes[k]
		var cum uint64
		for i, n := range r.PDDBuckets {
			cum += n
			le := "+Inf"
			if i < len(kpi.PDDBounds) {
				le = strconv.FormatFloat(kpi.PDDBounds[i], 'f', -1, 64)
			}
			fmt.Fprintf(w, "%s %d\n", metricName("gatewarden_route_pdd_seconds_bucket", append(routeLabels(k), label("le", le))...), cum)
		}
		fmt.Fprintf(w, "%s %g\n", metricName("gatewarden_route_pdd_seconds_sum", routeLabels(k)...), float64(r.PDDSumNanos)/1e9)
		fmt.Fprintf(w, "%s %d\n", metricName("gatewarden_route_pdd_seconds_count", routeLabels(k)...), r.PDDCount)
	}
	for _, k := range keys {
		r := routes[k]
		for cause, n := range r.Causes {
			if n > 0 {
				metrics.WriteCounterUint64(w, metricName("gatewarden_route_releases_total",
					append(routeLabels(k), label("cause", strconv.Itoa(cause)), label("cause_name", decode.CauseName(uint8(cause))))...), n)
			}
		}
	}
}

func routeLabels(k kpi.Key) []string {
	return []string{label("partner", k.Partner), label("link", k.Link), label("direction", k.Direction.String())}
}
