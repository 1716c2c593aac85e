package signalstore

import (
	"slices"
	"testing"
	"time"
)

func TestFilterBindValue(t *testing.T) {
	for _, tc := range []struct {
		f    Filter
		want any
	}{
		{Filter{Field: FieldDuration, Op: OpGt, Value: "250ms"}, int64(250 * time.Millisecond)},
		{Filter{Field: FieldDuration, Op: OpGt, Value: "1000"}, int64(1000)},
		{Filter{Field: FieldSeverityNumber, Op: OpGte, Value: "17"}, int64(17)},
		{Filter{Field: FieldTraceID, Op: OpEq, Value: "5B8EFFF798038103D269B633813FC60C"}, "5b8efff798038103d269b633813fc60c"},
		{Filter{Field: FieldServiceName, Op: OpEq, Value: "Checkout"}, "Checkout"},
	} {
		got, err := tc.f.BindValue()
		if err != nil || got != tc.want {
			t.Errorf("%v: got %#v, %v; want %#v", tc.f, got, err, tc.want)
		}
	}
	if _, err := (Filter{Field: FieldSeverityNumber, Value: "x"}).BindValue(); err == nil {
		t.Error("non-integer severity_number: want an error")
	}
}

func TestResultColumnTypes(t *testing.T) {
	if got := (GroupBy{Field: FieldSeverityNumber}).ColumnType(); got != ColumnInt {
		t.Errorf("group by severity_number: %s", got)
	}
	if got := (GroupBy{Field: FieldAttribute, Key: "k"}).ColumnType(); got != ColumnString {
		t.Errorf("group by attribute: %s", got)
	}
	for _, tc := range []struct {
		a    Aggregation
		want ColumnType
	}{
		{Aggregation{Func: AggCount}, ColumnInt},
		{Aggregation{Func: AggRate}, ColumnFloat},
		{Aggregation{Func: AggAvg, Field: FieldDuration}, ColumnDuration},
		{Aggregation{Func: AggMin, Field: FieldDuration}, ColumnDuration},
		{Aggregation{Func: AggP99, Field: FieldDuration}, ColumnDuration},
		{Aggregation{Func: AggAvg, Field: FieldSeverityNumber}, ColumnFloat},
		{Aggregation{Func: AggMin, Field: FieldSeverityNumber}, ColumnInt},
		{Aggregation{Func: AggMax, Field: FieldSeverityNumber}, ColumnInt},
		{Aggregation{Func: AggP50, Field: FieldSeverityNumber}, ColumnFloat},
	} {
		if got := tc.a.ColumnType(); got != tc.want {
			t.Errorf("%s(%s): %s, want %s", tc.a.Func, tc.a.Field, got, tc.want)
		}
	}
}

func TestRateSeconds(t *testing.T) {
	start := time.Unix(1000, 0)
	q := Query{}
	if got := q.RateSeconds(start, start.Add(time.Minute)); got != 60 {
		t.Errorf("window: %v", got)
	}
	if got := q.RateSeconds(start, start); got != 1e-9 {
		t.Errorf("empty window: %v", got)
	}
	q.Interval = Duration(10 * time.Second)
	if got := q.RateSeconds(start, start.Add(time.Minute)); got != 10 {
		t.Errorf("interval: %v", got)
	}
}

func TestExplicitOrder(t *testing.T) {
	q := Query{OrderBy: []Order{{Column: "count", Desc: true}, {Column: "missing"}, {Column: "span_name"}}}
	columns := []Column{{"span_name", ColumnString}, {"count", ColumnInt}}
	want := []ColumnOrder{{Index: 1, Desc: true}, {Index: 0}}
	if got := q.ExplicitOrder(columns); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
