package central

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The schema. Every table is partitioned by day (retention drops whole
// partitions: DropBefore) and sorted so that the lookups traceback makes
// read a few granules: calls by calling number and (through a materialised
// copy) by called number, messages by box and call, alerts by box and call.
//
// Exactly once at the query level: the engine is ReplacingMergeTree and each
// sort key ends in the row's identity within its box (the message's Ref, a
// hash of the call or alert record), so a batch shipped twice — the box
// crashed after the insert but before it saved its cursor, or it re-reads a
// partition its cursor saw while open and now sealed — leaves rows that merges
// collapse and that queries collapse before then (central queries dedupe on
// the identity, counts use uniqExact). Insert deduplication would be the
// other way, but on 18.16 it exists only for Replicated tables, which need
// ZooKeeper; the replacing key works on every version, one server or a cluster.
//
// No LowCardinality, skip indexes or TTL: Debian's 18.16 has none of them.
// LowCardinality(String) is used for the low-cardinality text columns when
// the server is 20.1 or newer.

// table is one table of the schema.
type table struct {
	name    string
	columns [][2]string // name, type ("S" is a low-cardinality string)
	order   string
}

var (
	messagesTable = table{name: "messages", order: "box, call, ref", columns: [][2]string{
		{"box", "S"}, {"day", "Date"}, {"ts", "Int64"}, {"ref", "UInt64"}, {"call", "UInt64"},
		{"source", "S"}, {"frame", "UInt64"}, {"transport", "UInt8"}, {"src", "String"}, {"dst", "String"},
		{"vtag", "UInt32"}, {"stream", "UInt16"}, {"tsn", "UInt32"}, {"link", "UInt16"},
		{"rc", "UInt32"}, {"na", "UInt32"}, {"flags", "UInt8"},
		{"ni", "UInt8"}, {"si", "UInt8"}, {"pc_bits", "UInt8"}, {"opc", "UInt32"}, {"dpc", "UInt32"},
		{"sls", "UInt8"}, {"mp", "UInt8"}, {"cic", "UInt32"}, {"type", "UInt8"}, {"mtp3", "String"},
	}}
	callColumns = [][2]string{
		{"box", "S"}, {"day", "Date"}, {"start", "Int64"}, {"uid", "UInt64"}, {"id", "String"}, {"call", "UInt64"},
		{"calling", "String"}, {"called", "String"}, {"calling_digits", "String"}, {"called_digits", "String"},
		{"partner", "S"}, {"link", "S"}, {"direction", "UInt8"}, {"opc", "UInt32"}, {"dpc", "UInt32"}, {"cic", "UInt32"},
		{"outcome", "UInt8"}, {"cause", "UInt8"}, {"answer", "Int64"}, {"end", "Int64"}, {"rec", "String"},
		{"protocol", "UInt8"}, // decode.Protocol: the call control (for the report by protocol)
	}
	callsTable         = table{name: "calls", order: "calling, start, box, uid", columns: callColumns}
	callsByCalledTable = table{name: "calls_by_called", order: "called, start, box, uid", columns: callColumns}
	alertsTable        = table{name: "alerts", order: "box, call, ts, uid", columns: [][2]string{
		{"box", "S"}, {"day", "Date"}, {"ts", "Int64"}, {"uid", "UInt64"}, {"call", "UInt64"}, {"call_id", "String"},
		{"rule", "S"}, {"severity", "UInt8"}, {"partner", "S"}, {"direction", "UInt8"}, {"calling", "String"}, {"called", "String"}, {"rec", "String"},
	}}
	// manifestsTable: every sealed partition a box shipped, with the hash
	// its chain links on, so the central store witnesses each box's chain.
	manifestsTable = table{name: "manifests", order: "box, seq, manifest", columns: [][2]string{
		{"box", "S"}, {"day", "Date"}, {"seq", "UInt32"}, {"manifest", "String"}, {"segment", "String"}, {"prev", "String"},
		{"min_ts", "Int64"}, {"max_ts", "Int64"}, {"messages", "UInt64"}, {"bytes", "Int64"}, {"sealed", "String"},
	}}
	// checkpointsTable: every signed checkpoint of a box's store, as its
	// line in checkpoints.log (retention.Checkpoint), for verify --clickhouse.
	checkpointsTable = table{name: "checkpoints", order: "box, n, uid", columns: [][2]string{
		{"box", "S"}, {"day", "Date"}, {"n", "UInt64"}, {"uid", "UInt64"}, {"event", "S"}, {"seq", "UInt32"},
		{"head", "String"}, {"line", "String"},
	}}
	tables = []table{messagesTable, callsTable, callsByCalledTable, alertsTable, manifestsTable, checkpointsTable}
)

func (t *table) columnList() string {
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = "`" + c[0] + "`"
	}
	return strings.Join(names, ", ")
}

// local is the name of a table's data on each server: the table itself on one
// server, <name>_local under a cluster's Distributed <name>.
func (c *Client) local(name string) string {
	if c.opt.Cluster != "" {
		return name + "_local"
	}
	return name
}

