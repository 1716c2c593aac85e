package signalstoreextension // import "github.com/ollystack/ollystack/extension/signalstoreextension"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/pkg/signalstore/clickhouse"
	"github.com/ollystack/ollystack/pkg/signalstore/embedded"
)

// backend is an open storage backend: the store handed to other components,
// its optional abilities, and the closer only the extension calls.
type backend struct {
	name      string
	store     signalstore.Store
	purger    signalstore.Purger        // nil when the backend cannot purge
	documents signalstore.DocumentStore // nil when the backend keeps no documents
	// pipelinesReady, when set, is called once the collector's pipelines
	// have started (and the exporters created their tables).
	pipelinesReady func()
	close          func() error
}

// openBackend opens the backend the config selects.
func openBackend(ctx context.Context, cfg *Config, logger *zap.Logger) (*backend, error) {
	switch {
	case cfg.Embedded != nil:
		return openEmbedded(ctx, cfg.Embedded, logger)
	case cfg.ClickHouse != nil:
		return openClickHouse(ctx, cfg.ClickHouse, logger)
	default:
		return nil, errors.New("no backend configured")
	}
}

func openEmbedded(ctx context.Context, cfg *embedded.Config, logger *zap.Logger) (*backend, error) {
	// The backend wants the directory to exist; creating it here makes the
	// relative default path work on a fresh checkout and in the image.
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o750); err != nil {
		return nil, fmt.Errorf("create directory of the embedded store %q: %w", cfg.Path, err)
	}
	store, err := embedded.Open(ctx, cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("open embedded store %q: %w", cfg.Path, err)
	}
	logger.Info("embedded signal store opened", zap.String("path", cfg.Path),
		zap.Stringer("retention", cfg.Retention), zap.String("sync", cfg.Sync))
	return &backend{
		name:      embeddedKey,
		store:     classifyingStore{Store: store, classify: classifyEmbeddedError},
		purger:    store,
		documents: store,
		close:     store.Close,
	}, nil
}

// openClickHouse connects to the server the contrib clickhouse exporter
// writes to. The backend is read-only: it cannot purge (the exporter owns
// the tables and their TTL) and keeps no documents, so purger and documents
// stay nil.
func openClickHouse(ctx context.Context, cfg *clickhouse.Config, logger *zap.Logger) (*backend, error) {
	store, err := clickhouse.Open(ctx, cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("open clickhouse store: %w", err)
	}
	logger.Info("clickhouse signal store opened", zap.String("database", cfg.Database),
		zap.Bool("create_schema", cfg.CreateSchema), zap.String("cluster", cfg.ClusterName))
	return &backend{
		name:           clickhouseKey,
		store:          classifyingStore{Store: store, classify: classifyClickHouseError},
		pipelinesReady: store.RetryDeferredViews,
		close:          store.Close,
	}, nil
}

// classifyClickHouseError marks refused writes (an exporter pointed at the
// read-only backend) as not worth retrying.
func classifyClickHouseError(err error) error {
	if errors.Is(err, clickhouse.ErrWriteUnsupported) {
		return fmt.Errorf("%w: %w", ErrInvalidData, err)
	}
	return err
}
