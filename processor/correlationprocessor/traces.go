package correlationprocessor // import "github.com/ollystack/ollystack/processor/correlationprocessor"

import (
	"context"
	"iter"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/ollystack/ollystack/processor/correlationprocessor/internal/idcache"
)

// processTraces first looks every trace of the batch up in the cache, in one
// visit (lookUpTraces). It then reads and writes each span in one pass, while
// its attributes are in the CPU cache, giving a span without its own explicit
// id the id its trace has so far. A span's write is provisional until its
// trace's id is final (the root's explicit id is known); when a later span of
// the batch changes the trace's id (a root after its children, an explicit id
// after derived ones, a link), a fix-up pass rewrites the provisional spans,
// so that every span of a trace in the batch ends up with the same id.
// Finally the cache learns the batch's explicit ids, in one visit (store).
//
// The trace-wide id is, in order of preference: the root span's explicit id
// (a root explicit id already cached stays), the cached id, the first other
// explicit id of the batch, the explicit id of a linked trace, the derived id.
func (c *correlator) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	w := traceWalk{c: c, b: c.getBatch(), req: c.requestID(ctx), now: c.now(), enrich: c.cfg.EnrichSpans}
	defer c.putBatch(w.b)

	w.lookUpTraces(td)
	for span := range allSpans(td) {
		w.span(span)
	}
	w.adoptLinks()
	w.fixUp()
	w.store()
	if w.enrich {
		c.record(ctx, signalTraces, &w.counts)
	}
	return td, nil
}

// allSpans yields every span of td, in order.
func allSpans(td ptrace.Traces) iter.Seq[ptrace.Span] {
	return func(yield func(ptrace.Span) bool) {
		resourceSpans := td.ResourceSpans()
		for i := 0; i < resourceSpans.Len(); i++ {
			scopeSpans := resourceSpans.At(i).ScopeSpans()
			for j := 0; j < scopeSpans.Len(); j++ {
				spans := scopeSpans.At(j).Spans()
				for k := 0; k < spans.Len(); k++ {
					if !yield(spans.At(k)) {
						return
					}
				}
			}
		}
	}
}

// traceWalk is the state of one processTraces call.
type traceWalk struct {
	c      *correlator
	b      *batch
	req    requestID
	now    time.Time
	enrich bool
	counts outcomeCounts
}

func (w *traceWalk) span(span ptrace.Span) {
	traceID := span.TraceID()
	attrs := span.Attributes()
	m := w.c.matcher.find(attrs, traceID)
	applyRequestID(&m, w.req)
	if traceID.IsEmpty() {
		w.write(attrs, &m, m.id, explicitOr(m.id, outcomeNone, m.rejected))
		return
	}
	slot, _ := w.b.slot(traceID)
	tr := &w.b.traces[slot]
	if links := span.Links(); links.Len() > 0 {
		w.recordLinks(slot, traceID, links)
	}
	if m.id != "" {
		w.learnExplicit(tr, m.id, span.ParentSpanID().IsEmpty())
		w.write(attrs, &m, m.id, outcomeExplicit)
		return
	}
	if tr.id == "" && w.c.cfg.GenerateIfMissing {
		tr.setID(w.b.ids.derive(w.c.cfg.IDPrefix, traceID), outcomeDerived)
	}
	if tr.final {
		w.write(attrs, &m, tr.id, explicitOr("", tr.outcome, m.rejected))
		return
	}
	tr.written = true
	if !w.enrich {
		return
	}
	// Provisional: counted, and rewritten if needed, by fixUp.
	w.c.write(attrs, &m, tr.id)
	w.b.items = append(w.b.items, item{attrs: attrs, slot: slot, version: tr.version, rejected: m.rejected})
}

