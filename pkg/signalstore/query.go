package signalstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Query is the typed query: the only way to ask a backend an ad-hoc
// question. It is shown to users and filled by an LLM from natural language,
// so it is plain JSON with closed vocabularies; every backend compiles it to
// its own SQL with bound parameters after Validate.
//
//	{"signal":"spans","last":"1h",
//	 "filters":[{"field":"service_name","op":"eq","value":"checkout"}],
//	 "group_by":[{"field":"span_name"}],
//	 "aggregations":[{"func":"p95","field":"duration"},{"func":"count"}],
//	 "order_by":[{"column":"p95_duration","desc":true}],"limit":10}
//
// Without aggregations or group-by the query returns raw rows (the
// RawColumns of the signal), newest first.
type Query struct {
	Signal Signal `json:"signal"`
	// Start/End bound the query to [Start, End). Last, if set, means
	// [now-Last, now) and excludes Start/End. With none of them the query
	// covers DefaultQueryWindow.
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
	Last  Duration  `json:"last,omitzero"`

	Filters      []Filter      `json:"filters,omitempty"`
	GroupBy      []GroupBy     `json:"group_by,omitempty"`
	Aggregations []Aggregation `json:"aggregations,omitempty"`
	// Interval, if set, adds a leading "time" column bucketing rows by
	// this width (a time series).
	Interval Duration `json:"interval,omitzero"`
	OrderBy  []Order  `json:"order_by,omitempty"`
	// Limit caps the rows returned; 0 means DefaultQueryLimit.
	Limit int `json:"limit,omitempty"`
}

// Signal names the data a query reads.
type Signal string

// Signals a Query can read.
const (
	SignalSpans Signal = "spans"
	SignalLogs  Signal = "logs"
)

// Field names a column of the read model a query can filter or group on.
type Field string

// Fields. Each is valid for the signals listed in fieldSignals.
const (
	FieldServiceName    Field = "service_name"
	FieldSpanName       Field = "span_name"
	FieldSpanKind       Field = "span_kind"
	FieldStatusCode     Field = "status_code"
	FieldDuration       Field = "duration"
	FieldSeverityText   Field = "severity_text"
	FieldSeverityNumber Field = "severity_number"
	FieldBody           Field = "body"
	FieldTraceID        Field = "trace_id"
	FieldCorrelationID  Field = "correlation_id"
	// FieldAttribute and FieldResource take the attribute name in Key:
	// span attributes for spans, log attributes for logs.
	FieldAttribute Field = "attribute"
	FieldResource  Field = "resource"
)

type fieldKind int

const (
	kindString fieldKind = iota
	kindDuration
	kindInt
)

type fieldSpec struct {
	kind      fieldKind
	signals   []Signal
	groupable bool
	numeric   bool // usable as an aggregation argument
}

var fieldSpecs = map[Field]fieldSpec{
	FieldServiceName:    {kindString, []Signal{SignalSpans, SignalLogs}, true, false},
	FieldSpanName:       {kindString, []Signal{SignalSpans}, true, false},
	FieldSpanKind:       {kindString, []Signal{SignalSpans}, true, false},
	FieldStatusCode:     {kindString, []Signal{SignalSpans}, true, false},
	FieldDuration:       {kindDuration, []Signal{SignalSpans}, false, true},
	FieldSeverityText:   {kindString, []Signal{SignalLogs}, true, false},
	FieldSeverityNumber: {kindInt, []Signal{SignalLogs}, true, true},
	FieldBody:           {kindString, []Signal{SignalLogs}, false, false},
	FieldTraceID:        {kindString, []Signal{SignalSpans, SignalLogs}, true, false},
	FieldCorrelationID:  {kindString, []Signal{SignalSpans, SignalLogs}, true, false},
	FieldAttribute:      {kindString, []Signal{SignalSpans, SignalLogs}, true, false},
	FieldResource:       {kindString, []Signal{SignalSpans, SignalLogs}, true, false},
}

