package testbed

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/ollystack/ollystack/testbed/harness"
)

// correlationConfig puts the correlation processor where the shipped config has it, and writes
// every signal to OTLP/JSON files.
const correlationConfig = `
extensions:
` + healthCheckExtension + `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{{.GRPC}}
        include_metadata: true
      http:
        endpoint: 127.0.0.1:{{.HTTP}}
        include_metadata: true
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 512
  correlation:
  batch:
    timeout: 200ms
` + fileExporters + `service:
  extensions: [health_check]
  telemetry:
    metrics:
` + selfMetricsReaders + `  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, correlation, batch]
      exporters: [file/traces]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, correlation, batch]
      exporters: [file/logs]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter, correlation, batch]
      exporters: [file/metrics]
`

// TestCorrelationEndToEnd sends one request through three services instrumented with the OTel Go
// SDK. Only the entry span carries the request's X-Correlation-ID (captured as the semantic
// convention header attribute); logs only carry their trace context; the checkout service records
// a latency histogram whose exemplar names the trace. The built collector must give all of them
// the one explicit id. A second request without any id gets the id derived from its trace id, on
// every signal too.
func TestCorrelationEndToEnd(t *testing.T) {
	c := harness.StartCollector(t, correlationConfig)
	endpoint := fmt.Sprintf("127.0.0.1:%d", c.Env.GRPC)
	frontend := newInstrumentedService(t, endpoint, "frontend")
	checkout := newInstrumentedService(t, endpoint, "checkout")
	payment := newInstrumentedService(t, endpoint, "payment")

	const explicitID = "order-7f3a9c-2026"
	withHeader := simulateCheckoutRequest(frontend, checkout, payment, explicitID, 42.5)
	// Another latency bucket, so the histogram keeps an exemplar of each request.
	withoutHeader := simulateCheckoutRequest(frontend, checkout, payment, "", 180)
	derivedID := "olly-t-" + withoutHeader.String()

	// The entry service's spans reach the collector first here. When children arrive before their
	// root they keep the derived id (processor unit tests cover that) and the read side closes
	// over trace ids, so answers stay complete.
	for _, s := range []*instrumentedService{frontend, checkout, payment} {
		s.flush(t)
	}

	var traces []ptrace.Traces
	var logs []plog.Logs
	var metrics []pmetric.Metrics
	require.Eventually(t, func() bool {
		traces, _ = harness.ReadTracesFile(c.Env.Path("traces.json"))
		logs, _ = harness.ReadLogsFile(c.Env.Path("logs.json"))
		metrics, _ = harness.ReadMetricsFile(c.Env.Path("metrics.json"))
		return harness.SpanCount(traces) == 6 && harness.LogCount(logs) == 6 && len(exemplarCorrelationIDs(metrics)) >= 2
	}, 30*time.Second, 100*time.Millisecond, "spans %d, logs %d, exemplars %d",
		harness.SpanCount(traces), harness.LogCount(logs), len(exemplarCorrelationIDs(metrics)))

	want := map[pcommon.TraceID]string{
		pcommon.TraceID(withHeader):    explicitID,
		pcommon.TraceID(withoutHeader): derivedID,
	}
	for _, td := range traces {
		for _, span := range spansIn(td) {
			assert.Equal(t, want[span.TraceID()], correlationIDOf(span.Attributes()), "span %s", span.Name())
		}
	}
	for _, ld := range logs {
		for _, record := range logRecordsIn(ld) {
			assert.Equal(t, want[record.TraceID()], correlationIDOf(record.Attributes()), "log %q", record.Body().AsString())
		}
	}
	for traceID, id := range exemplarCorrelationIDs(metrics) {
		assert.Equal(t, want[traceID], id, "exemplar of trace %s", traceID)
	}

	items, err := harness.SelfMetric(c.Env.Telemetry, "otelcol_processor_correlation_items")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, items, float64(6+6+2), "self-telemetry counts every span, log and exemplar")

	for _, s := range []*instrumentedService{frontend, checkout, payment} {
		s.shutdown(t)
	}
	c.Stop(t)
}

// simulateCheckoutRequest runs one request frontend → checkout → payment, propagating W3C trace context
// between the services as HTTP headers would, and returns its trace id. A non-empty
// correlationID is the X-Correlation-ID header the frontend received; checkout records
// latencyMillis in a histogram, whose exemplar names the trace.
func simulateCheckoutRequest(frontend, checkout, payment *instrumentedService, correlationID string, latencyMillis float64) trace.TraceID {
	ctx := context.Background()
	var entryAttrs []attribute.KeyValue
	if correlationID != "" {
		entryAttrs = append(entryAttrs, attribute.StringSlice("http.request.header.x-correlation-id", []string{correlationID}))
	}
	entryCtx, entry := frontend.tracer.Start(ctx, "GET /checkout",
		trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(entryAttrs...))
	frontend.log(entryCtx, "checkout page requested")

	checkoutCtx, checkoutSpan := checkout.tracer.Start(downstreamContext(entryCtx), "POST /orders", trace.WithSpanKind(trace.SpanKindServer))
	checkout.latency.Record(checkoutCtx, latencyMillis)
	checkout.log(checkoutCtx, "order created")

	paymentCtx, paymentSpan := payment.tracer.Start(downstreamContext(checkoutCtx), "POST /charge", trace.WithSpanKind(trace.SpanKindServer))
	payment.log(paymentCtx, "card charged")

	paymentSpan.End()
	checkoutSpan.End()
	entry.End()
	return entry.SpanContext().TraceID()
}

