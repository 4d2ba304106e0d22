package retention

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
)

var t0 = time.Date(2025, 1, 10, 8, 30, 0, 0, time.UTC).UnixNano()

// feed stores n generated calls (with records, and an alert on every fifth)
// and returns what was generated.
func feed(s *Store, g *generator, n int, fail func(error)) []*genCall {
	var calls []*genCall
	var l linker
	g.keep = true
	g.run(n, func(m *decode.Message) {
		if err := l.add(s, m, g.source); err != nil {
			fail(err)
		}
	}, func(c *genCall, rec *analysis.Call) {
		calls = append(calls, c)
		rec.Ref = l.ref(c.opc, c.dpc, c.cic)
		if len(calls)%5 == 0 {
			a := &analysis.Alert{TS: c.start, Rule: "cli.generic_number", Severity: analysis.SeverityWarning, Partner: rec.Partner,
				Calling: c.calling, Called: c.called, OPC: c.opc, DPC: c.dpc, CIC: c.cic, CallID: rec.ID, CallRef: rec.Ref}
			if err := s.AddAlert(a); err != nil {
				fail(err)
			}
		}
		if err := s.AddCall(rec); err != nil {
			fail(err)
		}
	})
	return calls
}

func fill(t testing.TB, s *Store, g *generator, n int) []*genCall {
	t.Helper()
	return feed(s, g, n, func(err error) { t.Fatal(err) })
}

