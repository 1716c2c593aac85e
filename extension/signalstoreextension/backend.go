package signalstoreextension // import "github.com/ollystack/ollystack/extension/signalstoreextension"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/pkg/signalstore/embedded"
)

// backend is an open storage backend: the store handed to other components,
// its optional abilities, and the closer only the extension calls.
type backend struct {
	name   string
	store  signalstore.Store
	purger signalstore.Purger // nil when the backend cannot purge
	close  func() error
}

// openBackend opens the backend the config selects.
func openBackend(ctx context.Context, cfg *Config, logger *zap.Logger) (*backend, error) {
	switch {
	case cfg.Embedded != nil:
		return openEmbedded(ctx, cfg.Embedded, logger)
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
		name:   embeddedKey,
		store:  classifyingStore{Store: store, classify: classifyEmbeddedError},
		purger: store,
		close:  store.Close,
	}, nil
}
