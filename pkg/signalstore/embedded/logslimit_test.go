package embedded

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// TestLogReadsWithALimitHoldOnlyTheLimit: the correlate API reads the logs
// of a correlation with a limit so that a runaway id (a job logging millions
// of lines under one id) cannot exhaust the collector's memory. The store
// must keep only the earliest records up to the limit while it reads, not
// decode every record and cut afterwards.
func TestLogReadsWithALimitHoldOnlyTheLimit(t *testing.T) {
	store := openTestStore(t, func(c *Config) { c.Sync = SyncNormal })
	ctx := context.Background()
	const records, limit = 5_000, 10
	traceID := traceIDFor("hot", 1)
	base := time.Now().Add(-time.Hour)
	body := strings.Repeat("b", 1024)
	ld := plog.NewLogs()
	recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := range records {
		lr := recs.AppendEmpty()
		// Newest first, so that the earliest are the last ones stored.
		lr.SetTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(records-i) * time.Millisecond)))
		lr.SetTraceID(pcommon.TraceID(traceID))
		lr.Body().SetStr(body)
		lr.Attributes().PutStr("correlation_id", "hot-id")
		lr.Attributes().PutStr("i", fmt.Sprint(i))
	}
	if err := store.WriteLogs(ctx, ld); err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func() ([]signalstore.LogRecord, error){
		"by correlation id": func() ([]signalstore.LogRecord, error) {
			return store.LogsByCorrelationID(ctx, "hot-id", signalstore.TimeRange{}, limit)
		},
		"by trace id": func() ([]signalstore.LogRecord, error) {
			return store.LogsByTraceIDs(ctx, []signalstore.TraceID{traceID}, signalstore.TimeRange{}, limit)
		},
	} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			logs, err := read()
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if len(logs) != limit {
				t.Fatalf("%d records, want %d", len(logs), limit)
			}
			for i, l := range logs {
				if want := base.Add(time.Duration(i+1) * time.Millisecond); !l.Timestamp.Equal(want) {
					t.Fatalf("record %d at %s, want the earliest ones (%s)", i, l.Timestamp, want)
				}
			}
			// Decoding all 5,000 records allocates about 12 MiB.
			if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 3<<20 {
				t.Errorf("reading %d of %d records allocated %d KiB", limit, records, allocated>>10)
			}
		})
	}
}

// TestSpanReadsWithALimitHoldOnlyTheLimit: the same for spans, over several
// traces: the earliest spans of all of them, without decoding every span of
// a trace of thousands.
func TestSpanReadsWithALimitHoldOnlyTheLimit(t *testing.T) {
	store := openTestStore(t, func(c *Config) { c.Sync = SyncNormal })
	ctx := context.Background()
	const perTrace, limit = 2_000, 25
	base := time.Now().Add(-time.Hour)
	attr := strings.Repeat("a", 1024)
	var ids []signalstore.TraceID
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for tr := range 3 {
		ids = append(ids, traceIDFor("big", tr))
		for i := range perTrace {
			sp := spans.AppendEmpty()
			sp.SetTraceID(pcommon.TraceID(ids[tr]))
			sp.SetSpanID(pcommon.SpanID{byte(tr + 1), byte(i), byte(i >> 8), 1})
			// The traces interleave in time, newest first in each.
			at := base.Add(time.Duration(3*(perTrace-i)+tr) * time.Millisecond)
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(at))
			sp.SetEndTimestamp(pcommon.NewTimestampFromTime(at.Add(time.Millisecond)))
			sp.Attributes().PutStr("payload", attr)
		}
	}
	if err := store.WriteTraces(ctx, td); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	got, err := store.SpansByTraceIDs(ctx, ids, signalstore.TimeRange{}, limit)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	all, err := store.SpansByTraceIDs(ctx, ids, signalstore.TimeRange{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3*perTrace {
		t.Fatalf("%d spans stored, want %d", len(all), 3*perTrace)
	}
	signalstore.SortSpansByTime(all)
	want := all[:limit]
	signalstore.SortSpans(want)
	if len(got) != limit {
		t.Fatalf("%d spans, want %d", len(got), limit)
	}
	for i := range want {
		if got[i].SpanID != want[i].SpanID || got[i].TraceID != want[i].TraceID {
			t.Fatalf("span %d is %x/%x, want %x/%x: the earliest ones, by trace", i, got[i].TraceID, got[i].SpanID, want[i].TraceID, want[i].SpanID)
		}
	}
	// Decoding all 6,000 spans allocates about 30 MiB.
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 3<<20 {
		t.Errorf("reading %d of %d spans allocated %d KiB", limit, 3*perTrace, allocated>>10)
	}
}
