package pipeline_test

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gatewarden/gatewarden/analysis"
	"github.com/gatewarden/gatewarden/capture"
	"github.com/gatewarden/gatewarden/decode"
	"github.com/gatewarden/gatewarden/pipeline"
	"github.com/gatewarden/gatewarden/retention"
)

// scenarioFrames reads the committed scenario capture (every rule, transit
// legs, one-ring bursts) into memory.
func scenarioFrames(t *testing.T) []decode.Frame {
	t.Helper()
	r, err := capture.OpenFiles([]string{"../pcaps/scenarios.pcap"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []decode.Frame
	var f decode.Frame
	for r.Next(&f) != io.EOF {
		g := f
		g.Data = append([]byte(nil), f.Data...)
		out = append(out, g)
	}
	return out
}

type outputs struct{ calls, alerts []string }

func (o *outputs) config(g *pipeline.Generation, st *retention.Store) pipeline.Config {
	return pipeline.Config{Gen: g, Store: st, Source: func(uint16) string { return "scenarios.pcap" },
		OnCall: func(c *analysis.Call) {
			o.calls = append(o.calls, string(analysis.AppendCallJSON(nil, c)))
		},
		OnAlert: func(a *analysis.Alert) {
			o.alerts = append(o.alerts, string(analysis.AppendAlertJSON(nil, a)))
		}}
}

// TestRestoreAtAnyPoint stops the pipeline (commit, store closed: SIGTERM's
// path) at several points of the scenario capture and continues in a new
// pipeline from the store's last commit: calls (each one call, with its
// IAM's record fields) and alerts — behaviour windows, route counters and
// transit legs included — are exactly those of one uninterrupted run.
func TestRestoreAtAnyPoint(t *testing.T) {
	frames := scenarioFrames(t)
	g, err := pipeline.LoadGeneration("../pcaps/scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var want outputs
	ref := pipeline.New(want.config(g, nil))
	for i := range frames {
		ref.Frame(&frames[i])
	}
	ref.Finish()
	slices.Sort(want.calls)
	slices.Sort(want.alerts)
	if len(want.alerts) == 0 || len(want.calls) == 0 {
		t.Fatal("the scenario capture gave no calls or alerts")
	}
	for _, frac := range []int{10, 25, 40, 55, 70, 85} {
		t.Run(fmt.Sprintf("at %d%%", frac), func(t *testing.T) {
			k := len(frames) * frac / 100
			dir := filepath.Join(t.TempDir(), "store")
			var got outputs
			st, err := retention.Open(dir, retention.Options{NoSync: true, MinFreeBytes: -1, Committed: true})
			if err != nil {
				t.Fatal(err)
			}
			a := pipeline.New(got.config(g, st))
			for i := 0; i < k; i++ {
				a.Frame(&frames[i])
			}
			if err := a.Commit(); err != nil {
				t.Fatal(err)
			}
			open := a.Stats().OpenCalls
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			if st, err = retention.Open(dir, retention.Options{NoSync: true, MinFreeBytes: -1, Committed: true}); err != nil {
				t.Fatal(err)
			}
			b := pipeline.New(got.config(g, st))
			if _, ok, err := b.Restore(nil); err != nil || !ok {
				t.Fatalf("restore: %v %v", ok, err)
			}
			if b.Stats().OpenCalls != open {
				t.Fatalf("restored %d calls in progress, %d were open", b.Stats().OpenCalls, open)
			}
			for i := max(0, k-pipeline.WarmupFrames); i < k; i++ {
				b.Warm(&frames[i])
			}
			for i := k; i < len(frames); i++ {
				b.Frame(&frames[i])
			}
			b.Finish()
			if err := b.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			slices.Sort(got.calls)
			slices.Sort(got.alerts)
			if !slices.Equal(got.calls, want.calls) {
				t.Errorf("%d calls, want %d (%d open at the stop)", len(got.calls), len(want.calls), open)
				for _, x := range want.calls {
					if !slices.Contains(got.calls, x) {
						t.Logf("missing %s", x)
						break
					}
				}
				for _, x := range got.calls {
					if !slices.Contains(want.calls, x) {
						t.Logf("extra %s", x)
						break
					}
				}
			}
			if !slices.Equal(got.alerts, want.alerts) {
				t.Errorf("%d alerts, want %d", len(got.alerts), len(want.alerts))
				for _, x := range want.alerts {
					if !slices.Contains(got.alerts, x) {
						t.Logf("missing %s", x)
					}
				}
				for _, x := range got.alerts {
					if !slices.Contains(want.alerts, x) {
						t.Logf("extra %s", x)
					}
				}
			}
		})
	}
}