// lookUpTraces gives each trace of the batch its slot, and what the cache
// holds for it, before any span is processed: one visit to the cache for the
// whole batch, whose misses in the CPU caches overlap.
func (w *traceWalk) lookUpTraces(td ptrace.Traces) {
	b := w.b
	for span := range allSpans(td) {
		if traceID := span.TraceID(); !traceID.IsEmpty() {
			if _, isNew := b.slot(traceID); isNew {
				b.entries = append(b.entries, idcache.Entry{TraceID: traceID})
			}
		}
	}
	w.c.cache.GetAll(b.entries, w.now)
	for slot := range b.entries {
		if e := &b.entries[slot]; e.ID != "" {
			tr := &b.traces[slot]
			tr.id, tr.outcome, tr.final, tr.cached = e.ID, outcomePropagated, e.FromRoot, true
		}
	}
}

// learnExplicit applies a span's explicit id to its trace: a root's wins
// unless a root's is already cached; another span's only when the trace has
// no id from the cache or the batch yet. store then teaches it to the cache.
func (w *traceWalk) learnExplicit(tr *traceState, id string, isRoot bool) {
	switch {
	case tr.final:
	case isRoot:
		tr.learn(id, true)
		tr.final = true
	case tr.explicit == "" && !tr.cached:
		tr.learn(id, false)
	}
}

func (w *traceWalk) recordLinks(slot int32, traceID pcommon.TraceID, links ptrace.SpanLinkSlice) {
	for i := 0; i < links.Len(); i++ {
		if linked := links.At(i).TraceID(); !linked.IsEmpty() && linked != traceID {
			w.b.links = append(w.b.links, linkRef{slot: slot, traceID: linked})
		}
	}
}

// adoptLinks gives a trace without any explicit id the explicit id of a
// trace it links to: queue consumers join their producer's request. A trace
// of the batch that adopts an id passes it on to the traces of the batch
// that link to it, whatever the order of their spans: passes repeat while
// one adopts, the later ones over the links still unresolved and reading
// only the batch (what the cache holds was read by the first).
func (w *traceWalk) adoptLinks() {
	pending := w.b.links
	for first := true; len(pending) > 0; first = false {
		unresolved := pending[:0]
		for _, link := range pending {
			tr := &w.b.traces[link.slot]
			if tr.outcome == outcomePropagated {
				continue
			}
			id := ""
			if slot, ok := w.b.slots[link.traceID]; ok && w.b.traces[slot].outcome == outcomePropagated {
				id = w.b.traces[slot].id
			} else if first {
				id, _, _ = w.c.cache.Get(link.traceID, w.now)
			}
			if id == "" {
				unresolved = append(unresolved, link)
				continue
			}
			tr.learn(id, false)
		}
		if len(unresolved) == len(pending) {
			return
		}
		pending = unresolved
	}
}

// fixUp rewrites the provisional spans whose trace's id changed after they
// were written, and counts them.
func (w *traceWalk) fixUp() {
	for i := range w.b.items {
		it := &w.b.items[i]
		tr := &w.b.traces[it.slot]
		if it.version != tr.version {
			// A trace's id only changes to another non-empty id.
			it.attrs.PutStr(w.c.cfg.Attribute, tr.id)
		}
		w.counts[explicitOr("", tr.outcome, it.rejected)]++
	}
}

// store teaches the cache the explicit ids the batch learned, in one visit.
func (w *traceWalk) store() {
	entries := w.b.entries[:0]
	for i := range w.b.traces {
		if tr := &w.b.traces[i]; tr.explicit != "" {
			entries = append(entries, idcache.Entry{TraceID: tr.traceID, ID: tr.explicit, FromRoot: tr.explicitFromRoot})
		}
	}
	w.c.cache.PutAll(entries, w.now)
	w.b.entries = entries
}

func (w *traceWalk) write(attrs pcommon.Map, m *match, id string, oc outcome) {
	if !w.enrich {
		return
	}
	w.c.write(attrs, m, id)
	w.counts[oc]++
}

// explicitOr returns outcomeExplicit for an item with its own id, else the
// outcome of its trace, or rejected when the item carried an invalid id.
func explicitOr(id string, traceOutcome outcome, rejected bool) outcome {
	switch {
	case id != "":
		return outcomeExplicit
	case rejected:
		return outcomeRejected
	}
	return traceOutcome
}
