package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/ollystack/ollystack/receiver/syntheticsreceiver/internal/metadata"
)

// serviceName is the resource service.name of everything the receiver
// emits, so synthetic runs show up as one service in trace views.
const serviceName = "ollystack-synthetics"

// Metric names of the emitted (not self-) metrics.
const (
	metricCheckDuration = "synthetics.check.duration"
	metricCheckSuccess  = "synthetics.check.success"
	metricStepDuration  = "synthetics.step.duration"
	metricTLSDaysLeft   = "synthetics.tls.days_left"
)

// durationBounds are histogram bucket bounds in seconds, from a fast health
// endpoint to a slow browser journey.
var durationBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

func putResource(res pcommon.Resource, r *run) {
	res.Attributes().PutStr("service.name", serviceName)
	if r.location != "" {
		res.Attributes().PutStr("synthetics.location", r.location)
	}
}

// putCheckAttributes writes the attributes shared by every span and log
// record of a run.
func putCheckAttributes(m pcommon.Map, r *run) {
	m.PutBool(attrSynthetic, true)
	m.PutStr(attrCheckName, r.checkName)
	m.PutStr(attrCheckType, r.checkType)
	m.PutStr(attrLocation, r.location)
	m.PutStr(attrCorrelationID, r.correlationID)
}

// putMetricAttributes writes the low-cardinality subset used on metrics:
// the correlation id goes to exemplars, not to data point attributes.
func putMetricAttributes(m pcommon.Map, r *run) {
	m.PutStr(attrCheckName, r.checkName)
	m.PutStr(attrCheckType, r.checkType)
	m.PutStr(attrLocation, r.location)
}

func (r *run) traces() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	putResource(rs.Resource(), r)
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName(metadata.ScopeName)
	spans := ss.Spans()

	root := spans.AppendEmpty()
	root.SetName("synthetics.check " + r.checkName)
	root.SetKind(ptrace.SpanKindInternal)
	root.SetTraceID(r.traceID)
	root.SetSpanID(r.rootSpanID)
	root.SetStartTimestamp(pcommon.NewTimestampFromTime(r.start))
	root.SetEndTimestamp(pcommon.NewTimestampFromTime(r.end))
	putCheckAttributes(root.Attributes(), r)
	root.Attributes().PutBool("check.success", r.succeeded())
	setStatus(root.Status(), r.failure)

	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.steps {
		span := spans.AppendEmpty()
		span.SetName(s.name)
		span.SetKind(s.kind)
		span.SetTraceID(r.traceID)
		span.SetSpanID(s.spanID)
		span.SetParentSpanID(r.rootSpanID)
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(s.start))
		end := s.end
		if end.IsZero() { // a step cut short by the run's timeout
			end = r.end
		}
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
		s.attrs.CopyTo(span.Attributes())
		putCheckAttributes(span.Attributes(), r)
		setStatus(span.Status(), s.failure)
	}
	return td
}

func setStatus(st ptrace.Status, f *assertionFailure) {
	if f == nil {
		st.SetCode(ptrace.StatusCodeOk)
		return
	}
	st.SetCode(ptrace.StatusCodeError)
	st.SetMessage(f.Error())
}

