// Package nlq turns natural-language questions about telemetry into the
// signal store's typed query (signalstore.Query), runs it within read limits
// and answers with the rows and a templated one-paragraph summary.
//
// Questions never become SQL: the built-in parser (Parse) and a model's
// answer (FromModel) both produce a signalstore.Query, which is validated
// and which every backend compiles with bound parameters. Words of the
// question only ever reach the store as filter values of that typed shape.
//
// A caller (the ai extension's POST /api/v1/ai/nlq) usually calls Ask, which
// tries the parser first and a model only when the parser does not
// understand the question and a Completer is configured.
package nlq // import "github.com/ollystack/ollystack/pkg/nlq"

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// MaxQuestionLen is the longest question accepted, in bytes. Longer input is
// rejected before any parsing or model call.
const MaxQuestionLen = 1000

// Catalog is the vocabulary the parser matches names against: the services
// and operations (span names) seen in the store. Names are matched
// case-insensitively and with small typos. Build it with LoadCatalog or
// NewCatalog and cache it: those also prepare the names for matching once,
// which a Catalog literal would redo for every question.
type Catalog struct {
	Services   []string `json:"services"`
	Operations []string `json:"operations"`
	// index is used while the catalog holds the slices it was built from;
	// do not change their elements in place.
	index *catalogIndex
}

// NewCatalog returns a catalog of the names, prepared for matching.
func NewCatalog(services, operations []string) Catalog {
	cat := Catalog{Services: services, Operations: operations}
	cat.index = indexOf(cat)
	return cat
}

// Catalog size caps, so that a store with unbounded span names (ids in
// names) cannot make matching or prompts large.
const (
	maxCatalogServices   = 500
	maxCatalogOperations = 1000
	catalogWindow        = 24 * time.Hour
	catalogLogsWindow    = 15 * time.Minute
)

// LoadCatalog reads the service and operation names of the last 24 hours of
// spans (and the services of the last 15 minutes of logs) with two typed
// queries. The span query groups by service and span name only, which the
// embedded store answers from its per-minute rollup; still, callers should
// cache the catalog (a minute or more) rather than load it per question.
func LoadCatalog(ctx context.Context, r signalstore.QueryRunner) (Catalog, error) {
	spans := signalstore.Query{
		Signal:       signalstore.SignalSpans,
		Last:         signalstore.Duration(catalogWindow),
		GroupBy:      []signalstore.GroupBy{{Field: signalstore.FieldServiceName}, {Field: signalstore.FieldSpanName}},
		Aggregations: []signalstore.Aggregation{{Func: signalstore.AggCount}},
		OrderBy:      []signalstore.Order{{Column: "count", Desc: true}},
		Limit:        maxCatalogOperations,
	}
	res, err := r.Query(ctx, spans)
	if err != nil {
		return Catalog{}, fmt.Errorf("load catalog from spans: %w", err)
	}
	// Rows come busiest first; the names keep that order until capped.
	var services, operations []string
	seen := map[[2]string]bool{}
	add := func(list *[]string, kind string, v any) {
		if s, ok := v.(string); ok && s != "" && !seen[[2]string{kind, s}] {
			seen[[2]string{kind, s}] = true
			*list = append(*list, s)
		}
	}
	for _, row := range res.Rows {
		add(&services, "service", row[0])
		add(&operations, "operation", row[1])
	}
	logs := signalstore.Query{
		Signal:       signalstore.SignalLogs,
		Last:         signalstore.Duration(catalogLogsWindow),
		GroupBy:      []signalstore.GroupBy{{Field: signalstore.FieldServiceName}},
		Aggregations: []signalstore.Aggregation{{Func: signalstore.AggCount}},
		OrderBy:      []signalstore.Order{{Column: "count", Desc: true}},
		Limit:        maxCatalogServices,
	}
	res, err = r.Query(ctx, logs)
	if err != nil {
		return Catalog{}, fmt.Errorf("load catalog from logs: %w", err)
	}
	for _, row := range res.Rows {
		add(&services, "service", row[0])
	}
	return NewCatalog(sortedCapped(services, maxCatalogServices), sortedCapped(operations, maxCatalogOperations)), nil
}

// sortedCapped keeps the first limit names (the busiest), sorted.
func sortedCapped(names []string, limit int) []string {
	out := slices.Clone(names[:min(len(names), limit)])
	slices.Sort(out)
	return out
}

// Derivation is a computation Run applies to the typed query's rows before
// answering, for measures the typed query has no aggregation for.
type Derivation string

// DeriveErrorRate folds rows counted by status_code into requests, errors
// and error_rate (errors / requests, 0..1) per remaining group. The plan's
// query then groups by status_code last and has the single aggregation
// count.
const DeriveErrorRate Derivation = "error_rate"

