package signalstoreextension // import "github.com/ollystack/ollystack/extension/signalstoreextension"

import (
	"context"
	"errors"
	"fmt"

	"github.com/ncruces/go-sqlite3"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// ErrInvalidData marks a write error caused by the data itself: writing the
// same data again fails the same way, so writers should not retry it. Any
// other write error (a busy or full disk, a closed store, a timeout) may
// succeed later.
//
// The extension translates each backend's errors into this backend-neutral
// vocabulary, so writers such as the exporter need not know the backend.
var ErrInvalidData = errors.New("signal store rejected the data")

// classifyingStore translates the write errors of a backend.
type classifyingStore struct {
	signalstore.Store
	classify func(error) error
}

func (s classifyingStore) WriteTraces(ctx context.Context, td ptrace.Traces) error {
	return s.classify(s.Store.WriteTraces(ctx, td))
}

func (s classifyingStore) WriteLogs(ctx context.Context, ld plog.Logs) error {
	return s.classify(s.Store.WriteLogs(ctx, ld))
}

func (s classifyingStore) WriteMetrics(ctx context.Context, md pmetric.Metrics) error {
	return s.classify(s.Store.WriteMetrics(ctx, md))
}

// classifyEmbeddedError marks the SQLite result codes that depend on the
// data (a value over SQLite's size limit, a constraint or type violation) as
// ErrInvalidData. The embedded writer retries each request of a failed group
// commit on its own, so such an error belongs to this request alone.
func classifyEmbeddedError(err error) error {
	if err == nil {
		return nil
	}
	for _, code := range []sqlite3.ErrorCode{sqlite3.TOOBIG, sqlite3.CONSTRAINT, sqlite3.MISMATCH, sqlite3.RANGE} {
		if errors.Is(err, code) {
			return fmt.Errorf("%w: %w", ErrInvalidData, err)
		}
	}
	return err
}
