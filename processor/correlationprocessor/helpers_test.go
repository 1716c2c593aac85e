package correlationprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
	"github.com/ollystack/ollystack/processor/correlationprocessor/internal/metadata"
)

// pipelines runs the three processors of one component, sharing one
// correlator, into sinks.
type pipelines struct {
	traces     processor.Traces
	logs       processor.Logs
	metrics    processor.Metrics
	tracesOut  *consumertest.TracesSink
	logsOut    *consumertest.LogsSink
	metricsOut *consumertest.MetricsSink
	telemetry  *componenttest.Telemetry
}

func newPipelines(t *testing.T, cfg *Config) *pipelines {
	t.Helper()
	require.NoError(t, cfg.Validate())
	p := &pipelines{
		tracesOut:  new(consumertest.TracesSink),
		logsOut:    new(consumertest.LogsSink),
		metricsOut: new(consumertest.MetricsSink),
		telemetry:  componenttest.NewTelemetry(),
	}
	factory := NewFactory()
	set := processortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = p.telemetry.NewTelemetrySettings()
	ctx := context.Background()
	var err error
	p.traces, err = factory.CreateTraces(ctx, set, cfg, p.tracesOut)
	require.NoError(t, err)
	p.logs, err = factory.CreateLogs(ctx, set, cfg, p.logsOut)
	require.NoError(t, err)
	p.metrics, err = factory.CreateMetrics(ctx, set, cfg, p.metricsOut)
	require.NoError(t, err)
	for _, c := range []component.Component{p.traces, p.logs, p.metrics} {
		require.NoError(t, c.Start(ctx, componenttest.NewNopHost()))
	}
	t.Cleanup(func() {
		for _, c := range []component.Component{p.traces, p.logs, p.metrics} {
			require.NoError(t, c.Shutdown(context.Background()))
		}
		require.NoError(t, p.telemetry.Shutdown(context.Background()))
	})
	return p
}

func defaultConfig() *Config {
	return createDefaultConfig().(*Config)
}

func testTraceID(n byte) pcommon.TraceID {
	return pcommon.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, n}
}

func derivedID(n byte) string {
	return correlationid.Derive("olly", testTraceID(n))
}

// spanSpec describes a test span; trace 0 means no trace id, parent 0 a root.
type spanSpec struct {
	name   string
	trace  byte
	parent byte
	attrs  map[string]any
	links  []byte
}

func makeTraces(t *testing.T, specs ...spanSpec) ptrace.Traces {
	t.Helper()
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i, spec := range specs {
		span := spans.AppendEmpty()
		span.SetName(spec.name)
		if spec.trace != 0 {
			span.SetTraceID(testTraceID(spec.trace))
		}
		span.SetSpanID(pcommon.SpanID{byte(i + 1)})
		if spec.parent != 0 {
			span.SetParentSpanID(pcommon.SpanID{spec.parent})
		}
		require.NoError(t, span.Attributes().FromRaw(spec.attrs))
		for _, linked := range spec.links {
			span.Links().AppendEmpty().SetTraceID(testTraceID(linked))
		}
	}
	return td
}

const absent = "<absent>"

// correlationIDs maps span names to their correlation id.
func spanCorrelationIDs(td ptrace.Traces) map[string]string {
	got := map[string]string{}
	forEachSpan(td, func(span ptrace.Span) {
		got[span.Name()] = attributeOrAbsent(span.Attributes())
	})
	return got
}

func attributeOrAbsent(attrs pcommon.Map) string {
	if v, ok := attrs.Get("correlation_id"); ok {
		return v.AsString()
	}
	return absent
}

// consumeTraces sends each batch through the processor and returns the
// correlation ids of all spans seen.
func (p *pipelines) consumeTraces(t *testing.T, ctx context.Context, batches ...ptrace.Traces) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, td := range batches {
		require.NoError(t, p.traces.ConsumeTraces(ctx, td))
	}
	for _, td := range p.tracesOut.AllTraces() {
		for name, id := range spanCorrelationIDs(td) {
			got[name] = id
		}
	}
	p.tracesOut.Reset()
	return got
}

type logSpec struct {
	name  string
	trace byte
	attrs map[string]any
	body  any
}

func makeLogs(t *testing.T, specs ...logSpec) plog.Logs {
	t.Helper()
	ld := plog.NewLogs()
	records := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for _, spec := range specs {
		record := records.AppendEmpty()
		record.SetEventName(spec.name)
		if spec.trace != 0 {
			record.SetTraceID(testTraceID(spec.trace))
		}
		require.NoError(t, record.Attributes().FromRaw(spec.attrs))
		if spec.body != nil {
			require.NoError(t, record.Body().FromRaw(spec.body))
		}
	}
	return ld
}

func (p *pipelines) consumeLogs(t *testing.T, ctx context.Context, ld plog.Logs) map[string]string {
	t.Helper()
	require.NoError(t, p.logs.ConsumeLogs(ctx, ld))
	got := map[string]string{}
	for _, out := range p.logsOut.AllLogs() {
		records := out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		for i := 0; i < records.Len(); i++ {
			got[records.At(i).EventName()] = attributeOrAbsent(records.At(i).Attributes())
		}
	}
	p.logsOut.Reset()
	return got
}

func forEachSpan(td ptrace.Traces, fn func(ptrace.Span)) {
	for span := range allSpans(td) {
		fn(span)
	}
}
