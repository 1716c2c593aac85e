package correlationprocessor

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func TestSpanRules(t *testing.T) {
	hostile := strings.Repeat("a", 129)
	tests := []struct {
		name   string
		config func(*Config)
		spans  []spanSpec
		want   map[string]string
	}{
		{
			name:  "the processor's own attribute is kept",
			spans: []spanSpec{{name: "root", trace: 1, attrs: map[string]any{"correlation_id": "req-1"}}},
			want:  map[string]string{"root": "req-1"},
		},
		{
			name: "captured header attribute, any case, string array value",
			spans: []spanSpec{
				{name: "lower", trace: 1, attrs: map[string]any{"http.request.header.x-correlation-id": []any{"req-1"}}},
				{name: "upper", trace: 2, attrs: map[string]any{"http.request.header.X-Request-ID": "req-2"}},
			},
			want: map[string]string{"lower": "req-1", "upper": "req-2"},
		},
		{
			name: "extract_from_attributes is ordered",
			spans: []spanSpec{{name: "root", trace: 1, attrs: map[string]any{
				"request_id": "second", "correlationId": "first", "unrelated": "x",
			}}},
			want: map[string]string{"root": "first"},
		},
		{
			name: "headers rank before plain attributes, the own attribute before both",
			spans: []spanSpec{
				{name: "header", trace: 1, attrs: map[string]any{"request_id": "attr", "http.request.header.x-request-id": "header"}},
				{name: "own", trace: 2, attrs: map[string]any{"correlation_id": "own", "http.request.header.x-request-id": "header"}},
			},
			want: map[string]string{"header": "header", "own": "own"},
		},
		{
			name: "captured baggage header, percent-encoded value",
			spans: []spanSpec{
				{name: "plain", trace: 1, attrs: map[string]any{"http.request.header.baggage": "userId=7, correlation_id = bag-1 ;ttl=3"}},
				{name: "encoded", trace: 2, attrs: map[string]any{"http.request.header.baggage": "correlationId=bag%2D2"}},
			},
			want: map[string]string{"plain": "bag-1", "encoded": "bag-2"},
		},
		{
			name:   "baggage is ignored when extract_from_baggage is false",
			config: func(cfg *Config) { cfg.ExtractFromBaggage = false },
			spans:  []spanSpec{{name: "root", trace: 1, attrs: map[string]any{"http.request.header.baggage": "correlation_id=bag-1"}}},
			want:   map[string]string{"root": derivedID(1)},
		},
		{
			name:  "no explicit id: derived from the trace id",
			spans: []spanSpec{{name: "root", trace: 1}},
			want:  map[string]string{"root": "olly-t-4bf92f3577b34da6a3ce929d0e0e4701"},
		},
		{
			name:   "no explicit id and generate_if_missing false: untouched",
			config: func(cfg *Config) { cfg.GenerateIfMissing = false },
			spans:  []spanSpec{{name: "root", trace: 1}},
			want:   map[string]string{"root": absent},
		},
		{
			name:  "no trace id and no explicit id: untouched",
			spans: []spanSpec{{name: "orphan"}},
			want:  map[string]string{"orphan": absent},
		},
		{
			name: "children before their root in one batch get the root's id",
			spans: []spanSpec{
				{name: "child", trace: 1, parent: 9},
				{name: "grandchild", trace: 1, parent: 8, attrs: map[string]any{"request_id": "downstream"}},
				{name: "root", trace: 1, attrs: map[string]any{"http.request.header.x-correlation-id": "entry"}},
			},
			want: map[string]string{"child": "entry", "grandchild": "downstream", "root": "entry"},
		},
		{
			name: "the trace's id changes twice in a batch: every span follows",
			spans: []spanSpec{
				{name: "first", trace: 1, parent: 7},
				{name: "downstream", trace: 1, parent: 7, attrs: map[string]any{"request_id": "downstream"}},
				{name: "second", trace: 1, parent: 7},
				{name: "root", trace: 1, attrs: map[string]any{"correlation_id": "entry"}},
				{name: "after", trace: 1, parent: 7},
			},
			want: map[string]string{"first": "entry", "downstream": "downstream", "second": "entry", "root": "entry", "after": "entry"},
		},
		{
			name:   "without generation, spans before the explicit id get it too",
			config: func(cfg *Config) { cfg.GenerateIfMissing = false },
			spans: []spanSpec{
				{name: "child", trace: 1, parent: 7},
				{name: "root", trace: 1, attrs: map[string]any{"request_id": "entry"}},
				{name: "other-trace", trace: 2},
			},
			want: map[string]string{"child": "entry", "root": "entry", "other-trace": absent},
		},
		{
			name: "a non-root explicit id spreads when the root has none",
			spans: []spanSpec{
				{name: "root", trace: 1},
				{name: "child", trace: 1, parent: 1, attrs: map[string]any{"request_id": "from-child"}},
			},
			want: map[string]string{"root": "from-child", "child": "from-child"},
		},
		{
			name: "hostile ids are ignored: too long, bad bytes",
			spans: []spanSpec{
				{name: "long", trace: 1, attrs: map[string]any{"request_id": hostile}},
				{name: "bytes", trace: 2, attrs: map[string]any{"request_id": "x'; DROP TABLE spans;--"}},
				{name: "fallback", trace: 3, attrs: map[string]any{"correlationId": "<script>", "request_id": "good-1"}},
			},
			want: map[string]string{"long": derivedID(1), "bytes": derivedID(2), "fallback": "good-1"},
		},
		{
			name:   "a hostile value in the own attribute is replaced, or removed when nothing replaces it",
			config: func(cfg *Config) { cfg.GenerateIfMissing = false },
			spans: []spanSpec{
				{name: "replaced", trace: 1, attrs: map[string]any{"correlation_id": hostile, "request_id": "good"}},
				{name: "removed", trace: 2, attrs: map[string]any{"correlation_id": "bad value"}},
				{name: "not-a-string", trace: 3, attrs: map[string]any{"correlation_id": 42}},
				{name: "trimmed", trace: 4, attrs: map[string]any{"correlation_id": " padded "}},
				{name: "array", trace: 5, attrs: map[string]any{"correlation_id": []any{"in-array"}}},
			},
			want: map[string]string{"replaced": "good", "removed": absent, "not-a-string": absent, "trimmed": "padded", "array": "in-array"},
		},
		{
			name: "an id derived upstream yields to an explicit id known here",
			spans: []spanSpec{
				{name: "child", trace: 1, parent: 1, attrs: map[string]any{"correlation_id": "edge-t-4bf92f3577b34da6a3ce929d0e0e4701"}},
				{name: "root", trace: 1, attrs: map[string]any{"request_id": "explicit"}},
			},
			want: map[string]string{"child": "explicit", "root": "explicit"},
		},
		{
			name: "links adopt the explicit id of the linked trace",
			spans: []spanSpec{
				{name: "consumer", trace: 2, links: []byte{1}},
				{name: "producer", trace: 1, attrs: map[string]any{"correlation_id": "order-42"}},
				{name: "unlinked", trace: 3, links: []byte{4}},
			},
			want: map[string]string{"consumer": "order-42", "producer": "order-42", "unlinked": derivedID(3)},
		},
		{
			name:   "a custom attribute and prefix",
			config: func(cfg *Config) { cfg.Attribute, cfg.IDPrefix = "correlation_id", "shop" },
			spans:  []spanSpec{{name: "root", trace: 1}},
			want:   map[string]string{"root": "shop-t-4bf92f3577b34da6a3ce929d0e0e4701"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultConfig()
			if tt.config != nil {
				tt.config(cfg)
			}
			p := newPipelines(t, cfg)
			got := p.consumeTraces(t, context.Background(), makeTraces(t, tt.spans...))
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSpansAcrossBatches(t *testing.T) {
	p := newPipelines(t, defaultConfig())
	ctx := context.Background()

	// A child exported before its root keeps the derived id it got...
	got := p.consumeTraces(t, ctx, makeTraces(t, spanSpec{name: "early-child", trace: 1, parent: 1}))
	assert.Equal(t, derivedID(1), got["early-child"])

	// ...the root's explicit id then applies to every later span.
	got = p.consumeTraces(t, ctx,
		makeTraces(t, spanSpec{name: "root", trace: 1, attrs: map[string]any{"http.request.header.x-correlation-id": "req-7"}}),
		makeTraces(t, spanSpec{name: "late-child", trace: 1, parent: 1}),
	)
	assert.Equal(t, map[string]string{"root": "req-7", "late-child": "req-7"}, got)

	// A later non-root explicit id does not replace the root's.
	got = p.consumeTraces(t, ctx,
		makeTraces(t, spanSpec{name: "other", trace: 1, parent: 2, attrs: map[string]any{"request_id": "other"}}),
		makeTraces(t, spanSpec{name: "last", trace: 1, parent: 2}),
	)
	assert.Equal(t, map[string]string{"other": "other", "last": "req-7"}, got)
}

func TestRootReplacesCachedNonRootID(t *testing.T) {
	p := newPipelines(t, defaultConfig())
	ctx := context.Background()
	got := p.consumeTraces(t, ctx,
		makeTraces(t, spanSpec{name: "child", trace: 1, parent: 1, attrs: map[string]any{"request_id": "child-id"}}),
		makeTraces(t, spanSpec{name: "sibling", trace: 1, parent: 1}),
		makeTraces(t, spanSpec{name: "root", trace: 1, attrs: map[string]any{"correlation_id": "root-id"}}),
		makeTraces(t, spanSpec{name: "late", trace: 1, parent: 1}),
	)
	assert.Equal(t, map[string]string{"child": "child-id", "sibling": "child-id", "root": "root-id", "late": "root-id"}, got)
}

// TestBatchTeachesTheCacheTheRootID: the cache learns ids as the batch walks
// its spans; a child's id learned before its root's in the same batch gives
// way to the root's, and a link adopted at the end of the batch is learned
// too.
func TestBatchTeachesTheCacheTheRootID(t *testing.T) {
	p := newPipelines(t, defaultConfig())
	ctx := context.Background()
	got := p.consumeTraces(t, ctx,
		makeTraces(t,
			spanSpec{name: "child", trace: 1, parent: 1, attrs: map[string]any{"request_id": "child-id"}},
			spanSpec{name: "root", trace: 1, attrs: map[string]any{"correlation_id": "root-id"}},
			spanSpec{name: "consumer", trace: 2, links: []byte{1}},
		),
		makeTraces(t,
			spanSpec{name: "late", trace: 1, parent: 1},
			spanSpec{name: "consumer-child", trace: 2, parent: 1},
		),
		// Cached as the root's id, it stays when another root shows up.
		makeTraces(t, spanSpec{name: "retried-root", trace: 1, attrs: map[string]any{"correlation_id": "second-root"}}),
		makeTraces(t, spanSpec{name: "last", trace: 1, parent: 1}),
	)
	assert.Equal(t, map[string]string{
		"child": "child-id", "root": "root-id", "consumer": "root-id",
		"late": "root-id", "consumer-child": "root-id",
		"retried-root": "second-root", "last": "root-id",
	}, got)
}

func TestCachedRootIDStays(t *testing.T) {
	p := newPipelines(t, defaultConfig())
	ctx := context.Background()
	got := p.consumeTraces(t, ctx,
		makeTraces(t, spanSpec{name: "root", trace: 1, attrs: map[string]any{"correlation_id": "first-root"}}),
		makeTraces(t,
			spanSpec{name: "child", trace: 1, parent: 1},
			spanSpec{name: "retried-root", trace: 1, attrs: map[string]any{"correlation_id": "second-root"}},
		),
		makeTraces(t, spanSpec{name: "late", trace: 1, parent: 1}),
	)
	assert.Equal(t, map[string]string{"root": "first-root", "child": "first-root", "retried-root": "second-root", "late": "first-root"}, got)
}

func TestLinkToCachedTrace(t *testing.T) {
	p := newPipelines(t, defaultConfig())
	ctx := context.Background()
	got := p.consumeTraces(t, ctx,
		makeTraces(t, spanSpec{name: "producer", trace: 1, attrs: map[string]any{"correlation_id": "order-42"}}),
		makeTraces(t, spanSpec{name: "consumer", trace: 2, links: []byte{1}}),
		makeTraces(t, spanSpec{name: "consumer-child", trace: 2, parent: 1}),
	)
	assert.Equal(t, map[string]string{"producer": "order-42", "consumer": "order-42", "consumer-child": "order-42"}, got)
}

// TestLinkChainInOneBatch: a consumer of a consumer joins the producer's
// request whatever the order of the spans in the batch.
func TestLinkChainInOneBatch(t *testing.T) {
	producer := spanSpec{name: "producer", trace: 1, attrs: map[string]any{"correlation_id": "req-1"}}
	consumer1 := spanSpec{name: "consumer1", trace: 2, links: []byte{1}}
	consumer2 := spanSpec{name: "consumer2", trace: 3, links: []byte{2}}
	want := map[string]string{"producer": "req-1", "consumer1": "req-1", "consumer2": "req-1"}
	for _, order := range [][]spanSpec{{producer, consumer1, consumer2}, {consumer2, consumer1, producer}, {consumer1, consumer2, producer}} {
		p := newPipelines(t, defaultConfig())
		got := p.consumeTraces(t, context.Background(), makeTraces(t, order...))
		assert.Equal(t, want, got, "order %s, %s, %s", order[0].name, order[1].name, order[2].name)
	}
}

func TestRequestMetadata(t *testing.T) {
	tests := []struct {
		name     string
		metadata map[string][]string
		config   func(*Config)
		want     string
	}{
		{name: "header", metadata: map[string][]string{"X-Correlation-Id": {"md-1"}}, want: "md-1"},
		{name: "second header", metadata: map[string][]string{"x-request-id": {"md-2"}}, want: "md-2"},
		{name: "hostile header", metadata: map[string][]string{"x-correlation-id": {"a b"}}, want: derivedID(2)},
		{name: "baggage", metadata: map[string][]string{"baggage": {"k=v,correlation_id=md-3"}}, want: "md-3"},
		{
			name:     "baggage disabled",
			metadata: map[string][]string{"baggage": {"correlation_id=md-3"}},
			config:   func(cfg *Config) { cfg.ExtractFromBaggage = false },
			want:     derivedID(2),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultConfig()
			if tt.config != nil {
				tt.config(cfg)
			}
			p := newPipelines(t, cfg)
			ctx := client.NewContext(context.Background(), client.Info{Metadata: client.NewMetadata(tt.metadata)})
			got := p.consumeTraces(t, ctx, makeTraces(t,
				spanSpec{name: "own", trace: 1, attrs: map[string]any{"correlation_id": "own"}},
				spanSpec{name: "request", trace: 2},
			))
			assert.Equal(t, map[string]string{"own": "own", "request": tt.want}, got)
		})
	}
}

func TestEnrichSpansFalseStillLearns(t *testing.T) {
	cfg := defaultConfig()
	cfg.EnrichSpans = false
	p := newPipelines(t, cfg)
	ctx := context.Background()
	got := p.consumeTraces(t, ctx, makeTraces(t,
		spanSpec{name: "root", trace: 1, attrs: map[string]any{"request_id": "learned"}},
		spanSpec{name: "child", trace: 1, parent: 1},
	))
	assert.Equal(t, map[string]string{"root": absent, "child": absent}, got)

	logs := p.consumeLogs(t, ctx, makeLogs(t, logSpec{name: "log", trace: 1}))
	assert.Equal(t, "learned", logs["log"])
}

func TestSpansWithoutAnySpans(t *testing.T) {
	p := newPipelines(t, defaultConfig())
	require.NoError(t, p.traces.ConsumeTraces(context.Background(), ptrace.NewTraces()))
	assert.Equal(t, 1, len(p.tracesOut.AllTraces()))
}
