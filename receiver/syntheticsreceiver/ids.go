package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

const base36 = "0123456789abcdefghijklmnopqrstuvwxyz"

// correlationRandomLen gives 36^10 ≈ 3.6e15 ids per millisecond, plenty to
// keep concurrent runs apart.
const correlationRandomLen = 10

// newCorrelationID returns an edge-created id of the form
// olly-{timestamp_base36}-{random} (DESIGN.md), made only of lowercase
// letters, digits and dashes so it is valid in every place ids travel.
func newCorrelationID(now time.Time) string {
	buf := make([]byte, 0, 32)
	buf = append(buf, "olly-"...)
	buf = strconv.AppendInt(buf, now.UnixMilli(), 36)
	buf = append(buf, '-')
	for range correlationRandomLen {
		buf = append(buf, base36[rand.IntN(len(base36))])
	}
	return string(buf)
}

// math/rand/v2's global source is seeded from the OS and safe for
// concurrent use; trace ids need uniqueness, not secrecy.
func newTraceID() pcommon.TraceID {
	var id pcommon.TraceID
	for id.IsEmpty() {
		putUint64(id[:8], rand.Uint64())
		putUint64(id[8:], rand.Uint64())
	}
	return id
}

func newSpanID() pcommon.SpanID {
	var id pcommon.SpanID
	for id.IsEmpty() {
		putUint64(id[:], rand.Uint64())
	}
	return id
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}

// traceparent renders a W3C traceparent header for a sampled span.
func traceparent(traceID pcommon.TraceID, spanID pcommon.SpanID) string {
	buf := make([]byte, 0, 55)
	buf = append(buf, "00-"...)
	buf = hex.AppendEncode(buf, traceID[:])
	buf = append(buf, '-')
	buf = hex.AppendEncode(buf, spanID[:])
	buf = append(buf, "-01"...)
	return string(buf)
}

// baggage renders the W3C baggage header of a synthetic run. The id needs
// no percent-encoding because newCorrelationID uses only [a-z0-9-].
func baggage(correlationID string) string {
	return "correlation_id=" + correlationID + ",synthetic=true"
}
