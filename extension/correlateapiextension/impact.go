package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"cmp"
	"slices"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Attribute keys naming who a request affected, looked up on spans, their
// resources and logs.
var (
	userAttributes   = []string{"enduser.id", "user.id"}
	tenantAttributes = []string{"tenant.id", "tenant_id", "tenant"}
)

// maxImpactOperations bounds the operations listed by /impact; the slowest
// and failing ones matter, the long tail does not.
const maxImpactOperations = 50

// maxImpactPrincipals bounds the users and tenants listed by /impact.
const maxImpactPrincipals = 100

type impactResponse struct {
	CorrelationID string            `json:"correlation_id"`
	TimeRange     timeRange         `json:"time_range"`
	TraceCount    int               `json:"trace_count"`
	RequestCount  int               `json:"request_count"`
	SpanCount     int               `json:"span_count"`
	ErrorCount    int               `json:"error_count"`
	ErrorRate     float64           `json:"error_rate"`
	DurationNanos int64             `json:"duration_ns"`
	Services      []serviceImpact   `json:"services"`
	Operations    []operationImpact `json:"operations"`
	Users         []string          `json:"users"`
	Tenants       []string          `json:"tenants"`
	Truncated     truncation        `json:"truncated"`
}

// serviceImpact is how one service took part in the correlation.
type serviceImpact struct {
	Service       string `json:"service"`
	SpanCount     int    `json:"span_count"`
	RequestCount  int    `json:"request_count"`
	ErrorCount    int    `json:"error_count"`
	LogCount      int    `json:"log_count"`
	ErrorLogCount int    `json:"error_log_count"`
	// MaxDurationNanos is the longest span of the service: its share of
	// the latency a user saw.
	MaxDurationNanos int64 `json:"max_duration_ns"`
}

type operationImpact struct {
	Service          string `json:"service"`
	Operation        string `json:"operation"`
	Count            int    `json:"count"`
	ErrorCount       int    `json:"error_count"`
	AvgDurationNanos int64  `json:"avg_duration_ns"`
	MaxDurationNanos int64  `json:"max_duration_ns"`
}

// isRequest reports whether a span is the receiving side of a request or
// message (or a root span, which is where any request enters).
func isRequest(sp *signalstore.Span) bool {
	return sp.SpanKind == "Server" || sp.SpanKind == "Consumer" || sp.ParentSpanID.IsEmpty()
}

func buildImpact(c *correlatedContext) *impactResponse {
	im := &impactResponse{
		CorrelationID: c.CorrelationID,
		TimeRange:     c.TimeRange,
		TraceCount:    c.Summary.TraceCount,
		SpanCount:     c.Summary.SpanCount,
		DurationNanos: c.Summary.DurationNanos,
		Users:         []string{},
		Tenants:       []string{},
		Truncated:     c.Truncated,
	}
	services := map[string]*serviceImpact{}
	service := func(name string) *serviceImpact {
		s, ok := services[name]
		if !ok {
			s = &serviceImpact{Service: name}
			services[name] = s
		}
		return s
	}
	type opKey struct{ service, operation string }
	ops := map[opKey]*operationImpact{}
	var totals = map[opKey]time.Duration{}
	for i := range c.spans {
		sp := &c.spans[i]
		s := service(sp.ServiceName)
		s.SpanCount++
		s.MaxDurationNanos = max(s.MaxDurationNanos, sp.Duration.Nanoseconds())
		k := opKey{sp.ServiceName, sp.SpanName}
		op, ok := ops[k]
		if !ok {
			op = &operationImpact{Service: sp.ServiceName, Operation: sp.SpanName}
			ops[k] = op
		}
		op.Count++
		totals[k] += sp.Duration
		op.MaxDurationNanos = max(op.MaxDurationNanos, sp.Duration.Nanoseconds())
		if isRequest(sp) {
			s.RequestCount++
			im.RequestCount++
		}
		if sp.IsError() {
			s.ErrorCount++
			op.ErrorCount++
			im.ErrorCount++
		}
		im.Users = appendAttrValues(im.Users, userAttributes, sp.SpanAttributes, sp.ResourceAttributes)
		im.Tenants = appendAttrValues(im.Tenants, tenantAttributes, sp.SpanAttributes, sp.ResourceAttributes)
	}
	for i := range c.Logs {
		l := &c.Logs[i]
		s := service(l.ServiceName)
		s.LogCount++
		if isErrorLog(l) {
			s.ErrorLogCount++
		}
		im.Users = appendAttrValues(im.Users, userAttributes, l.LogAttributes, l.ResourceAttributes)
		im.Tenants = appendAttrValues(im.Tenants, tenantAttributes, l.LogAttributes, l.ResourceAttributes)
	}
	if im.SpanCount > 0 {
		im.ErrorRate = float64(im.ErrorCount) / float64(im.SpanCount)
	}
	for _, s := range services {
		im.Services = append(im.Services, *s)
	}
	slices.SortFunc(im.Services, func(a, b serviceImpact) int { return cmp.Compare(a.Service, b.Service) })
	im.Services = nonNil(im.Services)
	for k, op := range ops {
		op.AvgDurationNanos = totals[k].Nanoseconds() / int64(op.Count)
		im.Operations = append(im.Operations, *op)
	}
	// Failing operations first, then the slowest: what an on-call engineer
	// looks at first.
	slices.SortFunc(im.Operations, func(a, b operationImpact) int {
		if c := cmp.Compare(b.ErrorCount, a.ErrorCount); c != 0 {
			return c
		}
		if c := cmp.Compare(b.MaxDurationNanos, a.MaxDurationNanos); c != 0 {
			return c
		}
		return cmp.Compare(a.Service+"\x00"+a.Operation, b.Service+"\x00"+b.Operation)
	})
	im.Operations, _ = cutTo(nonNil(im.Operations), maxImpactOperations)
	slices.Sort(im.Users)
	slices.Sort(im.Tenants)
	return im
}

func appendAttrValues(dst []string, keys []string, maps ...map[string]string) []string {
	for _, m := range maps {
		for _, k := range keys {
			if len(dst) >= maxImpactPrincipals {
				return dst
			}
			if v := m[k]; v != "" && !slices.Contains(dst, v) {
				dst = append(dst, v)
			}
		}
	}
	return dst
}
