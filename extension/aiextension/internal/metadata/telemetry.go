package metadata // import "github.com/ollystack/ollystack/extension/aiextension/internal/metadata"

import (
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// Metric names, prefixed like the collector's own self-metrics.
const (
	MetricRequests         = "otelcol_ai_requests"
	MetricRequestDuration  = "otelcol_ai_request_duration"
	MetricAnalysisDuration = "otelcol_ai_analysis_duration"
	MetricLLMCalls         = "otelcol_ai_llm_calls"
	MetricInvestigations   = "otelcol_ai_investigations"
	MetricWebhookCalls     = "otelcol_ai_webhook_calls"
	MetricWebhookRetries   = "otelcol_ai_webhook_retries"
	MetricQuestions        = "otelcol_ai_questions"
)

// TelemetryBuilder holds the instruments of the extension's self-telemetry.
type TelemetryBuilder struct {
	// Requests counts answered HTTP requests by route and status code.
	Requests metric.Int64Counter
	// RequestDuration records request latency in seconds by route and status.
	RequestDuration metric.Float64Histogram
	// AnalysisDuration records the deterministic analysis (store reads
	// excluded) in seconds by analysis type.
	AnalysisDuration metric.Float64Histogram
	// LLMCalls counts narration calls by provider and outcome (ok, invalid_output,
	// error, timeout).
	LLMCalls metric.Int64Counter
	// Investigations counts ended investigations by status (finished,
	// failed).
	Investigations metric.Int64Counter
	// WebhookCalls counts completion notifications by final outcome (ok;
	// error: refused or retries exhausted; dropped: shutdown or queue full).
	WebhookCalls metric.Int64Counter
	// WebhookRetries counts webhook attempts sent again after a failure.
	WebhookRetries metric.Int64Counter
	// Questions counts natural-language questions by who read them
	// (parser, model) or why none was answered (not_understood,
	// invalid_model_output, model_error).
	Questions metric.Int64Counter
}

var buckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// NewTelemetryBuilder creates the instruments from the settings' meter
// provider under ScopeName.
func NewTelemetryBuilder(settings component.TelemetrySettings) (*TelemetryBuilder, error) {
	meter := settings.MeterProvider.Meter(ScopeName)
	var tb TelemetryBuilder
	var err error
	if tb.Requests, err = meter.Int64Counter(MetricRequests,
		metric.WithDescription("Number of AI API requests answered, by route and HTTP status code."),
		metric.WithUnit("{request}")); err != nil {
		return nil, fmt.Errorf("create %s: %w", MetricRequests, err)
	}
	if tb.RequestDuration, err = meter.Float64Histogram(MetricRequestDuration,
		metric.WithDescription("Latency of AI API requests, by route and HTTP status code."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(buckets...)); err != nil {
		return nil, fmt.Errorf("create %s: %w", MetricRequestDuration, err)
	}
	if tb.AnalysisDuration, err = meter.Float64Histogram(MetricAnalysisDuration,
		metric.WithDescription("Duration of the deterministic analysis of one request, by analysis type."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(buckets...)); err != nil {
		return nil, fmt.Errorf("create %s: %w", MetricAnalysisDuration, err)
	}
	if tb.LLMCalls, err = meter.Int64Counter(MetricLLMCalls,
		metric.WithDescription("Number of LLM narration calls, by provider and outcome."),
		metric.WithUnit("{call}")); err != nil {
		return nil, fmt.Errorf("create %s: %w", MetricLLMCalls, err)
	}
	if tb.Investigations, err = meter.Int64Counter(MetricInvestigations,
		metric.WithDescription("Number of investigations ended, by status."),
		metric.WithUnit("{investigation}")); err != nil {
		return nil, fmt.Errorf("create %s: %w", MetricInvestigations, err)
	}
	if tb.WebhookCalls, err = meter.Int64Counter(MetricWebhookCalls,
		metric.WithDescription("Number of investigation webhook notifications, by final outcome (ok, error, dropped)."),
		metric.WithUnit("{call}")); err != nil {
		return nil, fmt.Errorf("create %s: %w", MetricWebhookCalls, err)
	}
	if tb.WebhookRetries, err = meter.Int64Counter(MetricWebhookRetries,
		metric.WithDescription("Number of investigation webhook attempts sent again after a network error, 408, 429 or 5xx."),
		metric.WithUnit("{retry}")); err != nil {
		return nil, fmt.Errorf("create %s: %w", MetricWebhookRetries, err)
	}
	if tb.Questions, err = meter.Int64Counter(MetricQuestions,
		metric.WithDescription("Number of natural-language questions, by source of the query or reason for no answer."),
		metric.WithUnit("{question}")); err != nil {
		return nil, fmt.Errorf("create %s: %w", MetricQuestions, err)
	}
	return &tb, nil
}
