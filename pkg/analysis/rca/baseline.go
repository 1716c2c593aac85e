package rca

import (
	"slices"
	"time"

	"github.com/ollystack/ollystack/pkg/analysis/logpattern"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

// OperationKey names one operation of one service.
type OperationKey struct {
	Service   string
	Operation string
}

// OperationStats summarises an operation's healthy history.
type OperationStats struct {
	Count  int64
	Errors int64
	// Quantiles of the span duration.
	P50, P95, P99 time.Duration
	// Quantiles of the self time (duration not covered by child spans), the
	// figure latency outliers are judged on, so that a parent waiting on a
	// slow child is not itself an outlier.
	SelfP50, SelfP95, SelfP99 time.Duration
}

// selfExcess is how far a span's self time is above SelfP50 when it is
// above SelfP99 and at least minExcess, else 0: the latency a slow span adds.
func (s OperationStats) selfExcess(self int64, minExcess time.Duration) time.Duration {
	if self <= int64(max(s.SelfP99, minExcess)) {
		return 0
	}
	return time.Duration(self - int64(s.SelfP50))
}

// ErrorRate is Errors/Count, 0 without samples.
func (s OperationStats) ErrorRate() float64 {
	if s.Count <= 0 {
		return 0
	}
	return float64(s.Errors) / float64(s.Count)
}

// Baseline is what healthy history looks like for the services of a request.
// The zero value is valid and knows nothing: analyzers needing a baseline
// then stay silent rather than guess.
type Baseline struct {
	Operations map[OperationKey]OperationStats
	// Services holds per-service totals over all operations (for
	// RankServices and for error rates of operations seen too rarely).
	Services map[string]OperationStats
	// Versions lists the service.version values seen per service.
	Versions map[string][]string
	// Templates holds the log templates seen per service (key = service
	// name); nil disables the new-log-pattern analyzer.
	Templates *logpattern.Keyed
}

// KnownVersion reports whether the baseline saw version for service; ok is
// false when the baseline has no version for the service at all.
func (b Baseline) KnownVersion(service, version string) (known, ok bool) {
	vs := b.Versions[service]
	if len(vs) == 0 {
		return false, false
	}
	return slices.Contains(vs, version), true
}

// BaselineFromSpans builds a Baseline from healthy history: duration and
// self-time quantiles and error rates per (service, operation), service
// versions from the service.version resource attribute of spans and logs,
// and the log templates of logs per service. Spans are grouped into trees by
// trace and parent id to compute self times.
func BaselineFromSpans(spans []signalstore.Span, logs []signalstore.LogRecord) Baseline {
	b := Baseline{
		Operations: make(map[OperationKey]OperationStats),
		Services:   make(map[string]OperationStats),
		Versions:   make(map[string][]string),
	}
	tree := buildTree(spans)
	type samples struct {
		durations, selfTimes []int64
		errors               int64
	}
	ops := make(map[OperationKey]*samples)
	svcs := make(map[string]*samples)
	versions := make(map[string]map[string]bool)
	addVersion := func(service string, attrs map[string]string) {
		v, ok := attrs[serviceVersionKey]
		if !ok {
			return
		}
		if versions[service] == nil {
			versions[service] = make(map[string]bool)
		}
		versions[service][v] = true
	}
	for _, n := range tree.nodes {
		s := n.span
		for _, m := range []*samples{
			getOrNew(ops, OperationKey{s.ServiceName, s.SpanName}, func() *samples { return &samples{} }),
			getOrNew(svcs, s.ServiceName, func() *samples { return &samples{} }),
		} {
			m.durations = append(m.durations, n.duration())
			m.selfTimes = append(m.selfTimes, n.selfTime)
			if s.IsError() {
				m.errors++
			}
		}
		addVersion(s.ServiceName, s.ResourceAttributes)
	}
	summarise := func(m *samples) OperationStats {
		slices.Sort(m.durations)
		slices.Sort(m.selfTimes)
		return OperationStats{
			Count: int64(len(m.durations)), Errors: m.errors,
			P50: quantile(m.durations, 0.50), P95: quantile(m.durations, 0.95), P99: quantile(m.durations, 0.99),
			SelfP50: quantile(m.selfTimes, 0.50), SelfP95: quantile(m.selfTimes, 0.95), SelfP99: quantile(m.selfTimes, 0.99),
		}
	}
	for k, m := range ops {
		b.Operations[k] = summarise(m)
	}
	for k, m := range svcs {
		b.Services[k] = summarise(m)
	}
	if len(logs) > 0 {
		// The default config is valid, so the error cannot happen.
		b.Templates, _ = logpattern.NewKeyed(logpattern.Config{}, 0)
		for i := range logs {
			b.Templates.Add(logs[i].ServiceName, logs[i].Body)
			addVersion(logs[i].ServiceName, logs[i].ResourceAttributes)
		}
	}
	for svc, set := range versions {
		list := make([]string, 0, len(set))
		for v := range set {
			list = append(list, v)
		}
		slices.Sort(list)
		b.Versions[svc] = list
	}
	return b
}

const serviceVersionKey = "service.version"

// quantile returns the nearest-rank q-quantile of sorted values.
func quantile(sorted []int64, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted)) + 0.5)
	i = min(max(i-1, 0), len(sorted)-1)
	return time.Duration(sorted[i])
}

func getOrNew[K comparable, V any](m map[K]V, k K, mk func() V) V {
	v, ok := m[k]
	if !ok {
		v = mk()
		m[k] = v
	}
	return v
}
