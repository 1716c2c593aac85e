package slometricsconnector

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/ollystack/ollystack/connector/slometricsconnector/internal/metadata"
)

func TestSnapshotRoundTrip(t *testing.T) {
	src := newTestEngine(t, testConfig())
	for range 90 {
		src.feed("checkout", 9, 1)
		src.clock.Advance(time.Minute)
	}
	reportsBefore, ld := src.evaluateNow()
	require.Positive(t, ld.LogRecordCount(), "alerts fire before the restart")
	data := src.snapshot(t)

	dst := newTestEngine(t, testConfig())
	dst.clock.now = src.clock.Now()
	dst.restore(t, data)
	reportsAfter, ld := dst.evaluateNow()
	assert.Zero(t, ld.LogRecordCount(), "firing alerts are restored, not fired again")
	before, after := reportsBefore[0], reportsAfter[0]
	assert.Equal(t, before.good, after.good)
	assert.Equal(t, before.bad, after.bad)
	assert.Equal(t, before.windowGood, after.windowGood)
	assert.Equal(t, before.windowBad, after.windowBad)
	assert.InDelta(t, before.budgetRemaining, after.budgetRemaining, 1e-12)
	assert.Equal(t, before.burnRates, after.burnRates)
	assert.True(t, src.slos[0].startedAt.Equal(dst.slos[0].startedAt))
	for i := range before.alerts {
		assert.Equal(t, before.alerts[i].firing, after.alerts[i].firing)
	}
	assert.Equal(t, before.exemplars, after.exemplars, "recent bad events survive with trace and correlation ids")
}

func TestRestoreDropsChangedOrUnknownSLOs(t *testing.T) {
	src := newTestEngine(t, testConfig())
	src.feed("checkout", 5, 5)
	data := src.snapshot(t)

	changed := testSLO()
	changed.SLI.HTTPServerErrors = true
	renamed := testSLO()
	renamed.Name = "other"
	dst := newTestEngine(t, testConfig(changed, renamed))
	dst.mu.Lock()
	defer dst.mu.Unlock()
	require.NoError(t, dst.unmarshalState(data))
	assert.Zero(t, dst.slos[0].good+dst.slos[0].bad, "definition changed")
	assert.Zero(t, dst.slos[1].good+dst.slos[1].bad, "not in the snapshot")
}

