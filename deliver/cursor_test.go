package deliver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileSinkCursorAcrossKills leaves the file sink's cursor and file as a
// kill -9 would at each point of a delivery — between the cursor's
// before-record and the write (with half a line written), and between the
// write and the after-record — and checks that reopening acknowledges
// exactly the lines in the file, cuts the half line, and skips alerts at or
// below the cursor.
func TestFileSinkCursorAcrossKills(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alerts.jsonl")
	cursors := filepath.Join(dir, "sinks")
	open := func() (*Dispatcher, *FileSink) {
		t.Helper()
		s, err := NewFileSink(path, 1<<20, 1)
		if err != nil {
			t.Fatal(err)
		}
		d, err := OpenDispatcher(Options{CursorDir: cursors}, s)
		if err != nil {
			t.Fatal(err)
		}
		return d, s
	}
	lines := func() []string {
		b, _ := os.ReadFile(path)
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	setRecord := func(rec cursorRecord) {
		t.Helper()
		var b [cursorRecordLen]byte
		rec.encode(&b)
		if err := os.WriteFile(filepath.Join(cursors, "file.cursor"), b[:], 0o640); err != nil {
			t.Fatal(err)
		}
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	appendRaw := func(s string) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}

	d, _ := open()
	if _, acked, fresh := d.Cursor(0); !fresh || acked != 0 {
		t.Fatalf("first open: cursor %d fresh %v", acked, fresh)
	}
	for i := 1; i <= 3; i++ {
		d.SendSeq(alert("cli.missing", int64(i)), uint64(i))
	}
	d.Send(alert("store.checkpoint", 99)) // not numbered
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(lines()); n != 4 {
		t.Fatalf("%d lines, want 4", n)
	}

	// Killed after writing alert 4, before the after-record.
	setRecord(cursorRecord{Base: 3, Written: 4, Mark: size()})
	appendRaw(`{"alert":4}` + "\n")
	d, _ = open()
	if _, acked, fresh := d.Cursor(0); fresh || acked != 4 {
		t.Fatalf("kill after the write: cursor %d (fresh %v), want 4", acked, fresh)
	}
	d.Close(context.Background())

	// Killed in the middle of writing alert 5: half a line.
	before := size()
	setRecord(cursorRecord{Base: 4, Written: 5, Mark: before})
	appendRaw(`{"alert":`)
	d, _ = open()
	if _, acked, _ := d.Cursor(0); acked != 4 {
		t.Fatalf("kill during the write: cursor %d, want 4", acked)
	}
	if size() != before {
		t.Fatalf("half line not cut: %d bytes, want %d", size(), before)
	}
	// Re-sent after the restart: 4 is skipped, 5 is written once.
	d.Resend(0, alert("cli.missing", 4), 4)
	d.Resend(0, alert("cli.missing", 5), 5)
	d.Close(context.Background())
	st, _ := d.Stats()
	if st[0].Skipped != 1 || st[0].Delivered != 1 || st[0].Acked != 5 {
		t.Fatalf("after re-sending 4 and 5: %+v", st[0])
	}
	if n := len(lines()); n != 6 {
		t.Fatalf("%d lines, want 6: %q", n, lines())
	}

	// Killed after the before-record of an unnumbered event, before writing.
	setRecord(cursorRecord{Base: 5, Written: 5, Mark: size()})
	d, _ = open()
	if _, acked, _ := d.Cursor(0); acked != 5 {
		t.Fatalf("cursor %d, want 5", acked)
	}
	d.Close(context.Background())

	// A damaged cursor is an error, not a silent restart from zero.
	os.WriteFile(filepath.Join(cursors, "file.cursor"), []byte("garbage garbage garbage garbage"), 0o640)
	s, _ := NewFileSink(path, 1<<20, 1)
	if _, err := OpenDispatcher(Options{CursorDir: cursors}, s); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged cursor: %v", err)
	}
	s.Close()
}

// TestRateLimitedAlertMovesCursor: an alert the rate limit holds back is
// not re-sent after a restart (the cursors move past it), and a fresh
// sink's cursor starts where StartCursor puts it.
func TestRateLimitedAlertMovesCursor(t *testing.T) {
	dir := t.TempDir()
	open := func() *Dispatcher {
		s, err := NewFileSink(filepath.Join(dir, "alerts.jsonl"), 1<<20, 1)
		if err != nil {
			t.Fatal(err)
		}
		d, err := OpenDispatcher(Options{CursorDir: filepath.Join(dir, "sinks"),
			PerRule: map[string]Limit{"cli.missing": {PerSecond: 1, Burst: 1}}}, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := open()
	d.StartCursor(0, 10)
	if d.SendSeq(alert("cli.missing", t0), 11) != true || d.SendSeq(alert("cli.missing", t0), 12) != false {
		t.Fatal("want the second alert held back by the rate limit")
	}
	d.Close(context.Background())
	d = open()
	defer d.Close(context.Background())
	if _, acked, fresh := d.Cursor(0); fresh || acked != 12 {
		t.Fatalf("cursor %d (fresh %v), want 12", acked, fresh)
	}
	if d.MinAcked() != 12 {
		t.Fatalf("MinAcked %d, want 12", d.MinAcked())
	}
}
