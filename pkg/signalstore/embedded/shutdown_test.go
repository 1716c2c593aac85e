package embedded

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"
)

// TestCloseStopsARetentionPass: a store restarted after a long stop holds
// much expired data, and retention deletes it in many chunk transactions.
// Close must end the pass between two chunks instead of making the
// collector's shutdown wait for all of them; the next start resumes it.
func TestCloseStopsARetentionPass(t *testing.T) {
	clock := newTestClock(time.Now().Add(-100 * time.Hour))
	store := openClockStore(t, clock, zap.NewNop(), func(c *Config) {
		c.Retention = time.Hour
		c.Sync = SyncNormal
	})
	ctx := context.Background()
	const batches, spansPerBatch = 12, 5000 // 12 chunks of maintenanceChunkRows
	for b := range batches {
		if err := store.WriteTraces(ctx, agedTraces(fmt.Sprintf("b%02d", b), spansPerBatch/10, clock.now())); err != nil {
			t.Fatal(err)
		}
	}
	clock.advance(2 * time.Hour)
	deadline := time.Now().Add(20 * time.Second)
	for countRows(t, store, tableTraces) == batches*spansPerBatch {
		if time.Now().After(deadline) {
			t.Fatal("retention never started")
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)

	c, err := openConn(store.cfg.Path, &store.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.close() }()
	var left int64
	if err := c.query(`SELECT count(*) FROM otel_traces`, nil, func(st *sqliteStmt) error {
		left = st.ColumnInt64(0)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if left == 0 {
		t.Fatalf("Close waited %s for the whole retention pass to delete every expired span; want it to stop between chunks", took)
	}
}
