package correlationprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ollystack/ollystack/processor/correlationprocessor/internal/metadata"
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
		// An id derived upstream for the record's own trace is not explicit,
		// in a JSON body as in a map body: a lower-ranked explicit id wins.
		logSpec{name: "json body derived upstream", trace: 4, body: `{"correlation_id":"` + derivedID(4) + `","request_id":"below-json"}`},
		logSpec{name: "map body derived upstream", trace: 4, body: map[string]any{"correlation_id": derivedID(4), "request_id": "below-map"}},
		logSpec{name: "nothing"},
	))
	assert.Equal(t, map[string]string{
		"attribute":                  "log-own",
		"json body":                  "from-json",
		"map body":                   "from-map",
		"attribute beats body":       "attr",
		"by trace id":                "req-1",
		"derived":                    derivedID(2),
		"hostile body":               derivedID(3),
		"escaped body":               derivedID(3),
		"broken json":                absent,
		"json body derived upstream": "below-json",
		"map body derived upstream":  "below-map",
		"nothing":                    absent,
	}, got)
}

// TestLogBodyOutcomes: a body field that holds no string is no id, whether the
// body is a map or JSON text; only an invalid string counts as rejected.
func TestLogBodyOutcomes(t *testing.T) {
	p := newPipelines(t, defaultConfig())
	ctx := context.Background()
	got := p.consumeLogs(t, ctx, makeLogs(t,
		logSpec{name: "map int", trace: 2, body: map[string]any{"correlation_id": 42}},
		logSpec{name: "map empty", trace: 2, body: map[string]any{"correlation_id": ""}},
		logSpec{name: "map nested", trace: 2, body: map[string]any{"correlation_id": map[string]any{"id": "x"}}},
		logSpec{name: "json int", trace: 2, body: `{"correlation_id":42}`},
		logSpec{name: "map hostile", trace: 2, body: map[string]any{"correlation_id": "<x>"}},
	))
	for name, id := range got {
		assert.Equal(t, derivedID(2), id, name)
	}
	assert.Equal(t, map[string]int64{"logs/derived": 4, "logs/rejected": 1},
		sumByAttributes(t, p, metadata.MetricItems, metadata.AttributeSignal, metadata.AttributeOutcome))
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
