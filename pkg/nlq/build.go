package nlq

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Query shape defaults of understood questions.
const (
	// defaultWindow is the window of a question that names none; it is
	// written into the query so that the user sees it.
	defaultWindow = time.Hour
	// lookupWindow is the default window of a question about one trace or
	// correlation id, which may be older than an hour.
	lookupWindow = 24 * time.Hour
	// defaultTop is how many groups "top", "slowest endpoints" and the like
	// return when the question gives no number.
	defaultTop = 10
	// derivedReadLimit is what an error-rate query reads: its rows are
	// groups × status codes (at most three), folded afterwards. It equals
	// DefaultMaxRows so that the default read limit does not cut it.
	derivedReadLimit = 1000
	// severityError and severityWarn are the OpenTelemetry severity
	// numbers where ERROR and WARN start.
	severityError = 17
	severityWarn  = 13
)

const exampleHint = `Try e.g. "errors in checkout in the last hour", "p99 latency by service since 9am", ` +
	`"top 5 slowest endpoints", "logs containing 'timeout' yesterday", "error rate of payment compared to yesterday".`

// build turns what scan read into a plan, or explains what was not
// understood.
func (p *parser) build(question string) (*Plan, error) {
	if len(p.unknown) > 0 {
		return nil, p.notUnderstood()
	}
	if p.understood == 0 {
		return nil, &NotUnderstoodError{Reason: "the question asks for nothing the store has", Hint: exampleHint}
	}
	if len(p.named) > 1 {
		return nil, &NotUnderstoodError{Reason: fmt.Sprintf("a question can name one service, not %s; ask \"... by service\" to compare services",
			orList(p.named)), Hint: exampleHint}
	}
	q := signalstore.Query{Signal: signalstore.SignalSpans}
	switch {
	case (p.logs || len(p.logOnly) > 0) && len(p.spanOnly) > 0:
		reason := quoteList(p.spanOnly) + " applies to spans (traces), not logs"
		if len(p.logOnly) > 0 {
			reason = fmt.Sprintf("%s applies to spans (traces) and %s to logs; ask about one signal at a time",
				quoteList(p.spanOnly), quoteList(p.logOnly))
		}
		return nil, &NotUnderstoodError{Reason: reason, Hint: exampleHint}
	case p.logs && p.spans:
		return nil, &NotUnderstoodError{Reason: "ask about spans or logs, one at a time", Hint: exampleHint}
	case p.logs || len(p.logOnly) > 0:
		q.Signal = signalstore.SignalLogs
	}
	p.window(&q)
	q.Filters = p.filters(q.Signal)
	if err := p.measures(&q); err != nil {
		return nil, err
	}

	plan := &Plan{Question: question, Source: SourceParser, Now: p.now}
	if p.errorRate {
		if err := toErrorRate(&q); err != nil {
			return nil, &NotUnderstoodError{Reason: err.Error(), Hint: exampleHint}
		}
		plan.Derive, plan.Top = DeriveErrorRate, p.limit
		if plan.Top == 0 && p.groupSingular {
			plan.Top = 1
		}
	}
	plan.Query = q
	if p.compareLabel != "" {
		shift := p.compareShift
		if p.compareByWindow {
			start, end := q.Window(p.now)
			shift = end.Sub(start)
		}
		plan.Compare, plan.CompareLabel = shiftedQuery(&q, p.now, shift, !p.compareByWindow), p.compareLabel
	}
	if err := plan.validate(); err != nil {
		return nil, &NotUnderstoodError{Reason: err.Error(), Hint: exampleHint}
	}
	plan.Explanation = explain(plan, p.notes)
	return plan, nil
}

