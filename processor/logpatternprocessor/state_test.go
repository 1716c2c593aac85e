package logpatternprocessor

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/ollystack/ollystack/processor/logpatternprocessor/internal/metadata"
)

var storageID = component.MustNewID("file_storage")

// host offers extensions by id, as the collector's host does.
type host struct {
	component.Host
	extensions map[component.ID]component.Component
}

func (h host) GetExtensions() map[component.ID]component.Component { return h.extensions }

// runWithFileStorage starts a real file_storage extension on dir and a
// logpattern processor using it, feeds it the lines of service, shuts both
// down, and returns the template id each line got.
func runWithFileStorage(t *testing.T, dir string, lines ...string) []string {
	t.Helper()
	ctx := context.Background()
	ext := startFileStorage(t, dir)
	defer func() { require.NoError(t, ext.Shutdown(ctx)) }()

	cfg := defaultConfig()
	cfg.Storage = &storageID
	sink := &consumertest.LogsSink{}
	p, err := NewFactory().CreateLogs(ctx, processortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, p.Start(ctx, host{extensions: map[component.ID]component.Component{storageID: ext}}))
	ids := make([]string, len(lines))
	for i, line := range lines {
		require.NoError(t, p.ConsumeLogs(ctx, newLogs("checkout", line)))
		id, ok := sink.AllLogs()[i].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get("log.record.template.id")
		require.True(t, ok)
		ids[i] = id.Str()
	}
	require.NoError(t, p.Shutdown(ctx))
	return ids
}

func startFileStorage(t *testing.T, dir string) storage.Extension {
	t.Helper()
	f := filestorage.NewFactory()
	extCfg := f.CreateDefaultConfig().(*filestorage.Config)
	extCfg.Directory = dir
	extCfg.Compaction.Directory = dir
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), extCfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	return ext.(storage.Extension)
}

// withProcessorClient hands use the storage client that runWithFileStorage's
// processor gets from a file_storage extension on dir.
func withProcessorClient(t *testing.T, dir string, use func(storage.Client)) {
	t.Helper()
	ctx := context.Background()
	ext := startFileStorage(t, dir)
	defer func() { require.NoError(t, ext.Shutdown(ctx)) }()
	client, err := ext.GetClient(ctx, component.KindProcessor, processortest.NewNopSettings(metadata.Type).ID, "")
	require.NoError(t, err)
	defer func() { require.NoError(t, client.Close(ctx)) }()
	use(client)
}

// restoreSaved restores data as a restarted processor with the default
// config would, and returns the services restored.
func restoreSaved(t *testing.T, data []byte) ([]string, error) {
	t.Helper()
	set := processortest.NewNopSettings(metadata.Type)
	lp, err := newLogPatternProcessor(set.TelemetrySettings, set.ID, defaultConfig())
	require.NoError(t, err)
	defer func() { require.NoError(t, lp.shutdown(context.Background())) }()
	err = lp.miners.restore(data)
	return slices.Sorted(maps.Keys(lp.miners.entries())), err
}

// TestRestartKeepsTemplateIDs restarts through a real file_storage extension.
// Ids are hashes of a template's first text, so only restored state explains
// why a line that first appears after the restart joins an older template.
func TestRestartKeepsTemplateIDs(t *testing.T) {
	dir := t.TempDir()
	first := runWithFileStorage(t, dir,
		"payment declined for card visa reason insufficient_funds",
		"payment declined for card amex reason insufficient_funds")
	require.Equal(t, first[0], first[1], "one template")
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "state saved on shutdown")

	later := "payment declined for card mastercard reason expired_card"
	afterRestart := runWithFileStorage(t, dir, later)
	assert.Equal(t, first[0], afterRestart[0], "the restored template absorbs the new line")

	fresh := runWithFileStorage(t, t.TempDir(), later)
	assert.NotEqual(t, first[0], fresh[0], "without the saved state the line starts its own template")
}