func (r *run) metrics() pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	putResource(rm.Resource(), r)
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	ms := sm.Metrics()
	ts := pcommon.NewTimestampFromTime(r.end)
	start := pcommon.NewTimestampFromTime(r.start)

	dur := newHistogram(ms, metricCheckDuration, "Duration of a synthetic check run.")
	dp := addHistogramPoint(dur, start, ts, r.end.Sub(r.start).Seconds())
	putMetricAttributes(dp.Attributes(), r)
	ex := dp.Exemplars().AppendEmpty()
	ex.SetTimestamp(ts)
	ex.SetDoubleValue(r.end.Sub(r.start).Seconds())
	ex.SetTraceID(r.traceID)
	ex.SetSpanID(r.rootSpanID)
	ex.FilteredAttributes().PutStr(attrCorrelationID, r.correlationID)

	success := ms.AppendEmpty()
	success.SetName(metricCheckSuccess)
	success.SetDescription("1 when the last run of the check passed, 0 when it failed.")
	success.SetUnit("1")
	sp := success.SetEmptyGauge().DataPoints().AppendEmpty()
	sp.SetTimestamp(ts)
	sp.SetIntValue(boolToInt(r.succeeded()))
	putMetricAttributes(sp.Attributes(), r)

	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.steps) > 0 {
		stepDur := newHistogram(ms, metricStepDuration, "Duration of one step or request of a synthetic check run.")
		// Steps of the same name (a journey clicking "#next" twice) are one
		// series: one point counting them all, not duplicate points.
		byName := make(map[string]pmetric.HistogramDataPoint, len(r.steps))
		for _, s := range r.steps {
			if s.end.IsZero() {
				continue
			}
			seconds := s.end.Sub(s.start).Seconds()
			if p, ok := byName[s.name]; ok {
				observeHistogram(p, seconds)
				continue
			}
			p := addHistogramPoint(stepDur, start, ts, seconds)
			putMetricAttributes(p.Attributes(), r)
			p.Attributes().PutStr(attrStepName, s.name)
			byName[s.name] = p
		}
	}
	if len(r.tlsDays) > 0 {
		days := ms.AppendEmpty()
		days.SetName(metricTLSDaysLeft)
		days.SetDescription("Days until the server's leaf certificate expires.")
		days.SetUnit("d")
		points := days.SetEmptyGauge().DataPoints()
		for _, o := range r.tlsDays {
			p := points.AppendEmpty()
			p.SetTimestamp(ts)
			p.SetDoubleValue(o.daysLeft)
			putMetricAttributes(p.Attributes(), r)
			p.Attributes().PutStr("server.address", o.server)
		}
	}
	return md
}

func newHistogram(ms pmetric.MetricSlice, name, description string) pmetric.Histogram {
	m := ms.AppendEmpty()
	m.SetName(name)
	m.SetDescription(description)
	m.SetUnit("s")
	h := m.SetEmptyHistogram()
	// Each run is reported once, so delta temporality is the honest one.
	h.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	return h
}

func addHistogramPoint(h pmetric.Histogram, start, ts pcommon.Timestamp, seconds float64) pmetric.HistogramDataPoint {
	dp := h.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(start)
	dp.SetTimestamp(ts)
	dp.SetCount(1)
	dp.SetSum(seconds)
	dp.SetMin(seconds)
	dp.SetMax(seconds)
	dp.ExplicitBounds().FromRaw(durationBounds)
	counts := make([]uint64, len(durationBounds)+1)
	counts[durationBucket(seconds)] = 1
	dp.BucketCounts().FromRaw(counts)
	return dp
}

// observeHistogram adds one more duration to a point of addHistogramPoint.
func observeHistogram(dp pmetric.HistogramDataPoint, seconds float64) {
	dp.SetCount(dp.Count() + 1)
	dp.SetSum(dp.Sum() + seconds)
	dp.SetMin(min(dp.Min(), seconds))
	dp.SetMax(max(dp.Max(), seconds))
	bucket := durationBucket(seconds)
	dp.BucketCounts().SetAt(bucket, dp.BucketCounts().At(bucket)+1)
}

// durationBucket is the index of the durationBounds bucket of seconds.
func durationBucket(seconds float64) int {
	for i, b := range durationBounds {
		if seconds <= b {
			return i
		}
	}
	return len(durationBounds)
}

func boolToInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// logs returns one error record describing a failed run, or false when the
// run passed.
func (r *run) logs() (plog.Logs, bool) {
	if r.failure == nil {
		return plog.Logs{}, false
	}
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	putResource(rl.Resource(), r)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(metadata.ScopeName)
	lr := sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(r.end))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(r.end))
	lr.SetSeverityNumber(plog.SeverityNumberError)
	lr.SetSeverityText("ERROR")
	lr.SetEventName("synthetics.check.failed")
	lr.Body().SetStr("synthetic check " + r.checkName + " failed: " + r.failure.Error())
	lr.SetTraceID(r.traceID)
	lr.SetSpanID(r.failedSpanID())
	attrs := lr.Attributes()
	putCheckAttributes(attrs, r)
	attrs.PutStr(attrStepName, r.failure.step)
	attrs.PutStr("assertion", r.failure.assertion)
	attrs.PutStr("expected", r.failure.expected)
	attrs.PutStr("actual", r.failure.actual)
	return ld, true
}

// failedSpanID is the span of the failed step, or the root span.
func (r *run) failedSpanID() pcommon.SpanID {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.steps {
		if s.failure != nil {
			return s.spanID
		}
	}
	return r.rootSpanID
}
