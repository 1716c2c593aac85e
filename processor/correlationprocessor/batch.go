package correlationprocessor // import "github.com/ollystack/ollystack/processor/correlationprocessor"

import (
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
	"github.com/ollystack/ollystack/processor/correlationprocessor/internal/idcache"
)

// maxPooledItems keeps one huge batch from pinning its scratch memory in the
// pool forever.
const maxPooledItems = 1 << 16

// batch is the scratch state of one ConsumeTraces/Logs/Metrics call. Batches
// are pooled, so steady-state processing allocates nothing here.
type batch struct {
	traces []traceState
	slots  map[pcommon.TraceID]int32
	// items are the spans written provisionally.
	items []item
	links []linkRef
	ids   idArena
	// entries are the batch's traces as read from and written to the cache.
	entries []idcache.Entry

	// Spans of one trace usually come together; remembering the last trace
	// skips most map lookups.
	lastTraceID pcommon.TraceID
	lastSlot    int32
	haveLast    bool
}

// traceState is what the batch knows about one trace.
type traceState struct {
	traceID pcommon.TraceID
	// id and outcome are what spans of the trace without their own explicit
	// id get; final means they can no longer change in this batch.
	id      string
	outcome outcome
	final   bool
	// version counts the changes of id after spans were written with it;
	// written tells whether spans were written with the current id.
	version uint32
	written bool
	// explicit is the explicit id the batch learned about the trace, to be
	// cached; explicitFromRoot tells whether it is its root span's.
	explicit         string
	explicitFromRoot bool
	// cached tells whether the cache knew the trace when the batch first saw
	// it.
	cached bool
}

// learn makes id the trace's explicit id.
func (tr *traceState) learn(id string, fromRoot bool) {
	tr.explicit, tr.explicitFromRoot = id, fromRoot
	tr.setID(id, outcomePropagated)
}

func (tr *traceState) setID(id string, oc outcome) {
	if tr.written && id != tr.id {
		tr.version++
		tr.written = false
	}
	tr.id, tr.outcome = id, oc
}

// item is a span written provisionally, to be rewritten if its trace's id
// changes later in the batch.
type item struct {
	attrs    pcommon.Map
	slot     int32
	version  uint32
	rejected bool
}

// linkRef records that a trace links to another trace.
type linkRef struct {
	slot    int32
	traceID pcommon.TraceID
}

func newBatch() *batch {
	return &batch{slots: make(map[pcommon.TraceID]int32)}
}

// slot returns the index of traceID's state, adding it on first sight.
func (b *batch) slot(traceID pcommon.TraceID) (slot int32, isNew bool) {
	if b.haveLast && traceID == b.lastTraceID {
		return b.lastSlot, false
	}
	slot, ok := b.slots[traceID]
	if !ok {
		slot = int32(len(b.traces))
		b.traces = append(b.traces, traceState{traceID: traceID})
		b.slots[traceID] = slot
	}
	b.lastTraceID, b.lastSlot, b.haveLast = traceID, slot, true
	return slot, !ok
}

// reset drops every reference into the processed data so the pool does not
// keep it alive, and reports whether the batch is small enough to pool.
func (b *batch) reset() bool {
	if cap(b.items) > maxPooledItems || cap(b.traces) > maxPooledItems || cap(b.entries) > maxPooledItems {
		return false
	}
	clear(b.traces)
	clear(b.items)
	clear(b.slots)
	clear(b.entries)
	b.traces, b.items, b.links, b.entries = b.traces[:0], b.items[:0], b.links[:0], b.entries[:0]
	b.haveLast = false
	return true
}

// idArenaChunk holds about a hundred derived ids.
const idArenaChunk = 4096

// idArena carves derived ids out of shared chunks: one allocation per chunk
// instead of one per trace. Bytes are only ever appended to a chunk, never
// overwritten, so the strings handed out stay immutable even though the
// arena outlives the batch that used them (it is pooled with the batch); a
// chunk is freed when no id carved from it is referenced any more.
type idArena struct {
	chunk []byte
}

func (a *idArena) derive(prefix string, traceID pcommon.TraceID) string {
	n := correlationid.DerivedLength(len(prefix))
	if cap(a.chunk)-len(a.chunk) < n {
		a.chunk = make([]byte, 0, max(idArenaChunk, n))
	}
	start := len(a.chunk)
	a.chunk = correlationid.AppendDerived(a.chunk, prefix, traceID)
	return unsafe.String(&a.chunk[start], n)
}
