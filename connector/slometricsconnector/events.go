package slometricsconnector // import "github.com/ollystack/ollystack/connector/slometricsconnector"

import (
	"cmp"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// badEventRingSize bounds the recent bad events kept per SLO for exemplars and
// for the correlation ids of alert logs.
const badEventRingSize = 128

// maxCorrelationIDLength is the longest correlation id kept, the bound of
// processor/correlationprocessor/correlationid.MaxLength. A longer value is
// no id the correlation processor wrote; keeping it would let a client's
// spans hold badEventRingSize huge strings per SLO, emitted as exemplars
// and alert attributes and saved on every flush.
const maxCorrelationIDLength = 128

// badEvent names one bad span.
type badEvent struct {
	at            pcommon.Timestamp // when the connector counted it
	traceID       pcommon.TraceID
	spanID        pcommon.SpanID
	correlationID string
	duration      int64 // nanoseconds
}

// badEventRing keeps the most recent bad events, overwriting the oldest.
type badEventRing struct {
	events [badEventRingSize]badEvent
	next   int
	size   int
}

func (r *badEventRing) add(e badEvent) {
	r.events[r.next] = e
	r.next = (r.next + 1) % badEventRingSize
	r.size = min(r.size+1, badEventRingSize)
}

func newBadEvent(at pcommon.Timestamp, span ptrace.Span) badEvent {
	e := badEvent{at: at, traceID: span.TraceID(), spanID: span.SpanID(), duration: spanDuration(span)}
	if v, ok := span.Attributes().Get(attrCorrelationID); ok {
		if id := v.AsString(); len(id) <= maxCorrelationIDLength {
			// Cloned so a kept event does not pin the whole request in memory.
			e.correlationID = strings.Clone(id)
		}
	}
	return e
}

// recent returns up to limit events counted at or after since, newest first.
func (r *badEventRing) recent(since pcommon.Timestamp, limit int) []badEvent {
	var out []badEvent
	for i := 1; i <= r.size && len(out) < limit; i++ {
		e := r.events[(r.next-i+badEventRingSize)%badEventRingSize]
		if e.at < since {
			break // events are added in time order
		}
		out = append(out, e)
	}
	return out
}

// topCorrelationIDs ranks the correlation ids of the bad events counted at or
// after since by how many bad events they had, then by recency.
func (r *badEventRing) topCorrelationIDs(since pcommon.Timestamp, limit int) []string {
	type ranked struct {
		id     string
		count  int
		newest int // position in recency order, 0 = newest
	}
	byID := map[string]*ranked{}
	var order []*ranked
	for i, e := range r.recent(since, r.size) {
		if e.correlationID == "" {
			continue
		}
		if c, ok := byID[e.correlationID]; ok {
			c.count++
			continue
		}
		c := &ranked{id: e.correlationID, count: 1, newest: i}
		byID[e.correlationID] = c
		order = append(order, c)
	}
	slices.SortStableFunc(order, func(a, b *ranked) int {
		return cmp.Or(cmp.Compare(b.count, a.count), cmp.Compare(a.newest, b.newest))
	})
	ids := make([]string, 0, min(limit, len(order)))
	for _, c := range order[:min(limit, len(order))] {
		ids = append(ids, c.id)
	}
	return ids
}
