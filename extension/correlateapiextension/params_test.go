package correlateapiextension

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ollystack/ollystack/internal/httpapi"
)

func TestHostileParametersGet400(t *testing.T) {
	srv := startServer(t, hostWith(openStore(t)), nil)
	tests := []struct {
		path  string
		param string
	}{
		{"/api/v1/correlate/" + strings.Repeat("a", 129), paramCorrelationID},
		{"/api/v1/correlate/" + strings.Repeat("a", 5000), paramCorrelationID},
		{"/api/v1/correlate/..", paramCorrelationID},
		{"/api/v1/correlate/.", paramCorrelationID},
		{"/api/v1/correlate/%2E%2E", paramCorrelationID},
		{"/api/v1/correlate/..%2F..%2Fetc%2Fpasswd", paramCorrelationID},
		{"/api/v1/correlate/a%00b", paramCorrelationID},
		{"/api/v1/correlate/a'%20OR%201=1--", paramCorrelationID},
		{"/api/v1/correlate/%3Cscript%3E/timeline", paramCorrelationID},
		{"/api/v1/correlate/%E2%80%AE/impact", paramCorrelationID},
		{"/api/v1/traces/xyz", paramTraceID},
		{"/api/v1/traces/00000000000000000000000000000000", paramTraceID},
		{"/api/v1/traces/" + strings.Repeat("a", 33), paramTraceID},
		{"/api/v1/correlations?min_duration=5", paramMinDuration},
		{"/api/v1/correlations?min_duration=-1s", paramMinDuration},
		{"/api/v1/correlations?min_duration=99999999h", paramMinDuration},
		{"/api/v1/correlations?since=yesterday", paramSince},
		{"/api/v1/correlations?since=-5m", paramSince},
		{"/api/v1/correlations?limit=0", paramLimit},
		{"/api/v1/correlations?limit=abc", paramLimit},
		{"/api/v1/correlations?limit=1001", paramLimit},
		{"/api/v1/correlations?limit=1&limit=2", paramLimit},
		{"/api/v1/correlations?errors=maybe", paramErrors},
		{"/api/v1/correlations?service=" + url.QueryEscape("a\x00b"), paramService},
		{"/api/v1/correlations?service=" + strings.Repeat("s", 300), paramService},
		{"/api/v1/services?since=2020-13-01T00:00:00Z", paramSince},
		{"/api/v1/services?until=tomorrow", paramUntil},
		{"/api/v1/services?since=1h&until=2000-01-01T00:00:00Z", paramSince},
		// Times the store cannot hold as Unix nanoseconds would silently
		// match nothing (or everything).
		{"/api/v1/correlations?until=3000-01-01T00:00:00Z", paramUntil},
		{"/api/v1/correlations?since=1000-01-01T00:00:00Z", paramSince},
		{"/api/v1/correlations?since=0001-01-01T00:00:00Z", paramSince},
		{"/api/v1/services?since=2500-01-01T00:00:00Z&until=2500-01-02T00:00:00Z", paramSince},
		{"/api/v1/services?since=1600-01-01T00:00:00Z&until=1600-01-02T00:00:00Z", paramSince},
		// Malformed pairs are refused, not dropped: dropping a filter
		// answered every correlation, dropping since the default window.
		{"/api/v1/correlations?service=nosuch%zz", paramService},
		{"/api/v1/correlations?service=nosuch;x", paramService},
		{"/api/v1/correlations?errors=true&limit=%zz", paramLimit},
		{"/api/v1/services?since=%zz", paramSince},
		{"/api/v1/correlations?%zz=1", ""},
		{"/api/v1/correlate/olly-abc?trace;x", ""},
		{"/api/v1/correlate/olly-abc/timeline?x=%", "x"},
		{"/api/v1/correlate/olly-abc/impact?x=%zz", "x"},
		{"/api/v1/traces/0f0e0d0c0b0a09080706050403020100?x=%zz", "x"},
		{"/api/v1/openapi.json?x=%zz", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.path[:min(len(tt.path), 60)], func(t *testing.T) {
			r := srv.get(t, tt.path)
			require.Equal(t, http.StatusBadRequest, r.status, string(r.body))
			body := decode[errorBody](t, r)
			assert.Equal(t, httpapi.CodeInvalidParameter, body.Error.Code)
			assert.Equal(t, tt.param, body.Error.Parameter)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		})
	}
}

func TestParseQuery(t *testing.T) {
	q, aerr := parseQuery("service=a%3Bb&limit=5&errors")
	require.Nil(t, aerr)
	assert.Equal(t, url.Values{"service": {"a;b"}, "limit": {"5"}, "errors": {""}}, q, "an escaped semicolon is a value")

	tests := []struct {
		raw, param string
	}{
		{"service=nosuch%zz", paramService},
		{"limit=5&since=1h;until=2h", paramSince},
		{"limit=5&since=%", paramSince},
		{"%zz=1&limit=%zz", ""},
		{"a;b=1", ""},
		{url.QueryEscape("bad\x00name") + "=%zz", ""},
		{strings.Repeat("n", 300) + "=%zz", ""},
	}
	for _, tt := range tests {
		_, aerr := parseQuery(tt.raw)
		require.NotNil(t, aerr, tt.raw)
		assert.Equal(t, http.StatusBadRequest, aerr.Status, tt.raw)
		assert.Equal(t, httpapi.CodeInvalidParameter, aerr.Code, tt.raw)
		assert.Equal(t, tt.param, aerr.Parameter, tt.raw)
		assert.Contains(t, aerr.Message, "malformed", tt.raw)
	}
}

