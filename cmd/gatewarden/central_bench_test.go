package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/central"
	"github.com/gatewarden/gatewarden/retention"
)

// Central store figures (deploy/SIZING.md). They need a ClickHouse server
// (GATEWARDEN_CLICKHOUSE, see .ci/clickhouse.sh) and take minutes at the
// published sizes:
//
//	GATEWARDEN_BENCH_CENTRAL_CALLS=100000 go test ./cmd/gatewarden -run '^$' -bench CentralIngest -benchtime 1x
//	GATEWARDEN_BENCH_CENTRAL_MESSAGES=100000000 go test ./cmd/gatewarden -run '^$' -bench CentralLookup -benchtime 200x -timeout 2h

func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// makeBenchBoxes replays two generated captures into stores (removed when
// the benchmark ends).
func makeBenchBoxes(b *testing.B, calls int) []*boxFixture {
	dir := b.TempDir()
	var boxes []*boxFixture
	for i, name := range []string{"gw-bench-a", "gw-bench-b"} {
		boxes = append(boxes, makeBox(b, dir, name, int64(100+i), calls, ""))
	}
	return boxes
}

// BenchmarkCentralIngest ships whole stores to a fresh database: one box,
// then two boxes concurrently. Reported: messages and calls shipped per
// second (wall clock, both boxes together), and after merging, bytes on the
// server per message and per call.
func BenchmarkCentralIngest(b *testing.B) {
	base := os.Getenv("GATEWARDEN_CLICKHOUSE")
	if base == "" {
		b.Skip(noClickHouse)
	}
	boxes := makeBenchBoxes(b, benchEnvInt("GATEWARDEN_BENCH_CENTRAL_CALLS", 20000))
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("boxes=%d", n), func(b *testing.B) {
			var msgs, calls int
			var elapsed, clientCPU, serverCPU time.Duration
			var last *central.Client
			for i := 0; i < b.N; i++ {
				o, _ := central.ParseDSN(base)
				o.Database = fmt.Sprintf("gwbench_ingest_%d_%d", n, i)
				c, err := central.Open(context.Background(), o)
				if err != nil {
					b.Fatal(err)
				}
				c.Conn().Exec(context.Background(), "DROP DATABASE IF EXISTS "+o.Database)
				if err := c.Init(context.Background()); err != nil {
					b.Fatal(err)
				}
				var wg sync.WaitGroup
				errs := make(chan error, n)
				start, cpu0, srv0 := time.Now(), cpuTime(), serverCPU1()
				for _, bx := range boxes[:n] {
					st, err := retention.Open(bx.data, retention.Options{ReadOnly: true})
					if err != nil {
						b.Fatal(err)
					}
					os.Remove(filepath.Join(bx.data, central.CursorFile(o.Database)))
					wg.Add(1)
					go func() {
						defer wg.Done()
						sh := &central.Shipper{Store: st, Client: c, Box: bx.name}
						errs <- sh.ShipAll(context.Background())
						sh.Close()
					}()
					msgs += bx.messages
					calls += bx.calls
				}
				wg.Wait()
				elapsed += time.Since(start)
				clientCPU += cpuTime() - cpu0
				serverCPU += serverCPU1() - srv0
				close(errs)
				for err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
				if last != nil {
					last.Conn().Exec(context.Background(), "DROP DATABASE IF EXISTS "+last.Options().Database)
					last.Close()
				}
				last = c
			}
			b.ReportMetric(float64(msgs)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(calls)/elapsed.Seconds(), "calls/s")
			// CPU per message, calls included (the 2-core machine is shared:
			// wall-clock rates vary with its load, CPU time much less).
			b.ReportMetric(float64(clientCPU.Microseconds())/float64(msgs), "box-cpu-µs/msg")
			if serverCPU > 0 {
				b.ReportMetric(float64(serverCPU.Microseconds())/float64(msgs), "server-cpu-µs/msg")
			}
			db := last.Options().Database
			for _, t := range []string{"messages", "calls", "calls_by_called", "alerts"} {
				last.Conn().Exec(context.Background(), fmt.Sprintf("OPTIMIZE TABLE %s.%s FINAL", db, t))
			}
			per := func(table string) float64 {
				var bytes, rows uint64
				err := last.Conn().QueryRow(context.Background(), fmt.Sprintf(
					"SELECT sum(bytes_on_disk), sum(rows) FROM system.parts WHERE database = '%s' AND table = '%s' AND active", db, table)).Scan(&bytes, &rows)
				if err != nil || rows == 0 {
					b.Fatalf("%s: %d rows, %v", table, rows, err)
				}
				return float64(bytes) / float64(rows)
			}
			b.ReportMetric(per("messages"), "B/msg")
			b.ReportMetric(per("calls")+per("calls_by_called"), "B/call")
			last.Conn().Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
			last.Close()
		})
	}
}