func (c *Client) createLocal(t *table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s.%s (", c.opt.Database, c.local(t.name))
	for i, col := range t.columns {
		typ := col[1]
		if typ == "S" {
			typ = "String"
			if c.atLeast(20, 1) {
				typ = "LowCardinality(String)"
			}
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "`%s` %s", col[0], typ)
	}
	fmt.Fprintf(&b, ") ENGINE = ReplacingMergeTree() PARTITION BY day ORDER BY (%s)", t.order)
	return b.String()
}

// ddl is the schema for one server of the store.
func (c *Client) ddl() []string {
	db := c.opt.Database
	s := []string{"CREATE DATABASE IF NOT EXISTS " + db}
	for i := range tables {
		s = append(s, c.createLocal(&tables[i]))
	}
	s = append(s, fmt.Sprintf("CREATE MATERIALIZED VIEW IF NOT EXISTS %s.%s_mv TO %s.%s AS SELECT %s FROM %s.%s",
		db, c.local("calls_by_called"), db, c.local("calls_by_called"), callsTable.columnList(), db, c.local("calls")))
	if c.opt.Cluster != "" {
		for _, t := range tables {
			s = append(s, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s AS %s.%s ENGINE = Distributed(%s, %s, %s)",
				db, t.name, db, c.local(t.name), c.opt.Cluster, db, c.local(t.name)))
		}
	}
	return s
}

// Shard is one server of a cluster.
type Shard struct {
	Num  uint32
	Addr string
}

// Shards lists the cluster's shards (first replica of each) as the server
// the client is connected to declares them; one server is one shard.
func (c *Client) Shards(ctx context.Context) ([]Shard, error) {
	if c.opt.Cluster == "" {
		return []Shard{{Num: 1, Addr: c.opt.Addr[0]}}, nil
	}
	rows, err := c.conn.Query(ctx, fmt.Sprintf(
		"SELECT shard_num, host_address, port FROM system.clusters WHERE cluster = '%s' AND replica_num = 1 ORDER BY shard_num", c.opt.Cluster))
	if err != nil {
		return nil, fmt.Errorf("central: cluster %s: %w", c.opt.Cluster, err)
	}
	defer rows.Close()
	var out []Shard
	for rows.Next() {
		var num uint32
		var host string
		var port uint16
		if err := rows.Scan(&num, &host, &port); err != nil {
			return nil, err
		}
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		out = append(out, Shard{Num: num, Addr: fmt.Sprintf("%s:%d", host, port)})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("central: the server declares no cluster %q (remote_servers)", c.opt.Cluster)
	}
	return out, nil
}

// onShard opens a client to one shard with the same options.
func (c *Client) onShard(ctx context.Context, sh Shard) (*Client, error) {
	if c.opt.Cluster == "" {
		return c, nil
	}
	o := c.opt
	o.Addr = []string{sh.Addr}
	return Open(ctx, o)
}

// Init creates the database and tables where missing: on the server, or on
// every shard of the cluster (each shard gets the local tables and the
// Distributed ones, so any of them answers queries). It does not use
// ON CLUSTER, which needs ZooKeeper.
func (c *Client) Init(ctx context.Context) error {
	shards, err := c.Shards(ctx)
	if err != nil {
		return err
	}
	for _, sh := range shards {
		sc, err := c.onShard(ctx, sh)
		if err != nil {
			return err
		}
		for _, q := range sc.ddl() {
			if err := sc.conn.Exec(ctx, q); err != nil {
				if sc != c {
					sc.Close()
				}
				return fmt.Errorf("central: shard %d (%s): %s: %w", sh.Num, sh.Addr, firstWords(q), err)
			}
		}
		if sc != c {
			sc.Close()
		}
	}
	return nil
}

func firstWords(q string) string {
	if i := strings.Index(q, "("); i > 0 {
		return strings.TrimSpace(q[:i])
	}
	return q
}

// Ready reports whether the schema exists (every table is there).
func (c *Client) Ready(ctx context.Context) (bool, error) {
	var n uint64
	err := c.conn.QueryRow(ctx, fmt.Sprintf("SELECT count() FROM system.tables WHERE database = '%s' AND name IN ('messages', 'calls', 'calls_by_called', 'alerts', 'manifests', 'checkpoints')", c.opt.Database)).Scan(&n)
	return n == uint64(len(tables)), err
}

// DropBefore removes every day partition older than day (YYYY-MM-DD) on
// every shard: retention by dropping partitions, which 18.16 can do (it has
// no TTL).
func (c *Client) DropBefore(ctx context.Context, day string) (int, error) {
	if _, err := time.Parse("2006-01-02", day); err != nil {
		return 0, fmt.Errorf("central: %q is not a day (YYYY-MM-DD)", day)
	}
	shards, err := c.Shards(ctx)
	if err != nil {
		return 0, err
	}
	dropped := 0
	for _, sh := range shards {
		sc, err := c.onShard(ctx, sh)
		if err != nil {
			return dropped, err
		}
		n, err := sc.dropLocal(ctx, day)
		dropped += n
		if sc != c {
			sc.Close()
		}
		if err != nil {
			return dropped, err
		}
	}
	return dropped, nil
}

func (c *Client) dropLocal(ctx context.Context, day string) (int, error) {
	var names []string
	for _, t := range tables {
		names = append(names, "'"+c.local(t.name)+"'")
	}
	rows, err := c.conn.Query(ctx, fmt.Sprintf(
		"SELECT DISTINCT table, partition FROM system.parts WHERE database = '%s' AND table IN (%s) AND active AND max_date < toDate('%s')",
		c.opt.Database, strings.Join(names, ", "), day))
	if err != nil {
		return 0, err
	}
	type part struct{ table, partition string }
	var parts []part
	for rows.Next() {
		var p part
		if err := rows.Scan(&p.table, &p.partition); err != nil {
			rows.Close()
			return 0, err
		}
		parts = append(parts, p)
	}
	rows.Close()
	for _, p := range parts {
		if err := c.conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s.%s DROP PARTITION '%s'", c.opt.Database, p.table, p.partition)); err != nil {
			return 0, err
		}
	}
	return len(parts), rows.Err()
}
