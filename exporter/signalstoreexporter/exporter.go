package signalstoreexporter // import "github.com/ollystack/ollystack/exporter/signalstoreexporter"

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/exporter/signalstoreexporter/internal/metadata"
	"github.com/ollystack/ollystack/extension/signalstoreextension"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

// storeExporter writes one signal into the store of a signalstore
// extension. It does not own the store: the extension opens and closes it.
type storeExporter struct {
	cfg       *Config
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	// writer is set in start, before the pipeline sends anything.
	writer signalstore.Writer
}

func newStoreExporter(cfg *Config, set exporter.Settings) (*storeExporter, error) {
	telemetry, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("create self-telemetry: %w", err)
	}
	return &storeExporter{cfg: cfg, logger: set.Logger, telemetry: telemetry}, nil
}

// start finds the store. Extensions start before pipelines, so a missing
// or mistyped extension fails collector startup with a clear error.
func (e *storeExporter) start(_ context.Context, host component.Host) error {
	store, err := signalstoreextension.GetStore(host, e.cfg.StoreID)
	if err != nil {
		return fmt.Errorf("signalstore exporter: %w", err)
	}
	e.writer = store
	return nil
}

func (e *storeExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	return e.classify(ctx, "traces", td.SpanCount(), e.writer.WriteTraces(ctx, td))
}

func (e *storeExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	return e.classify(ctx, "logs", ld.LogRecordCount(), e.writer.WriteLogs(ctx, ld))
}

func (e *storeExporter) pushMetrics(ctx context.Context, md pmetric.Metrics) error {
	return e.classify(ctx, "metrics", md.DataPointCount(), e.writer.WriteMetrics(ctx, md))
}

// classify decides what exporterhelper does with a failed write: data the
// store rejects is permanent (retrying cannot help, so it is dropped and
// counted); anything else, including a closed store, is retried with
// backoff. A closed store must stay retryable: with a persistent
// sending_queue, a retryable failure at shutdown keeps the batch on disk for
// the next start, whereas a permanent one would delete it.
func (e *storeExporter) classify(ctx context.Context, signal string, items int, err error) error {
	if err == nil {
		return nil
	}
	permanent := consumererror.IsPermanent(err) || errors.Is(err, signalstoreextension.ErrInvalidData)
	kind := metadata.KindRetryable
	if permanent {
		kind = metadata.KindPermanent
	}
	e.telemetry.WriteFailures.Add(ctx, int64(items), metric.WithAttributes(
		attribute.String(metadata.AttributeSignal, signal), attribute.String(metadata.AttributeKind, kind)))
	err = fmt.Errorf("write %d %s items to the signal store: %w", items, signal, err)
	if permanent && !consumererror.IsPermanent(err) {
		return consumererror.NewPermanent(err)
	}
	return err
}