// Plan is an understood question: the typed query to run, optionally the
// same query over an earlier window to compare with, and how it was
// understood.
type Plan struct {
	Question string            `json:"question"`
	Query    signalstore.Query `json:"query"`
	// Compare, if set, is Query over an earlier window (CompareLabel, e.g.
	// "yesterday"), for questions like "... than yesterday".
	Compare      *signalstore.Query `json:"compare,omitempty"`
	CompareLabel string             `json:"compare_label,omitempty"`
	// Derive, if set, is applied to the rows of Query and Compare.
	Derive Derivation `json:"derive,omitempty"`
	// Top, if positive, keeps the first Top derived rows (the typed query
	// cannot order by a derived column, so it reads more and Run cuts).
	Top int `json:"top,omitempty"`
	// Explanation says in words what the query asks, with any name the
	// parser corrected.
	Explanation string `json:"explanation"`
	// Source is "parser" or "model".
	Source string `json:"source"`
	// Now is when the question was asked, in the asker's time zone; Run
	// resolves windows against it.
	Now time.Time `json:"-"`
}

// Sources of a plan.
const (
	SourceParser = "parser"
	SourceModel  = "model"
)

// NotUnderstoodError is a question that cannot be answered: the caller
// answers 422 with its message. Unknown lists the words or phrases that were
// not understood (quoted, truncated); Reason, if set, says why without
// naming words (for example a question that is too long); Hint says what
// can be asked.
type NotUnderstoodError struct {
	Unknown []string `json:"unknown,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	Hint    string   `json:"hint,omitempty"`
}

func (e *NotUnderstoodError) Error() string {
	var sb strings.Builder
	sb.WriteString("question not understood")
	if e.Reason != "" {
		sb.WriteString(": " + e.Reason)
	}
	if len(e.Unknown) > 0 {
		quoted := make([]string, len(e.Unknown))
		for i, u := range e.Unknown {
			quoted[i] = fmt.Sprintf("%q", u)
		}
		sb.WriteString(": did not understand " + strings.Join(quoted, ", "))
	}
	if e.Hint != "" {
		sb.WriteString(". " + e.Hint)
	}
	return sb.String()
}

// InvalidModelOutputError is a model answer that is not a valid plan: not
// the JSON shape asked for, an invalid typed query, or names the store does
// not know. The caller answers 422 (the question could not be turned into a
// query) and may log Output.
type InvalidModelOutputError struct {
	Err error
	// Output is the model's text, truncated, for logs; it is never
	// executed.
	Output string
}

func (e *InvalidModelOutputError) Error() string {
	return "the model's answer was rejected: " + e.Err.Error()
}

func (e *InvalidModelOutputError) Unwrap() error { return e.Err }

// Completer is a language model: it answers a system and a user message
// with text. The ai extension's LLM client implements it; nil means no
// model.
type Completer interface {
	Complete(ctx context.Context, system, user string) (string, error)
}

// Options configure Ask.
type Options struct {
	// Catalog is the names the question is matched against (LoadCatalog).
	Catalog Catalog
	// Now is when the question is asked, in the asker's time zone ("today",
	// "since 9am"); zero means time.Now() in UTC.
	Now time.Time
	// Completer, if set, is asked when the parser does not understand the
	// question.
	Completer Completer
	// ShareOperations sends operation (span) names to the model besides the
	// schema and service names. Off by default: span names can carry data.
	ShareOperations bool
	// Limits bound every query run.
	Limits Limits
}

// ErrModelUnavailable wraps a Completer's failure: the question was not
// understood by the parser and the model did not answer.
var ErrModelUnavailable = errors.New("asking the model failed")

// Ask answers a question: the parser first; if it does not understand the
// question and a Completer is set, the model, whose answer is validated by
// FromModel. Errors: *NotUnderstoodError and *InvalidModelOutputError mean
// the question could not be turned into a query (422); others come from the
// Completer or the store.
func Ask(ctx context.Context, r signalstore.QueryRunner, question string, opts Options) (*Answer, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now().UTC()
	}
	plan, err := Parse(question, opts.Catalog, now)
	var nu *NotUnderstoodError
	if errors.As(err, &nu) && opts.Completer != nil && len(question) <= MaxQuestionLen {
		plan, err = askModel(ctx, question, opts, now, nu)
	}
	if err != nil {
		return nil, err
	}
	return Run(ctx, r, plan, opts.Limits)
}

func askModel(ctx context.Context, question string, opts Options, now time.Time, parserErr *NotUnderstoodError) (*Plan, error) {
	system, user, err := ModelPrompt(question, opts.Catalog, now, opts.ShareOperations)
	if err != nil {
		return nil, err
	}
	out, err := opts.Completer.Complete(ctx, system, user)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModelUnavailable, err)
	}
	plan, err := FromModel(question, out, opts.Catalog, now)
	var nu *NotUnderstoodError
	if errors.As(err, &nu) {
		// Report what the parser did not understand; the model's own words
		// are untrusted and not echoed.
		return nil, &NotUnderstoodError{Unknown: parserErr.Unknown, Reason: parserErr.Reason,
			Hint: "The language model could not answer it either. " + parserErr.Hint}
	}
	return plan, err
}