// TestPartlyRestoredSnapshotIsKept restarts through a real file_storage
// extension on a snapshot whose second service cannot be decoded: the first
// is restored, and the snapshot as read is kept under unrestoredKey, because
// the next save holds only what was restored.
func TestPartlyRestoredSnapshotIsKept(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first := runWithFileStorage(t, dir, "payment declined for card visa reason insufficient_funds")
	var damaged []byte
	withProcessorClient(t, dir, func(client storage.Client) {
		data, err := client.Get(ctx, stateKey)
		require.NoError(t, err)
		var snap minerSnapshot
		require.NoError(t, json.Unmarshal(data, &snap))
		snap.Services["billing"] = json.RawMessage(`"not a miner"`)
		damaged, err = json.Marshal(snap)
		require.NoError(t, err)
		require.NoError(t, client.Set(ctx, stateKey, damaged))
	})

	afterRestart := runWithFileStorage(t, dir, "payment declined for card amex reason expired_card")
	assert.Equal(t, first[0], afterRestart[0], "the decodable service is restored")
	withProcessorClient(t, dir, func(client storage.Client) {
		kept, err := client.Get(ctx, unrestoredKey)
		require.NoError(t, err)
		assert.Equal(t, damaged, kept)
		saved, err := client.Get(ctx, stateKey)
		require.NoError(t, err)
		services, err := restoreSaved(t, saved)
		require.NoError(t, err, "the save after the restart holds valid state")
		assert.Equal(t, []string{"checkout"}, services)
	})
}

// memStorage is an in-memory storage extension that counts saves.
type memStorage struct {
	component.StartFunc
	component.ShutdownFunc
	mu     sync.Mutex
	data   map[string][]byte
	sets   int
	getErr error
	setErr error
	closed bool
}

func (m *memStorage) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	return memClient{m}, nil
}

func (m *memStorage) saves() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sets
}

type memClient struct{ m *memStorage }

func (c memClient) Get(_ context.Context, key string) ([]byte, error) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	return c.m.data[key], c.m.getErr
}

func (c memClient) Set(_ context.Context, key string, value []byte) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	c.m.sets++
	if c.m.setErr != nil {
		return c.m.setErr
	}
	c.m.data[key] = value
	return nil
}

func (c memClient) Delete(context.Context, string) error               { return nil }
func (c memClient) Batch(context.Context, ...*storage.Operation) error { return nil }

func (c memClient) Close(context.Context) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	c.m.closed = true
	return nil
}

func startWith(t *testing.T, cfg *Config, ext component.Component) (processor.Logs, error) {
	t.Helper()
	p, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	return p, p.Start(context.Background(), host{extensions: map[component.ID]component.Component{storageID: ext}})
}

func TestPeriodicSave(t *testing.T) {
	store := &memStorage{data: map[string][]byte{}}
	cfg := defaultConfig()
	cfg.Storage = &storageID
	cfg.SnapshotInterval = 10 * time.Millisecond
	p, err := startWith(t, cfg, store)
	require.NoError(t, err)
	require.NoError(t, p.ConsumeLogs(context.Background(), newLogs("a", "hello 1 world")))
	assert.Eventually(t, func() bool { return store.saves() >= 2 }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, p.Shutdown(context.Background()))
	saved := store.saves()
	time.Sleep(30 * time.Millisecond)
	assert.Equal(t, saved, store.saves(), "no save after shutdown")
}

func TestUnreadableStateIsKept(t *testing.T) {
	ctx := context.Background()
	cfg := defaultConfig()
	cfg.Storage = &storageID
	for name, saved := range map[string]string{
		"corrupt":       "{not json",
		"other version": `{"version":99}`,
	} {
		t.Run(name, func(t *testing.T) {
			store := &memStorage{data: map[string][]byte{stateKey: []byte(saved)}}
			p, err := startWith(t, cfg, store)
			require.NoError(t, err, "templates are learnt again")
			assert.Equal(t, saved, string(store.data[unrestoredKey]))
			require.NoError(t, p.ConsumeLogs(ctx, newLogs("a", "hello 1 world")))
			require.NoError(t, p.Shutdown(ctx))
			services, err := restoreSaved(t, store.data[stateKey])
			require.NoError(t, err, "the save holds valid state")
			assert.Equal(t, []string{"a"}, services)
			assert.Equal(t, saved, string(store.data[unrestoredKey]), "the kept snapshot survives the save")
		})
	}
}

