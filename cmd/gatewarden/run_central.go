package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/VictoriaMetrics/metrics"

	"github.com/gatewarden/gatewarden/analysis/config"
	"github.com/gatewarden/gatewarden/central"
	"github.com/gatewarden/gatewarden/retention"
)

// daemonShipping ships the daemon's store to the central store in the
// background; the capture and analysis never wait for it.
type daemonShipping struct {
	sh     *central.Shipper
	cancel context.CancelFunc
	done   chan struct{}
}

// startShipping starts shipping when the configuration has a central
// section; nil otherwise.
func startShipping(cfg *config.Config, st *retention.Store, log *slog.Logger) *daemonShipping {
	if !cfg.Central.Enabled() {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &daemonShipping{sh: &central.Shipper{Store: st, Options: central.FromConfig(cfg.Central), Box: cfg.Box},
		cancel: cancel, done: make(chan struct{})}
	logf := func(format string, a ...any) { log.Warn(fmt.Sprintf(format, a...), "component", "central") }
	go func() {
		defer close(s.done)
		s.sh.Run(ctx, cfg.Central.Interval, logf)
		s.sh.Close()
	}()
	log.Info("shipping to the central store", "box", cfg.Box, "addr", cfg.Central.Addr, "database", cfg.Central.Database)
	return s
}

// stop ends shipping (before the store is closed); what is not shipped yet
// stays in the store for the next start.
func (s *daemonShipping) stop() {
	if s == nil {
		return
	}
	s.cancel()
	<-s.done
}

// writeMetrics adds the shipper's figures to /metrics.
func (s *daemonShipping) writeMetrics(w io.Writer) {
	if s == nil {
		return
	}
	st := s.sh.Stats()
	for _, t := range []struct {
		name string
		v    uint64
	}{{"messages", st.Messages}, {"calls", st.Calls}, {"alerts", st.Alerts}} {
		metrics.WriteCounterUint64(w, metricName("gatewarden_central_rows_shipped_total", label("table", t.name)), t.v)
	}
	metrics.WriteCounterUint64(w, "gatewarden_central_errors_total", st.Errors)
	metrics.WriteCounterUint64(w, "gatewarden_central_skipped_partitions_total", st.Skipped)
	metrics.WriteGaugeUint64(w, "gatewarden_central_lag_rows", st.LagRows)
	metrics.WriteGaugeFloat64(w, "gatewarden_central_lag_seconds", st.LagSeconds)
}