func (p *parser) notUnderstood() *NotUnderstoodError {
	e := &NotUnderstoodError{Hint: exampleHint}
	var suggestions []string
	for _, u := range p.unknown {
		if len(e.Unknown) == 10 {
			break
		}
		e.Unknown = append(e.Unknown, truncate(u, 60))
		if s := p.services.suggest(u); s != "" && len(u) > 3 {
			suggestions = append(suggestions, fmt.Sprintf("the service %q", s))
		} else if s := p.operations.suggest(u); s != "" && len(u) > 3 {
			suggestions = append(suggestions, fmt.Sprintf("the operation %q", s))
		}
	}
	if len(suggestions) > 0 {
		e.Hint = "Did you mean " + strings.Join(suggestions, " or ") + "? " + e.Hint
	} else if len(p.services.names) > 0 {
		known := p.services.names[:min(8, len(p.services.names))]
		e.Hint = "Known services include " + strings.Join(known, ", ") + ". " + e.Hint
	} else {
		e.Hint = "No service has sent spans in the last 24 hours, so no service name is known yet. " + e.Hint
	}
	return e
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func quoteList(words []string) string {
	seen := map[string]bool{}
	var out []string
	for _, w := range words {
		if !seen[w] && len(out) < 3 {
			seen[w] = true
			out = append(out, fmt.Sprintf("%q", w))
		}
	}
	return strings.Join(out, ", ")
}

// window sets the time range. Clock times never lie in the future (see
// clock.on).
func (p *parser) window(q *signalstore.Query) {
	switch {
	case p.last > 0:
		q.Last = signalstore.Duration(p.last)
	case !p.start.IsZero():
		q.Start = p.start.UTC()
		if !p.end.IsZero() {
			q.End = p.end.UTC()
		}
	case p.lookup:
		q.Last = signalstore.Duration(lookupWindow)
	default:
		q.Last = signalstore.Duration(defaultWindow)
	}
}

// filters assembles the conditions in a fixed order: services, operation,
// status, durations, text, kind, then ids and attributes.
func (p *parser) filters(signal signalstore.Signal) []signalstore.Filter {
	var fs []signalstore.Filter
	for _, s := range p.named {
		fs = append(fs, signalstore.Filter{Field: signalstore.FieldServiceName, Op: signalstore.OpEq, Value: signalstore.FilterValue(s)})
	}
	for _, s := range p.excluded {
		fs = append(fs, signalstore.Filter{Field: signalstore.FieldServiceName, Op: signalstore.OpNeq, Value: signalstore.FilterValue(s)})
	}
	if p.operation != nil {
		fs = append(fs, *p.operation)
	}
	fs = append(fs, p.statusFilters(signal)...)
	fs = append(fs, p.durations...)
	for _, c := range p.contains {
		fs = append(fs, signalstore.Filter{Field: signalstore.FieldBody, Op: signalstore.OpContains, Value: signalstore.FilterValue(c)})
	}
	if p.kind != "" {
		fs = append(fs, signalstore.Filter{Field: signalstore.FieldSpanKind, Op: signalstore.OpEq, Value: signalstore.FilterValue(p.kind)})
	}
	return append(fs, p.other...)
}

// statusFilters: errors are spans with status Error, or logs at ERROR
// severity and above; warnings are logs from WARN up to ERROR.
func (p *parser) statusFilters(signal signalstore.Signal) []signalstore.Filter {
	if p.errorRate {
		return nil // the error rate needs every status
	}
	sev := func(op signalstore.Op, n int) signalstore.Filter {
		return signalstore.Filter{Field: signalstore.FieldSeverityNumber, Op: op, Value: signalstore.FilterValue(fmt.Sprint(n))}
	}
	switch {
	case signal == signalstore.SignalLogs && p.errorsWanted:
		return []signalstore.Filter{sev(signalstore.OpGte, severityError)}
	case signal == signalstore.SignalLogs && p.warningsWanted:
		return []signalstore.Filter{sev(signalstore.OpGte, severityWarn), sev(signalstore.OpLt, severityError)}
	case signal == signalstore.SignalLogs && p.successWanted:
		return []signalstore.Filter{sev(signalstore.OpLt, severityError)}
	case p.errorsWanted:
		return []signalstore.Filter{{Field: signalstore.FieldStatusCode, Op: signalstore.OpEq, Value: signalstore.StatusCodeError}}
	case p.successWanted:
		return []signalstore.Filter{{Field: signalstore.FieldStatusCode, Op: signalstore.OpNeq, Value: signalstore.StatusCodeError}}
	}
	return nil
}

// measures sets group-by, aggregations, interval, order and limit.
func (p *parser) measures(q *signalstore.Query) error {
	groups := slices.Clone(p.groups)
	sortByCount := p.order == sortCountDesc || p.order == sortCountAsc
	// "busiest", "most errors" rank something: services unless named.
	if sortByCount && len(groups) == 0 && !p.autoInterval && p.interval == 0 {
		groups = append(groups, signalstore.GroupBy{Field: signalstore.FieldServiceName})
	}
	q.GroupBy = groups
	switch {
	case p.interval > 0:
		q.Interval = signalstore.Duration(p.interval)
	case p.autoInterval:
		start, end := q.Window(p.now)
		q.Interval = signalstore.Duration(niceInterval(end.Sub(start)))
	}
	if p.errorRate {
		if p.latency {
			return &NotUnderstoodError{Reason: "ask for the error rate and for latency in two questions", Hint: exampleHint}
		}
		q.Limit = p.limit
		return nil
	}

	var aggs []signalstore.Aggregation
	latencyFuncs := p.latencyFuncs
	if p.latency && len(latencyFuncs) == 0 {
		if p.order == sortLatencyDesc || p.order == sortLatencyAsc {
			latencyFuncs = []signalstore.AggFunc{signalstore.AggP99}
		} else {
			latencyFuncs = []signalstore.AggFunc{signalstore.AggP50, signalstore.AggP95, signalstore.AggP99}
		}
	}
	grouped := len(groups) > 0 || q.Interval > 0
	// Raw rows sorted by duration ("slowest requests") need no aggregate.
	rawSlowest := !grouped && !p.count && !p.rate && len(p.latencyFuncs) == 0 && p.compareLabel == "" &&
		(p.order == sortLatencyDesc || p.order == sortLatencyAsc)
	if !rawSlowest {
		for _, f := range latencyFuncs {
			aggs = append(aggs, signalstore.Aggregation{Func: f, Field: signalstore.FieldDuration})
		}
	}
	if p.count || ((grouped || p.compareLabel != "") && !p.rate && len(aggs) == 0) || (len(groups) > 0 && len(aggs) > 0 && !p.rate) {
		aggs = append(aggs, signalstore.Aggregation{Func: signalstore.AggCount})
	}
	if p.rate {
		aggs = append(aggs, signalstore.Aggregation{Func: signalstore.AggRate})
	}
	q.Aggregations = aggs

	superlative := p.order != sortNone
	switch {
	case !q.IsAggregate():
		switch {
		case rawSlowest || (p.slow && len(p.durations) == 0):
			q.OrderBy = []signalstore.Order{{Column: "duration", Desc: p.order != sortLatencyAsc}}
		case p.oldestFirst:
			q.OrderBy = []signalstore.Order{{Column: "timestamp"}}
		}
	case q.Interval > 0 && !superlative:
		// A time series stays in time order.
	case len(groups) > 0 && len(aggs) > 0:
		// Ranked groups: by the requested order, else by the first measure.
		col, desc := aggs[0].Column(), p.order != sortLatencyAsc && p.order != sortCountAsc
		if sortByCount {
			col = "count"
		}
		q.OrderBy = []signalstore.Order{{Column: col, Desc: desc}}
	}
	q.Limit = p.limit
	if q.Limit == 0 && superlative && len(groups) > 0 {
		q.Limit = defaultTop
		if p.groupSingular {
			q.Limit = 1
		}
	}
	if q.Limit == 0 && rawSlowest {
		q.Limit = defaultTop
	}
	return nil
}

// niceInterval is a bucket width giving about 60 buckets over the window.
func niceInterval(window time.Duration) time.Duration {
	for _, d := range []time.Duration{time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour} {
		if window/d <= 60 {
			return d
		}
	}
	return 24 * time.Hour
}

// toErrorRate rewrites a query into the counts by status code that
// DeriveErrorRate folds: status_code is grouped last, count is the only
// aggregation, status filters and order are dropped (the derived rows are
// ordered by error rate). Spans only.
func toErrorRate(q *signalstore.Query) error {
	if q.Signal != signalstore.SignalSpans {
		return fmt.Errorf("the error rate is computed from spans, not %s", q.Signal)
	}
	filters := q.Filters[:0:0]
	for _, f := range q.Filters {
		if f.Field != signalstore.FieldStatusCode {
			filters = append(filters, f)
		}
	}
	q.Filters = filters
	groups := q.GroupBy[:0:0]
	for _, g := range q.GroupBy {
		if g.Field != signalstore.FieldStatusCode {
			groups = append(groups, g)
		}
	}
	q.GroupBy = append(groups, signalstore.GroupBy{Field: signalstore.FieldStatusCode})
	q.Aggregations = []signalstore.Aggregation{{Func: signalstore.AggCount}}
	q.OrderBy = nil
	q.Limit = derivedReadLimit
	return nil
}

// shiftedQuery is q over the window shift earlier, with absolute bounds.
// With calendar set, a shift of whole days ("yesterday", "last week") moves
// the window by calendar days in now's zone, so that it keeps its wall-clock
// times: across a change to or from summer time a day lasts 23 or 25 hours,
// and yesterday began that long before today's midnight, not 24 hours.
func shiftedQuery(q *signalstore.Query, now time.Time, shift time.Duration, calendar bool) *signalstore.Query {
	c := *q
	start, end := q.Window(now)
	c.Last = 0
	c.Start, c.End = start.Add(-shift).UTC(), end.Add(-shift).UTC()
	const day = 24 * time.Hour
	if calendar && shift > 0 && shift%day == 0 {
		days := -int(shift / day)
		loc := now.Location()
		s, e := start.In(loc).AddDate(0, 0, days), end.In(loc).AddDate(0, 0, days)
		// A bound in the hour the clocks skip moves an hour on; keep the
		// fixed shift if that would leave no window.
		if e.After(s) {
			c.Start, c.End = s.UTC(), e.UTC()
		}
	}
	return &c
}

// validate checks the plan's queries as the store will.
func (p *Plan) validate() error {
	if err := p.Query.Validate(); err != nil {
		return err
	}
	if p.Compare != nil {
		if err := p.Compare.Validate(); err != nil {
			return fmt.Errorf("comparison: %w", err)
		}
	}
	return nil
}
