package nlq

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Summarize writes the one-paragraph summary of an answer from templates,
// without a model: what matched in which window, the leading rows, and the
// comparison if there is one. loc is the reader's time zone for clock
// times.
func Summarize(a *Answer, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	s := &summarizer{a: a, loc: loc, subject: subjectOf(&a.Query)}
	switch {
	case a.Derive == DeriveErrorRate:
		return s.errorRate()
	case !a.Query.IsAggregate():
		return s.raw()
	case len(a.Rows) == 0:
		return fmt.Sprintf("No %s %s.", s.subject, a.Window)
	case a.Query.Interval > 0 && len(a.Query.GroupBy) == 0:
		return s.series()
	case len(a.Query.GroupBy) > 0 || a.Query.Interval > 0:
		return s.groups()
	default:
		return s.totals()
	}
}

type summarizer struct {
	a       *Answer
	loc     *time.Location
	subject string
}

// subjectOf describes what a query selects: "error spans of checkout
// taking longer than 2s".
func subjectOf(q *signalstore.Query) string {
	noun := "spans"
	if q.Signal == signalstore.SignalLogs {
		noun = "log records"
	}
	var pre, post []string
	for _, f := range q.Filters {
		v := string(f.Value)
		switch {
		case f.Field == signalstore.FieldStatusCode && f.Op == signalstore.OpEq:
			pre = append(pre, strings.ToLower(v))
		case f.Field == signalstore.FieldStatusCode && f.Op == signalstore.OpNeq:
			pre = append(pre, "non-"+strings.ToLower(v))
		case f.Field == signalstore.FieldSeverityNumber && f.Op == signalstore.OpGte && v == strconv.Itoa(severityError):
			pre = append(pre, "error")
		case f.Field == signalstore.FieldSeverityNumber && f.Op == signalstore.OpGte && v == strconv.Itoa(severityWarn):
			pre = append(pre, "warning")
		case f.Field == signalstore.FieldSeverityNumber && f.Op == signalstore.OpLt && v == strconv.Itoa(severityError):
			if len(pre) == 0 || pre[len(pre)-1] != "warning" {
				pre = append(pre, "non-error")
			}
		case f.Field == signalstore.FieldSpanKind && f.Op == signalstore.OpEq:
			pre = append(pre, strings.ToLower(v))
		case f.Field == signalstore.FieldServiceName && f.Op == signalstore.OpEq:
			post = append(post, "of "+v)
		case f.Field == signalstore.FieldServiceName && f.Op == signalstore.OpNeq:
			post = append(post, "outside "+v)
		case f.Field == signalstore.FieldSpanName && f.Op == signalstore.OpEq:
			post = append(post, "on "+v)
		case f.Field == signalstore.FieldDuration:
			post = append(post, "taking "+map[signalstore.Op]string{signalstore.OpGt: "longer than", signalstore.OpGte: "at least",
				signalstore.OpLt: "less than", signalstore.OpLte: "at most", signalstore.OpEq: "exactly", signalstore.OpNeq: "other than"}[f.Op]+" "+v)
		case f.Field == signalstore.FieldBody && f.Op == signalstore.OpContains:
			post = append(post, "containing "+quoteText(v, 60))
		default:
			post = append(post, "where "+filterText(f))
		}
	}
	return strings.TrimSpace(strings.Join(append(append(pre, noun), post...), " "))
}

// quoteText quotes telemetry or user text for a summary, shortened and with
// control characters escaped.
func quoteText(s string, n int) string {
	return strconv.Quote(truncate(s, n))
}