func TestRestoreRejectsBadSnapshots(t *testing.T) {
	fingerprint, err := json.Marshal(testEngineFingerprint(t))
	require.NoError(t, err)
	for name, data := range map[string]string{
		"not json":      "{",
		"wrong version": `{"version": 99}`,
		"bad trace id":  `{"version": 1, "slos": {"checkout-availability": {"fingerprint": ` + string(fingerprint) + `, "bad_events": [{"trace_id": "zz", "span_id": "0102030405060708"}]}}}`,
		"short span id": `{"version": 1, "slos": {"checkout-availability": {"fingerprint": ` + string(fingerprint) + `, "bad_events": [{"trace_id": "0102030405060708090a0b0c0d0e0f10", "span_id": "01"}]}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			te := newTestEngine(t, testConfig())
			te.mu.Lock()
			defer te.mu.Unlock()
			assert.Error(t, te.unmarshalState([]byte(data)))
		})
	}
}

func testEngineFingerprint(t *testing.T) string {
	slo := testSLO()
	def, err := compileSLO(&slo)
	require.NoError(t, err)
	return def.fingerprint()
}

// TestRestartWithStorageKeepsTheBudget runs the connector twice against one
// storage extension: the second run starts with the first run's counts.
func TestRestartWithStorageKeepsTheBudget(t *testing.T) {
	store := newMemoryStorage()
	storageID := component.MustNewID("file_storage")
	host := &extensionsHost{Host: componenttest.NewNopHost(), extensions: map[component.ID]component.Component{storageID: store}}

	run := func(good, bad int) *engine {
		cfg := testConfig()
		cfg.Storage = &storageID
		conn, err := NewFactory().CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
		require.NoError(t, err)
		require.NoError(t, conn.Start(context.Background(), host))
		require.NoError(t, conn.ConsumeTraces(context.Background(), spans("checkout", good, bad)))
		e := conn.(*tracesConnector).engine
		require.NoError(t, conn.Shutdown(context.Background()))
		return e
	}
	first := run(99, 1)
	assert.NotEmpty(t, store.data[stateKey])
	second := run(100, 0)
	assert.Equal(t, uint64(199), second.slos[0].good)
	assert.Equal(t, uint64(1), second.slos[0].bad)
	assert.True(t, first.slos[0].startedAt.Equal(second.slos[0].startedAt), "the cumulative sums keep their start")
	assert.True(t, store.closed, "the client is closed on shutdown")
}

func TestStorageErrors(t *testing.T) {
	storageID := component.MustNewID("file_storage")
	cfg := testConfig()
	cfg.Storage = &storageID
	newConn := func() *tracesConnector {
		conn, err := NewFactory().CreateTracesToLogs(context.Background(), connectortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
		require.NoError(t, err)
		return conn.(*tracesConnector)
	}

	conn := newConn()
	err := conn.Start(context.Background(), componenttest.NewNopHost())
	assert.ErrorContains(t, err, `storage extension "file_storage" not found`)
	require.NoError(t, conn.Shutdown(context.Background()))

	conn = newConn()
	host := &extensionsHost{Host: componenttest.NewNopHost(), extensions: map[component.ID]component.Component{storageID: nopComponent{}}}
	assert.ErrorContains(t, conn.Start(context.Background(), host), "is not a storage extension")
	require.NoError(t, conn.Shutdown(context.Background()))

	// A failing Set is reported by Shutdown.
	store := newMemoryStorage()
	store.setErr = errors.New("disk full")
	conn = newConn()
	host = &extensionsHost{Host: componenttest.NewNopHost(), extensions: map[component.ID]component.Component{storageID: store}}
	require.NoError(t, conn.Start(context.Background(), host))
	assert.ErrorContains(t, conn.Shutdown(context.Background()), "disk full")
}

type extensionsHost struct {
	component.Host
	extensions map[component.ID]component.Component
}

func (h *extensionsHost) GetExtensions() map[component.ID]component.Component {
	return h.extensions
}

type nopComponent struct{}

func (nopComponent) Start(context.Context, component.Host) error { return nil }
func (nopComponent) Shutdown(context.Context) error              { return nil }

// TestRestoreNeverDestroysSavedState: whatever goes wrong reading the saved
// state at start, its bytes are still in storage afterwards.
func TestRestoreNeverDestroysSavedState(t *testing.T) {
	ctx := context.Background()
	storageID := component.MustNewID("file_storage")
	// start runs a connector on store and reports whether a state error was
	// counted.
	start := func(t *testing.T, store *memoryStorage) (conn connector.Traces, stateErrorCounted func() bool, err error) {
		tel := componenttest.NewTelemetry()
		t.Cleanup(func() { require.NoError(t, tel.Shutdown(ctx)) })
		set := connectortest.NewNopSettings(metadata.Type)
		set.TelemetrySettings = tel.NewTelemetrySettings()
		cfg := testConfig()
		cfg.Storage = &storageID
		conn, err = NewFactory().CreateTracesToMetrics(ctx, set, cfg, consumertest.NewNop())
		require.NoError(t, err)
		host := &extensionsHost{Host: componenttest.NewNopHost(), extensions: map[component.ID]component.Component{storageID: store}}
		counted := func() bool {
			_, err := tel.GetMetric(metadata.MetricStateErrors)
			return err == nil
		}
		return conn, counted, conn.Start(ctx, host)
	}
	// savedGood decodes the main key the way a restart would.
	savedGood := func(t *testing.T, store *memoryStorage) uint64 {
		te := newTestEngine(t, testConfig())
		te.restore(t, store.data[stateKey])
		return te.slos[0].good
	}

	t.Run("read error fails start", func(t *testing.T) {
		store := newMemoryStorage()
		store.data[stateKey] = []byte(`{"version": 1, "slos": {}}`)
		store.getErr = errors.New("input/output error")
		conn, stateErrorCounted, err := start(t, store)
		require.ErrorIs(t, err, store.getErr)
		assert.EqualError(t, err, `slometrics: read saved state from storage "file_storage": input/output error`)
		assert.True(t, store.closed, "Start closes the client it opened")
		assert.True(t, stateErrorCounted())
		require.NoError(t, conn.Shutdown(ctx))
		assert.Empty(t, store.setKeys, "nothing is written")
		assert.JSONEq(t, `{"version": 1, "slos": {}}`, string(store.data[stateKey]))
	})

	for name, saved := range map[string]string{
		"corrupt":       "{corrupt",
		"newer version": `{"version": 99, "slos": {}}`,
	} {
		t.Run(name+" snapshot is backed up", func(t *testing.T) {
			store := newMemoryStorage()
			store.data[stateKey] = []byte(saved)
			conn, stateErrorCounted, err := start(t, store)
			require.NoError(t, err)
			assert.Equal(t, []string{unreadableKey}, store.setKeys, "only the backup is written at start")
			assert.Equal(t, saved, string(store.data[unreadableKey]))
			assert.True(t, stateErrorCounted())
			require.NoError(t, conn.ConsumeTraces(ctx, spans("checkout", 5, 0)))
			require.NoError(t, conn.Shutdown(ctx))
			assert.Equal(t, uint64(5), savedGood(t, store), "the fresh state is saved")
			assert.Equal(t, saved, string(store.data[unreadableKey]), "the backup survives the save")
		})
	}

	t.Run("failed backup fails start", func(t *testing.T) {
		store := newMemoryStorage()
		store.data[stateKey] = []byte("{corrupt")
		store.setErr = errors.New("disk full")
		conn, _, err := start(t, store)
		require.ErrorIs(t, err, store.setErr)
		assert.ErrorContains(t, err, `keep the unreadable saved state under "slometrics_state.unreadable" in storage "file_storage": disk full`)
		assert.True(t, store.closed, "Start closes the client it opened")
		require.NoError(t, conn.Shutdown(ctx))
		assert.Equal(t, "{corrupt", string(store.data[stateKey]))
	})

	t.Run("missing key starts fresh", func(t *testing.T) {
		store := newMemoryStorage()
		conn, stateErrorCounted, err := start(t, store)
		require.NoError(t, err)
		assert.Empty(t, store.setKeys, "nothing is written at start")
		assert.False(t, stateErrorCounted())
		require.NoError(t, conn.ConsumeTraces(ctx, spans("checkout", 3, 0)))
		require.NoError(t, conn.Shutdown(ctx))
		assert.Equal(t, uint64(3), savedGood(t, store))
		assert.NotContains(t, store.data, unreadableKey)
	})
}

// memoryStorage is a storage extension keeping one client's data in memory.
type memoryStorage struct {
	nopComponent
	mu     sync.Mutex
	data   map[string][]byte
	getErr error
	setErr error
	// setKeys lists the keys of every Set call, failed ones included.
	setKeys []string
	closed  bool
}

var _ storage.Extension = (*memoryStorage)(nil)

func newMemoryStorage() *memoryStorage { return &memoryStorage{data: map[string][]byte{}} }

func (m *memoryStorage) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = false
	return m, nil
}

func (m *memoryStorage) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.getErr != nil {
		return nil, m.getErr
	}
	return m.data[key], nil
}

func (m *memoryStorage) Set(_ context.Context, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setKeys = append(m.setKeys, key)
	if m.setErr != nil {
		return m.setErr
	}
	m.data[key] = value
	return nil
}

func (m *memoryStorage) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data, key)
	return nil
}

func (m *memoryStorage) Batch(context.Context, ...*storage.Operation) error {
	return errors.New("not used")
}

func (m *memoryStorage) Close(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// TestRestoreKeepsCumulativeStartPerSLO: an SLO whose saved state is dropped
// (definition changed) or absent (new SLO) restarts its cumulative counts at
// zero, so its start time must be the new run's, not the snapshot's: a
// cumulative series that drops to zero under an unchanged start time breaks
// monotonicity for every backend. A restored SLO keeps the saved start.
func TestRestoreKeepsCumulativeStartPerSLO(t *testing.T) {
	kept, changed := testSLO(), testSLO()
	kept.Name, changed.Name = "kept", "changed"
	src := newTestEngine(t, testConfig(kept, changed))
	src.feed("checkout", 100, 0)
	data := src.snapshot(t)
	// Both engines' fake clocks start at the same time: date the snapshot a
	// day earlier so that a saved start and a new one differ.
	savedStart := src.slos[0].startedAt.Add(-24 * time.Hour)
	data = redateSnapshot(t, data, savedStart)

	changed.SLI.HTTPServerErrors = true // a new definition: its counts start afresh
	added := testSLO()
	added.Name = "added"
	dst := newTestEngine(t, testConfig(kept, changed, added))
	dst.clock.Advance(time.Hour)
	dst.restore(t, data)
	require.NoError(t, dst.flush(context.Background()))

	events := findMetric(t, dst.metrics.AllMetrics()[0], metricEvents).Sum().DataPoints()
	starts := map[string]pcommon.Timestamp{}
	values := map[string]int64{}
	for i := 0; i < events.Len(); i++ {
		dp := events.At(i)
		name, _ := dp.Attributes().Get(attrSLOName)
		outcome, _ := dp.Attributes().Get(attrOutcome)
		if outcome.Str() == "good" {
			starts[name.Str()] = dp.StartTimestamp()
			values[name.Str()] = dp.IntValue()
		}
	}
	assert.Equal(t, int64(100), values["kept"])
	assert.Equal(t, pcommon.NewTimestampFromTime(savedStart), starts["kept"], "restored counts keep their start")
	for _, fresh := range []string{"changed", "added"} {
		assert.Zero(t, values[fresh], fresh)
		assert.NotEqual(t, pcommon.NewTimestampFromTime(savedStart), starts[fresh],
			"%s restarts at zero, so its start time must be new", fresh)
	}

	// The per-SLO start survives another restart.
	data = dst.snapshot(t)
	again := newTestEngine(t, testConfig(kept, changed, added))
	again.restore(t, data)
	before, _ := dst.evaluateNow()
	after, _ := again.evaluateNow()
	for i := range before {
		assert.True(t, before[i].startedAt.Equal(after[i].startedAt), before[i].def.name)
	}
}

// redateSnapshot sets every start time of a snapshot to start.
func redateSnapshot(t *testing.T, data []byte, start time.Time) []byte {
	t.Helper()
	var raw map[string]any
	require.NoError(t, json.Unmarshal(data, &raw))
	raw["started_at"] = start.UnixNano()
	for _, slo := range raw["slos"].(map[string]any) {
		if _, ok := slo.(map[string]any)["started_at"]; ok {
			slo.(map[string]any)["started_at"] = start.UnixNano()
		}
	}
	out, err := json.Marshal(raw)
	require.NoError(t, err)
	return out
}

// TestRestoreOlderSnapshotStart: snapshots written before each SLO kept its
// own start have one start for all, which a restored SLO takes.
func TestRestoreOlderSnapshotStart(t *testing.T) {
	src := newTestEngine(t, testConfig())
	src.feed("checkout", 10, 0)
	data := src.snapshot(t)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(data, &raw))
	older := src.slos[0].startedAt.Add(-time.Hour)
	raw["started_at"] = older.UnixNano()
	for _, slo := range raw["slos"].(map[string]any) {
		delete(slo.(map[string]any), "started_at")
	}
	data, err := json.Marshal(raw)
	require.NoError(t, err)

	dst := newTestEngine(t, testConfig())
	dst.restore(t, data)
	assert.True(t, dst.slos[0].startedAt.Equal(older), "%v, want %v", dst.slos[0].startedAt, older)
	assert.Equal(t, uint64(10), dst.slos[0].good)
}
