package clickhouse

import (
	"strings"
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Markers prefix every user string the fuzzer puts into a query. If the
// compiler ever spliced a key, value or alias into the SQL text, the marker
// would appear there; bound parameters never show in the text.
const (
	keyMarker   = "KEYmark"
	valueMarker = "VALmark"
	aliasMarker = "ALIASmark"
)

var (
	fuzzFields = []signalstore.Field{signalstore.FieldServiceName, signalstore.FieldSpanName, signalstore.FieldSpanKind,
		signalstore.FieldStatusCode, signalstore.FieldDuration, signalstore.FieldSeverityText, signalstore.FieldSeverityNumber,
		signalstore.FieldBody, signalstore.FieldTraceID, signalstore.FieldCorrelationID, signalstore.FieldAttribute,
		signalstore.FieldResource}
	fuzzOps   = []signalstore.Op{signalstore.OpEq, signalstore.OpNeq, signalstore.OpGt, signalstore.OpGte, signalstore.OpLt, signalstore.OpLte, signalstore.OpContains}
	fuzzFuncs = []signalstore.AggFunc{signalstore.AggCount, signalstore.AggRate, signalstore.AggAvg, signalstore.AggMin,
		signalstore.AggMax, signalstore.AggP50, signalstore.AggP90, signalstore.AggP95, signalstore.AggP99}
)

// fuzzQuery builds a query from the fuzzer's bytes: each byte picks a
// field, op, function or flag, so most inputs are valid queries.
func fuzzQuery(shape []byte, key, value, alias string) *signalstore.Query {
	pick := func(i int) int {
		if len(shape) == 0 {
			return 0
		}
		return int(shape[i%len(shape)])
	}
	q := &signalstore.Query{Signal: signalstore.SignalSpans, Limit: pick(0) * 7}
	if pick(1)%2 == 1 {
		q.Signal = signalstore.SignalLogs
	}
	if pick(2)%3 == 0 {
		q.Interval = signalstore.Duration(time.Duration(1+pick(3)) * time.Minute)
	}
	for i := 0; 8+i*4 <= len(shape) && i < 6; i++ {
		b := shape[4+i*4 : 8+i*4]
		field := fuzzFields[int(b[0])%len(fuzzFields)]
		k := ""
		if field == signalstore.FieldAttribute || field == signalstore.FieldResource {
			k = keyMarker + key
		}
		switch b[1] % 3 {
		case 0:
			v := signalstore.FilterValue(valueMarker + value)
			switch field.Kind() {
			case "duration":
				v = "250ms"
			case "int":
				v = "17"
			}
			if field == signalstore.FieldStatusCode {
				v = signalstore.StatusCodeError
			}
			q.Filters = append(q.Filters, signalstore.Filter{Field: field, Key: k, Op: fuzzOps[int(b[2])%len(fuzzOps)], Value: v})
		case 1:
			q.GroupBy = append(q.GroupBy, signalstore.GroupBy{Field: field, Key: k})
		default:
			agg := signalstore.Aggregation{Func: fuzzFuncs[int(b[2])%len(fuzzFuncs)]}
			if agg.Func != signalstore.AggCount && agg.Func != signalstore.AggRate {
				agg.Field = field
			}
			if b[3]%2 == 1 {
				agg.Alias = aliasMarker + strings.Map(func(r rune) rune {
					if r >= 'a' && r <= 'z' {
						return r
					}
					return 'x'
				}, alias)
			}
			q.Aggregations = append(q.Aggregations, agg)
			if b[3]%4 == 3 {
				q.OrderBy = append(q.OrderBy, signalstore.Order{Column: agg.Column(), Desc: true})
			}
		}
	}
	return q
}

func FuzzCompileQuery(f *testing.F) {
	f.Add([]byte{3, 0, 0, 5, 0, 0, 1, 0, 4, 2, 5, 3}, "http.route", "/cart", "n")
	f.Add([]byte{1, 1, 1, 0, 7, 0, 6, 0, 6, 1, 0, 0, 6, 2, 8, 1}, "k", "' OR 1=1 --", "p")
	f.Add([]byte{0, 0, 3, 9, 10, 0, 0, 0, 11, 1, 0, 0, 4, 2, 6, 3}, "a]b", "?", "x")
	f.Add([]byte{}, "", "", "")
	rs := newReadSQL(NewDefaultConfig())
	f.Fuzz(func(t *testing.T, shape []byte, key, value, alias string) {
		q := fuzzQuery(shape, key, value, alias)
		if err := q.Validate(); err != nil {
			return // the compiler only ever sees validated queries
		}
		cq, err := rs.compileQuery(q, testStart, testEnd)
		if err != nil {
			t.Fatalf("valid query failed to compile: %v\n%+v", err, q)
		}
		for _, marker := range []string{keyMarker, valueMarker, aliasMarker} {
			if strings.Contains(cq.stmt.sql, marker) {
				t.Fatalf("user string in SQL text:\n%s", cq.stmt.sql)
			}
		}
		if n := strings.Count(cq.stmt.sql, "?"); n != len(cq.stmt.args) {
			t.Fatalf("%d placeholders for %d args:\n%s", n, len(cq.stmt.args), cq.stmt.sql)
		}
		if !strings.Contains(cq.stmt.sql, "Timestamp >= "+nanoTime) {
			t.Fatalf("no time predicate:\n%s", cq.stmt.sql)
		}
		if len(cq.columns) != len(cq.nullable) || len(cq.columns) == 0 {
			t.Fatalf("columns %v nullable %v", cq.columns, cq.nullable)
		}
	})
}