// serverCPU1 is the CPU time of ClickHouse node 1 so far, when
// .ci/clickhouse.sh started it (its pid file); zero otherwise.
func serverCPU1() time.Duration {
	b, err := os.ReadFile(filepath.Join(os.Getenv("GATEWARDEN_CLICKHOUSE_DIR"), "node1", "pid"))
	if err != nil {
		return 0
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strings.TrimSpace(string(b)), "stat"))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ = 100
}

// lookupDays and lookupBoxes shape the generated central store: a province's
// boxes over a month of day partitions.
const (
	lookupDays  = 30
	lookupBoxes = 30
	lookupBase  = int64(1772409600) * 1e9 // 2026-03-02 00:00 UTC
)

// BenchmarkCentralLookup: number lookups (calls by calling number, then
// their ladders and alerts, as trace --clickhouse does) on a central store
// of GATEWARDEN_BENCH_CENTRAL_MESSAGES messages (default 2 M; 100 M for the
// published figure), generated on the server (INSERT … SELECT from
// numbers()): 5 messages per call, 30 boxes, 30 day partitions, random
// 32-byte MTP3 payloads (they compress worse than real ISUP; the bytes per
// message of real traffic are BenchmarkCentralIngest's). The store is kept
// (database gwbench_lookup_N) and reused by later runs on the same server.
func BenchmarkCentralLookup(b *testing.B) {
	base := os.Getenv("GATEWARDEN_CLICKHOUSE")
	if base == "" {
		b.Skip(noClickHouse)
	}
	msgs := benchEnvInt("GATEWARDEN_BENCH_CENTRAL_MESSAGES", 2_000_000)
	calls := msgs / 5
	ctx := context.Background()
	o, _ := central.ParseDSN(base)
	o.Database = fmt.Sprintf("gwbench_lookup_%d", msgs)
	c, err := central.Open(ctx, o)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := generateCentral(b, c, calls); err != nil {
		b.Fatal(err)
	}
	var numbers []string
	rows, err := c.Conn().Query(ctx, fmt.Sprintf("SELECT calling_digits FROM %s.calls WHERE cityHash64(uid) %% 1000 = 7 LIMIT 500", o.Database))
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		numbers = append(numbers, n)
	}
	rows.Close()
	if len(numbers) == 0 {
		b.Fatal("no numbers to look up")
	}
	for _, tc := range []struct {
		name   string
		range_ bool
	}{{"whole-store", false}, {"one-day", true}} {
		b.Run(tc.name, func(b *testing.B) {
			found := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				q := central.Query{Query: retention.Query{Numbers: retention.NumberForms(numbers[i%len(numbers)], "86"),
					Roles: 1 << retention.RoleCalling}}
				if tc.range_ {
					// The day of the call, as an investigator with a complaint knows it.
					b.StopTimer()
					var start int64
					c.Conn().QueryRow(ctx, fmt.Sprintf("SELECT start FROM %s.calls WHERE calling = '86%s' LIMIT 1", o.Database, numbers[i%len(numbers)])).Scan(&start)
					day := start - start%int64(24*time.Hour)
					b.StartTimer()
					q.From, q.To = day, day+int64(24*time.Hour)
				}
				res, err := c.Calls(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if len(res) == 0 || len(res[0].Ladder) != 5 {
					b.Fatalf("number %s: %d calls", numbers[i%len(numbers)], len(res))
				}
				found += len(res)
			}
			b.ReportMetric(float64(msgs), "store-msgs")
		})
	}
}

