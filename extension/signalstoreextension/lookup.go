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
	// ErrNoDocuments means the extension's backend keeps no documents
	// (the read-only clickhouse backend).
	ErrNoDocuments = errors.New("signal store keeps no documents")
)

// DocumentStoreProvider is what the signalstore extension publishes to the
// components that keep documents in the store (the ai extension). They
// find it with GetDocumentStore. It is an interface of its own, not a
// method of StoreProvider, so that providers written against StoreProvider
// (test doubles in other modules) stay valid.
type DocumentStoreProvider interface {
	StoreProvider
	// DocumentStore returns the started backend's document store,
	// ErrNotStarted before Start and after Shutdown, or an error wrapping
	// ErrNoDocuments when the backend keeps none.
	DocumentStore() (signalstore.DocumentStore, error)
}

// noDocumentsError names what keeps no documents.
type noDocumentsError struct{ holder string }

func (e noDocumentsError) Error() string { return e.holder + " keeps no documents" }
func (noDocumentsError) Unwrap() error   { return ErrNoDocuments }

// GetStore returns the store of the signalstore extension with the given ID.
// Callers use it in their Start: the collector starts extensions before
// pipelines, so the store is open by then.
func GetStore(host component.Host, id component.ID) (signalstore.Store, error) {
	provider, err := lookupProvider(host, id)
	if err != nil {
		return nil, err
	}
	store, err := provider.Store()
	if err != nil {
		return nil, fmt.Errorf("extension %q: %w", id, err)
	}
	return store, nil
}

// GetDocumentStore returns the document store of the signalstore extension
// with the given ID, with the errors of GetStore, or one wrapping
// ErrNoDocuments when its backend keeps no documents. Like the store, the
// document store belongs to the extension: callers do not close it.
func GetDocumentStore(host component.Host, id component.ID) (signalstore.DocumentStore, error) {
	provider, err := lookupProvider(host, id)
	if err != nil {
		return nil, err
	}
	documents, ok := provider.(DocumentStoreProvider)
	if !ok {
		return nil, fmt.Errorf("signalstore extension %q: %w", id, noDocumentsError{holder: fmt.Sprintf("%T", provider)})
	}
	store, err := documents.DocumentStore()
	if err != nil {
		return nil, fmt.Errorf("signalstore extension %q: %w", id, err)
	}
	return store, nil
}

func lookupProvider(host component.Host, id component.ID) (StoreProvider, error) {
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q (add it under extensions and to service::extensions)", ErrNotFound, id)
	}
	provider, ok := ext.(StoreProvider)
	if !ok {
		return nil, fmt.Errorf("%w: %q is a %T", ErrWrongType, id, ext)
	}
	return provider, nil
}
