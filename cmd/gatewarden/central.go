package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/gatewarden/gatewarden/analysis/config"
	"github.com/gatewarden/gatewarden/central"
	"github.com/gatewarden/gatewarden/retention"
)

func init() {
	register("central", "central (province) ClickHouse store: 'central init' creates its schema", func(args []string) int {
		return centralMain(args, os.Stdout, os.Stderr)
	})
	register("ship", "ship a store's backlog to the central ClickHouse store and exit when caught up", func(args []string) int {
		return shipMain(args, os.Stdout, os.Stderr)
	})
}

// centralOptions takes --clickhouse DSN (and --cluster) over the
// configuration's central section.
func centralOptions(dsn, cluster string, cfg *config.Config) (central.Options, error) {
	var o central.Options
	switch {
	case dsn != "":
		var err error
		if o, err = central.ParseDSN(dsn); err != nil {
			return o, err
		}
	case cfg != nil && cfg.Central.Enabled():
		o = central.FromConfig(cfg.Central)
	default:
		return o, fmt.Errorf("no central store: give --clickhouse DSN or a configuration with central.clickhouse.addr")
	}
	if cluster != "" {
		if !config.ValidIdent(cluster) {
			return o, fmt.Errorf("--cluster %q is not a cluster name", cluster)
		}
		o.Cluster = cluster
	}
	return o, nil
}

func centralMain(args []string, stdout, stderr io.Writer) int {
	const use = "gatewarden central init --clickhouse DSN [--cluster NAME]   (DSN: clickhouse://[user[:pass]@]host:port/database)"
	if len(args) == 0 || args[0] != "init" {
		fmt.Fprintln(stderr, "gatewarden central: usage:", use)
		return exitUsage
	}
	fs := flag.NewFlagSet("central init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("clickhouse", "", "central store: clickhouse://[user[:pass]@]host:port[,host:port]/database[?cluster=NAME&secure=true]")
	cluster := fs.String("cluster", "", "remote_servers cluster: local tables on every shard plus Distributed tables")
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if *dsn == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "gatewarden central: usage:", use)
		return exitUsage
	}
	o, err := centralOptions(*dsn, *cluster, nil)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden central: %v\n", err)
		return exitUsage
	}
	ctx := context.Background()
	c, err := central.Open(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden central: %v\n", err)
		return exitFailed
	}
	defer c.Close()
	if err := c.Init(ctx); err != nil {
		fmt.Fprintf(stderr, "gatewarden central: %v\n", err)
		return exitFailed
	}
	where := "one server"
	if o.Cluster != "" {
		where = "cluster " + o.Cluster
	}
	fmt.Fprintf(stdout, "central store %s ready on %s\n", o.Database, where)
	return exitOK
}

func shipMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ship", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration with box: and central: (central may be replaced by --clickhouse)")
	data := fs.String("data", "", "retention directory to ship (required)")
	dsn := fs.String("clickhouse", "", "central store DSN (default: the configuration's central section)")
	box := fs.String("box", "", "box name (default: the configuration's box, else the host name)")
	batch := fs.Int("batch", central.DefaultBatch, "rows per insert")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *data == "" || fs.NArg() > 0 || *batch <= 0 {
		fmt.Fprintln(stderr, "gatewarden ship: usage: gatewarden ship --config F --data DIR [--clickhouse DSN] [--box NAME]")
		return exitUsage
	}
	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			fmt.Fprintf(stderr, "gatewarden ship: %v\n", err)
			return exitUsage
		}
	}
	if *box != "" {
		if !config.ValidBox(*box) {
			fmt.Fprintf(stderr, "gatewarden ship: --box %q is not a box name\n", *box)
			return exitUsage
		}
		cfg.Box = *box
	}
	o, err := centralOptions(*dsn, "", cfg)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden ship: %v\n", err)
		return exitUsage
	}
	st, err := retention.Open(*data, retention.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden ship: %v\n", err)
		return exitFailed
	}
	defer st.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := central.Open(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden ship: %v\n", err)
		return exitFailed
	}
	defer c.Close()
	sh := &central.Shipper{Store: st, Client: c, Box: cfg.Box, Batch: *batch}
	defer sh.Close()
	err = sh.ShipAll(ctx)
	s := sh.Stats()
	fmt.Fprintf(stdout, "box %s: shipped messages=%d calls=%d alerts=%d skipped_partitions=%d\n",
		cfg.Box, s.Messages, s.Calls, s.Alerts, s.Skipped)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden ship: %v (the cursor keeps what was shipped; run again to resume)\n", err)
		return exitFailed
	}
	return exitOK
}