// Kind reports how a field's values are typed: "string", "duration" or
// "int". Backends use it when compiling; "" for unknown fields.
func (f Field) Kind() string {
	spec, ok := fieldSpecs[f]
	if !ok {
		return ""
	}
	switch spec.kind {
	case kindDuration:
		return "duration"
	case kindInt:
		return "int"
	default:
		return "string"
	}
}

// Op is a filter comparison.
type Op string

// Filter operators. Contains is a case-sensitive substring match, for
// string fields only; the ordering operators are for duration and int
// fields.
const (
	OpEq       Op = "eq"
	OpNeq      Op = "neq"
	OpGt       Op = "gt"
	OpGte      Op = "gte"
	OpLt       Op = "lt"
	OpLte      Op = "lte"
	OpContains Op = "contains"
)

// Filter is one condition; a query's filters are ANDed.
type Filter struct {
	Field Field `json:"field"`
	// Key is the attribute name for FieldAttribute and FieldResource.
	Key   string      `json:"key,omitempty"`
	Op    Op          `json:"op"`
	Value FilterValue `json:"value"`
}

// FilterValue is a filter operand. JSON accepts a string or a number; a
// duration is written as a Go duration string ("250ms") or integer
// nanoseconds.
type FilterValue string

// UnmarshalJSON accepts strings and numbers.
func (v *FilterValue) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = FilterValue(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("filter value must be a string or a number: %w", err)
	}
	*v = FilterValue(n.String())
	return nil
}

// DurationValue parses the value of a duration filter.
func (v FilterValue) DurationValue() (time.Duration, error) {
	if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		return time.Duration(n), nil
	}
	return time.ParseDuration(string(v))
}

// IntValue parses the value of an int filter.
func (v FilterValue) IntValue() (int64, error) {
	return strconv.ParseInt(string(v), 10, 64)
}

// GroupBy names a grouping column. For attributes, Key names the attribute
// and the column is called "attribute.<key>" / "resource.<key>".
type GroupBy struct {
	Field Field  `json:"field"`
	Key   string `json:"key,omitempty"`
}

// Column is the result column name of the group-by.
func (g GroupBy) Column() string {
	if g.Field == FieldAttribute || g.Field == FieldResource {
		return string(g.Field) + "." + g.Key
	}
	return string(g.Field)
}

// AggFunc is an aggregation function.
type AggFunc string

// Aggregation functions. Count and Rate (count per second over the query
// window, or over Interval when set) take no field; the others need a
// numeric field (duration for spans, severity_number for logs).
const (
	AggCount AggFunc = "count"
	AggRate  AggFunc = "rate"
	AggAvg   AggFunc = "avg"
	AggMin   AggFunc = "min"
	AggMax   AggFunc = "max"
	AggP50   AggFunc = "p50"
	AggP90   AggFunc = "p90"
	AggP95   AggFunc = "p95"
	AggP99   AggFunc = "p99"
)

// Quantile returns the quantile of a percentile function, or 0.
func (f AggFunc) Quantile() float64 {
	switch f {
	case AggP50:
		return 0.50
	case AggP90:
		return 0.90
	case AggP95:
		return 0.95
	case AggP99:
		return 0.99
	}
	return 0
}

var aggFuncs = map[AggFunc]bool{
	AggCount: false, AggRate: false, // false: takes no field
	AggAvg: true, AggMin: true, AggMax: true,
	AggP50: true, AggP90: true, AggP95: true, AggP99: true,
}

// Aggregation is one computed column.
type Aggregation struct {
	Func  AggFunc `json:"func"`
	Field Field   `json:"field,omitempty"`
	// Alias names the result column; by default "<func>" for count and
	// rate and "<func>_<field>" otherwise.
	Alias string `json:"alias,omitempty"`
}

// Column is the result column name of the aggregation.
func (a Aggregation) Column() string {
	if a.Alias != "" {
		return a.Alias
	}
	if a.Field == "" {
		return string(a.Func)
	}
	return string(a.Func) + "_" + string(a.Field)
}

