package config_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis/config"
)

func TestCentralSection(t *testing.T) {
	c, err := config.Parse([]byte(`
box: gw-sz-01
central:
  clickhouse:
    addr: [ "10.1.2.3:9000", "ch2.example:9440" ]
    database: province
    username: shipper
    password: secret
    tls: true
  cluster: gd_province
  interval: 30s
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Box != "gw-sz-01" {
		t.Errorf("box = %q", c.Box)
	}
	want := config.Central{Addr: []string{"10.1.2.3:9000", "ch2.example:9440"}, Database: "province",
		Username: "shipper", Password: "secret", TLS: true, Cluster: "gd_province"}
	if strings.Join(c.Central.Addr, ",") != strings.Join(want.Addr, ",") || c.Central.Database != want.Database ||
		c.Central.Username != want.Username || c.Central.Password != want.Password || !c.Central.TLS ||
		c.Central.Cluster != want.Cluster || !c.Central.Enabled() || c.Central.Interval != 30*time.Second {
		t.Errorf("central = %+v, want %+v", c.Central, want)
	}
}

func TestCentralDefaults(t *testing.T) {
	c, err := config.Parse([]byte("central:\n  clickhouse:\n    addr: [\"127.0.0.1:9000\"]\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if config.ValidBox(host) && c.Box != host {
		t.Errorf("box = %q, want the host name %q", c.Box, host)
	}
	if c.Central.Database != "gatewarden" || c.Central.Username != "default" || c.Central.Cluster != "" || c.Central.Interval != time.Second {
		t.Errorf("defaults: %+v", c.Central)
	}
	if d := config.Default(); d.Central.Enabled() || d.Box == "" {
		t.Errorf("Default(): box %q, central %+v", d.Box, d.Central)
	}
}

func TestCentralErrors(t *testing.T) {
	_, err := config.Parse([]byte(`
box: "bad box"
central:
  clickhouse:
    addr: [ "nohost", "h:99999" ]
    database: "x-y"
    username: ""
  cluster: "a b"
  interval: 1h
`), "t.yaml")
	if err == nil {
		t.Fatal("accepted")
	}
	for _, key := range []string{"key box:", "central.clickhouse.addr[0]", "central.clickhouse.addr[1]",
		"central.clickhouse.database", "central.clickhouse.username", "central.cluster", "central.interval"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s:\n%v", key, err)
		}
	}
	if _, err := config.Parse([]byte("central:\n  cluster: c\n"), "t.yaml"); err == nil ||
		!strings.Contains(err.Error(), "central.clickhouse.addr") {
		t.Errorf("central without addr: %v", err)
	}
}
