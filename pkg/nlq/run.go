package nlq

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Limits bound what one question reads. They apply to every plan, whether
// the parser or a model produced it.
type Limits struct {
	// MaxRows caps the rows a query returns (its Limit); 0 means 1000.
	MaxRows int
	// MaxWindow caps the length of a query's time range; a longer range is
	// shortened to its most recent MaxWindow. 0 means 7 days.
	MaxWindow time.Duration
}

// Default read limits.
const (
	DefaultMaxRows   = 1000
	DefaultMaxWindow = 7 * 24 * time.Hour
)

func (l Limits) withDefaults() Limits {
	if l.MaxRows <= 0 {
		l.MaxRows = DefaultMaxRows
	}
	l.MaxRows = min(l.MaxRows, signalstore.MaxQueryLimit)
	if l.MaxWindow <= 0 {
		l.MaxWindow = DefaultMaxWindow
	}
	return l
}

// apply returns q within the limits, and what it changed.
func (l Limits) apply(q signalstore.Query, now time.Time) (signalstore.Query, []string) {
	var notes []string
	if start, end := q.Window(now); end.Sub(start) > l.MaxWindow {
		if q.Last > 0 {
			q.Last = signalstore.Duration(l.MaxWindow)
		} else {
			q.Start = end.Add(-l.MaxWindow).UTC()
		}
		notes = append(notes, "the time range was shortened to the most recent "+humanDuration(l.MaxWindow)+" (read limit)")
	}
	switch {
	case q.Limit == 0:
		q.Limit = min(signalstore.DefaultQueryLimit, l.MaxRows)
	case q.Limit > l.MaxRows:
		q.Limit = l.MaxRows
		notes = append(notes, fmt.Sprintf("at most %d rows are read (read limit)", l.MaxRows))
	}
	return q, notes
}

// Answer is the reply to a question: what ran, the rows, and a summary.
type Answer struct {
	Question string `json:"question"`
	// Query is the typed query that ran, after the read limits.
	Query       signalstore.Query `json:"query"`
	Explanation string            `json:"explanation"`
	// Window names the query's time range ("in the last hour").
	Window string `json:"window"`
	// Derive, if set, says how Columns and Rows were computed from the
	// query's own rows.
	Derive    Derivation           `json:"derive,omitempty"`
	Columns   []signalstore.Column `json:"columns"`
	Rows      [][]any              `json:"rows"`
	Truncated bool                 `json:"truncated,omitempty"`
	// Comparison is the same query over an earlier window, if asked.
	Comparison *Comparison `json:"comparison,omitempty"`
	Summary    string      `json:"summary"`
	// Source is "parser" or "model".
	Source string `json:"source"`
	// Notes say what the read limits changed.
	Notes []string `json:"notes,omitempty"`
}

// Comparison is the compared query and its rows.
type Comparison struct {
	Label     string               `json:"label"`
	Window    string               `json:"window"`
	Query     signalstore.Query    `json:"query"`
	Columns   []signalstore.Column `json:"columns"`
	Rows      [][]any              `json:"rows"`
	Truncated bool                 `json:"truncated,omitempty"`
}

// Run executes a plan within the limits and builds the answer. The plan's
// queries are validated again (a plan may come from anywhere) and always
// clamped: row limit and window length.
func Run(ctx context.Context, r signalstore.QueryRunner, p *Plan, limits Limits) (*Answer, error) {
	limits = limits.withDefaults()
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("invalid plan: %w", err)
	}
	a := &Answer{Question: p.Question, Explanation: p.Explanation, Derive: p.Derive, Source: p.Source, Rows: [][]any{}}
	var err error
	a.Query, a.Columns, a.Rows, a.Truncated, a.Notes, err = runOne(ctx, r, p, p.Query, limits, now)
	if err != nil {
		return nil, err
	}
	a.Window = windowPhrase(&a.Query, now)
	if p.Compare != nil {
		c := &Comparison{Label: p.CompareLabel}
		var notes []string
		c.Query, c.Columns, c.Rows, c.Truncated, notes, err = runOne(ctx, r, p, *p.Compare, limits, now)
		if err != nil {
			return nil, fmt.Errorf("comparison: %w", err)
		}
		c.Window = windowPhrase(&c.Query, now)
		for _, n := range notes {
			if !slices.Contains(a.Notes, n) {
				a.Notes = append(a.Notes, n)
			}
		}
		a.Comparison = c
	}
	a.Summary = Summarize(a, now.Location())
	return a, nil
}