// Order sorts the result by one of its columns.
type Order struct {
	Column string `json:"column"`
	Desc   bool   `json:"desc,omitempty"`
}

// Limits of the typed query.
const (
	DefaultQueryLimit  = 100
	MaxQueryLimit      = 10000
	DefaultQueryWindow = time.Hour
	maxFilters         = 32
	maxGroupBy         = 8
	maxAggregations    = 16
	maxKeyLen          = 256
	maxValueLen        = 4096
	maxBuckets         = 10000
)

// RawColumns are the columns of a query without aggregations or group-by.
var RawColumns = map[Signal][]Column{
	SignalSpans: {
		{"timestamp", ColumnTime}, {"trace_id", ColumnString}, {"span_id", ColumnString},
		{"service_name", ColumnString}, {"span_name", ColumnString}, {"span_kind", ColumnString},
		{"duration", ColumnDuration}, {"status_code", ColumnString}, {"correlation_id", ColumnString},
	},
	SignalLogs: {
		{"timestamp", ColumnTime}, {"trace_id", ColumnString}, {"span_id", ColumnString},
		{"service_name", ColumnString}, {"severity_text", ColumnString}, {"severity_number", ColumnInt},
		{"body", ColumnString}, {"correlation_id", ColumnString},
	},
}

// Validate checks the query against the vocabulary and limits. Backends call
// it before compiling; a query that passes compiles on every backend.
func (q *Query) Validate() error {
	var errs []error
	if q.Signal != SignalSpans && q.Signal != SignalLogs {
		errs = append(errs, fmt.Errorf("signal %q: want %q or %q", q.Signal, SignalSpans, SignalLogs))
	}
	if q.Last < 0 {
		errs = append(errs, errors.New("last must not be negative"))
	}
	if q.Last > 0 && (!q.Start.IsZero() || !q.End.IsZero()) {
		errs = append(errs, errors.New("last excludes start and end"))
	}
	if !q.Start.IsZero() && !q.End.IsZero() && !q.Start.Before(q.End) {
		errs = append(errs, errors.New("start must be before end"))
	}
	// Backends compare Unix nanoseconds, which wrap outside these years.
	for i, t := range []time.Time{q.Start, q.End} {
		if !t.IsZero() && !Storable(t) {
			errs = append(errs, fmt.Errorf("%s %s: must lie between the years 1678 and 2262",
				[]string{"start", "end"}[i], t.Format(time.RFC3339)))
		}
	}
	if q.Limit < 0 || q.Limit > MaxQueryLimit {
		errs = append(errs, fmt.Errorf("limit %d: want 0..%d", q.Limit, MaxQueryLimit))
	}
	if len(q.Filters) > maxFilters {
		errs = append(errs, fmt.Errorf("at most %d filters", maxFilters))
	}
	if len(q.GroupBy) > maxGroupBy {
		errs = append(errs, fmt.Errorf("at most %d group_by entries", maxGroupBy))
	}
	if len(q.Aggregations) > maxAggregations {
		errs = append(errs, fmt.Errorf("at most %d aggregations", maxAggregations))
	}
	if q.Interval < 0 {
		errs = append(errs, errors.New("interval must not be negative"))
	} else if q.Interval > 0 {
		if time.Duration(q.Interval) < time.Second {
			errs = append(errs, errors.New("interval must be at least 1s"))
		} else if start, end := q.Window(time.Now()); end.Sub(start)/time.Duration(q.Interval) > maxBuckets {
			errs = append(errs, fmt.Errorf("interval too small: more than %d buckets", maxBuckets))
		}
	}
	for i, f := range q.Filters {
		if err := q.validateFilter(f); err != nil {
			errs = append(errs, fmt.Errorf("filters[%d]: %w", i, err))
		}
	}
	columns := map[string]bool{}
	if q.Interval > 0 {
		columns["time"] = true
	}
	for i, g := range q.GroupBy {
		if err := q.validateField(g.Field, g.Key); err != nil {
			errs = append(errs, fmt.Errorf("group_by[%d]: %w", i, err))
			continue
		}
		if !fieldSpecs[g.Field].groupable {
			errs = append(errs, fmt.Errorf("group_by[%d]: field %q cannot be grouped on", i, g.Field))
			continue
		}
		if columns[g.Column()] {
			errs = append(errs, fmt.Errorf("group_by[%d]: duplicate column %q", i, g.Column()))
		}
		columns[g.Column()] = true
	}
	for i, a := range q.Aggregations {
		if err := q.validateAggregation(a); err != nil {
			errs = append(errs, fmt.Errorf("aggregations[%d]: %w", i, err))
			continue
		}
		if columns[a.Column()] {
			errs = append(errs, fmt.Errorf("aggregations[%d]: duplicate column %q", i, a.Column()))
		}
		columns[a.Column()] = true
	}
	if !q.IsAggregate() {
		for _, c := range RawColumns[q.Signal] {
			columns[c.Name] = true
		}
	}
	for i, o := range q.OrderBy {
		if !columns[o.Column] {
			errs = append(errs, fmt.Errorf("order_by[%d]: unknown column %q", i, o.Column))
		}
	}
	return errors.Join(errs...)
}

