package nlq

import (
	"fmt"
	"strings"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// explain says in words what a plan's query does. It is computed from the
// typed query alone, so a model's plan is explained the same way as the
// parser's and the explanation cannot drift from what runs.
func explain(p *Plan, notes []string) string {
	var sb strings.Builder
	sb.WriteString(describeQuery(&p.Query, p.Now))
	if p.Derive == DeriveErrorRate {
		sb.WriteString(" The error rate is the spans with status Error divided by all spans, from the counts per status code")
		if p.Top > 0 {
			fmt.Fprintf(&sb, "; the %d highest rates are kept", p.Top)
		}
		sb.WriteString(".")
	}
	if p.Compare != nil {
		fmt.Fprintf(&sb, " Compared with the same query %s.", windowPhrase(p.Compare, p.Now))
	}
	for _, n := range notes {
		sb.WriteString(" Note: " + n + ".")
	}
	if p.Source == SourceModel {
		sb.WriteString(" Translated by the language model and validated.")
	}
	return sb.String()
}

// describeQuery renders a typed query as one sentence.
func describeQuery(q *signalstore.Query, now time.Time) string {
	var sb strings.Builder
	if q.IsAggregate() {
		var measures []string
		for _, a := range q.Aggregations {
			measures = append(measures, measureLabel(a.Column()))
		}
		fmt.Fprintf(&sb, "Computes %s of %s", orList(measures), q.Signal)
	} else {
		fmt.Fprintf(&sb, "Lists %s", q.Signal)
	}
	if len(q.Filters) > 0 {
		conds := make([]string, len(q.Filters))
		for i, f := range q.Filters {
			conds[i] = filterText(f)
		}
		sb.WriteString(" where " + strings.Join(conds, " and "))
	}
	sb.WriteString(" " + windowPhrase(q, now))
	if len(q.GroupBy) > 0 {
		cols := make([]string, len(q.GroupBy))
		for i, g := range q.GroupBy {
			cols[i] = g.Column()
		}
		sb.WriteString(", grouped by " + strings.Join(cols, " and "))
	}
	if q.Interval > 0 {
		sb.WriteString(", in buckets of " + time.Duration(q.Interval).String())
	}
	for i, o := range q.OrderBy {
		if i == 0 {
			sb.WriteString(", ordered by ")
		} else {
			sb.WriteString(" then ")
		}
		dir := "ascending"
		if o.Desc {
			dir = "descending"
		}
		sb.WriteString(o.Column + " " + dir)
	}
	if len(q.OrderBy) == 0 && !q.IsAggregate() {
		sb.WriteString(", newest first")
	}
	switch {
	case q.Limit == 1:
		sb.WriteString(", the first row only")
	case q.Limit > 0:
		fmt.Fprintf(&sb, ", at most %d rows", q.Limit)
	}
	sb.WriteString(".")
	return sb.String()
}

func orList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

var opText = map[signalstore.Op]string{
	signalstore.OpEq: "=", signalstore.OpNeq: "≠", signalstore.OpGt: ">", signalstore.OpGte: "≥",
	signalstore.OpLt: "<", signalstore.OpLte: "≤", signalstore.OpContains: "contains",
}

func filterText(f signalstore.Filter) string {
	field := string(f.Field)
	if f.Key != "" {
		field += "." + f.Key
	}
	op := opText[f.Op]
	if op == "" {
		op = string(f.Op)
	}
	return fmt.Sprintf("%s %s %q", field, op, string(f.Value))
}

// measureLabel names an aggregation column for people.
func measureLabel(column string) string {
	fn, field, _ := strings.Cut(column, "_")
	if field == "duration" {
		if fn == "avg" {
			return "average latency"
		}
		return fn + " latency"
	}
	switch column {
	case "count":
		return "count"
	case "rate":
		return "rate per second"
	case "error_rate":
		return "error rate"
	}
	return column
}

// windowPhrase names a query's time range in now's time zone: "in the last
// hour", "yesterday", "today", "since 09:00", "between 09:00 and 10:00".
func windowPhrase(q *signalstore.Query, now time.Time) string {
	loc := now.Location()
	today := midnight(now)
	switch {
	case q.Last > 0:
		return "in the last " + humanDuration(time.Duration(q.Last))
	case q.Start.IsZero() && q.End.IsZero():
		return "in the last " + humanDuration(signalstore.DefaultQueryWindow)
	}
	start, end := q.Start.In(loc), q.End.In(loc)
	yesterday := today.AddDate(0, 0, -1)
	switch {
	case start.Equal(yesterday) && end.Equal(today):
		return "yesterday"
	case start.Equal(today) && q.End.IsZero():
		return "today"
	case q.End.IsZero():
		return "since " + clockText(start, today)
	case q.Start.IsZero():
		return "until " + clockText(end, today)
	}
	return "between " + clockText(start, today) + " and " + clockText(end, today)
}

// clockText is "15:04" today, else with the date.
func clockText(t, today time.Time) string {
	if midnight(t).Equal(today) {
		return t.Format("15:04")
	}
	if t.Equal(midnight(t)) {
		return t.Format("Mon 2 Jan")
	}
	return t.Format("Mon 2 Jan 15:04")
}

// humanDuration spells a window: "hour", "15 minutes", "2 days", "90s".
func humanDuration(d time.Duration) string {
	units := []struct {
		d    time.Duration
		name string
	}{{7 * 24 * time.Hour, "week"}, {24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}}
	for _, u := range units {
		if d >= u.d && d%u.d == 0 {
			n := d / u.d
			if n == 1 {
				return u.name
			}
			return fmt.Sprintf("%d %ss", n, u.name)
		}
	}
	return d.String()
}