func runOne(ctx context.Context, r signalstore.QueryRunner, p *Plan, q signalstore.Query, limits Limits, now time.Time) (
	ran signalstore.Query, cols []signalstore.Column, rows [][]any, truncated bool, notes []string, err error) {
	ran, notes = limits.apply(q, now)
	if err = ran.Validate(); err != nil {
		return ran, nil, nil, false, nil, fmt.Errorf("invalid query after limits: %w", err)
	}
	res, err := r.Query(ctx, ran)
	if err != nil {
		return ran, nil, nil, false, nil, fmt.Errorf("run query: %w", err)
	}
	cols, rows, truncated = res.Columns, res.Rows, res.Truncated
	if p.Derive == DeriveErrorRate {
		cols, rows = foldErrorRate(&ran, res, p.Top)
	}
	if rows == nil {
		rows = [][]any{}
	}
	return ran, cols, rows, truncated, notes, nil
}

// foldErrorRate turns rows of (groups..., status_code, count) into
// (groups..., requests, errors, error_rate). Grouped results are ordered by
// error rate (then requests), highest first, unless they are a time series;
// top, if positive, keeps that many. Without groups there is always one
// row, with a nil rate when nothing was counted.
func foldErrorRate(q *signalstore.Query, res *signalstore.QueryResult, top int) ([]signalstore.Column, [][]any) {
	n := len(res.Columns)
	keyCols := slices.Clone(res.Columns[:max(n-2, 0)])
	cols := append(keyCols,
		signalstore.Column{Name: "requests", Type: signalstore.ColumnInt},
		signalstore.Column{Name: "errors", Type: signalstore.ColumnInt},
		signalstore.Column{Name: "error_rate", Type: signalstore.ColumnFloat})
	byKey := map[string]*rateRow{}
	var order []*rateRow
	for _, row := range res.Rows {
		if len(row) != n || n < 2 {
			continue
		}
		key := row[:n-2]
		// %#v quotes strings: Sprint runs "GET"+"" and ""+"GET" together.
		k := fmt.Sprintf("%#v", key)
		rr := byKey[k]
		if rr == nil {
			rr = &rateRow{key: key}
			byKey[k] = rr
			order = append(order, rr)
		}
		count, _ := row[n-1].(int64)
		rr.requests += count
		if status, _ := row[n-2].(string); status == signalstore.StatusCodeError {
			rr.errors += count
		}
	}
	if len(keyCols) == 0 && len(order) == 0 {
		order = append(order, &rateRow{})
	}
	if len(keyCols) > 0 && q.Interval == 0 {
		slices.SortStableFunc(order, func(a, b *rateRow) int {
			if c := cmp.Compare(b.rate(), a.rate()); c != 0 {
				return c
			}
			return cmp.Compare(b.requests, a.requests)
		})
	}
	if top > 0 && len(order) > top {
		order = order[:top]
	}
	rows := make([][]any, 0, len(order))
	for _, rr := range order {
		row := append(slices.Clone(rr.key), rr.requests, rr.errors, nil)
		if rr.requests > 0 {
			row[len(row)-1] = rr.rate()
		}
		rows = append(rows, row)
	}
	return cols, rows
}

type rateRow struct {
	key              []any
	requests, errors int64
}

// rate is errors/requests, -1 without requests (sorted last).
func (r *rateRow) rate() float64 {
	if r.requests == 0 {
		return -1
	}
	return float64(r.errors) / float64(r.requests)
}

// groupKey identifies a row by its group columns (those that are not
// aggregations), to match rows of a comparison.
func groupKey(cols []signalstore.Column, row []any, measures map[string]bool) string {
	var sb strings.Builder
	for i, c := range cols {
		if !measures[c.Name] && c.Name != "time" && i < len(row) {
			fmt.Fprint(&sb, row[i], "\x00")
		}
	}
	return sb.String()
}
