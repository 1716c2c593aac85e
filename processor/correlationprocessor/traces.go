package correlationprocessor // import "github.com/ollystack/ollystack/processor/correlationprocessor"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// processTraces reads and writes each span in one pass, while its attributes
// are in the CPU cache, giving a span without its own explicit id the id its
// trace has so far. A span's write is provisional until its trace's id is
// final (the root's explicit id is known); when a later span of the batch
// changes the trace's id (a root after its children, an explicit id after
// derived ones, a link), a fix-up pass rewrites the provisional spans, so that
// every span of a trace in the batch ends up with the same id.
//
// The trace-wide id is, in order of preference: the root span's explicit id
// (a root explicit id already cached stays), the cached id, the first other
// explicit id of the batch, the explicit id of a linked trace, the derived id.
func (c *correlator) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	w := traceWalk{c: c, b: c.getBatch(), req: c.requestID(ctx), now: c.now(), enrich: c.cfg.EnrichSpans}
	defer c.putBatch(w.b)

	resourceSpans := td.ResourceSpans()
	for i := 0; i < resourceSpans.Len(); i++ {
		scopeSpans := resourceSpans.At(i).ScopeSpans()
		for j := 0; j < scopeSpans.Len(); j++ {
			spans := scopeSpans.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				w.span(spans.At(k))
			}
		}
	}
	w.adoptLinks()
	w.fixUp()
	if w.enrich {
		c.record(ctx, signalTraces, &w.counts)
	}
	return td, nil
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
	explicitRoot := m.id != "" && span.ParentSpanID().IsEmpty()
	slot := w.trace(traceID, explicitRoot)
	tr := &w.b.traces[slot]
	if links := span.Links(); links.Len() > 0 {
		w.recordLinks(slot, traceID, links)
	}
	if m.id != "" {
		w.learnExplicit(tr, m.id, explicitRoot)
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

// trace returns the slot of traceID, looking its cached id up on first
// sight, but for a root span with an explicit id: learnExplicit's Put then
// learns the cached id in the same visit to the cache.
func (w *traceWalk) trace(traceID pcommon.TraceID, explicitRoot bool) int32 {
	slot, isNew := w.b.slot(traceID)
	if isNew && !explicitRoot {
		tr := &w.b.traces[slot]
		id, fromRoot, ok := w.c.cache.Get(traceID, w.now)
		if ok {
			tr.id, tr.outcome, tr.final, tr.cached = id, outcomePropagated, fromRoot, true
		}
	}
	return slot
}

// learnExplicit applies a span's explicit id to its trace: a root's wins
// unless a root's is already cached (Put then returns that one); another
// span's only when the trace has no explicit id yet. The cache learns it at
// once, in the visit to the cache that looks the trace up (a root) or while
// the trace's set is still in the CPU cache from that lookup (another span);
// a child's id cached before its root's in the same batch is simply replaced.
func (w *traceWalk) learnExplicit(tr *traceState, id string, isRoot bool) {
	switch {
	case tr.final:
	case isRoot:
		tr.explicit = w.c.cache.Put(tr.traceID, id, true, w.now)
		tr.setID(tr.explicit, outcomePropagated)
		tr.final = true
	case tr.explicit == "" && !tr.cached:
		tr.explicit = w.c.cache.Put(tr.traceID, id, false, w.now)
		tr.setID(tr.explicit, outcomePropagated)
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
			tr.explicit = w.c.cache.Put(tr.traceID, id, false, w.now)
			tr.setID(tr.explicit, outcomePropagated)
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
