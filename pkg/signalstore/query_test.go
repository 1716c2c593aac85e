package signalstore

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseQueryValid(t *testing.T) {
	q, err := ParseQuery([]byte(`{"signal":"spans","last":"1h",
		"filters":[{"field":"service_name","op":"eq","value":"checkout"},
			{"field":"duration","op":"gt","value":250000000},
			{"field":"attribute","key":"http.route","op":"eq","value":"/cart"}],
		"group_by":[{"field":"span_name"}],
		"aggregations":[{"func":"p95","field":"duration"},{"func":"count"}],
		"order_by":[{"column":"p95_duration","desc":true}],"limit":10}`))
	if err != nil {
		t.Fatal(err)
	}
	if q.Last != Duration(time.Hour) || q.Filters[1].Value != "250000000" || q.Limit != 10 {
		t.Fatalf("decoded %+v", q)
	}
	d, err := q.Filters[1].Value.DurationValue()
	if err != nil || d != 250*time.Millisecond {
		t.Fatalf("duration value %v, %v", d, err)
	}
	// The query round-trips through JSON, as an API would echo it.
	b, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseQuery(b); err != nil {
		t.Fatalf("re-parse %s: %v", b, err)
	}
}

func TestValidateRejects(t *testing.T) {
	for name, tc := range map[string]struct {
		json string
		want string
	}{
		"unknown signal":          {`{"signal":"profiles"}`, "signal"},
		"field of other signal":   {`{"signal":"spans","filters":[{"field":"body","op":"contains","value":"x"}]}`, "does not apply"},
		"unknown op":              {`{"signal":"spans","filters":[{"field":"span_name","op":"like","value":"x"}]}`, "unknown op"},
		"ordering on a string":    {`{"signal":"spans","filters":[{"field":"span_name","op":"gt","value":"x"}]}`, "needs a duration or int"},
		"bad duration":            {`{"signal":"spans","filters":[{"field":"duration","op":"gt","value":"fast"}]}`, "not a duration"},
		"attribute without key":   {`{"signal":"spans","filters":[{"field":"attribute","op":"eq","value":"x"}]}`, "needs a key"},
		"quote in key":            {`{"signal":"spans","filters":[{"field":"attribute","key":"a\"b","op":"eq","value":"x"}]}`, "quote"},
		"percentile of a string":  {`{"signal":"logs","aggregations":[{"func":"p95","field":"body"}]}`, "numeric"},
		"count with field":        {`{"signal":"spans","aggregations":[{"func":"count","field":"duration"}]}`, "takes no field"},
		"alias with SQL":          {`{"signal":"spans","aggregations":[{"func":"count","alias":"n; DROP TABLE x"}]}`, "alias"},
		"order by unknown column": {`{"signal":"spans","aggregations":[{"func":"count"}],"order_by":[{"column":"nope"}]}`, "unknown column"},
		"limit too large":         {`{"signal":"spans","limit":1000000}`, "limit"},
		"last and start":          {`{"signal":"spans","last":"1h","start":"2026-01-01T00:00:00Z"}`, "excludes"},
		"start after end":         {`{"signal":"spans","start":"2026-01-02T00:00:00Z","end":"2026-01-01T00:00:00Z"}`, "before end"},
		"start before 1678":       {`{"signal":"spans","start":"1000-01-01T00:00:00Z"}`, "1678"},
		"end after 2262":          {`{"signal":"spans","start":"2000-01-01T00:00:00Z","end":"3000-01-01T00:00:00Z"}`, "2262"},
		"tiny interval":           {`{"signal":"spans","last":"24h","interval":"1s","aggregations":[{"func":"count"}]}`, "buckets"},
		"bad status":              {`{"signal":"spans","filters":[{"field":"status_code","op":"eq","value":"STATUS_CODE_ERROR"}]}`, "status_code"},
		"unknown json field":      {`{"signal":"spans","sql":"SELECT 1"}`, "unknown field"},
		"trailing data":           {`{"signal":"spans"} {"signal":"logs"}`, "trailing"},
		"duplicate column":        {`{"signal":"spans","aggregations":[{"func":"count"},{"func":"count"}]}`, "duplicate"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseQuery([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseQuery(%s) = %v, want an error containing %q", tc.json, err, tc.want)
			}
		})
	}
}

