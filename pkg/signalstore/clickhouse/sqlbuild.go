package clickhouse

import (
	"math"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// statement is SQL text with positional parameters. clickhouse-go binds each
// '?' to its argument as a quoted, escaped literal; the SQL text itself only
// ever contains fixed fragments of this package and validated, quoted
// identifiers.
type statement struct {
	sql  string
	args []any
}

// groupSet binds a list for `x IN ?` as ('a', 'b'). Callers never pass an
// empty list (an empty IN () is a syntax error); they return early instead.
func groupSet(values []string) ch.GroupSet {
	set := ch.GroupSet{Value: make([]any, len(values))}
	for i, v := range values {
		set.Value[i] = v
	}
	return set
}

// Times are bound as Unix nanoseconds and converted by the server with
// fromUnixTimestamp64Nano, which is exact for DateTime64(9) and independent
// of the client's and server's time zones. The bound literal parses as
// UInt64, which older servers refuse there: hence toInt64.
const nanoTime = "fromUnixTimestamp64Nano(toInt64(?))"

// window is a closed-open time range in Unix nanoseconds; an open side of a
// signalstore.TimeRange becomes the extreme DateTime64(9) can hold.
type window struct{ start, end int64 }

func windowOf(tr signalstore.TimeRange) window {
	w := window{start: 0, end: math.MaxInt64}
	if !tr.Start.IsZero() {
		w.start = max(tr.Start.UnixNano(), 0)
	}
	if !tr.End.IsZero() {
		w.end = tr.End.UnixNano()
	}
	return w
}

// intersect narrows w to [start, end).
func (w window) intersect(start, end int64) window {
	return window{start: max(w.start, start), end: min(w.end, end)}
}

func (w window) empty() bool { return w.start >= w.end }

// widen grows the window by d on both sides without overflowing.
func (w window) widen(d time.Duration) window {
	out := w
	if out.start > int64(d) {
		out.start -= int64(d)
	} else {
		out.start = 0
	}
	if out.end < math.MaxInt64-int64(d) {
		out.end += int64(d)
	} else {
		out.end = math.MaxInt64
	}
	return out
}

// traceIDStrings spells trace ids as the exporter stores them (lowercase
// hex), dropping zero and duplicate ids.
func traceIDStrings(ids []signalstore.TraceID) []string {
	out := make([]string, 0, len(ids))
	seen := make(map[signalstore.TraceID]bool, len(ids))
	for _, id := range ids {
		if id.IsEmpty() || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id.String())
	}
	return out
}