func TestReadErrorFailsStart(t *testing.T) {
	cfg := defaultConfig()
	cfg.Storage = &storageID
	store := &memStorage{data: map[string][]byte{stateKey: []byte(`{"version":1}`)}, getErr: errors.New("input/output error")}
	p, err := startWith(t, cfg, store)
	require.ErrorIs(t, err, store.getErr)
	assert.EqualError(t, err, `read saved log templates from storage "file_storage": input/output error`)
	assert.True(t, store.closed, "Start closes the client it opened")
	require.NoError(t, p.Shutdown(context.Background()))
	assert.Zero(t, store.saves(), "nothing is written")
	assert.JSONEq(t, `{"version":1}`, string(store.data[stateKey]))
}

func TestFailedBackupFailsStart(t *testing.T) {
	cfg := defaultConfig()
	cfg.Storage = &storageID
	store := &memStorage{data: map[string][]byte{stateKey: []byte("{not json")}, setErr: errors.New("disk full")}
	p, err := startWith(t, cfg, store)
	require.ErrorIs(t, err, store.setErr)
	assert.ErrorContains(t, err, `keep the unrestored log templates under "templates.unreadable" in storage "file_storage": disk full`)
	assert.True(t, store.closed, "Start closes the client it opened")
	require.NoError(t, p.Shutdown(context.Background()))
	assert.Equal(t, "{not json", string(store.data[stateKey]))
}

func TestMissingStateStartsFresh(t *testing.T) {
	cfg := defaultConfig()
	cfg.Storage = &storageID
	store := &memStorage{data: map[string][]byte{}}
	p, err := startWith(t, cfg, store)
	require.NoError(t, err)
	assert.Zero(t, store.saves(), "nothing is written at start")
	require.NoError(t, p.Shutdown(context.Background()))
	assert.NotContains(t, store.data, unrestoredKey)
	_, err = restoreSaved(t, store.data[stateKey])
	assert.NoError(t, err)
}

func TestStorageExtensionMissingOrWrong(t *testing.T) {
	cfg := defaultConfig()
	other := component.MustNewID("other")
	cfg.Storage = &other
	_, err := startWith(t, cfg, &memStorage{})
	assert.ErrorContains(t, err, `storage extension "other" not found`)

	cfg.Storage = &storageID
	_, err = startWith(t, cfg, componenttest.NewNopHost().GetExtensions()[storageID])
	assert.ErrorContains(t, err, "is not a storage extension")
}

func TestRestoreSkipsChangedSettings(t *testing.T) {
	ld := func() plog.Logs { return newLogs("a", "payment declined for card visa reason x") }
	store := &memStorage{data: map[string][]byte{}}
	cfg := defaultConfig()
	cfg.Storage = &storageID
	p, err := startWith(t, cfg, store)
	require.NoError(t, err)
	require.NoError(t, p.ConsumeLogs(context.Background(), ld()))
	require.NoError(t, p.Shutdown(context.Background()))

	saved := store.data[stateKey]
	changed := defaultConfig()
	changed.Storage = &storageID
	changed.Miner.MaxClusters = 10
	set := processortest.NewNopSettings(metadata.Type)
	lp, err := newLogPatternProcessor(set.TelemetrySettings, set.ID, changed)
	require.NoError(t, err)
	require.NoError(t, lp.start(context.Background(), host{extensions: map[component.ID]component.Component{storageID: store}}))
	assert.Equal(t, int64(0), lp.miners.templates(), "saved under other settings: start afresh")
	assert.Equal(t, saved, store.data[unrestoredKey], "the templates learnt under the old settings are kept")
	require.NoError(t, lp.shutdown(context.Background()))

	err = lp.miners.restore(saved)
	assert.ErrorContains(t, err, "differ from the configured")
}
