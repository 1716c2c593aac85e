package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ollystack/ollystack/pkg/analysis/rca"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

// analyzeResponse is the answer of POST /api/v1/ai/analyze. The rca fields
// follow the seed's RCAResult; anomaly and comparison fill their own block.
type analyzeResponse struct {
	CorrelationID string `json:"correlation_id"`
	AnalysisType  string `json:"analysis_type"`

	RootCause        string       `json:"root_cause"`
	Confidence       float64      `json:"confidence"`
	Evidence         []string     `json:"evidence"`
	AffectedServices []string     `json:"affected_services"`
	Recommendations  []string     `json:"recommendations"`
	TimelineSummary  string       `json:"timeline_summary"`
	Hypotheses       []hypothesis `json:"hypotheses"`

	CriticalPath []rca.PathStep `json:"critical_path,omitempty"`
	DurationNs   int64          `json:"duration_ns"`

	Anomalies  *anomalyReport    `json:"anomalies,omitempty"`
	Comparison *comparisonReport `json:"comparison,omitempty"`

	Baseline  baselineInfo `json:"baseline"`
	Narrative narrative    `json:"narrative"`
	// LLMError says why a configured model's answer was not used.
	LLMError  string `json:"llm_error,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
}

// hypothesis is rca.Hypothesis with a stable id the model refers to.
type hypothesis struct {
	ID string `json:"id"`
	rca.Hypothesis
}

type baselineInfo struct {
	Requests          int `json:"requests"`
	SameEntryRequests int `json:"same_entry_requests"`
	Spans             int `json:"spans"`
}

// narrative is the prose of the answer; Source says who wrote it: the
// built-in template or the model.
type narrative struct {
	Source   string `json:"source"`
	Provider string `json:"provider,omitempty"`
	Model    string `json:"model,omitempty"`
	Summary  string `json:"summary"`
	// Recommendations are the model's own, kept apart from the built-in
	// ones because they are model-written.
	Recommendations []string `json:"recommendations,omitempty"`
}

const (
	sourceTemplate = "template"
	sourceLLM      = "llm"
)

// recommendationsByKind is the built-in advice per hypothesis kind: fixed
// text, so nothing read from telemetry ends up as an instruction to a human.
var recommendationsByKind = map[rca.Kind][]string{
	rca.KindErrorOrigin: {
		"Inspect the failing operation's error and exception events in the origin service.",
		"Check the origin service's recent changes and its dependencies' health.",
	},
	rca.KindLatencyOutlier: {
		"Profile the slow operation: its own (self) time is above its usual p99.",
		"Look for lock contention, GC pauses or CPU throttling in the service around the request time.",
	},
	rca.KindDependencyFailure: {
		"Check the health and capacity of the called dependency.",
		"Review client timeouts, retry budgets and circuit breakers for calls to the dependency.",
	},
	rca.KindResourceSaturation: {
		"Increase the saturated resource's limit (pool size, memory, CPU) or reduce its load.",
		"Look for leaks: connections, threads or file descriptors not released.",
	},
	rca.KindVersionChange: {
		"Compare the new version's behaviour with the previous one; consider a rollback.",
	},
	rca.KindNewLogPattern: {
		"Read the new error log messages: they were never seen in the service's healthy history.",
	},
}

// buildRCA turns the analysis into the RCAResult shape with a templated
// narrative; a model may later replace the summary and the order.
func buildRCA(rs *requestSignals, res rca.Result) *analyzeResponse {
	resp := &analyzeResponse{
		CorrelationID:    rs.id,
		AnalysisType:     analysisRCA,
		Evidence:         []string{},
		AffectedServices: affectedServices(rs.spans, rs.logs),
		Recommendations:  []string{},
		Hypotheses:       make([]hypothesis, 0, len(res.Hypotheses)),
		CriticalPath:     res.CriticalPath,
		DurationNs:       res.Duration.Nanoseconds(),
		TimelineSummary:  timelineSummary(rs, res),
		Truncated:        rs.truncated,
	}
	for i, h := range res.Hypotheses {
		resp.Hypotheses = append(resp.Hypotheses, hypothesis{ID: "h" + strconv.Itoa(i+1), Hypothesis: h})
	}
	applyRanking(resp)
	resp.Narrative = narrative{Source: sourceTemplate, Summary: templateSummary(resp)}
	return resp
}

// applyRanking derives the headline fields from the first hypothesis and the
// recommendations from the kinds of the leading ones.
func applyRanking(resp *analyzeResponse) {
	resp.RootCause, resp.Confidence, resp.Evidence = "", 0, []string{}
	if len(resp.Hypotheses) == 0 {
		resp.RootCause = "no root cause found: the request shows no errors, latency outliers or other anomalies against its baseline"
		resp.Recommendations = []string{}
		return
	}
	top := resp.Hypotheses[0]
	resp.RootCause = describe(top.Hypothesis)
	resp.Confidence = top.Confidence
	for _, ev := range top.Evidence {
		resp.Evidence = append(resp.Evidence, describeEvidence(ev))
	}
	var recs []string
	for _, h := range resp.Hypotheses[:min(3, len(resp.Hypotheses))] {
		for _, r := range recommendationsByKind[h.Kind] {
			if !slices.Contains(recs, r) {
				recs = append(recs, r)
			}
		}
	}
	resp.Recommendations = append([]string{}, recs...)
}

// describe names a hypothesis in fixed words plus its service and operation.
func describe(h rca.Hypothesis) string {
	what := map[rca.Kind]string{
		rca.KindErrorOrigin:        "errors originate in",
		rca.KindLatencyOutlier:     "a latency outlier in",
		rca.KindDependencyFailure:  "calls failing or slow to the dependency",
		rca.KindResourceSaturation: "a saturated resource in",
		rca.KindVersionChange:      "a version change or deployment of",
		rca.KindNewLogPattern:      "a new error log pattern in",
	}[h.Kind]
	if what == "" {
		what = string(h.Kind) + " in"
	}
	s := what + " service " + strconv.Quote(h.Service)
	if h.Operation != "" {
		s += " operation " + strconv.Quote(h.Operation)
	}
	return s
}

func describeEvidence(ev rca.Evidence) string {
	var b strings.Builder
	b.WriteString(string(ev.Signal))
	b.WriteString(": ")
	b.WriteString(ev.Reason)
	if ev.Name != "" {
		b.WriteString(" (" + strconv.Quote(ev.Name) + ")")
	}
	if ev.Unit != "" && (ev.Actual != 0 || ev.Expected != 0) {
		fmt.Fprintf(&b, ": actual %s, expected %s", formatValue(ev.Actual, ev.Unit), formatValue(ev.Expected, ev.Unit))
	}
	return b.String()
}

func formatValue(v float64, unit string) string {
	if unit == "ns" {
		return time.Duration(v).Round(time.Microsecond).String()
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + " " + unit
}

func templateSummary(resp *analyzeResponse) string {
	if len(resp.Hypotheses) == 0 {
		return "No root cause was found. " + resp.TimelineSummary
	}
	s := fmt.Sprintf("Most likely cause: %s (confidence %.2f, %d evidence items).", resp.RootCause, resp.Confidence, len(resp.Hypotheses[0].Evidence))
	if len(resp.Hypotheses) > 1 {
		s += fmt.Sprintf(" Next: %s (%.2f).", describe(resp.Hypotheses[1].Hypothesis), resp.Hypotheses[1].Confidence)
	}
	return s + " " + resp.TimelineSummary
}

// timelineSummary is one sentence about what happened when.
func timelineSummary(rs *requestSignals, res rca.Result) string {
	e := entryOf(rs.spans)
	errSpans, errLogs := 0, 0
	var firstErr *signalstore.Span
	// The first error is the one that ended first: where the failure
	// surfaced, before the parents waiting on it failed in turn.
	for i := range rs.spans {
		sp := &rs.spans[i]
		if sp.IsError() {
			errSpans++
			if firstErr == nil || sp.Timestamp.Add(sp.Duration).Before(firstErr.Timestamp.Add(firstErr.Duration)) {
				firstErr = sp
			}
		}
	}
	for i := range rs.logs {
		if rs.logs[i].SeverityNumber >= 17 { // plog.SeverityNumberError
			errLogs++
		}
	}
	s := fmt.Sprintf("%d spans in %d traces across %d services, %d logs", len(rs.spans), countTraces(rs.spans), len(affectedServices(rs.spans, rs.logs)), len(rs.logs))
	if e.service != "" {
		s += fmt.Sprintf("; entered at %s %q at %s and took %s", e.service, e.operation, e.start.UTC().Format(time.RFC3339Nano), res.Duration)
	}
	if firstErr != nil {
		s += fmt.Sprintf("; first error at +%s in %s %q", firstErr.Timestamp.Add(firstErr.Duration).Sub(e.start), firstErr.ServiceName, firstErr.SpanName)
	}
	return s + fmt.Sprintf("; %d error spans, %d error logs.", errSpans, errLogs)
}

func countTraces(spans []signalstore.Span) int {
	seen := map[signalstore.TraceID]struct{}{}
	for i := range spans {
		seen[spans[i].TraceID] = struct{}{}
	}
	return len(seen)
}

func affectedServices(spans []signalstore.Span, logs []signalstore.LogRecord) []string {
	services := []string{}
	add := func(s string) {
		if s != "" && !slices.Contains(services, s) {
			services = append(services, s)
		}
	}
	for i := range spans {
		add(spans[i].ServiceName)
	}
	for i := range logs {
		add(logs[i].ServiceName)
	}
	slices.Sort(services)
	return services
}
