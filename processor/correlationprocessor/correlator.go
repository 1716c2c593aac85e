package correlationprocessor // import "github.com/ollystack/ollystack/processor/correlationprocessor"

import (
	"context"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
	"github.com/ollystack/ollystack/processor/correlationprocessor/internal/idcache"
	"github.com/ollystack/ollystack/processor/correlationprocessor/internal/metadata"
)

// outcome tells how an item got its correlation id.
type outcome uint8

const (
	// outcomeNone: no id was found or generated; the item is left alone.
	outcomeNone outcome = iota
	// outcomeExplicit: the item carried its own explicit id.
	outcomeExplicit
	// outcomePropagated: the item got the explicit id of its trace (same
	// batch, cache, or a linked trace).
	outcomePropagated
	// outcomeDerived: the item got the id derived from its trace id.
	outcomeDerived
	// outcomeRejected: the item carried an id that failed validation; it was
	// ignored and the item got its trace's id, if any.
	outcomeRejected
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"none", "explicit", "propagated", "derived", "rejected"}

type signal uint8

const (
	signalTraces signal = iota
	signalLogs
	signalMetrics
	numSignals
)

var signalNames = [numSignals]string{"traces", "logs", "metrics"}

type outcomeCounts [numOutcomes]int64

// correlator is shared by the traces, logs and metrics processors of one
// component id, so that all three see the same cache.
type correlator struct {
	cfg             *Config
	matcher         *matcher
	bodyKeys        []source
	metadataHeaders []string
	cache           *idcache.Cache
	telemetry       *metadata.TelemetryBuilder
	// itemOptions are slices, built once, because passing a single option
	// to the variadic Add allocates its slice on every call.
	itemOptions [numSignals][numOutcomes][]metric.AddOption
	now         func() time.Time
	batches     sync.Pool
}

func newCorrelator(set component.TelemetrySettings, cfg *Config) (*correlator, error) {
	telemetry, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	c := &correlator{
		cfg:       cfg,
		matcher:   newMatcher(cfg),
		bodyKeys:  bodyKeys(cfg),
		telemetry: telemetry,
		now:       time.Now,
		batches:   sync.Pool{New: func() any { return newBatch() }},
	}
	for _, h := range cfg.ExtractFromHeaders {
		c.metadataHeaders = append(c.metadataHeaders, strings.ToLower(h))
	}
	for s := range numSignals {
		for o := range numOutcomes {
			c.itemOptions[s][o] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(
				attribute.String(metadata.AttributeSignal, signalNames[s]),
				attribute.String(metadata.AttributeOutcome, outcomeNames[o]),
			))}
		}
	}
	c.cache = idcache.New(cfg.Cache.MaxTraces, cfg.Cache.TTL)
	if err := telemetry.RegisterProcessorCorrelationCacheCallback(c.cacheStats); err != nil {
		telemetry.Shutdown()
		return nil, err
	}
	return c, nil
}

func (c *correlator) cacheStats() metadata.CacheStats {
	entries, evictions := c.cache.Stats()
	return metadata.CacheStats{
		Entries: int64(entries),
		Evictions: map[string]int64{
			"expired":  int64(evictions[idcache.EvictedExpired]),
			"capacity": int64(evictions[idcache.EvictedCapacity]),
		},
	}
}

func (c *correlator) shutdown() {
	c.telemetry.Shutdown()
}

func (c *correlator) getBatch() *batch {
	return c.batches.Get().(*batch)
}

func (c *correlator) putBatch(b *batch) {
	if b.reset() {
		c.batches.Put(b)
	}
}

func (c *correlator) record(ctx context.Context, s signal, counts *outcomeCounts) {
	for o, n := range counts {
		if n > 0 {
			c.telemetry.ProcessorCorrelationItems.Add(ctx, n, c.itemOptions[s][o]...)
		}
	}
}

// requestID reads the explicit id of the request from its metadata, present
// when the receiver runs with include_metadata: true.
func (c *correlator) requestID(ctx context.Context) requestID {
	info := client.FromContext(ctx)
	var req requestID
	for _, header := range c.metadataHeaders {
		for _, value := range info.Metadata.Get(header) {
			switch id, verdict := correlationid.Check(value); verdict {
			case correlationid.Accepted:
				return requestID{id: id}
			case correlationid.Rejected:
				req.rejected = true
			}
		}
	}
	if c.cfg.ExtractFromBaggage {
		for _, value := range info.Metadata.Get(baggageHeader) {
			switch id, verdict := lookupBaggage(value, c.matcher.baggageKeys); verdict {
			case correlationid.Accepted:
				return requestID{id: id}
			case correlationid.Rejected:
				req.rejected = true
			}
		}
	}
	return req
}

// applyRequestID gives an item without an explicit id of its own the id of
// its request.
func applyRequestID(m *match, req requestID) {
	if m.id == "" {
		m.id = req.id
		m.rejected = m.rejected || req.rejected
	}
}

// traceCorrelation returns the id of a trace for items that only know their
// trace id (logs, exemplars): the cached explicit id, else the derived one.
// The answer is memoized per batch.
func (c *correlator) traceCorrelation(b *batch, traceID pcommon.TraceID, now time.Time) (string, outcome) {
	slot, isNew := b.slot(traceID)
	tr := &b.traces[slot]
	if isNew {
		if id, _, ok := c.cache.Get(traceID, now); ok {
			tr.id, tr.outcome = id, outcomePropagated
		} else if c.cfg.GenerateIfMissing {
			tr.id, tr.outcome = b.ids.derive(c.cfg.IDPrefix, traceID), outcomeDerived
		}
	}
	return tr.id, tr.outcome
}

// itemCorrelation decides the id and outcome of an item from its own match
// and, failing that, from its trace.
func (c *correlator) itemCorrelation(b *batch, m *match, traceID pcommon.TraceID, now time.Time) (string, outcome) {
	if m.id != "" {
		return m.id, outcomeExplicit
	}
	id, oc := "", outcomeNone
	if !traceID.IsEmpty() {
		id, oc = c.traceCorrelation(b, traceID, now)
	}
	if m.rejected {
		oc = outcomeRejected
	}
	return id, oc
}

// write sets the processor's attribute to id, skipping the write when it
// already holds id, and removes an invalid value when there is no id to
// replace it with: the processor owns that attribute and never passes on
// hostile values in it.
func (c *correlator) write(attrs pcommon.Map, m *match, id string) {
	switch {
	case id == "":
		if m.targetInvalid {
			attrs.Remove(c.cfg.Attribute)
		}
	case m.hasTarget && !m.targetInvalid && m.targetValue == id:
	default:
		attrs.PutStr(c.cfg.Attribute, id)
	}
}