// IsAggregate reports whether the query groups or aggregates (as opposed to
// returning raw rows).
func (q *Query) IsAggregate() bool {
	return len(q.GroupBy) > 0 || len(q.Aggregations) > 0 || q.Interval > 0
}

// Window resolves the query's time range against now.
func (q *Query) Window(now time.Time) (start, end time.Time) {
	switch {
	case q.Last > 0:
		return now.Add(-time.Duration(q.Last)), now
	case q.Start.IsZero() && q.End.IsZero():
		return now.Add(-DefaultQueryWindow), now
	case q.End.IsZero():
		return q.Start, now
	case q.Start.IsZero():
		return q.End.Add(-DefaultQueryWindow), q.End
	default:
		return q.Start, q.End
	}
}

// EffectiveLimit is Limit with the default applied.
func (q *Query) EffectiveLimit() int {
	if q.Limit <= 0 {
		return DefaultQueryLimit
	}
	return q.Limit
}

func (q *Query) validateField(f Field, key string) error {
	spec, ok := fieldSpecs[f]
	if !ok {
		return fmt.Errorf("unknown field %q", f)
	}
	if !containsSignal(spec.signals, q.Signal) {
		return fmt.Errorf("field %q does not apply to signal %q", f, q.Signal)
	}
	needsKey := f == FieldAttribute || f == FieldResource
	switch {
	case needsKey && key == "":
		return fmt.Errorf("field %q needs a key", f)
	case !needsKey && key != "":
		return fmt.Errorf("field %q takes no key", f)
	case needsKey:
		return validateKey(key)
	}
	return nil
}

// validateKey keeps attribute names printable, short, and free of the
// quote characters that attribute-path syntaxes (SQLite JSON paths,
// ClickHouse map keys are bound, but paths are not) treat specially.
func validateKey(key string) error {
	if len(key) > maxKeyLen {
		return fmt.Errorf("key longer than %d bytes", maxKeyLen)
	}
	if !utf8.ValidString(key) {
		return errors.New("key is not valid UTF-8")
	}
	for _, r := range key {
		if unicode.IsControl(r) || r == '"' || r == '\\' {
			return fmt.Errorf("key %q contains a quote, backslash or control character", key)
		}
	}
	return nil
}

