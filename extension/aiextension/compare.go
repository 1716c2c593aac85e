package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/ollystack/ollystack/pkg/analysis/rca"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

// minSlowdown is the smallest excess over the healthy p99 reported as
// slower, so scheduling jitter is not a finding.
const minSlowdown = time.Millisecond

// anomalyReport lists the services and operations of the request that
// deviate from their baseline around its time.
type anomalyReport struct {
	Services  []serviceDeviation `json:"services"`
	Anomalies []anomalyItem      `json:"anomalies"`
}

type serviceDeviation struct {
	Service           string  `json:"service"`
	Spans             int     `json:"spans"`
	Errors            int     `json:"errors"`
	ErrorRate         float64 `json:"error_rate"`
	BaselineErrorRate float64 `json:"baseline_error_rate"`
	// LatencyRatio is the worst duration/p99 over the service's operations
	// with a baseline; 0 without one.
	LatencyRatio float64 `json:"latency_ratio"`
	HasBaseline  bool    `json:"has_baseline"`
	Anomalous    bool    `json:"anomalous"`
}

type anomalyItem struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	// Kind is "latency" or "errors".
	Kind     string  `json:"kind"`
	Actual   float64 `json:"actual"`
	Expected float64 `json:"expected"`
	Unit     string  `json:"unit"`
}

// errorRateMargin is how far above its baseline an error rate must be to
// count, so a service that fails now and then is not flagged for one error.
const errorRateMargin = 0.1

// buildAnomalies reads the per-operation deviations of the analysis.
func buildAnomalies(res rca.Result) *anomalyReport {
	rep := &anomalyReport{Services: []serviceDeviation{}, Anomalies: []anomalyItem{}}
	bySvc := map[string]*serviceDeviation{}
	for _, d := range res.Deviations {
		s := bySvc[d.Service]
		if s == nil {
			s = &serviceDeviation{Service: d.Service}
			bySvc[d.Service] = s
		}
		s.Spans += d.Spans
		s.Errors += d.Errors
		s.BaselineErrorRate = max(s.BaselineErrorRate, d.BaselineErrorRate)
		if !d.HasBaseline {
			continue
		}
		s.HasBaseline = true
		if d.BaselineP99 > 0 {
			ratio := float64(d.MaxDuration) / float64(d.BaselineP99)
			s.LatencyRatio = max(s.LatencyRatio, ratio)
			if d.MaxDuration > d.BaselineP99+minSlowdown {
				rep.Anomalies = append(rep.Anomalies, anomalyItem{Service: d.Service, Operation: d.Operation, Kind: "latency",
					Actual: float64(d.MaxDuration), Expected: float64(d.BaselineP99), Unit: "ns"})
				s.Anomalous = true
			}
		}
		if d.Errors > 0 && d.ErrorRate > d.BaselineErrorRate+errorRateMargin {
			rep.Anomalies = append(rep.Anomalies, anomalyItem{Service: d.Service, Operation: d.Operation, Kind: "errors",
				Actual: d.ErrorRate, Expected: d.BaselineErrorRate, Unit: "ratio"})
			s.Anomalous = true
		}
	}
	for _, s := range bySvc {
		if s.Spans > 0 {
			s.ErrorRate = float64(s.Errors) / float64(s.Spans)
		}
		// Errors where no baseline exists are still worth naming.
		if !s.HasBaseline && s.Errors > 0 {
			s.Anomalous = true
		}
		rep.Services = append(rep.Services, *s)
	}
	slices.SortFunc(rep.Services, func(a, b serviceDeviation) int { return cmp.Compare(a.Service, b.Service) })
	return rep
}

// comparisonReport is this request against healthy requests of the same
// entry operation.
type comparisonReport struct {
	EntryService    string          `json:"entry_service"`
	EntryOperation  string          `json:"entry_operation"`
	HealthyRequests int             `json:"healthy_requests"`
	SlowerSpans     []slowerSpan    `json:"slower_spans"`
	SlowerServices  []string        `json:"slower_services"`
	ExtraErrors     []extraError    `json:"extra_errors"`
	NewOperations   []operationName `json:"new_operations"`
	MissingOps      []operationName `json:"missing_operations"`
}

type operationName struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
}

type slowerSpan struct {
	Service    string             `json:"service"`
	Operation  string             `json:"operation"`
	SpanID     signalstore.SpanID `json:"span_id"`
	DurationNs int64              `json:"duration_ns"`
	HealthyP50 int64              `json:"healthy_p50_ns"`
	HealthyP99 int64              `json:"healthy_p99_ns"`
}