func capitalize(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

func (s *summarizer) col(name string) int {
	for i, c := range s.a.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// raw summarizes rows: how many, errors among them, the slowest, and the
// service most of them came from.
func (s *summarizer) raw() string {
	a := s.a
	n := len(a.Rows)
	if n == 0 {
		return fmt.Sprintf("No %s %s.", s.subject, a.Window)
	}
	var sb strings.Builder
	if a.Truncated {
		fmt.Fprintf(&sb, "More than %s %s %s matched; the first %s are shown", formatInt(int64(n)), s.subject, a.Window, formatInt(int64(n)))
	} else {
		fmt.Fprintf(&sb, "Found %s %s %s", formatInt(int64(n)), s.subject, a.Window)
	}
	var details []string
	if c := s.col("status_code"); c >= 0 && !hasFilter(&a.Query, signalstore.FieldStatusCode) {
		errs := 0
		for _, row := range a.Rows {
			if row[c] == signalstore.StatusCodeError {
				errs++
			}
		}
		details = append(details, fmt.Sprintf("%s with status Error", formatInt(int64(errs))))
	}
	if c := s.col("duration"); c >= 0 {
		slowest := -1
		for i, row := range a.Rows {
			if d, ok := row[c].(time.Duration); ok && (slowest < 0 || d > a.Rows[slowest][c].(time.Duration)) {
				slowest = i
			}
		}
		if slowest >= 0 {
			row := a.Rows[slowest]
			details = append(details, fmt.Sprintf("the slowest took %s (%s in %s)", formatDuration(row[c].(time.Duration)),
				truncate(fmt.Sprint(row[s.col("span_name")]), 60), truncate(fmt.Sprint(row[s.col("service_name")]), 60)))
		}
	}
	if c := s.col("service_name"); c >= 0 && !hasFilter(&a.Query, signalstore.FieldServiceName) {
		counts := map[string]int{}
		top := ""
		for _, row := range a.Rows {
			name, _ := row[c].(string)
			counts[name]++
			if counts[name] > counts[top] || (counts[name] == counts[top] && name < top) {
				top = name
			}
		}
		if len(counts) > 1 {
			details = append(details, fmt.Sprintf("most from %s (%s of %s)", truncate(top, 60), formatInt(int64(counts[top])), formatInt(int64(n))))
		} else {
			details = append(details, "all from "+truncate(top, 60))
		}
	}
	if c := s.col("body"); c >= 0 {
		if body, ok := a.Rows[0][c].(string); ok {
			details = append(details, "the first reads "+quoteText(body, 100))
		}
	}
	if len(details) > 0 {
		sb.WriteString(": " + strings.Join(details, "; "))
	}
	sb.WriteString(".")
	return sb.String()
}

func hasFilter(q *signalstore.Query, f signalstore.Field) bool {
	for _, x := range q.Filters {
		if x.Field == f {
			return true
		}
	}
	return false
}

// measures are the aggregation columns of the answer.
func (s *summarizer) measures() map[string]bool {
	m := map[string]bool{}
	for _, ag := range s.a.Query.Aggregations {
		m[ag.Column()] = true
	}
	if s.a.Derive == DeriveErrorRate {
		m["requests"], m["errors"], m["error_rate"] = true, true, true
	}
	return m
}

// compared finds the comparison row with the same groups as row.
func (s *summarizer) compared(row []any) []any {
	c := s.a.Comparison
	if c == nil {
		return nil
	}
	measures := s.measures()
	key := groupKey(s.a.Columns, row, measures)
	for _, r := range c.Rows {
		if groupKey(c.Columns, r, measures) == key {
			return r
		}
	}
	return nil
}

// totals: one row of measures, with the comparison's values.
func (s *summarizer) totals() string {
	row := s.a.Rows[0]
	other := s.compared(row)
	var parts []string
	for i, c := range s.a.Columns {
		part := measureLabel(c.Name) + " " + s.format(c, row[i])
		if other != nil {
			part += fmt.Sprintf(" (%s %s%s)", s.a.Comparison.Label, s.format(c, other[i]), change(row[i], other[i]))
		}
		parts = append(parts, part)
	}
	return fmt.Sprintf("%s, %s: %s.", capitalize(s.a.Window), s.subject, strings.Join(parts, ", "))
}

// groups: the first three groups by the leading measure.
func (s *summarizer) groups() string {
	a := s.a
	lead := s.leadColumn()
	measures := s.measures()
	var groupNames []string
	for _, g := range a.Query.GroupBy {
		groupNames = append(groupNames, groupLabel(g.Column()))
	}
	var items []string
	for _, row := range a.Rows[:min(3, len(a.Rows))] {
		var keys []string
		for i, c := range a.Columns {
			if !measures[c.Name] {
				keys = append(keys, truncate(s.format(c, row[i]), 60))
			}
		}
		item := fmt.Sprintf("%s (%s %s", strings.Join(keys, " / "), measureLabel(a.Columns[lead].Name), s.format(a.Columns[lead], row[lead]))
		if other := s.compared(row); other != nil {
			item += fmt.Sprintf("; %s %s", a.Comparison.Label, s.format(a.Columns[lead], other[lead]))
		}
		items = append(items, item+")")
	}
	return fmt.Sprintf("%s, %s by %s: %s%s.", capitalize(a.Window), s.subject, orList(groupNames), orList(items), s.moreGroups())
}

// moreGroups says how many groups were not listed.
func (s *summarizer) moreGroups() string {
	switch n := len(s.a.Rows); {
	case s.a.Truncated:
		return fmt.Sprintf("; more than %d groups matched", n)
	case n > 3:
		return fmt.Sprintf("; %d groups in all", n)
	}
	return ""
}

// leadColumn is the measure the rows are ordered by, else the first.
func (s *summarizer) leadColumn() int {
	for _, o := range s.a.Query.OrderBy {
		if c := s.col(o.Column); c >= 0 {
			return c
		}
	}
	for i, c := range s.a.Columns {
		if s.measures()[c.Name] {
			return i
		}
	}
	return len(s.a.Columns) - 1
}

// series: the range of the leading measure over time buckets.
func (s *summarizer) series() string {
	a := s.a
	lead := s.leadColumn()
	lo, hi := -1, -1
	var total int64
	for i, row := range a.Rows {
		v, ok := numeric(row[lead])
		if !ok {
			continue
		}
		if lo < 0 || v < mustNumeric(a.Rows[lo][lead]) {
			lo = i
		}
		if hi < 0 || v > mustNumeric(a.Rows[hi][lead]) {
			hi = i
		}
		if n, ok := row[lead].(int64); ok {
			total += n
		}
	}
	label := measureLabel(a.Columns[lead].Name)
	out := fmt.Sprintf("%s, %s in %d buckets of %s", capitalize(a.Window), s.subject, len(a.Rows), time.Duration(a.Query.Interval))
	if lo >= 0 {
		tc := s.col("time")
		out += fmt.Sprintf(": %s ranged from %s (%s) to %s (%s)", label,
			s.format(a.Columns[lead], a.Rows[lo][lead]), s.format(a.Columns[tc], a.Rows[lo][tc]),
			s.format(a.Columns[lead], a.Rows[hi][lead]), s.format(a.Columns[tc], a.Rows[hi][tc]))
		if a.Columns[lead].Name == "count" {
			out += fmt.Sprintf(", %s in all", formatInt(total))
		}
	}
	return out + "."
}

// errorRate: the rate overall, or the highest rates per group.
func (s *summarizer) errorRate() string {
	a := s.a
	req, errs, rate := s.col("requests"), s.col("errors"), s.col("error_rate")
	if req < 0 || len(a.Rows) == 0 {
		return fmt.Sprintf("No %s %s.", s.subject, a.Window)
	}
	describe := func(row []any) string {
		if row[rate] == nil {
			return "no requests"
		}
		return fmt.Sprintf("%s (%s of %s)", formatPercent(row[rate]), formatInt(asInt(row[errs])), formatInt(asInt(row[req])))
	}
	if len(a.Query.GroupBy) == 1 && a.Query.Interval == 0 { // status_code only: one total row
		row := a.Rows[0]
		if row[rate] == nil {
			return fmt.Sprintf("There were no %s %s, so there is no error rate.", s.subject, a.Window)
		}
		out := fmt.Sprintf("%s, the error rate of %s was %s", capitalize(a.Window), s.subject, describe(row))
		if other := s.compared(row); other != nil {
			out += fmt.Sprintf(", against %s %s", describe(other), a.Comparison.Label)
		}
		return out + "."
	}
	var items, groupNames []string
	measures := s.measures()
	for _, row := range a.Rows[:min(3, len(a.Rows))] {
		var keys []string
		for i, c := range a.Columns {
			if !measures[c.Name] {
				keys = append(keys, truncate(s.format(c, row[i]), 60))
			}
		}
		item := strings.Join(keys, " / ") + " " + describe(row)
		if other := s.compared(row); other != nil {
			item += fmt.Sprintf(" against %s %s", formatPercent(other[rate]), a.Comparison.Label)
		}
		items = append(items, item)
	}
	for _, g := range a.Query.GroupBy[:len(a.Query.GroupBy)-1] { // the last is status_code
		groupNames = append(groupNames, groupLabel(g.Column()))
	}
	if a.Query.Interval > 0 {
		groupNames = append([]string{"time"}, groupNames...)
	}
	lead, verb := "the highest error rates", "were"
	switch {
	case a.Query.Interval > 0:
		lead = "the error rates, in time order,"
	case len(a.Rows) == 1:
		lead, verb = "the highest error rate", "was"
	}
	return fmt.Sprintf("%s, %s of %s by %s %s %s%s.", capitalize(a.Window), lead, s.subject, orList(groupNames), verb, orList(items), s.moreGroups())
}

// groupLabel names a group column for people.
func groupLabel(column string) string {
	switch column {
	case "service_name":
		return "service"
	case "span_name":
		return "operation"
	case "status_code":
		return "status"
	case "severity_text":
		return "severity"
	case "span_kind":
		return "span kind"
	}
	return column
}

// format renders a value of a column for people.
func (s *summarizer) format(c signalstore.Column, v any) string {
	switch x := v.(type) {
	case nil:
		return "n/a"
	case int64:
		return formatInt(x)
	case float64:
		switch c.Name {
		case "error_rate":
			return formatPercent(x)
		case "rate":
			return strconv.FormatFloat(x, 'g', 3, 64) + "/s"
		}
		return strconv.FormatFloat(x, 'g', 4, 64)
	case time.Duration:
		return formatDuration(x)
	case time.Time:
		t := x.In(s.loc)
		if time.Duration(s.a.Query.Interval) >= 24*time.Hour {
			return t.Format("Mon 2 Jan")
		}
		return t.Format("15:04")
	case string:
		if x == "" {
			return `""`
		}
		return x
	}
	return fmt.Sprint(v)
}

func formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var sb strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			sb.WriteByte(',')
		}
		sb.WriteRune(r)
	}
	if neg {
		return "-" + sb.String()
	}
	return sb.String()
}

func formatPercent(v any) string {
	f, ok := v.(float64)
	if !ok {
		return "n/a"
	}
	return strconv.FormatFloat(100*f, 'f', 1, 64) + "%"
}

// formatDuration keeps three significant digits (whole seconds at least
// beyond 100s).
func formatDuration(d time.Duration) string {
	unit := time.Duration(1)
	for d/unit >= 1000 && unit < time.Second {
		unit *= 10
	}
	return d.Round(unit).String()
}

func asInt(v any) int64 {
	n, _ := v.(int64)
	return n
}

func numeric(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case time.Duration:
		return float64(x), true
	}
	return 0, false
}

func mustNumeric(v any) float64 {
	f, _ := numeric(v)
	return f
}

// change is the relative change from before to now: " +33%", or "".
func change(now, before any) string {
	a, ok1 := numeric(now)
	b, ok2 := numeric(before)
	if !ok1 || !ok2 || b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return ""
	}
	return fmt.Sprintf(", %+.0f%%", 100*(a-b)/b)
}
