package central_test

import (
	"reflect"
	"testing"

	"github.com/gatewarden/gatewarden/central"
)

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn  string
		want central.Options
	}{
		{"clickhouse://127.0.0.1:9000/gatewarden", central.Options{Addr: []string{"127.0.0.1:9000"}, Database: "gatewarden", Username: "default"}},
		{"clickhouse://u:p%40ss@ch1:9440,ch2/prov?cluster=gd&secure=true",
			central.Options{Addr: []string{"ch1:9440", "ch2:9000"}, Database: "prov", Username: "u", Password: "p@ss", TLS: true, Cluster: "gd"}},
		{"clickhouse://h:1", central.Options{Addr: []string{"h:1"}, Database: "gatewarden", Username: "default"}},
	} {
		got, err := central.ParseDSN(tc.dsn)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v %v, want %+v", tc.dsn, got, err, tc.want)
		}
	}
	for _, bad := range []string{"http://h:9000/db", "clickhouse:///db", "clickhouse://h:9000/a-b", "clickhouse://h/db?cluster=x;y",
		"clickhouse://h/db?secure=maybe", "clickhouse://h/db;DROP"} {
		if _, err := central.ParseDSN(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// A box's rows always go to the same shard, and boxes spread over shards.
func TestShardFor(t *testing.T) {
	seen := map[int]bool{}
	for _, box := range []string{"gw-a", "gw-b", "gw-c", "gw-d", "gw-e", "gw-f", "gw-g", "gw-h"} {
		s := central.ShardFor(box, 3)
		if s != central.ShardFor(box, 3) || s < 0 || s >= 3 {
			t.Fatalf("%s: shard %d", box, s)
		}
		seen[s] = true
	}
	if len(seen) < 2 {
		t.Errorf("eight boxes on %d of 3 shards", len(seen))
	}
}