func openTest(t testing.TB, dir string, opt Options) *Store {
	t.Helper()
	opt.NoSync = true
	opt.MinFreeBytes = -1
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sameMessage(m *Message, want *storedCopy) error {
	switch {
	case !bytes.Equal(m.MTP3, want.mtp3):
		return fmt.Errorf("mtp3 %x, want %x", m.MTP3, want.mtp3)
	case m.TS != want.ts || m.Frame != want.frame || m.Source != want.source:
		return fmt.Errorf("ts/frame/source %d/%d/%s, want %d/%d/%s", m.TS, m.Frame, m.Source, want.ts, want.frame, want.source)
	case m.Src != want.src || m.Dst != want.dst || m.Stream != want.stream || m.TSN != want.tsn:
		return fmt.Errorf("association %v>%v s%d tsn %d, want %v>%v s%d tsn %d", m.Src, m.Dst, m.Stream, m.TSN, want.src, want.dst, want.stream, want.tsn)
	case !m.HasRC || m.RoutingContext != want.rc || m.Transport != decode.TransportM3UA:
		return fmt.Errorf("rc %d (%v), want %d", m.RoutingContext, m.HasRC, want.rc)
	case m.Label.OPC != want.opc || m.Label.DPC != want.dpc || m.CIC != want.cic || m.Label.SLS != want.sls || m.Type != want.typ:
		return fmt.Errorf("label %d>%d cic %d sls %d type %d, want %d>%d cic %d sls %d type %d", m.Label.OPC, m.Label.DPC, m.CIC,
			m.Label.SLS, m.Type, want.opc, want.dpc, want.cic, want.sls, want.typ)
	}
	return nil
}

// checkAll looks every generated message up by each of its call's numbers in
// that number's role and by "any role", and compares it byte for byte.
func checkAll(t *testing.T, s *Store, calls []*genCall) {
	t.Helper()
	for ci, c := range calls {
		iam := c.refs[0]
		for role, num := range iam.numbers {
			masks := []RoleMask{1 << role}
			if ci%10 == 0 {
				masks = append(masks, 0) // "any role" too
			}
			for _, mask := range masks {
				res, err := s.QueryCalls(Query{Numbers: []string{num}, Roles: mask})
				if err != nil {
					t.Fatal(err)
				}
				var hit *CallResult
				for i := range res {
					if res[i].Start() == c.start {
						hit = &res[i]
					}
				}
				if hit == nil {
					t.Fatalf("call at %d not found by %s %s (mask %b): %d results", c.start, role, num, mask, len(res))
				}
				if len(hit.Ladder) != len(c.refs) {
					t.Fatalf("call %s: ladder has %d messages, want %d", num, len(hit.Ladder), len(c.refs))
				}
				for i := range c.refs {
					if err := sameMessage(&hit.Ladder[i], &c.refs[i]); err != nil {
						t.Fatalf("call %s message %d: %v", num, i, err)
					}
				}
				if hit.Call == nil || hit.Call.Start != c.start || hit.Call.Calling.Digits != c.calling {
					t.Fatalf("call %s: record %+v", num, hit.Call)
				}
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	g := newGenerator(1, t0, int64(2*time.Second))
	calls := fill(t, s, g, 1500) // about 50 minutes a side of 9:00: two partitions
	// Queries see the open partition too.
	checkAll(t, s, calls[len(calls)-50:])
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(s.Partitions()) < 2 {
		t.Fatalf("%d partitions, want hourly ones", len(s.Partitions()))
	}
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	checkAll(t, r, calls)

	// Alerts come back with their call, and filters combine.
	c := calls[4] // the fifth call has an alert
	res, err := r.QueryCalls(Query{Numbers: []string{c.calling}, Rule: "cli.generic_number", Partner: "partner" + itoa(int(c.opc%3))})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Alerts) != 1 || res[0].Alerts[0].CallID != c.id {
		t.Fatalf("rule+partner+number: %+v", res)
	}
	wrongOPC := c.opc + 1
	if res, _ := r.QueryCalls(Query{Numbers: []string{c.calling}, OPC: &wrongOPC}); len(res) != 0 {
		t.Fatalf("OPC filter let %d calls through", len(res))
	}
	if res, _ := r.QueryCalls(Query{Numbers: []string{c.calling}, Roles: 1 << RoleCalled}); len(res) != 0 {
		t.Fatalf("calling number found in the called role")
	}
	// Rule alone, and time range alone.
	res, err = r.QueryCalls(Query{Rule: "cli.generic_number"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(calls)/5 {
		t.Fatalf("rule query: %d calls, want %d", len(res), len(calls)/5)
	}
	from, to := calls[100].start, calls[200].start
	res, err = r.QueryCalls(Query{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, c := range calls {
		if c.start >= from && c.start < to {
			want++
		}
	}
	if len(res) != want || want < 50 {
		t.Fatalf("time range: %d calls, want %d", len(res), want)
	}
	link := calls[100].refs[0].src.String()
	res, _ = r.QueryCalls(Query{From: from, To: to, Link: link})
	for _, x := range res {
		if x.IAM().Src.String() != link {
			t.Fatalf("link filter passed %v", x.IAM().Src)
		}
	}
	if len(res) == 0 || len(res) == want {
		t.Fatalf("link filter selected %d of %d", len(res), want)
	}

	rep, err := r.Report(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	total, flagged := 0, 0
	for _, row := range rep {
		total += row.Calls
		flagged += row.Flagged
		if row.Flagged != row.ByRule["cli.generic_number"] {
			t.Fatalf("row %+v", row)
		}
	}
	if total != len(calls) || flagged != len(calls)/5 || len(rep) != 3 {
		t.Fatalf("report: %d rows, %d calls, %d flagged", len(rep), total, flagged)
	}
	v, err := Verify(dir)
	if err != nil || !v.OK() {
		t.Fatalf("verify: %+v %v", v, err)
	}
}

func TestNumberForms(t *testing.T) {
	got := fmt.Sprint(NumberForms("+86 138-0013-8000", "86"))
	if got != "[8613800138000 13800138000 013800138000 008613800138000]" {
		t.Fatal(got)
	}
	if got := fmt.Sprint(NumberForms("01012345678", "86")); got != "[01012345678 1012345678 861012345678 00861012345678]" {
		t.Fatal(got)
	}
}

func partitionsFor(t *testing.T, opt Options, hours int) (string, *Store) {
	t.Helper()
	dir := t.TempDir()
	s := openTest(t, dir, opt)
	g := newGenerator(2, t0, int64(time.Hour)/40)
	var l linker
	g.run(40*hours, func(m *decode.Message) {
		if err := l.add(s, m, g.source); err != nil {
			t.Fatal(err)
		}
	}, func(*genCall, *analysis.Call) {})
	return dir, s
}

func TestRetentionByAge(t *testing.T) {
	opt := Options{RetentionDays: 1, Partition: 6 * time.Hour}
	var logged []string
	opt.Logf = func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }
	dir, s := partitionsFor(t, opt, 24*3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	parts := s.Partitions()
	newest := parts[len(parts)-1].MaxTS
	for _, p := range parts {
		if p.MaxTS < newest-int64(24*time.Hour) {
			t.Fatalf("partition %d (max %v) outlived retention", p.Seq, time.Unix(0, p.MaxTS))
		}
	}
	if st.Removed < 6 || st.RemovedByReason["age"] != st.Removed || len(parts) > 6 {
		t.Fatalf("removed %d (%v), kept %d", st.Removed, st.RemovedByReason, len(parts))
	}
	rem, err := readRemovals(dir)
	if err != nil || uint64(len(rem)) != st.Removed || rem[0].Seq != 1 {
		t.Fatalf("removed.log: %+v %v", rem, err)
	}
	if len(logged) < int(st.Removed) {
		t.Fatalf("removals not logged: %q", logged)
	}
	v, err := Verify(dir)
	if err != nil || !v.OK() {
		t.Fatalf("verify after retention: %+v %v", v.Problems, err)
	}
}

func TestRetentionByBudget(t *testing.T) {
	dir, s := partitionsFor(t, Options{}, 12)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	all := s.Partitions()
	var total int64
	for _, p := range all {
		total += p.Bytes
	}
	budget := total / 2
	s = openTest(t, dir, Options{MaxBytes: budget})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	kept := s.Partitions()
	var size int64
	for _, p := range kept {
		size += p.Bytes
	}
	if size > budget || len(kept) == 0 || kept[len(kept)-1].Seq != all[len(all)-1].Seq || kept[0].Seq == all[0].Seq {
		t.Fatalf("kept %d partitions, %d bytes for budget %d", len(kept), size, budget)
	}
	if st := s.Stats(); st.RemovedByReason["budget"] != uint64(len(all)-len(kept)) {
		t.Fatalf("stats %+v", st)
	}
	v, err := Verify(dir)
	if err != nil || !v.OK() {
		t.Fatalf("verify after budget: %+v %v", v.Problems, err)
	}
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, _ := os.ReadDir(src)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestVerifyDetectsTampering(t *testing.T) {
	dir, s := partitionsFor(t, Options{}, 5)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v, err := Verify(dir); err != nil || !v.OK() || v.Partitions != len(s.Partitions()) || v.Partitions < 5 {
		t.Fatalf("clean store: %+v %v", v, err)
	}
	expect := func(name, kind string, tamper func(d string)) {
		t.Run(name, func(t *testing.T) {
			d := copyDir(t, dir)
			tamper(d)
			v, err := Verify(d)
			if err != nil {
				t.Fatal(err)
			}
			if v.OK() {
				t.Fatalf("not detected")
			}
			found := false
			for _, p := range v.Problems {
				found = found || p.Kind == kind
			}
			if !found {
				t.Fatalf("want a %q problem, got %v", kind, v.Problems)
			}
		})
	}
	expect("flip a byte", "altered", func(d string) {
		p := segPath(d, 3)
		b, _ := os.ReadFile(p)
		b[len(b)/2] ^= 0x01
		os.WriteFile(p, b, 0o644)
	})
	expect("delete a partition", "missing", func(d string) {
		os.Remove(segPath(d, 2))
		os.Remove(manifestPath(d, 2))
	})
	expect("delete a segment", "missing", func(d string) { os.Remove(segPath(d, 4)) })
	expect("delete the newest", "missing", func(d string) {
		os.Remove(segPath(d, 5))
		os.Remove(manifestPath(d, 5))
	})
	expect("reorder two partitions", "reordered", func(d string) {
		for _, f := range []func(string, uint32) string{segPath, manifestPath} {
			os.Rename(f(d, 2), f(d, 99))
			os.Rename(f(d, 3), f(d, 2))
			os.Rename(f(d, 99), f(d, 3))
		}
	})
	expect("delete a partition without recording its removal", "missing", func(d string) {
		os.Remove(segPath(d, 1))
		os.Remove(manifestPath(d, 1))
	})
	expect("edit a manifest", "reordered", func(d string) {
		// Re-hash an altered segment into its manifest: the next link breaks.
		p := segPath(d, 2)
		b, _ := os.ReadFile(p)
		b[100] ^= 0xff
		os.WriteFile(p, b, 0o644)
		mb, _ := os.ReadFile(manifestPath(d, 2))
		old := sha256Hex(append(b[:100:100], append([]byte{b[100] ^ 0xff}, b[101:]...)...))
		mb = bytes.Replace(mb, []byte(old), []byte(sha256Hex(b)), 1)
		os.WriteFile(manifestPath(d, 2), mb, 0o644)
	})
}

// readPcap reads a pcapng written by WritePcap back through the capture
// reader and the project's decoder, and returns each packet's time and the
// MTP3 bytes (SIO, label, ISUP) the decoder finds in its rebuilt framing.
func readPcap(t *testing.T, b []byte) (ts []int64, mtp3 [][]byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "export.pcapng")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Format() != capture.FormatPcapNG {
		t.Fatalf("export is %v, want pcapng", f.Format())
	}
	packets := 0
	dec := decode.New(decode.Config{PCBits: 14}, func(m *decode.Message) {
		ts = append(ts, m.TS)
		mtp3 = append(mtp3, append([]byte(nil), m.MTP3...))
	})
	var fr decode.Frame
	for {
		err := f.Next(&fr)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		packets++
		dec.Decode(&fr)
	}
	dec.Flush()
	if len(ts) != packets {
		t.Fatalf("%d packets decode to %d messages", packets, len(ts))
	}
	return ts, mtp3
}

func TestExportPcap(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	calls := fill(t, s, newGenerator(3, t0, int64(time.Second)), 200)
	s.Close()
	r, _ := Open(dir, Options{ReadOnly: true})
	c := calls[17]
	var buf bytes.Buffer
	n, err := r.ExportPcap(&buf, Query{Numbers: []string{c.called}})
	if err != nil || n != len(c.refs) {
		t.Fatalf("exported %d packets, want %d: %v", n, len(c.refs), err)
	}
	ts, frames := readPcap(t, buf.Bytes())
	for i := range frames {
		if ts[i] != c.refs[i].ts || !bytes.Equal(frames[i], c.refs[i].mtp3) {
			t.Fatalf("packet %d: %d %x, want %d %x", i, ts[i], frames[i], c.refs[i].ts, c.refs[i].mtp3)
		}
	}
}

func TestTornTailRepaired(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	all := fill(t, s, newGenerator(4, t0, int64(time.Second)), 20)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	// Simulate a crash: leave the log as it is, add half a record, drop the lock.
	f, _ := os.OpenFile(walPath(dir, 1), os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{40, 0, 0, 0, 1, 2, 3, 4, recMessage, 9, 9})
	f.Close()
	close(s.stop)
	<-s.done
	s.release()

	s2 := openTest(t, dir, Options{})
	st := s2.Stats()
	if st.Recovered != 1 || st.TornBytes != 11 {
		t.Fatalf("stats after recovery: %+v", st)
	}
	s2.Close()
	r, _ := Open(dir, Options{ReadOnly: true})
	checkAll(t, r, all)
}

// The crash test re-runs this test binary as a writer and kills it with
// SIGKILL after the writer reports that its flush interval has passed.
const crashEnv = "GATEWARDEN_RETENTION_CRASH_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashWriter(dir)
		return
	}
	os.Exit(m.Run())
}

func crashWriter(dir string) {
	s, err := Open(dir, Options{FlushInterval: 50 * time.Millisecond, MinFreeBytes: -1})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fail := func(err error) { fmt.Println("error", err); os.Exit(1) }
	g := newGenerator(5, t0, int64(time.Second))
	feed(s, g, 300, fail)
	time.Sleep(200 * time.Millisecond) // several flush intervals, no explicit Flush
	fmt.Println("ready")
	// More records that no flush covers, then wait to be killed.
	feed(s, g, 5, fail)
	time.Sleep(time.Minute)
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a writer process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 6)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "ready\n" {
		cmd.Process.Kill()
		t.Fatalf("writer said %q: %v", line, err)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()

	// Expected content: the same generator's first 300 calls.
	g := newGenerator(5, t0, int64(time.Second))
	want := feed(openTest(t, t.TempDir(), Options{}), g, 300, func(err error) { t.Fatal(err) })

	s := openTest(t, dir, Options{})
	if st := s.Stats(); st.Recovered != 1 {
		t.Fatalf("recovered %d partitions", st.Recovered)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r, _ := Open(dir, Options{ReadOnly: true})
	checkAll(t, r, want)
	if v, err := Verify(dir); err != nil || !v.OK() {
		t.Fatalf("verify after recovery: %+v %v", v, err)
	}
}

// The exported capture, read back through the project's decoder as MTP3
// frames, gives the same ISUP messages as were stored.
func TestExportPcapRedecodes(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	calls := fill(t, s, newGenerator(6, t0, int64(time.Second)), 100)
	s.Close()
	r, _ := Open(dir, Options{ReadOnly: true})
	var buf bytes.Buffer
	var want []storedCopy
	for _, c := range calls[:20] {
		want = append(want, c.refs...)
	}
	nums := make([]string, 0, 20)
	for _, c := range calls[:20] {
		nums = append(nums, c.calling)
	}
	if _, err := r.ExportPcap(&buf, Query{Numbers: nums, Roles: 1 << RoleCalling}); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(want, func(a, b storedCopy) int { return cmp.Compare(a.ts, b.ts) })
	ts, frames := readPcap(t, buf.Bytes())
	if len(frames) != len(want) {
		t.Fatalf("%d packets, want %d", len(frames), len(want))
	}
	var got []decode.Message
	var raws [][]byte
	dec := decode.New(decode.Config{PCBits: 14}, func(m *decode.Message) {
		got = append(got, *m)
		raws = append(raws, append([]byte(nil), m.MTP3...))
	})
	// frames are the MTP3 bytes readPcap's decoder found; decoding them
	// again as MTP3 gives the ISUP fields.
	for i, f := range frames {
		dec.Decode(&decode.Frame{TS: ts[i], LinkType: decode.LinkTypeMTP3, Frame: uint64(i + 1), FCSLen: -1, Data: f})
	}
	if len(got) != len(want) {
		t.Fatalf("decoder returned %d messages of %d", len(got), len(want))
	}
	for i := range got {
		g, w := &got[i], &want[i]
		if g.TS != w.ts || !bytes.Equal(raws[i], w.mtp3) || g.Label.OPC != w.opc || g.Label.DPC != w.dpc ||
			g.Label.SLS != w.sls || g.ISUP.CIC != w.cic || g.ISUP.Type != w.typ {
			t.Fatalf("packet %d decodes to %+v, want %+v", i, g.Label, w)
		}
		for role, num := range w.numbers {
			var n *decode.Number
			switch role {
			case RoleCalling:
				n = &g.ISUP.Calling
			case RoleCalled:
				n = &g.ISUP.Called
			case RoleRedirecting:
				n = &g.ISUP.Redirecting
			case RoleOriginalCalled:
				n = &g.ISUP.OriginalCalled
			case RoleGeneric:
				n = &g.ISUP.Generic[0]
			}
			if n.DigitString() != num {
				t.Fatalf("packet %d %s: %q, want %q", i, role, n.DigitString(), num)
			}
		}
	}
}

func TestAddMessageDoesNotAllocate(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	rec := pregenerate(2000, int64(time.Millisecond)) // about 10 s of traffic: one partition
	for i := range rec.msgs {                         // warm up: circuits known, buffer grown
		s.AddMessage(&rec.msgs[i], "gen.pcap")
	}
	i := 0
	allocs := testing.AllocsPerRun(5000, func() {
		m := &rec.msgs[i%len(rec.msgs)]
		i++
		if err := s.AddMessage(m, "gen.pcap"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("AddMessage allocates %.2f times per message", allocs)
	}
}

// Below the free-space floor the store removes its oldest partitions and then
// refuses records (counted) rather than filling the disk.
func TestDiskFloorNeverFills(t *testing.T) {
	dir, s := partitionsFor(t, Options{}, 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	n := len(s.Partitions())
	var logged []string
	s, err := Open(dir, Options{NoSync: true, MinFreeBytes: 1 << 62, Logf: func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g := newGenerator(8, t0+int64(24*time.Hour), int64(time.Second))
	var errs []error
	g.run(1, func(m *decode.Message) { errs = append(errs, s.AddMessage(m, g.source)) }, func(*genCall, *analysis.Call) {})
	st := s.Stats()
	if len(s.Partitions()) != 0 || st.RemovedByReason["disk"] != uint64(n) {
		t.Fatalf("kept %d of %d partitions: %+v", len(s.Partitions()), n, st)
	}
	if st.Dropped != uint64(len(errs)) || errs[0] != ErrDiskFull {
		t.Fatalf("dropped %d of %d: %v", st.Dropped, len(errs), errs[0])
	}
	if len(logged) < n+1 {
		t.Fatalf("not logged: %q", logged)
	}
	if v, err := Verify(dir); err != nil || !v.OK() || v.Removed != n {
		t.Fatalf("verify: %+v %v", v, err)
	}
}

// A long-lived read-only store (the web server) sees what a writer sealed,
// logged or removed after it was opened.
func TestReadOnlySeesNewPartitions(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, Options{})
	first := fill(t, w, newGenerator(12, t0, int64(time.Second)), 20)
	w.Flush()
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	checkAll(t, r, first) // from the open log
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkAll(t, r, first) // now sealed: the log is gone
	w = openTest(t, dir, Options{})
	second := fill(t, w, newGenerator(13, t0+int64(48*time.Hour), int64(time.Second)), 20)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkAll(t, r, second)
	if n := len(r.Partitions()); n != 2 {
		t.Fatalf("read-only store lists %d partitions, want 2", n)
	}
}

// Retention by age counts from the newest data stored, never the wall clock:
// a capture from long ago is kept whole; data older than the window on
// arrival is warned about once per file.
func TestRetentionCountsFromNewestData(t *testing.T) {
	var warned []string
	opt := Options{RetentionDays: 1, Warnf: func(f string, a ...any) { warned = append(warned, fmt.Sprintf(f, a...)) }}
	dir := t.TempDir()
	s := openTest(t, dir, opt)
	old := time.Date(2019, 3, 4, 10, 0, 0, 0, time.UTC).UnixNano() // years before the wall clock
	fill(t, s, newGenerator(31, old, int64(time.Minute)), 200)     // about 3 hours
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Removed != 0 || len(warned) != 0 {
		t.Fatalf("a replay of old traffic was removed (%+v) or warned about: %q", st, warned)
	}
	// Two days later in capture time: the first partitions are now past the window.
	g := newGenerator(32, old+int64(48*time.Hour), int64(time.Minute))
	fill(t, s, g, 100)
	// A late file from before the window: one warning for the file, not per message.
	late := newGenerator(33, old, int64(time.Second))
	late.source = "late.pcap"
	fill(t, s, late, 50)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.RemovedByReason["age"] == 0 {
		t.Fatalf("nothing removed by age: %+v", st)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "late.pcap") {
		t.Fatalf("warnings: %q", warned)
	}
	for _, p := range s.Partitions() {
		if p.MaxTS < old+int64(24*time.Hour) {
			t.Fatalf("partition %d (max %v) outlived retention", p.Seq, time.Unix(0, p.MaxTS).UTC())
		}
	}
}
