package config

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Central is the `central:` section: the province's ClickHouse that every
// box ships its store to (package central). Zero (no addresses) means the
// box does not ship.
type Central struct {
	Addr     []string // host:port of the native protocol (9000, or 9440 with TLS)
	Database string   // default "gatewarden"
	Username string   // default "default"
	Password string
	TLS      bool
	// Cluster names a remote_servers cluster: tables are created on every
	// shard and queried through Distributed tables; "" for one server.
	Cluster string
	// Interval is how often a caught-up box ships what is new (default 1 s).
	// Each round is one insert per table with new rows; with many boxes a
	// longer interval means fewer, larger inserts for the server.
	Interval time.Duration
}

// Enabled reports whether shipping to a central store is configured.
func (c *Central) Enabled() bool { return len(c.Addr) > 0 }

type fileCentral struct {
	ClickHouse struct {
		Addr     []string `yaml:"addr"`
		Database *string  `yaml:"database"`
		Username *string  `yaml:"username"`
		Password string   `yaml:"password"`
		TLS      bool     `yaml:"tls"`
	} `yaml:"clickhouse"`
	Cluster  string  `yaml:"cluster"`
	Interval *string `yaml:"interval"`
}

// DefaultCentralDatabase is the database when the file names none.
const DefaultCentralDatabase = "gatewarden"

// identRE is what ClickHouse accepts as an unquoted identifier; database and
// cluster names end up in DDL.
var identRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })

// boxRE: a box name is a short printable label (it is stored in every row).
var boxRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`) })

// ValidIdent reports whether s may be used as a ClickHouse database or
// cluster name.
func ValidIdent(s string) bool { return identRE().MatchString(s) }

// ValidBox reports whether s is an acceptable box name.
func ValidBox(s string) bool { return boxRE().MatchString(s) }

// defaultBox is the host name, the box's name when the file names none.
func defaultBox() string {
	h, err := os.Hostname()
	if err != nil || !ValidBox(h) {
		return "gatewarden"
	}
	return h
}

func buildBox(box *string, probs *problems) string {
	if box == nil {
		return defaultBox()
	}
	if !ValidBox(*box) {
		probs.add("box", "%q is not a box name (letters, digits, '.', '_', '-'; at most 63)", *box)
	}
	return *box
}

// DefaultShipInterval is central.interval when the file gives none.
const DefaultShipInterval = time.Second

func buildCentral(f *fileCentral, probs *problems) Central {
	c := Central{Database: DefaultCentralDatabase, Username: "default", Interval: DefaultShipInterval}
	if f == nil {
		return c
	}
	if f.Interval != nil {
		d, err := time.ParseDuration(*f.Interval)
		if err != nil || d <= 0 || d > 10*time.Minute {
			probs.add("central.interval", "%q is not a duration between 0 and 10m (e.g. 1s, 30s)", *f.Interval)
		} else {
			c.Interval = d
		}
	}
	ch := &f.ClickHouse
	c.Addr, c.Password, c.TLS, c.Cluster = ch.Addr, ch.Password, ch.TLS, f.Cluster
	if ch.Database != nil {
		c.Database = *ch.Database
	}
	if ch.Username != nil {
		c.Username = *ch.Username
	}
	if len(c.Addr) == 0 {
		probs.add("central.clickhouse.addr", "at least one host:port is needed")
	}
	for i, a := range c.Addr {
		host, port, err := net.SplitHostPort(a)
		p, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || p <= 0 || p > 65535 {
			probs.add(fmt.Sprintf("central.clickhouse.addr[%d]", i), "%q is not host:port", a)
		}
	}
	if !ValidIdent(c.Database) {
		probs.add("central.clickhouse.database", "%q is not a database name (letters, digits, '_')", c.Database)
	}
	if c.Username == "" {
		probs.add("central.clickhouse.username", "must not be empty")
	}
	if c.Cluster != "" && !ValidIdent(c.Cluster) {
		probs.add("central.cluster", "%q is not a cluster name (letters, digits, '_')", c.Cluster)
	}
	return c
}
