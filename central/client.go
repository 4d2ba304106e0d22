// Package central is the province-wide store: every gatewarden box ships its
// retained signalling (ISUP messages with their raw bytes, call records,
// alerts) to one ClickHouse, and trace, report and serve query it there with
// the box named on every row.
//
// The client is github.com/ClickHouse/clickhouse-go/v2 over the native
// protocol. It works with the oldest server we support, Debian's 18.16
// (protocol revision 54412), as long as every INSERT names its columns
// (which this package always does): without a column list that server
// answers the insert's header with no columns.
package central

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/gatewarden/gatewarden/analysis/config"
)

// Options say where the central store is.
type Options struct {
	Addr     []string // host:port, native protocol
	Database string
	Username string
	Password string
	TLS      bool
	Cluster  string // remote_servers cluster ("" for one server)
}

// FromConfig takes the `central:` section of a configuration.
func FromConfig(c config.Central) Options {
	return Options{Addr: c.Addr, Database: c.Database, Username: c.Username, Password: c.Password, TLS: c.TLS, Cluster: c.Cluster}
}

// ParseDSN reads clickhouse://[user[:password]@]host:port[,host:port…]/database[?cluster=NAME&secure=true].
func ParseDSN(dsn string) (Options, error) {
	rest, ok := strings.CutPrefix(dsn, "clickhouse://")
	if !ok {
		return Options{}, fmt.Errorf("central: DSN %q: scheme must be clickhouse://", dsn)
	}
	// The host list may hold commas, which net/url does not take in a port:
	// it is parsed here and a placeholder host given to url.Parse.
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	userinfo, hosts := "", authority
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, hosts = authority[:at+1], authority[at+1:]
	}
	u, err := url.Parse("clickhouse://" + userinfo + "placeholder" + rest[end:])
	if err != nil {
		return Options{}, fmt.Errorf("central: DSN: %w", err)
	}
	o := Options{Database: strings.Trim(u.Path, "/"), Username: "default"}
	if o.Database == "" {
		o.Database = config.DefaultCentralDatabase
	}
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	for _, a := range strings.Split(hosts, ",") {
		if a == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a); err != nil {
			a = net.JoinHostPort(a, "9000")
		}
		o.Addr = append(o.Addr, a)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Options{}, fmt.Errorf("central: DSN query: %w", err)
	}
	for k := range q {
		if k != "cluster" && k != "secure" {
			return Options{}, fmt.Errorf("central: DSN: unknown parameter %q (cluster, secure)", k)
		}
	}
	o.Cluster = q.Get("cluster")
	if s := q.Get("secure"); s != "" {
		o.TLS, err = strconv.ParseBool(s)
		if err != nil {
			return Options{}, fmt.Errorf("central: DSN: secure=%q", s)
		}
	}
	return o, o.check()
}

func (o *Options) check() error {
	if len(o.Addr) == 0 {
		return errors.New("central: no ClickHouse address")
	}
	if !config.ValidIdent(o.Database) {
		return fmt.Errorf("central: %q is not a database name", o.Database)
	}
	if o.Cluster != "" && !config.ValidIdent(o.Cluster) {
		return fmt.Errorf("central: %q is not a cluster name", o.Cluster)
	}
	return nil
}

// Client is a connection pool to the central store.
type Client struct {
	opt   Options
	conn  driver.Conn
	major int // server version, for DDL features
	minor int
}

func dial(o Options, addr []string) (driver.Conn, error) {
	co := &clickhouse.Options{
		Addr:             addr,
		Auth:             clickhouse.Auth{Database: "default", Username: o.Username, Password: o.Password},
		DialTimeout:      5 * time.Second,
		ReadTimeout:      5 * time.Minute,
		Compression:      &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
		MaxOpenConns:     4,
		ConnOpenStrategy: clickhouse.ConnOpenInOrder,
	}
	if o.TLS {
		co.TLS = &tls.Config{}
	}
	return clickhouse.Open(co)
}

// Open connects and reads the server's version. It does not create anything.
func Open(ctx context.Context, o Options) (*Client, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	conn, err := dial(o, o.Addr)
	if err != nil {
		return nil, fmt.Errorf("central: %w", err)
	}
	c := &Client{opt: o, conn: conn}
	var v string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		conn.Close()
		return nil, fmt.Errorf("central: %s: %w", strings.Join(o.Addr, ","), err)
	}
	c.major, c.minor = parseVersion(v)
	return c, nil
}

func parseVersion(v string) (major, minor int) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		major, _ = strconv.Atoi(parts[0])
		minor, _ = strconv.Atoi(parts[1])
	}
	return major, minor
}

// Close closes the pool.
func (c *Client) Close() error { return c.conn.Close() }

// Options returns what the client was opened with.
func (c *Client) Options() Options { return c.opt }

// Conn is the underlying connection pool (tests, benchmarks).
func (c *Client) Conn() driver.Conn { return c.conn }

// atLeast reports whether the server is version major.minor or newer.
func (c *Client) atLeast(major, minor int) bool {
	return c.major > major || c.major == major && c.minor >= minor
}
