package signalstoreextension // import "github.com/ollystack/ollystack/extension/signalstoreextension"

import (
	"fmt"

	"go.opentelemetry.io/otel/metric"

	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/pkg/signalstore/storemetrics"
)

// instrumentedStore joins the self-metrics decorators of pkg/signalstore
// back into one Store, so every backend is measured alike and none of them
// carries telemetry code.
type instrumentedStore struct {
	signalstore.Writer
	signalstore.Reader
}

// instrumentedPurgingStore keeps Purge reachable by type assertion for
// backends that have it. Purge is administrative, not traffic, so it is not
// measured.
type instrumentedPurgingStore struct {
	instrumentedStore
	signalstore.Purger
}

var (
	_ signalstore.Store  = instrumentedStore{}
	_ signalstore.Purger = instrumentedPurgingStore{}
)

// instrument wraps the backend's store with self-metrics recorded through
// the extension's meter provider.
func instrument(b *backend, mp metric.MeterProvider) (signalstore.Store, error) {
	w, err := storemetrics.NewWriter(b.store, mp)
	if err != nil {
		return nil, fmt.Errorf("instrument store writes: %w", err)
	}
	r, err := storemetrics.NewReader(b.store, mp)
	if err != nil {
		return nil, fmt.Errorf("instrument store reads: %w", err)
	}
	store := instrumentedStore{Writer: w, Reader: r}
	if b.purger == nil {
		return store, nil
	}
	return instrumentedPurgingStore{instrumentedStore: store, Purger: b.purger}, nil
}

// instrumentDocuments wraps the backend's document store, if it has one,
// with self-metrics; it returns nil for a backend that keeps no documents.
func instrumentDocuments(b *backend, mp metric.MeterProvider) (signalstore.DocumentStore, error) {
	if b.documents == nil {
		return nil, nil
	}
	d, err := storemetrics.NewDocumentStore(b.documents, mp)
	if err != nil {
		return nil, fmt.Errorf("instrument store documents: %w", err)
	}
	return d, nil
}