// generateCentral fills the benchmark database unless it already holds the
// calls asked for.
func generateCentral(b *testing.B, c *central.Client, calls int) error {
	ctx := context.Background()
	db := c.Options().Database
	var have uint64
	if err := c.Conn().QueryRow(ctx, fmt.Sprintf("SELECT count() FROM system.tables WHERE database = '%s' AND name = 'messages'", db)).Scan(&have); err == nil && have == 1 {
		c.Conn().QueryRow(ctx, fmt.Sprintf("SELECT count() FROM %s.calls", db)).Scan(&have)
		if have == uint64(calls) {
			return nil
		}
	}
	c.Conn().Exec(ctx, "DROP DATABASE IF EXISTS "+db)
	if err := c.Init(ctx); err != nil {
		return err
	}
	// A real call record, so that lookups decode what they read.
	bx := makeBenchBoxes(b, 2000)[0]
	st, err := retention.Open(bx.data, retention.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	var rec []byte
	st.ScanCallRecords(retention.RecordPos{}, 1, func(_ retention.Ref, raw []byte, _ *analysis.Call) error {
		rec = append([]byte(nil), raw...)
		return nil
	})
	step := int64(lookupDays) * int64(24*time.Hour) / int64(calls)
	start := time.Now()
	const chunk = 2_000_000
	for off := 0; off < calls; off += chunk {
		n := min(chunk, calls-off)
		err := c.Conn().Exec(ctx, fmt.Sprintf(`INSERT INTO %[1]s.calls (box, day, start, uid, id, call, calling, called, calling_digits, called_digits,
			partner, link, direction, opc, dpc, cic, outcome, cause, answer, end, rec)
			SELECT concat('gw-', toString(number %% %[2]d)) AS box, toDate(intDiv(st, 1000000000)) AS day, %[3]d + toInt64(number) * %[4]d AS st,
			cityHash64(number) AS uid, toString(number) AS id, number AS call,
			toString(8613000000000 + cityHash64(number, 1) %% 1000000000) AS calling,
			toString(8613000000000 + cityHash64(number, 2) %% 1000000000) AS called,
			substring(calling, 3) AS calling_digits, substring(called, 3) AS called_digits,
			concat('partner', toString(number %% 7)) AS partner, concat('10.0.', toString(number %% 16), '.1:2905>10.20.0.1:2905') AS link,
			toUInt8(1 + number %% 2) AS direction, toUInt32(1000 + number %% 50) AS opc, toUInt32(9153) AS dpc, toUInt32(number %% 4000) AS cic,
			toUInt8(1) AS outcome, toUInt8(16) AS cause, st + 5000000000 AS answer, st + 60000000000 AS end, unhex('%[5]X') AS rec
			FROM numbers(%[6]d, %[7]d)`, db, lookupBoxes, lookupBase, step, rec, off, n))
		if err != nil {
			return fmt.Errorf("generating calls: %w", err)
		}
		err = c.Conn().Exec(ctx, fmt.Sprintf(`INSERT INTO %[1]s.messages (box, day, ts, ref, call, source, frame, transport, src, dst,
			vtag, stream, tsn, link, rc, na, flags, ni, si, pc_bits, opc, dpc, sls, mp, cic, type, mtp3)
			SELECT concat('gw-', toString(cl %% %[2]d)) AS box, toDate(intDiv(ts, 1000000000)) AS day,
			%[3]d + toInt64(cl) * %[4]d + toInt64(number %% 5) * 2000000000 AS ts, number AS ref, intDiv(number, 5) AS cl,
			'eth1' AS source, number AS frame, toUInt8(1) AS transport, '10.0.0.1:2905' AS src, '10.20.0.1:2905' AS dst,
			toUInt32(7) AS vtag, toUInt16(cl %% 16) AS stream, toUInt32(number) AS tsn, toUInt16(0) AS link, toUInt32(201) AS rc,
			toUInt32(0) AS na, toUInt8(1) AS flags, toUInt8(2) AS ni, toUInt8(5) AS si, toUInt8(14) AS pc_bits,
			toUInt32(1000 + cl %% 50) AS opc, toUInt32(9153) AS dpc, toUInt8(cl %% 16) AS sls, toUInt8(0) AS mp,
			toUInt32(cl %% 4000) AS cic, toUInt8([1, 6, 9, 12, 16][number %% 5 + 1]) AS type,
			concat(reinterpretAsString(cityHash64(number)), reinterpretAsString(cityHash64(number, 1)),
			       reinterpretAsString(cityHash64(number, 2)), reinterpretAsString(cityHash64(number, 3))) AS mtp3
			FROM numbers(%[5]d, %[6]d)`, db, lookupBoxes, lookupBase, step, off*5, n*5))
		if err != nil {
			return fmt.Errorf("generating messages: %w", err)
		}
	}
	b.Logf("generated %d calls, %d messages in %s", calls, calls*5, time.Since(start).Round(time.Second))
	return nil
}
