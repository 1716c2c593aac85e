package correlationprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLogRules(t *testing.T) {
	p := newPipelines(t, defaultConfig())
	ctx := context.Background()
	// Trace 1 has an explicit id, known through its root span.
	p.consumeTraces(t, ctx, makeTraces(t, spanSpec{name: "root", trace: 1, attrs: map[string]any{"correlation_id": "req-1"}}))

	got := p.consumeLogs(t, ctx, makeLogs(t,
		logSpec{name: "attribute", trace: 1, attrs: map[string]any{"request_id": "log-own"}},
		logSpec{name: "json body", trace: 1, body: `{"level":"info","nested":{"correlation_id":"no"},"correlationId":"from-json","msg":"x"}`},
		logSpec{name: "map body", body: map[string]any{"request_id": "from-map"}},
		logSpec{name: "attribute beats body", attrs: map[string]any{"correlation_id": "attr"}, body: `{"correlation_id":"body"}`},
		logSpec{name: "by trace id", trace: 1, body: "plain text"},
		logSpec{name: "derived", trace: 2, body: `{"msg":"no id here"}`},
		logSpec{name: "hostile body", trace: 3, body: `{"correlation_id":"<img src=x>"}`},
		logSpec{name: "escaped body", trace: 3, body: `{"correlation_id":"a\"b"}`},
		logSpec{name: "broken json", body: `{"correlation_id":`},
		logSpec{name: "nothing"},
	))
	assert.Equal(t, map[string]string{
		"attribute":            "log-own",
		"json body":            "from-json",
		"map body":             "from-map",
		"attribute beats body": "attr",
		"by trace id":          "req-1",
		"derived":              derivedID(2),
		"hostile body":         derivedID(3),
		"escaped body":         derivedID(3),
		"broken json":          absent,
		"nothing":              absent,
	}, got)
}

func TestLogsDoNotWriteTheCache(t *testing.T) {
	p := newPipelines(t, defaultConfig())
	ctx := context.Background()
	p.consumeLogs(t, ctx, makeLogs(t, logSpec{name: "log", trace: 1, attrs: map[string]any{"request_id": "log-only"}}))
	got := p.consumeTraces(t, ctx, makeTraces(t, spanSpec{name: "span", trace: 1}))
	assert.Equal(t, derivedID(1), got["span"])
}

func TestEnrichLogsFalse(t *testing.T) {
	cfg := defaultConfig()
	cfg.EnrichLogs = false
	p := newPipelines(t, cfg)
	got := p.consumeLogs(t, context.Background(), makeLogs(t, logSpec{name: "log", trace: 1}))
	assert.Equal(t, absent, got["log"])
}
