package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The daemon on a full disk: the store's tmpfs fills part-way through the
// capture; decoding and alerting go on (every alert of the capture reaches
// the sink), the records the store could not keep are counted by reason, and
// stopping reports the real error.
func TestDaemonFullDiskKeepsAlerting(t *testing.T) {
	if _, err := os.Stat(scenarioPcap); err != nil {
		t.Skipf("%s: %v", scenarioPcap, err)
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.MkdirAll(data, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=640k", "tmpfs", data).CombinedOutput(); err != nil {
		t.Skipf("mounting a tmpfs is not permitted here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", data).Run() })
	spool := filepath.Join(dir, "spool")
	os.MkdirAll(spool, 0o755)
	metricsAddr := freePort(t)
	cfgPath := scenarioConfig(t, dir, fmt.Sprintf(`daemon:
  pcap_dir: spool
  pcap_settle: 10ms
  pcap_poll: 10ms
  data_dir: %q
  retention: {min_free_mib: -1}
  listen: {metrics: %q}
  alerts:
    file: {path: alerts.jsonl}
`, data, metricsAddr))
	_, _, wantAlerts := reference(t, cfgPath, scenarioPcap)
	var logs bytes.Buffer
	d := mustStart(t, cfgPath, slog.New(slog.NewJSONHandler(&logs, nil)))
	copyFile(t, scenarioPcap, filepath.Join(spool, "a.pcap"))
	m := waitMetric(t, metricsAddr, "the file", func(m map[string]float64) bool {
		return m[`gatewarden_pcap_files_total{result="done"}`] == 1
	})
	dropped := m[`gatewarden_store_dropped_records_total{reason="disk_full"}`]
	err := d.stop(context.Background())
	if dropped == 0 {
		t.Fatalf("nothing dropped on a 640 KiB store: the disk did not fill")
	}
	if err == nil || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "dropped") {
		t.Fatalf("stop: %v", err)
	}
	if !strings.Contains(logs.String(), "new records are dropped until it can write again") {
		t.Errorf("the disk-full error was not logged:\n%s", logs.String())
	}
	b, _ := os.ReadFile(filepath.Join(dir, "alerts.jsonl"))
	n := bytes.Count(b, []byte("\n")) - bytes.Count(b, []byte(`"store.checkpoint"`))
	if uint64(n) != wantAlerts {
		t.Fatalf("%d alerts delivered on a full disk, the capture raises %d", n, wantAlerts)
	}
	t.Logf("%.0f records dropped (disk_full); all %d alerts delivered; stop: %v", dropped, n, err)
}
