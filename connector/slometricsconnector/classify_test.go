package slometricsconnector

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func TestClassify(t *testing.T) {
	type spanSpec struct {
		kind       ptrace.SpanKind
		name       string
		status     ptrace.StatusCode
		attrs      map[string]any
		duration   time.Duration
		resSynthet bool
	}
	server := func(mod func(*spanSpec)) spanSpec {
		s := spanSpec{kind: ptrace.SpanKindServer, name: "GET /", duration: 10 * time.Millisecond}
		if mod != nil {
			mod(&s)
		}
		return s
	}
	availability := SLOConfig{Name: "a", Service: "svc", Target: 99, SLI: SLIConfig{Kind: SLIAvailability}}
	with := func(base SLOConfig, mod func(*SLOConfig)) SLOConfig {
		mod(&base)
		return base
	}
	tests := []struct {
		name        string
		slo         SLOConfig
		span        spanSpec
		wantCounted bool
		wantBad     bool
	}{
		{name: "server ok", slo: availability, span: server(nil), wantCounted: true},
		{name: "server error", slo: availability, span: server(func(s *spanSpec) { s.status = ptrace.StatusCodeError }), wantCounted: true, wantBad: true},
		{name: "status ok explicitly", slo: availability, span: server(func(s *spanSpec) { s.status = ptrace.StatusCodeOk }), wantCounted: true},
		{name: "consumer counted by default", slo: availability, span: server(func(s *spanSpec) { s.kind = ptrace.SpanKindConsumer }), wantCounted: true},
		{name: "client skipped by default", slo: availability, span: server(func(s *spanSpec) { s.kind = ptrace.SpanKindClient }), wantCounted: false},
		{name: "internal skipped by default", slo: availability, span: server(func(s *spanSpec) { s.kind = ptrace.SpanKindInternal }), wantCounted: false},
		{name: "unspecified kind skipped", slo: availability, span: server(func(s *spanSpec) { s.kind = ptrace.SpanKindUnspecified }), wantCounted: false},
		{name: "out-of-range kind skipped", slo: availability, span: server(func(s *spanSpec) { s.kind = ptrace.SpanKind(42) }), wantCounted: false},
		{name: "configured client kind", slo: with(availability, func(c *SLOConfig) { c.SpanKinds = []string{"Client"} }), span: server(func(s *spanSpec) { s.kind = ptrace.SpanKindClient }), wantCounted: true},
		{name: "span name listed", slo: with(availability, func(c *SLOConfig) { c.SpanNames = []string{"GET /", "POST /pay"} }), span: server(nil), wantCounted: true},
		{name: "span name not listed", slo: with(availability, func(c *SLOConfig) { c.SpanNames = []string{"POST /pay"} }), span: server(nil), wantCounted: false},
		{name: "5xx ignored without option", slo: availability, span: server(func(s *spanSpec) { s.attrs = map[string]any{attrHTTPResponseStatusCode: 503} }), wantCounted: true},
		{name: "5xx int with option", slo: with(availability, func(c *SLOConfig) { c.SLI.HTTPServerErrors = true }), span: server(func(s *spanSpec) { s.attrs = map[string]any{attrHTTPResponseStatusCode: 503} }), wantCounted: true, wantBad: true},
		{name: "5xx legacy string with option", slo: with(availability, func(c *SLOConfig) { c.SLI.HTTPServerErrors = true }), span: server(func(s *spanSpec) { s.attrs = map[string]any{attrHTTPStatusCode: "500"} }), wantCounted: true, wantBad: true},
		{name: "4xx with option is good", slo: with(availability, func(c *SLOConfig) { c.SLI.HTTPServerErrors = true }), span: server(func(s *spanSpec) { s.attrs = map[string]any{attrHTTPResponseStatusCode: 404} }), wantCounted: true},
		{name: "600 is not 5xx", slo: with(availability, func(c *SLOConfig) { c.SLI.HTTPServerErrors = true }), span: server(func(s *spanSpec) { s.attrs = map[string]any{attrHTTPResponseStatusCode: 600} }), wantCounted: true},
		{name: "garbage status string", slo: with(availability, func(c *SLOConfig) { c.SLI.HTTPServerErrors = true }), span: server(func(s *spanSpec) { s.attrs = map[string]any{attrHTTPStatusCode: "5xx"} }), wantCounted: true},
		{name: "error_rate error", slo: with(availability, func(c *SLOConfig) { c.SLI.Kind = SLIErrorRate }), span: server(func(s *spanSpec) { s.status = ptrace.StatusCodeError }), wantCounted: true, wantBad: true},
		{name: "latency fast", slo: with(availability, func(c *SLOConfig) { c.SLI = SLIConfig{Kind: SLILatency, Threshold: 300 * time.Millisecond} }), span: server(nil), wantCounted: true},
		{name: "latency at threshold is good", slo: with(availability, func(c *SLOConfig) { c.SLI = SLIConfig{Kind: SLILatency, Threshold: 300 * time.Millisecond} }), span: server(func(s *spanSpec) { s.duration = 300 * time.Millisecond }), wantCounted: true},
		{name: "latency slow", slo: with(availability, func(c *SLOConfig) { c.SLI = SLIConfig{Kind: SLILatency, Threshold: 300 * time.Millisecond} }), span: server(func(s *spanSpec) { s.duration = time.Second }), wantCounted: true, wantBad: true},
		{name: "latency ignores errors", slo: with(availability, func(c *SLOConfig) { c.SLI = SLIConfig{Kind: SLILatency, Threshold: 300 * time.Millisecond} }), span: server(func(s *spanSpec) { s.status = ptrace.StatusCodeError }), wantCounted: true},
		{name: "latency negative duration is fast", slo: with(availability, func(c *SLOConfig) { c.SLI = SLIConfig{Kind: SLILatency, Threshold: time.Millisecond} }), span: server(func(s *spanSpec) { s.duration = -time.Second }), wantCounted: true},
		{name: "condition met", slo: with(availability, func(c *SLOConfig) { c.Condition = `attributes["http.route"] == "/pay"` }), span: server(func(s *spanSpec) { s.attrs = map[string]any{"http.route": "/pay"} }), wantCounted: true},
		{name: "condition not met", slo: with(availability, func(c *SLOConfig) { c.Condition = `attributes["http.route"] == "/pay"` }), span: server(func(s *spanSpec) { s.attrs = map[string]any{"http.route": "/cart"} }), wantCounted: false},
		{name: "condition on span fields", slo: with(availability, func(c *SLOConfig) { c.Condition = `IsMatch(name, "^GET ")` }), span: server(nil), wantCounted: true},
		{name: "condition on a non-numeric value does not count", slo: with(availability, func(c *SLOConfig) { c.Condition = `Int(attributes["n"]) > 1` }), span: server(func(s *spanSpec) { s.attrs = map[string]any{"n": "not a number"} }), wantCounted: false},
		{name: "synthetic included by default", slo: availability, span: server(func(s *spanSpec) { s.attrs = map[string]any{attrSynthetic: true} }), wantCounted: true},
		{name: "synthetic excluded", slo: with(availability, func(c *SLOConfig) { c.Synthetic = SyntheticExclude }), span: server(func(s *spanSpec) { s.attrs = map[string]any{attrSynthetic: true} }), wantCounted: false},
		{name: "synthetic string excluded", slo: with(availability, func(c *SLOConfig) { c.Synthetic = SyntheticExclude }), span: server(func(s *spanSpec) { s.attrs = map[string]any{attrSynthetic: "TRUE"} }), wantCounted: false},
		{name: "synthetic=false kept by exclude", slo: with(availability, func(c *SLOConfig) { c.Synthetic = SyntheticExclude }), span: server(func(s *spanSpec) { s.attrs = map[string]any{attrSynthetic: false} }), wantCounted: true},
		{name: "synthetic resource excluded", slo: with(availability, func(c *SLOConfig) { c.Synthetic = SyntheticExclude }), span: server(func(s *spanSpec) { s.resSynthet = true }), wantCounted: false},
		{name: "real traffic kept by exclude", slo: with(availability, func(c *SLOConfig) { c.Synthetic = SyntheticExclude }), span: server(nil), wantCounted: true},
		{name: "only synthetic: synthetic counted", slo: with(availability, func(c *SLOConfig) { c.Synthetic = SyntheticOnly }), span: server(func(s *spanSpec) { s.attrs = map[string]any{attrSynthetic: true} }), wantCounted: true},
		{name: "only synthetic: real skipped", slo: with(availability, func(c *SLOConfig) { c.Synthetic = SyntheticOnly }), span: server(nil), wantCounted: false},
		{name: "only synthetic: int attr is not synthetic", slo: with(availability, func(c *SLOConfig) { c.Synthetic = SyntheticOnly }), span: server(func(s *spanSpec) { s.attrs = map[string]any{attrSynthetic: 1} }), wantCounted: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def, err := compileSLO(&tt.slo)
			require.NoError(t, err)
			span := ptrace.NewSpan()
			span.SetKind(tt.span.kind)
			span.SetName(tt.span.name)
			span.Status().SetCode(tt.span.status)
			start := pcommon.NewTimestampFromTime(time.Unix(100, 0))
			span.SetStartTimestamp(start)
			span.SetEndTimestamp(pcommon.NewTimestampFromTime(start.AsTime().Add(tt.span.duration)))
			require.NoError(t, span.Attributes().FromRaw(tt.span.attrs))
			counted, bad := def.classify(t.Context(), &spanFacts{span: span, resourceSynthetic: tt.span.resSynthet})
			assert.Equal(t, tt.wantCounted, counted, "counted")
			assert.Equal(t, tt.wantBad, bad, "bad")
		})
	}
}

// TestConsumeMatchesService checks the resource-level routing: only the
// SLOs of a span's service see it, and resources without service.name are
// skipped.
func TestConsumeMatchesService(t *testing.T) {
	other := testSLO()
	other.Name, other.Service = "payments-availability", "payments"
	te := newTestEngine(t, testConfig(testSLO(), other))
	te.feed("checkout", 3, 1)
	te.feed("payments", 2, 0)
	te.feed("unknown", 5, 5)
	td := spans("checkout", 1, 0)
	td.ResourceSpans().At(0).Resource().Attributes().Remove(serviceNameKey)
	te.consume(t.Context(), td)
	te.mu.Lock()
	defer te.mu.Unlock()
	assert.Equal(t, [2]uint64{3, 1}, [2]uint64{te.slos[0].good, te.slos[0].bad})
	assert.Equal(t, [2]uint64{2, 0}, [2]uint64{te.slos[1].good, te.slos[1].bad})
}
