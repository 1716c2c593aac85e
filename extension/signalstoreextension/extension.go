package signalstoreextension // import "github.com/ollystack/ollystack/extension/signalstoreextension"

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// storeExtension owns one storage backend: it opens it in Start and closes
// it in Shutdown. Other components get the store through GetStore and never
// close it themselves.
type storeExtension struct {
	cfg      *Config
	settings extension.Settings

	mu        sync.RWMutex
	backend   *backend
	store     signalstore.Store         // backend.store with self-metrics
	documents signalstore.DocumentStore // backend.documents with self-metrics; nil without
}

var (
	_ DocumentStoreProvider                 = (*storeExtension)(nil)
	_ extensioncapabilities.PipelineWatcher = (*storeExtension)(nil)
)

func newStoreExtension(cfg *Config, settings extension.Settings) *storeExtension {
	return &storeExtension{cfg: cfg, settings: settings}
}

// Start opens the backend. A failure (unwritable directory, a database of a
// newer schema) fails collector startup with the reason.
func (e *storeExtension) Start(ctx context.Context, _ component.Host) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.backend != nil {
		return fmt.Errorf("signal store extension %q started twice", e.settings.ID)
	}
	b, err := openBackend(ctx, e.cfg, e.settings.Logger)
	if err != nil {
		return err
	}
	if err := e.adopt(b); err != nil {
		return errors.Join(err, b.close())
	}
	return nil
}

// adopt makes the open backend the one the extension hands out, with
// self-metrics. The caller holds e.mu and closes b on error.
func (e *storeExtension) adopt(b *backend) error {
	store, err := instrument(b, e.settings.MeterProvider)
	if err != nil {
		return err
	}
	documents, err := instrumentDocuments(b, e.settings.MeterProvider)
	if err != nil {
		return err
	}
	e.backend, e.store, e.documents = b, store, documents
	return nil
}

// Shutdown closes the backend. The collector shuts extensions down after
// every pipeline, so the exporters have drained their queues into the store
// by now; a backend's Close commits what is still in flight.
func (e *storeExtension) Shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.backend == nil {
		return nil
	}
	b := e.backend
	e.backend, e.store, e.documents = nil, nil, nil
	if err := b.close(); err != nil {
		return fmt.Errorf("close %s signal store: %w", b.name, err)
	}
	e.settings.Logger.Info("signal store closed", zap.String("backend", b.name))
	return nil
}

// Ready implements extensioncapabilities.PipelineWatcher: the pipelines
// have started, so the ClickHouse backend creates the index views that
// waited for the exporter's tables now rather than at its next retry.
func (e *storeExtension) Ready() error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.backend != nil && e.backend.pipelinesReady != nil {
		e.backend.pipelinesReady()
	}
	return nil
}

// NotReady implements extensioncapabilities.PipelineWatcher.
func (e *storeExtension) NotReady() error { return nil }

// Store implements StoreProvider.
func (e *storeExtension) Store() (signalstore.Store, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.store == nil {
		return nil, ErrNotStarted
	}
	return e.store, nil
}

// DocumentStore implements DocumentStoreProvider.
func (e *storeExtension) DocumentStore() (signalstore.DocumentStore, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	switch {
	case e.store == nil:
		return nil, ErrNotStarted
	case e.documents == nil:
		return nil, noDocumentsError{holder: "the " + e.backend.name + " backend"}
	}
	return e.documents, nil
}
