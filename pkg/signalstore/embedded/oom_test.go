package embedded

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// TestHeapExhaustionIsAnErrorNotACrash gives SQLite a tiny heap and a log
// body larger than it: the library panics, the store must answer with an
// error, replace the connection, and keep accepting writes.
func TestHeapExhaustionIsAnErrorNotACrash(t *testing.T) {
	saved := connMaxMemory
	connMaxMemory = 24 << 20
	defer func() { connMaxMemory = saved }()
	store := openTestStore(t, func(c *Config) { c.CacheSizeMiB = 1 })
	ctx := context.Background()

	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	lr.Body().SetStr(strings.Repeat("x", 40<<20))
	if err := store.WriteLogs(ctx, ld); err == nil {
		t.Fatal("a 40 MiB body fitted a 24 MiB heap; the test no longer provokes exhaustion")
	}
	if err := store.WriteTraces(ctx, agedTraces("after-oom", 2, time.Now())); err != nil {
		t.Fatalf("write after recovering: %v", err)
	}
	if n := countRows(t, store, "otel_traces"); n != 20 {
		t.Fatalf("%d spans after recovering, want 20", n)
	}
	doc := signalstore.Document{Kind: "analysis", ID: "after-oom", Updated: time.Now(), Body: []byte(`{"ok":true}`)}
	if err := store.PutDocument(ctx, doc); err != nil {
		t.Fatalf("put document after recovering: %v", err)
	}
	if _, err := store.GetDocument(ctx, doc.Kind, doc.ID); err != nil {
		t.Fatalf("get document after recovering: %v", err)
	}
}
