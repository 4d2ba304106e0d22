package web

import (
	"fmt"
	"slices"
	"testing"
)

type alertPage struct {
	Count  int
	Offset int
	More   bool
	Alerts []struct {
		Alert map[string]any
		Call  string
	}
}

// Issue 11: the alert feed filters by severity (at least) and time range,
// and pages back through the whole range.
func TestAlertFeedSeverityAndPaging(t *testing.T) {
	e := newEnv(t, nil)
	var all alertPage
	e.getJSON("/api/alerts?limit=1000", bearer(testToken), 200, &all)
	if all.Count < 10 || all.More {
		t.Fatalf("%d alerts, more %v", all.Count, all.More)
	}
	bySev := map[string]int{}
	for _, it := range all.Alerts {
		bySev[it.Alert["severity"].(string)]++
	}
	var res alertPage
	e.getJSON("/api/alerts?limit=1000&severity=warning", bearer(testToken), 200, &res)
	if res.Count != bySev["warning"]+bySev["critical"] || res.Count == 0 {
		t.Errorf("severity=warning: %d alerts, want %d (warning %d + critical %d)", res.Count, bySev["warning"]+bySev["critical"], bySev["warning"], bySev["critical"])
	}
	for _, it := range res.Alerts {
		if it.Alert["severity"] == "info" {
			t.Errorf("severity=warning returned %v", it.Alert)
		}
	}
	e.getJSON("/api/alerts?limit=1000&severity=critical", bearer(testToken), 200, &res)
	if res.Count != bySev["critical"] || res.Count == 0 || res.Count == all.Count {
		t.Errorf("severity=critical: %d alerts, want %d of %d", res.Count, bySev["critical"], all.Count)
	}
	// Pages of 5 cover the feed exactly, in order.
	var paged []string
	for off := 0; ; off += 5 {
		var p alertPage
		e.getJSON(fmt.Sprintf("/api/alerts?limit=5&offset=%d", off), bearer(testToken), 200, &p)
		for _, it := range p.Alerts {
			paged = append(paged, fmt.Sprint(it.Alert["ts"], it.Alert["rule"], it.Alert["cic"]))
		}
		if !p.More {
			break
		}
		if off > 1000 {
			t.Fatal("paging does not end")
		}
	}
	var want []string
	for _, it := range all.Alerts {
		want = append(want, fmt.Sprint(it.Alert["ts"], it.Alert["rule"], it.Alert["cic"]))
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paged feed differs from the whole feed:\n%v\n%v", paged, want)
	}
	// A time range narrows the feed.
	from, to := all.Alerts[len(all.Alerts)-1].Alert["ts"].(string), all.Alerts[0].Alert["ts"].(string)
	e.getJSON("/api/alerts?limit=1000&from="+from+"&to="+to, bearer(testToken), 200, &res)
	if res.Count == 0 || res.Count >= all.Count {
		t.Errorf("range [%s, %s): %d of %d alerts", from, to, res.Count, all.Count)
	}
	for _, bad := range []string{"severity=loud", "offset=-1", "offset=999999", "offset=x"} {
		e.getJSON("/api/alerts?"+bad, bearer(testToken), 400, nil)
	}
}
