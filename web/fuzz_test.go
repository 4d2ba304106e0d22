package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzAPIQuery sends arbitrary query strings to the search, alert, pcap and
// scorecard endpoints: every answer must be a success or a clean 4xx, never
// a panic or a 5xx.
func FuzzAPIQuery(f *testing.F) {
	e := newEnv(f, nil)
	for _, seed := range []string{
		"number=13950000003&role=called", "number=%2B86+139-5000-0003", "rule=cli.missing&partner=ic-telecom",
		"from=2026-03-02T09:00&to=2026-03-02", "from=2026-03-02T09:00:00%2B08:00", "limit=1", "number=abc",
		"from=0001-01-01&to=9999-12-31", "to=2026-03-02&from=2026-03-03", "partner=", "role=any&number=000",
		"number=1%00", "limit=99999999999999999999", "from=2026-03-02T25:61",
	} {
		f.Add("/api/calls", seed)
		f.Add("/api/alerts", seed)
		f.Add("/api/pcap", seed)
		f.Add("/api/scorecard", seed)
	}
	f.Fuzz(func(t *testing.T, path, rawQuery string) {
		switch path {
		case "/api/calls", "/api/alerts", "/api/pcap", "/api/scorecard", "/api/partners":
		default:
			path = "/api/calls"
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path, req.URL.RawQuery = path, rawQuery
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusOK:
		case rec.Code >= 400 && rec.Code < 500:
			var ae apiError
			if err := json.Unmarshal(rec.Body.Bytes(), &ae); err != nil || ae.Error == "" {
				t.Fatalf("%s?%s: %d with body %q", path, rawQuery, rec.Code, rec.Body.String())
			}
		default:
			t.Fatalf("%s?%s: status %d: %s", path, rawQuery, rec.Code, rec.Body.String())
		}
	})
}
