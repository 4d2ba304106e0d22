package main

import (
	"context"
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
	fs := newFlagSet("central", stdout, stderr)
	fs.synopsis = "init|drop --clickhouse DSN [--cluster NAME] [--before YYYY-MM-DD]"
	fs.about = "init creates the central (province) store's database and tables where missing: on one server, or on every shard of a remote_servers cluster (local tables plus Distributed ones; no ZooKeeper needed). drop removes every day partition older than --before on every shard (retention; 18.16 has no TTL). DSN: clickhouse://[user[:pass]@]host:port[,host:port]/database[?cluster=NAME&secure=true]."
	dsn := fs.String("clickhouse", "", "central store DSN (required)")
	cluster := fs.String("cluster", "", "remote_servers cluster: local tables on every shard plus Distributed tables")
	before := fs.String("before", "", "drop: the first day kept (YYYY-MM-DD, UTC)")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() != 1 || fs.Arg(0) != "init" && fs.Arg(0) != "drop" {
		return fs.usageError("say init or drop")
	}
	if (fs.Arg(0) == "drop") != (*before != "") {
		return fs.usageError("--before goes with drop, and drop needs it")
	}
	if *dsn == "" {
		return fs.usageError("--clickhouse is required")
	}
	o, err := centralOptions(*dsn, *cluster, nil)
	if err != nil {
		return fs.usageError("%v", err)
	}
	ctx := context.Background()
	c, err := central.Open(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden central: %v\n", err)
		return exitFailed
	}
	defer c.Close()
	if fs.Arg(0) == "drop" {
		n, err := c.DropBefore(ctx, *before)
		fmt.Fprintf(stdout, "dropped %s before %s\n", plural(n, "partition", "partitions"), *before)
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden central: %v\n", err)
			return exitFailed
		}
		return exitOK
	}
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
	fs := newFlagSet("ship", stdout, stderr)
	fs.synopsis = "--config F --data DIR [--clickhouse DSN] [--box NAME]"
	fs.about = "Ships a store's backlog (every message, call record, alert, sealed manifest and signed checkpoint not shipped yet) to the central ClickHouse store and exits when caught up. What was shipped is kept in a cursor file in the store, so it resumes where it stopped."
	cfgPath := fs.String("config", "", "configuration with box: and central: (central may be replaced by --clickhouse)")
	data := fs.String("data", "", "the daemon's data_dir or the store inside it (required)")
	dsn := fs.String("clickhouse", "", "central store DSN (default: the configuration's central section)")
	box := fs.String("box", "", "box name (default: the configuration's box, else the host name)")
	batch := fs.Int("batch", central.DefaultBatch, "rows per insert")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if *data == "" {
		return fs.usageError("--data is required")
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q", fs.Arg(0))
	}
	if *batch <= 0 {
		return fs.usageError("--batch must be positive")
	}
	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			return fs.usageError("--config: %v", err)
		}
	}
	if *box != "" {
		if !config.ValidBox(*box) {
			return fs.usageError("--box %q is not a box name", *box)
		}
		cfg.Box = *box
	}
	o, err := centralOptions(*dsn, "", cfg)
	if err != nil {
		return fs.usageError("%v", err)
	}
	storeDir, err := resolveData(*data)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden ship: %v\n", err)
		return exitFailed
	}
	st, err := retention.Open(storeDir, retention.Options{ReadOnly: true})
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