func TestWindow(t *testing.T) {
	now := time.Date(2026, 11, 22, 17, 0, 0, 0, time.UTC)
	start, end := (&Query{Last: Duration(15 * time.Minute)}).Window(now)
	if !start.Equal(now.Add(-15*time.Minute)) || !end.Equal(now) {
		t.Errorf("last 15m: %v..%v", start, end)
	}
	start, end = (&Query{}).Window(now)
	if !start.Equal(now.Add(-DefaultQueryWindow)) || !end.Equal(now) {
		t.Errorf("default: %v..%v", start, end)
	}
}

func TestTraceIDText(t *testing.T) {
	id, err := ParseTraceID("0102030405060708090a0b0c0d0e0f10")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(struct {
		ID    TraceID `json:"id"`
		Empty SpanID  `json:"empty,omitzero"`
	}{ID: id})
	if string(b) != `{"id":"0102030405060708090a0b0c0d0e0f10"}` {
		t.Fatalf("marshal: %s", b)
	}
	for _, bad := range []string{"", "xyz", "0102030405060708090a0b0c0d0e0f1", "zz02030405060708090a0b0c0d0e0f10"} {
		if _, err := ParseTraceID(bad); err == nil {
			t.Errorf("ParseTraceID(%q) succeeded", bad)
		}
	}
}

// FuzzParseQuery checks that no input makes the parser or validator panic,
// and that whatever validates survives a JSON round trip still valid.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{
		`{"signal":"spans","last":"1h","filters":[{"field":"service_name","op":"eq","value":"a"}],"group_by":[{"field":"span_name"}],"aggregations":[{"func":"p95","field":"duration"}],"order_by":[{"column":"p95_duration","desc":true}],"limit":5}`,
		`{"signal":"logs","start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z","filters":[{"field":"body","op":"contains","value":"é"}],"interval":"1m","aggregations":[{"func":"rate"}]}`,
		`{"signal":"spans","filters":[{"field":"attribute","key":"k","op":"neq","value":3.5}]}`,
		`{"signal":"logs","filters":[{"field":"severity_number","op":"gte","value":17}]}`,
		`{"signal":"spans","last":-1}`,
		`{}`, `[]`, `null`, `{"signal":"spans","interval":"0.5s"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := ParseQuery(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(q)
		if err != nil {
			t.Fatalf("marshal a valid query: %v", err)
		}
		if _, err := ParseQuery(b); err != nil {
			t.Fatalf("valid query %s no longer valid after a round trip (%s): %v", data, b, err)
		}
	})
}

// TestTimeRangeUnixNanos: bounds beyond what an int64 of nanoseconds holds
// become open sides instead of wrapping around (a range to the year 3000
// must not end in 1830).
func TestTimeRangeUnixNanos(t *testing.T) {
	at := func(year int) time.Time { return time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		tr         TimeRange
		start, end int64
	}{
		{TimeRange{}, math.MinInt64, math.MaxInt64},
		{TimeRange{Start: at(2026), End: at(2027)}, at(2026).UnixNano(), at(2027).UnixNano()},
		{TimeRange{Start: at(1000), End: at(3000)}, math.MinInt64, math.MaxInt64},
		{TimeRange{Start: at(2026), End: at(1000)}, at(2026).UnixNano(), math.MinInt64},
		{TimeRange{Start: at(3000)}, math.MaxInt64, math.MaxInt64},
	}
	for _, tt := range tests {
		start, end := tt.tr.UnixNanos()
		if start != tt.start || end != tt.end {
			t.Errorf("%v: got %d..%d, want %d..%d", tt.tr, start, end, tt.start, tt.end)
		}
	}
}

func TestMetricPointMakeFinite(t *testing.T) {
	inf, nan, one := math.Inf(1), math.NaN(), 1.0
	p := MetricPoint{Value: nan, Sum: inf, Min: &inf, Max: &one, ExplicitBounds: []float64{1, inf},
		Exemplars: []Exemplar{{Value: math.Inf(-1)}}}
	p.MakeFinite()
	if _, err := json.Marshal(p); err != nil {
		t.Fatalf("still not encodable: %v", err)
	}
	if p.Value != 0 || p.Sum != 0 || p.Min != nil || p.Max == nil || *p.Max != 1 || p.ExplicitBounds[1] != 0 || p.Exemplars[0].Value != 0 {
		t.Errorf("got %+v", p)
	}
}
