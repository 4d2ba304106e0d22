package main

// /metrics: every figure is read on scrape from counters the stages keep
// anyway (decode.Stats snapshots, atomic counters, the store's stats), so
// exporting adds no work to the packet path. Metric names are used by
// deploy/grafana-dashboard.json and deploy/RUNBOOK.md: rename nothing.

import (
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/VictoriaMetrics/metrics"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/analysis/rules"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/retention"
)

type daemonMetrics struct {
	d   *daemon
	set *metrics.Set
}

func newDaemonMetrics(d *daemon) *daemonMetrics {
	m := &daemonMetrics{d: d, set: metrics.NewSet()}
	m.set.RegisterMetricsWriter(m.write)
	return m
}

func (m *daemonMetrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	m.set.WritePrometheus(w)
	metrics.WriteProcessMetrics(w)
}

// label renders name="value" with Prometheus escaping.
func label(name, value string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return name + `="` + r.Replace(value) + `"`
}

func metricName(name string, labels ...string) string {
	if len(labels) == 0 {
		return name
	}
	return name + "{" + strings.Join(labels, ",") + "}"
}

// decodeLayer names the protocol layer a decode reason belongs to.
func decodeLayer(r decode.Reason) string {
	switch r {
	case decode.SkipNotIP:
		return "link"
	case decode.SkipNotSCTP:
		return "ip"
	}
	name := r.String()
	if i := strings.IndexByte(name, '_'); i > 0 {
		return name[:i]
	}
	return name
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (m *daemonMetrics) write(w io.Writer) {
	d := m.d
	c := func(v uint64, name string, labels ...string) {
		metrics.WriteCounterUint64(w, metricName(name, labels...), v)
	}
	g := func(v uint64, name string, labels ...string) {
		metrics.WriteGaugeUint64(w, metricName(name, labels...), v)
	}

	d.ship.writeMetrics(w)

	// Capture.
	for i, name := range d.ifaceNames {
		c(d.ifaces[i].packets.Load(), "gatewarden_capture_packets_total", label("interface", name))
	}
	for i, name := range d.ifaceNames {
		c(d.ifaces[i].bytes.Load(), "gatewarden_capture_bytes_total", label("interface", name))
	}
	if d.live != nil {
		stats := d.live.Stats()
		for _, s := range stats {
			c(s.Packets, "gatewarden_capture_kernel_packets_total", label("interface", s.Name))
		}
		for _, s := range stats {
			c(s.Drops, "gatewarden_capture_kernel_drops_total", label("interface", s.Name))
		}
	}
	if d.dir != nil {
		c(d.dir.filesDone.Load(), "gatewarden_pcap_files_total", label("result", "done"))
		c(d.dir.filesFailed.Load(), "gatewarden_pcap_files_total", label("result", "error"))
		c(d.dir.filesLate.Load(), "gatewarden_pcap_files_late_total")
	}

	// Pipeline.
	for r := 0; r < numDropReasons; r++ {
		c(d.drops[r].Load(), "gatewarden_pipeline_dropped_frames_total", label("reason", dropReasonNames[r]))
	}
	g(uint64(len(d.queue)), "gatewarden_queue_depth", label("queue", "decode"))
	g(uint64(cap(d.queue)), "gatewarden_queue_capacity", label("queue", "decode"))
	sinks, limited := d.alerts.Stats()
	for _, s := range sinks {
		g(uint64(s.Queued), "gatewarden_queue_depth", label("queue", "alerts_"+s.Name))
		g(uint64(s.Capacity), "gatewarden_queue_capacity", label("queue", "alerts_"+s.Name))
	}
	var hepStats = struct{ sent, errs, dropped, notIP uint64 }{}
	if d.hep != nil {
		hs := d.hep.Stats()
		g(uint64(hs.Queued), "gatewarden_queue_depth", label("queue", "hep"))
		g(uint64(hs.Capacity), "gatewarden_queue_capacity", label("queue", "hep"))
		hepStats.sent, hepStats.errs, hepStats.dropped, hepStats.notIP = hs.Sent, hs.SendErrors, hs.Dropped, hs.NotIP
	}

	// Decoding and analysis, from the stage's last publication.
	p := d.stage.snapshot()
	ds := &p.pl.Decode
	c(ds.Frames, "gatewarden_decode_frames_total")
	c(ds.Messages, "gatewarden_decode_messages_total")
	c(ds.SIPMessages, "gatewarden_decode_sip_messages_total")
	c(ds.TCPStreamsEvicted, "gatewarden_decode_tcp_streams_evicted_total")
	for r := decode.Reason(1); r < decode.NumReasons; r++ {
		name := "gatewarden_decode_skipped_total"
		if r.IsDrop() {
			name = "gatewarden_decode_errors_total"
		}
		c(ds.Reasons[r], name, label("layer", decodeLayer(r)), label("reason", r.String()))
	}
	// Delivered, but not whole: a faulty optional part, an over-long number.
	c(ds.AssociationsEvicted, "gatewarden_decode_associations_evicted_total")
	c(ds.ISUPOptionalErrors, "gatewarden_decode_isup_degraded_total", label("reason", "optional_part_error"))
	c(ds.ISUPDigitsTruncated, "gatewarden_decode_isup_degraded_total", label("reason", "number_truncated"))
	c(ds.UnknownISUPTypes, "gatewarden_decode_isup_degraded_total", label("reason", "unknown_type"))
	for _, partner := range sortedKeys(p.msgs) {
		counts := p.msgs[partner]
		for t, n := range counts {
			if n > 0 {
				c(n, "gatewarden_isup_messages_total", label("type", decode.MessageTypeName(uint8(t))), label("partner", partner))
			}
		}
	}
	for _, partner := range sortedKeys(p.calls) {
		counts := p.calls[partner]
		for o := analysis.OutcomeAnswered; o <= analysis.OutcomeFailed; o++ {
			c(counts[o], "gatewarden_calls_total", label("outcome", o.String()), label("partner", partner))
		}
	}
	g(uint64(p.pl.OpenCalls), "gatewarden_calls_open")
	c(p.pl.Calls.Evicted, "gatewarden_calls_evicted_total")
	g(uint64(p.pl.RestoredCalls), "gatewarden_calls_restored")
	if d.dir != nil {
		g(uint64(p.filesCommitted), "gatewarden_pcap_files_committed")
	}
	// Commits: exactly-once ingest (see package pipeline).
	c(p.pl.Commits, "gatewarden_pipeline_commits_total", label("result", "ok"))
	c(p.pl.CommitErrors, "gatewarden_pipeline_commits_total", label("result", "error"))
	c(p.pl.CommitsWithFragments, "gatewarden_pipeline_commits_with_fragments_total")
	g(uint64(p.pl.PendingAlerts), "gatewarden_pipeline_pending_alerts")
	c(p.pl.AlertsUncommitted, "gatewarden_pipeline_alerts_uncommitted_total")
	for id, n := range p.pl.Rules.WindowKeys {
		g(uint64(n), "gatewarden_rules_window_keys", label("rule", id))
	}
	for id, n := range p.pl.Rules.WindowOverflow {
		c(n, "gatewarden_rules_window_overflow_total", label("rule", id))
	}
	writeRouteMetrics(w, p.routes)
	g(uint64(p.pl.Transit.Pending), "gatewarden_transit_pending_legs")
	c(p.pl.Transit.Linked, "gatewarden_transit_linked_total")
	c(p.pl.Transit.Overflow, "gatewarden_transit_pending_overflow_total")
	c(p.routeOverflow[0], "gatewarden_routes_overflow_total", label("table", "rules"))
	c(p.routeOverflow[1], "gatewarden_routes_overflow_total", label("table", "kpi"))
	alertKeys := make([][2]string, 0, len(p.alerts))
	for k := range p.alerts {
		alertKeys = append(alertKeys, k)
	}
	sort.Slice(alertKeys, func(i, j int) bool {
		if alertKeys[i][0] != alertKeys[j][0] {
			return alertKeys[i][0] < alertKeys[j][0]
		}
		return alertKeys[i][1] < alertKeys[j][1]
	})
	for _, k := range alertKeys {
		c(p.alerts[k], "gatewarden_alerts_total", label("rule", k[0]), label("partner", k[1]))
	}

	// Alert delivery and mirroring.
	// Every rule, zeros included, so a panel shows the limit is not biting.
	for _, rule := range rules.IDs {
		c(limited[rule], "gatewarden_alerts_rate_limited_total", label("rule", rule))
	}
	for _, s := range sinks {
		c(s.Delivered, "gatewarden_alert_deliveries_total", label("sink", s.Name), label("result", "delivered"))
		c(s.Failed, "gatewarden_alert_deliveries_total", label("sink", s.Name), label("result", "failed"))
		c(s.Dropped, "gatewarden_alert_deliveries_total", label("sink", s.Name), label("result", "queue_full"))
		c(s.Skipped, "gatewarden_alert_deliveries_total", label("sink", s.Name), label("result", "already_delivered"))
		g(s.Acked, "gatewarden_alert_sink_acked_seq", label("sink", s.Name))
	}
	if d.hep != nil {
		c(hepStats.sent, "gatewarden_hep_packets_total", label("result", "sent"))
		c(hepStats.errs, "gatewarden_hep_packets_total", label("result", "error"))
		c(hepStats.dropped, "gatewarden_hep_packets_total", label("result", "queue_full"))
		c(hepStats.notIP, "gatewarden_hep_packets_total", label("result", "not_ip"))
	}

	// Store and retention.
	ss := d.store.Stats()
	c(ss.Messages, "gatewarden_store_records_total", label("kind", "message"))
	c(ss.Calls, "gatewarden_store_records_total", label("kind", "call"))
	c(ss.Alerts, "gatewarden_store_records_total", label("kind", "alert"))
	for _, reason := range []string{retention.DropDiskFull, retention.DropWriteError, retention.DropClosed} {
		c(ss.DroppedByReason[reason], "gatewarden_store_dropped_records_total", label("reason", reason))
	}
	cs := d.store.CommitStats()
	c(cs.CutMessages, "gatewarden_recovery_cut_records_total", label("kind", "message"))
	c(cs.CutCalls, "gatewarden_recovery_cut_records_total", label("kind", "call"))
	c(cs.CutAlerts, "gatewarden_recovery_cut_records_total", label("kind", "alert"))
	c(p.routeOverflow[0], "gatewarden_routes_overflow_total", label("table", "rules"))
	c(p.routeOverflow[1], "gatewarden_routes_overflow_total", label("table", "kpi"))
	parts := d.store.Partitions()
	var bytes int64
	for _, pm := range parts {
		bytes += pm.Bytes
	}
	g(uint64(len(parts)), "gatewarden_store_partitions")
	g(uint64(bytes), "gatewarden_store_bytes")
	for _, reason := range []string{"age", "budget", "disk"} {
		c(ss.RemovedByReason[reason], "gatewarden_retention_removed_partitions_total", label("reason", reason))
	}
	c(uint64(ss.RemovedBytes), "gatewarden_retention_removed_bytes_total")

	c(d.reloadsOK.Load(), "gatewarden_config_reloads_total", label("result", "ok"))
	c(d.reloadsFailed.Load(), "gatewarden_config_reloads_total", label("result", "error"))
}