func (q *Query) validateFilter(f Filter) error {
	if err := q.validateField(f.Field, f.Key); err != nil {
		return err
	}
	if len(f.Value) > maxValueLen {
		return fmt.Errorf("value longer than %d bytes", maxValueLen)
	}
	if !utf8.ValidString(string(f.Value)) {
		return errors.New("value is not valid UTF-8")
	}
	kind := fieldSpecs[f.Field].kind
	switch f.Op {
	case OpEq, OpNeq:
	case OpGt, OpGte, OpLt, OpLte:
		if kind == kindString {
			return fmt.Errorf("op %q needs a duration or int field, not %q", f.Op, f.Field)
		}
	case OpContains:
		if kind != kindString {
			return fmt.Errorf("op %q needs a string field, not %q", f.Op, f.Field)
		}
		if f.Value == "" {
			return errors.New("contains needs a non-empty value")
		}
	default:
		return fmt.Errorf("unknown op %q", f.Op)
	}
	switch kind {
	case kindDuration:
		d, err := f.Value.DurationValue()
		if err != nil {
			return fmt.Errorf("value %q is not a duration: %w", f.Value, err)
		}
		if d < 0 {
			return fmt.Errorf("value %q: duration must not be negative", f.Value)
		}
	case kindInt:
		if _, err := f.Value.IntValue(); err != nil {
			return fmt.Errorf("value %q is not an integer: %w", f.Value, err)
		}
	}
	if f.Field == FieldStatusCode && f.Op != OpContains {
		switch string(f.Value) {
		case StatusCodeUnset, StatusCodeOk, StatusCodeError:
		default:
			return fmt.Errorf("status_code %q: want %q, %q or %q", f.Value, StatusCodeUnset, StatusCodeOk, StatusCodeError)
		}
	}
	return nil
}

func (q *Query) validateAggregation(a Aggregation) error {
	takesField, ok := aggFuncs[a.Func]
	if !ok {
		return fmt.Errorf("unknown func %q", a.Func)
	}
	if a.Alias != "" && !isIdentifier(a.Alias) {
		return fmt.Errorf("alias %q: want letters, digits and _ (at most 64)", a.Alias)
	}
	if !takesField {
		if a.Field != "" {
			return fmt.Errorf("func %q takes no field", a.Func)
		}
		return nil
	}
	if a.Field == "" {
		return fmt.Errorf("func %q needs a field", a.Func)
	}
	if err := q.validateField(a.Field, ""); err != nil {
		return err
	}
	if !fieldSpecs[a.Field].numeric {
		return fmt.Errorf("func %q needs a numeric field, not %q", a.Func, a.Field)
	}
	return nil
}

func isIdentifier(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		isLetter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		isDigit := r >= '0' && r <= '9'
		if !isLetter && !(isDigit && i > 0) {
			return false
		}
	}
	return true
}

func containsSignal(list []Signal, s Signal) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ParseQuery decodes a typed query from JSON, rejecting unknown fields and
// trailing data, and validates it.
func ParseQuery(data []byte) (*Query, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var q Query
	if err := dec.Decode(&q); err != nil {
		return nil, fmt.Errorf("decode query: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode query: trailing data after the query object")
	}
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("invalid query: %w", err)
	}
	return &q, nil
}

// Duration is a time.Duration that JSON spells as a Go duration string
// ("15m") and also accepts integer nanoseconds.
type Duration time.Duration

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON accepts "15m" or 900000000000.
func (d *Duration) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		parsed, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		*d = Duration(parsed)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration must be a string like \"15m\" or integer nanoseconds: %w", err)
	}
	*d = Duration(n)
	return nil
}

// ColumnType is the type of a result column's values.
type ColumnType string

// Column types and the Go types their values have in QueryResult.Rows.
const (
	ColumnString   ColumnType = "string"   // string
	ColumnInt      ColumnType = "int"      // int64
	ColumnFloat    ColumnType = "float"    // float64
	ColumnTime     ColumnType = "time"     // time.Time
	ColumnDuration ColumnType = "duration" // time.Duration (JSON: nanoseconds)
)

// Column describes one result column.
type Column struct {
	Name string     `json:"name"`
	Type ColumnType `json:"type"`
}

// QueryResult is rows of named columns. Each row has one value per column,
// typed as the column's ColumnType says (nil for SQL NULL, e.g. the average
// of no rows).
type QueryResult struct {
	Columns []Column `json:"columns"`
	Rows    [][]any  `json:"rows"`
	// Truncated is true when more rows matched than Limit.
	Truncated bool `json:"truncated,omitempty"`
}
