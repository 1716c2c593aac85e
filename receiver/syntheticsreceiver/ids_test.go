package syntheticsreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
)

func TestCorrelationIDFormat(t *testing.T) {
	now := time.UnixMilli(1_760_000_000_000)
	seen := map[string]bool{}
	for range 1000 {
		id := newCorrelationID(now)
		assert.Regexp(t, `^olly-[0-9a-z]+-[0-9a-z]{10}$`, id)
		assert.True(t, correlationid.Valid(id), id)
		_, verdict := correlationid.Check(id)
		assert.Equal(t, correlationid.Accepted, verdict, id)
		_, derived := correlationid.TraceID(id)
		assert.False(t, derived, "an edge-created id is never mistaken for a derived one")
		assert.False(t, seen[id], "ids of one millisecond still differ")
		seen[id] = true
	}
	assert.Contains(t, newCorrelationID(now), "olly-mgj6k3cw-", "the timestamp is unix milliseconds in base 36")
}

func TestPropagationHeaderFormats(t *testing.T) {
	traceID := newTraceID()
	spanID := newSpanID()
	assert.Equal(t, "00-"+traceID.String()+"-"+spanID.String()+"-01", traceparent(traceID, spanID))
	assert.Equal(t, "correlation_id=olly-abc-123,synthetic=true", baggage("olly-abc-123"))
}
