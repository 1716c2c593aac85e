package signalstoreextension // import "github.com/ollystack/ollystack/extension/signalstoreextension"

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// StoreProvider is what the signalstore extension publishes to the
// components that write to or read from the store (the signalstore
// exporter, the correlateapi and ai extensions). They find it with GetStore.
type StoreProvider interface {
	extension.Extension
	// Store returns the started store, or ErrNotStarted before Start and
	// after Shutdown.
	Store() (signalstore.Store, error)
}

var (
	// ErrNotFound means no extension with the requested ID is configured
	// in the service's extensions list.
	ErrNotFound = errors.New("signal store extension not found")
	// ErrWrongType means the extension with the requested ID exists but is
	// not a signal store extension.
	ErrWrongType = errors.New("extension is not a signal store extension")
	// ErrNotStarted means the extension exists but has no open store:
	// it has not been started yet or was shut down.
	ErrNotStarted = errors.New("signal store extension is not started")
)

// GetStore returns the store of the signalstore extension with the given ID.
// Callers use it in their Start: the collector starts extensions before
// pipelines, so the store is open by then.
func GetStore(host component.Host, id component.ID) (signalstore.Store, error) {
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q (add it under extensions and to service::extensions)", ErrNotFound, id)
	}
	provider, ok := ext.(StoreProvider)
	if !ok {
		return nil, fmt.Errorf("%w: %q is a %T", ErrWrongType, id, ext)
	}
	store, err := provider.Store()
	if err != nil {
		return nil, fmt.Errorf("extension %q: %w", id, err)
	}
	return store, nil
}