func TestParseCorrelationIDRefusesBadEscapes(t *testing.T) {
	// Go's HTTP client refuses to send these, other clients do not.
	for _, raw := range []string{"%zz", "abc%", "%2", "a%2Fb"} {
		_, aerr := parseCorrelationID(raw)
		require.NotNil(t, aerr, raw)
		assert.Equal(t, paramCorrelationID, aerr.Parameter)
	}
	id, aerr := parseCorrelationID("olly%3Aabc")
	require.Nil(t, aerr)
	assert.Equal(t, "olly:abc", id, "escaped allowed characters are fine")
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	srv := startServer(t, hostWith(openStore(t)), nil)
	r := srv.get(t, "/api/v1/nothing")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, httpapi.CodeNotFound, decode[errorBody](t, r).Error.Code)

	req, err := http.NewRequest(http.MethodPost, srv.baseURL+"/api/v1/correlate/abc", http.NoBody)
	require.NoError(t, err)
	r = srv.do(t, req)
	assert.Equal(t, http.StatusMethodNotAllowed, r.status)
	assert.Equal(t, httpapi.CodeMethodNotAllowed, decode[errorBody](t, r).Error.Code)
}

func TestParseCorrelationFilter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	q := url.Values{"service": {"orders"}, "errors": {"1"}, "min_duration": {"1.5s"}, "since": {"30m"}, "limit": {"7"}}
	f, aerr := parseCorrelationFilter(q, now, 50)
	require.Nil(t, aerr)
	assert.Equal(t, "orders", f.Service)
	assert.True(t, f.ErrorsOnly)
	assert.Equal(t, 1500*time.Millisecond, f.MinDuration)
	assert.Equal(t, now.Add(-30*time.Minute), f.Since)
	assert.Equal(t, 7, f.Limit)

	f, aerr = parseCorrelationFilter(url.Values{"since": {"2026-01-01T00:00:00Z"}}, now, 50)
	require.Nil(t, aerr)
	assert.Equal(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), f.Since)
	assert.Equal(t, 50, f.Limit, "default limit capped by the configured maximum")
	assert.True(t, f.Until.IsZero())

	f, aerr = parseCorrelationFilter(url.Values{"since": {"2h"}, "until": {"2026-01-02T02:30:00Z"}}, now, 50)
	require.Nil(t, aerr)
	assert.Equal(t, time.Date(2026, 1, 2, 2, 30, 0, 0, time.UTC), f.Until)
	for _, bad := range []url.Values{
		{"until": {"1h"}},
		{"until": {"2026-01-02T02:30:00Z", "2026-01-02T02:31:00Z"}},
		{"since": {"1h"}, "until": {"2026-01-02T01:00:00Z"}},
	} {
		_, aerr = parseCorrelationFilter(bad, now, 50)
		require.NotNil(t, aerr, "%v", bad)
		assert.Equal(t, http.StatusBadRequest, aerr.Status)
	}
}

func TestParseTimeWindowDefaults(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tr, aerr := parseTimeWindow(url.Values{}, now)
	require.Nil(t, aerr)
	assert.Equal(t, now.Add(-15*time.Minute), tr.Start)
	assert.Equal(t, now, tr.End)
}

// FuzzParameters feeds arbitrary path segments and query strings to the
// parsers: they must never panic, and whatever they accept must be valid.
func FuzzParameters(f *testing.F) {
	for _, seed := range []string{"olly-2k8f9x3-a7b2c4d1", "..", "%2F", "a%00", strings.Repeat("x", 400),
		"since=15m&limit=3", "min_duration=1s&errors=true&service=a", "limit=1&limit=2", "since=%ZZ", "until=2026-01-01T00:00:00Z"} {
		f.Add(seed)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		if id, aerr := parseCorrelationID(raw); aerr == nil {
			if id == "" || len(id) > 128 {
				t.Fatalf("accepted id %q", id)
			}
		} else if aerr.Status != http.StatusBadRequest || aerr.Parameter == "" {
			t.Fatalf("bad error %+v", aerr)
		}
		if _, aerr := parseTraceID(raw); aerr == nil && len(raw) != 32 {
			t.Fatalf("accepted trace id %q", raw)
		}
		q, aerr := parseQuery(raw)
		if aerr != nil {
			if aerr.Status != http.StatusBadRequest {
				t.Fatalf("bad error %+v", aerr)
			}
			return
		}
		if filter, aerr := parseCorrelationFilter(q, now, 100); aerr == nil {
			if filter.Limit < 1 || filter.Limit > 100 || filter.MinDuration < 0 ||
				!filter.Since.IsZero() && !filter.Until.IsZero() && !filter.Since.Before(filter.Until) {
				t.Fatalf("accepted filter %+v", filter)
			}
		} else if aerr.Parameter == "" {
			t.Fatalf("error names no parameter: %+v", aerr)
		}
		if tr, aerr := parseTimeWindow(q, now); aerr == nil && !tr.Start.Before(tr.End) {
			t.Fatalf("accepted window %+v", tr)
		}
	})
}
