package clickhouse

import (
	"math"
	"strings"
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

// defaultMaxQuerySize is ClickHouse's default max_query_size: the parser
// refuses longer statement text ("Max query size exceeded"), and
// clickhouse-go binds every parameter into the text. A trace id binds to 36
// bytes ('<32 hex>', ), so a read of more than about 7,000 traces (the
// correlate API allows max_traces up to 10,000) would fail.
const defaultMaxQuerySize = 256 << 10

// boundSize is the length of the statement once clickhouse-go has bound its
// parameters as literals (numbers and times counted generously).
func (st statement) boundSize() int {
	n := len(st.sql)
	var add func(v any)
	add = func(v any) {
		switch v := v.(type) {
		case string:
			// quotes, escapes of ' and \, and the ", " of a list
			n += len(v) + strings.Count(v, `'`) + strings.Count(v, `\`) + 4
		case []string:
			for _, e := range v {
				add(e)
			}
		case ch.GroupSet:
			for _, e := range v.Value {
				add(e)
			}
		default:
			n += 32
		}
	}
	for _, a := range st.args {
		add(a)
	}
	return n
}

// maxQuerySize is the max_query_size setting a statement needs, twice its
// bound size, or 0 when the server's default leaves ample room (the
// setting is only sent when needed).
func (st statement) maxQuerySize() int {
	if n := st.boundSize(); n > defaultMaxQuerySize/2 {
		return 2 * n
	}
	return 0
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

// nanoDate is the server-time-zone day of a bound time, for comparing with
// the Date partition key of OllyStack's tables. It is Date32, not Date:
// toDate wraps around (date_time_overflow_behavior 'ignore', the default)
// for days outside [1970-01-01, 2149-06-06], which a caller's bound may be
// (a range from before 1970, an until in 2200, or the epoch itself on a
// server west of UTC), so `Day >= toDate(…)` would turn a wide range into an
// empty one. ClickHouse compares Date with Date32 exactly (since 21.11), and
// a constant Date32 still bounds the Date partition key.
const nanoDate = "toDate32(" + nanoTime + ")"

// window is a closed-open time range in Unix nanoseconds; an open side of a
// signalstore.TimeRange becomes the extreme DateTime64(9) can hold.
type window struct{ start, end int64 }

func windowOf(tr signalstore.TimeRange) window {
	start, end := tr.UnixNanos()
	return window{start: max(start, 0), end: end}
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