type extraError struct {
	Service          string  `json:"service"`
	Operation        string  `json:"operation"`
	Errors           int     `json:"errors"`
	HealthyErrorRate float64 `json:"healthy_error_rate"`
	StatusMessage    string  `json:"status_message,omitempty"`
}

// buildComparison compares span by span with the healthy requests' per
// operation statistics.
func buildComparison(rs *requestSignals, e entry, h *healthy) *comparisonReport {
	rep := &comparisonReport{
		EntryService: e.service, EntryOperation: e.operation, HealthyRequests: h.sameEntry,
		SlowerSpans: []slowerSpan{}, SlowerServices: []string{}, ExtraErrors: []extraError{},
		NewOperations: []operationName{}, MissingOps: []operationName{},
	}
	base := rca.BaselineFromSpans(h.sameOpSpans, nil)
	seen := map[rca.OperationKey]bool{}
	errs := map[rca.OperationKey]*extraError{}
	for i := range rs.spans {
		sp := &rs.spans[i]
		key := rca.OperationKey{Service: sp.ServiceName, Operation: sp.SpanName}
		stats, ok := base.Operations[key]
		if !seen[key] && !ok && h.sameEntry > 0 {
			rep.NewOperations = append(rep.NewOperations, operationName{key.Service, key.Operation})
		}
		seen[key] = true
		if ok && sp.Duration > stats.P99+minSlowdown {
			rep.SlowerSpans = append(rep.SlowerSpans, slowerSpan{Service: key.Service, Operation: key.Operation, SpanID: sp.SpanID,
				DurationNs: sp.Duration.Nanoseconds(), HealthyP50: stats.P50.Nanoseconds(), HealthyP99: stats.P99.Nanoseconds()})
			if !slices.Contains(rep.SlowerServices, key.Service) {
				rep.SlowerServices = append(rep.SlowerServices, key.Service)
			}
		}
		if sp.IsError() && (!ok || stats.ErrorRate() < 1) {
			x := errs[key]
			if x == nil {
				x = &extraError{Service: key.Service, Operation: key.Operation, HealthyErrorRate: stats.ErrorRate(), StatusMessage: truncate(sp.StatusMessage, 256)}
				errs[key] = x
			}
			x.Errors++
		}
	}
	for _, x := range errs {
		rep.ExtraErrors = append(rep.ExtraErrors, *x)
	}
	slices.SortFunc(rep.ExtraErrors, func(a, b extraError) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Operation, b.Operation))
	})
	// An operation that most healthy requests run but this one skipped is a
	// sign the request took another path (or stopped early).
	for key, stats := range base.Operations {
		if !seen[key] && h.sameEntry > 0 && stats.Count*2 >= int64(h.sameEntry) {
			rep.MissingOps = append(rep.MissingOps, operationName{key.Service, key.Operation})
		}
	}
	slices.SortFunc(rep.MissingOps, func(a, b operationName) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Operation, b.Operation))
	})
	// Most slowed-down first, relative to the operation's own p99, so the
	// slow leaf ranks above the parents that only waited for it.
	slices.SortStableFunc(rep.SlowerSpans, func(a, b slowerSpan) int {
		return cmp.Compare(float64(b.DurationNs)/float64(max(b.HealthyP99, 1)), float64(a.DurationNs)/float64(max(a.HealthyP99, 1)))
	})
	slices.Sort(rep.SlowerServices)
	return rep
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n] + "…"
}

func comparisonSummary(rep *comparisonReport) string {
	if rep.HealthyRequests == 0 {
		return fmt.Sprintf("No healthy request of %s %q was found to compare with.", rep.EntryService, rep.EntryOperation)
	}
	return fmt.Sprintf("Against %d healthy requests of %s %q: %d slower spans (services %v), %d operations with extra errors, %d new and %d missing operations.",
		rep.HealthyRequests, rep.EntryService, rep.EntryOperation, len(rep.SlowerSpans), rep.SlowerServices,
		len(rep.ExtraErrors), len(rep.NewOperations), len(rep.MissingOps))
}

func anomalySummary(rep *anomalyReport) string {
	var names []string
	for _, s := range rep.Services {
		if s.Anomalous {
			names = append(names, s.Service)
		}
	}
	if len(names) == 0 {
		return "No service this request touched deviates from its baseline."
	}
	return fmt.Sprintf("%d anomalies; services deviating from their baseline: %v.", len(rep.Anomalies), names)
}