// callee returns the context a downstream service extracts from the headers of a call made in ctx.
func downstreamContext(ctx context.Context) context.Context {
	headers := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, headers)
	return propagation.TraceContext{}.Extract(context.Background(), headers)
}

// instrumentedService is one service's OTel SDK: traces, logs and metrics exported over OTLP gRPC.
type instrumentedService struct {
	tracer  trace.Tracer
	logger  otellog.Logger
	latency metric.Float64Histogram
	traces  *sdktrace.TracerProvider
	logs    *sdklog.LoggerProvider
	metrics *sdkmetric.MeterProvider

	shutdownOnce sync.Once
}

func newInstrumentedService(t *testing.T, endpoint, name string) *instrumentedService {
	t.Helper()
	ctx := context.Background()
	res := resource.NewSchemaless(attribute.String("service.name", name))
	traceExporter, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	require.NoError(t, err)
	logExporter, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(endpoint), otlploggrpc.WithInsecure())
	require.NoError(t, err)
	metricExporter, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(endpoint), otlpmetricgrpc.WithInsecure())
	require.NoError(t, err)

	s := &instrumentedService{
		traces: sdktrace.NewTracerProvider(sdktrace.WithBatcher(traceExporter), sdktrace.WithResource(res)),
		logs:   sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(logExporter)), sdklog.WithResource(res)),
		// Exported only by flush: the test decides when metrics leave the service.
		metrics: sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metricExporter, sdkmetric.WithInterval(time.Hour))), sdkmetric.WithResource(res)),
	}
	s.tracer = s.traces.Tracer(name)
	s.logger = s.logs.Logger(name)
	s.latency, err = s.metrics.Meter(name).Float64Histogram("request.duration", metric.WithUnit("ms"))
	require.NoError(t, err)
	t.Cleanup(func() { s.shutdown(t) })
	return s
}

// shutdown stops the service's SDK; it must run while the collector still listens, because the
// SDK exports what it still holds.
func (s *instrumentedService) shutdown(t *testing.T) {
	t.Helper()
	s.shutdownOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, s.traces.Shutdown(ctx))
		assert.NoError(t, s.logs.Shutdown(ctx))
		assert.NoError(t, s.metrics.Shutdown(ctx))
	})
}

// log emits a record that carries only the trace context of ctx, like a logging bridge does.
func (s *instrumentedService) log(ctx context.Context, message string) {
	var record otellog.Record
	record.SetTimestamp(time.Now())
	record.SetSeverity(otellog.SeverityInfo)
	record.SetBody(attribute.StringValue(message))
	s.logger.Emit(ctx, record)
}

// flush exports the service's spans, then its logs and metrics, which find their trace's id
// through the processor's cache.
func (s *instrumentedService) flush(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.traces.ForceFlush(ctx))
	require.NoError(t, s.logs.ForceFlush(ctx))
	require.NoError(t, s.metrics.ForceFlush(ctx))
}

func correlationIDOf(attrs pcommon.Map) string {
	if v, ok := attrs.Get("correlation_id"); ok {
		return v.AsString()
	}
	return "<absent>"
}

func spansIn(td ptrace.Traces) []ptrace.Span {
	var spans []ptrace.Span
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		scopes := td.ResourceSpans().At(i).ScopeSpans()
		for j := 0; j < scopes.Len(); j++ {
			for k := 0; k < scopes.At(j).Spans().Len(); k++ {
				spans = append(spans, scopes.At(j).Spans().At(k))
			}
		}
	}
	return spans
}

func logRecordsIn(ld plog.Logs) []plog.LogRecord {
	var records []plog.LogRecord
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		scopes := ld.ResourceLogs().At(i).ScopeLogs()
		for j := 0; j < scopes.Len(); j++ {
			for k := 0; k < scopes.At(j).LogRecords().Len(); k++ {
				records = append(records, scopes.At(j).LogRecords().At(k))
			}
		}
	}
	return records
}

// exemplarCorrelationIDs maps the trace id of every histogram exemplar to its correlation id.
func exemplarCorrelationIDs(batches []pmetric.Metrics) map[pcommon.TraceID]string {
	ids := map[pcommon.TraceID]string{}
	for _, md := range batches {
		for i := 0; i < md.ResourceMetrics().Len(); i++ {
			scopes := md.ResourceMetrics().At(i).ScopeMetrics()
			for j := 0; j < scopes.Len(); j++ {
				metrics := scopes.At(j).Metrics()
				for k := 0; k < metrics.Len(); k++ {
					if metrics.At(k).Type() != pmetric.MetricTypeHistogram {
						continue
					}
					points := metrics.At(k).Histogram().DataPoints()
					for p := 0; p < points.Len(); p++ {
						exemplars := points.At(p).Exemplars()
						for e := 0; e < exemplars.Len(); e++ {
							if traceID := exemplars.At(e).TraceID(); !traceID.IsEmpty() {
								ids[traceID] = correlationIDOf(exemplars.At(e).FilteredAttributes())
							}
						}
					}
				}
			}
		}
	}
	return ids
}
