package embedded

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"slices"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Encoding turns pdata into rows in the caller's goroutine, so that the
// single writer goroutine spends its time in SQLite only and concurrent
// Write calls use both cores.

// serviceNameKey is the resource attribute that names the service
// (semantic conventions), as the ClickHouse exporter reads it.
const serviceNameKey = "service.name"

// resourceRow is one distinct resource of a batch; rows refer to it by index.
type resourceRow struct {
	hash        [sha256.Size]byte
	serviceName string
	attrsJSON   string
}

type resourceSet struct {
	rows  []resourceRow
	index map[[sha256.Size]byte]int
}

func (rs *resourceSet) add(res pcommon.Resource, buf []byte) (idx int, serviceName string, _ []byte) {
	buf = appendAttributesJSON(buf[:0], res.Attributes())
	hash := sha256.Sum256(buf)
	if i, ok := rs.index[hash]; ok {
		return i, rs.rows[i].serviceName, buf
	}
	if rs.index == nil {
		rs.index = map[[sha256.Size]byte]int{}
	}
	service := ""
	if v, ok := res.Attributes().Get(serviceNameKey); ok {
		service = sanitizeUTF8(v.AsString())
	}
	rs.rows = append(rs.rows, resourceRow{hash: hash, serviceName: service, attrsJSON: string(buf)})
	rs.index[hash] = len(rs.rows) - 1
	return len(rs.rows) - 1, service, buf
}

type spanRow struct {
	timestamp     int64
	traceID       [16]byte
	spanID        [8]byte
	parentSpanID  [8]byte
	serviceName   string
	spanName      string
	spanKind      string
	duration      int64
	statusCode    string
	correlationID string
	resource      int
	traceState    string
	scopeName     string
	scopeVersion  string
	statusMessage string
	attrsJSON     string
	eventsJSON    string
	linksJSON     string
}

func (s *spanRow) isError() bool { return s.statusCode == "Error" }
func (s *spanRow) end() int64    { return s.timestamp + s.duration }

type traceBatch struct {
	resources resourceSet
	spans     []spanRow // sorted by trace id, then input order
}

func encodeTraces(td ptrace.Traces, correlationAttr string) *traceBatch {
	b := &traceBatch{spans: make([]spanRow, 0, td.SpanCount())}
	var buf []byte
	for _, rs := range td.ResourceSpans().All() {
		var resIdx int
		var service string
		resIdx, service, buf = b.resources.add(rs.Resource(), buf)
		for _, ss := range rs.ScopeSpans().All() {
			scope := ss.Scope()
			for _, span := range ss.Spans().All() {
				start := int64(span.StartTimestamp())
				duration := int64(span.EndTimestamp()) - start
				if duration < 0 {
					duration = 0
				}
				row := spanRow{
					timestamp:     start,
					traceID:       span.TraceID(),
					spanID:        span.SpanID(),
					parentSpanID:  span.ParentSpanID(),
					serviceName:   service,
					spanName:      sanitizeUTF8(span.Name()),
					spanKind:      span.Kind().String(),
					duration:      duration,
					statusCode:    span.Status().Code().String(),
					resource:      resIdx,
					traceState:    sanitizeUTF8(span.TraceState().AsRaw()),
					scopeName:     sanitizeUTF8(scope.Name()),
					scopeVersion:  sanitizeUTF8(scope.Version()),
					statusMessage: sanitizeUTF8(span.Status().Message()),
				}
				if v, ok := span.Attributes().Get(correlationAttr); ok {
					row.correlationID = sanitizeUTF8(v.AsString())
				}
				buf = appendAttributesJSON(buf[:0], span.Attributes())
				row.attrsJSON = string(buf)
				row.eventsJSON = encodeEvents(span.Events(), buf[:0])
				row.linksJSON = encodeLinks(span.Links(), buf[:0])
				b.spans = append(b.spans, row)
			}
		}
	}
	slices.SortStableFunc(b.spans, func(a, c spanRow) int { return bytes.Compare(a.traceID[:], c.traceID[:]) })
	return b
}

// Events and links are stored as compact JSON arrays: {"t":ns,"n":name,"a":{}}
// and {"tid":hex,"sid":hex,"ts":state,"a":{}}; "" when there are none.
func encodeEvents(events ptrace.SpanEventSlice, buf []byte) string {
	if events.Len() == 0 {
		return ""
	}
	buf = append(buf, '[')
	for i, ev := range events.All() {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"t":`...)
		buf = appendInt(buf, int64(ev.Timestamp()))
		buf = append(buf, `,"n":`...)
		buf = appendJSONString(buf, ev.Name())
		buf = append(buf, `,"a":`...)
		buf = appendAttributesJSON(buf, ev.Attributes())
		buf = append(buf, '}')
	}
	return string(append(buf, ']'))
}

func encodeLinks(links ptrace.SpanLinkSlice, buf []byte) string {
	if links.Len() == 0 {
		return ""
	}
	buf = append(buf, '[')
	for i, l := range links.All() {
		if i > 0 {
			buf = append(buf, ',')
		}
		tid, sid := l.TraceID(), l.SpanID()
		buf = append(buf, `{"tid":`...)
		buf = appendJSONString(buf, hexString(tid[:]))
		buf = append(buf, `,"sid":`...)
		buf = appendJSONString(buf, hexString(sid[:]))
		buf = append(buf, `,"ts":`...)
		buf = appendJSONString(buf, l.TraceState().AsRaw())
		buf = append(buf, `,"a":`...)
		buf = appendAttributesJSON(buf, l.Attributes())
		buf = append(buf, '}')
	}
	return string(append(buf, ']'))
}

func hexString(b []byte) string {
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i] = hexDigits[c>>4]
		out[2*i+1] = hexDigits[c&0xf]
	}
	return string(out)
}

type logRow struct {
	timestamp      int64
	traceID        [16]byte
	spanID         [8]byte
	traceFlags     uint32
	severityText   string
	severityNumber int32
	serviceName    string
	correlationID  string
	resource       int
	scopeName      string
	scopeVersion   string
	eventName      string
	body           string
	attrsJSON      string
}

type logBatch struct {
	resources resourceSet
	logs      []logRow // sorted by trace id, correlation id, then input order
}

func encodeLogs(ld plog.Logs, correlationAttr string) *logBatch {
	b := &logBatch{logs: make([]logRow, 0, ld.LogRecordCount())}
	var buf []byte
	for _, rl := range ld.ResourceLogs().All() {
		var resIdx int
		var service string
		resIdx, service, buf = b.resources.add(rl.Resource(), buf)
		for _, sl := range rl.ScopeLogs().All() {
			scope := sl.Scope()
			for _, lr := range sl.LogRecords().All() {
				ts := lr.Timestamp()
				if ts == 0 {
					// As the ClickHouse exporter does: records without an
					// event time are placed at their observation time.
					ts = lr.ObservedTimestamp()
				}
				row := logRow{
					timestamp:      int64(ts),
					traceID:        lr.TraceID(),
					spanID:         lr.SpanID(),
					traceFlags:     uint32(lr.Flags()),
					severityText:   sanitizeUTF8(lr.SeverityText()),
					severityNumber: int32(lr.SeverityNumber()),
					serviceName:    service,
					resource:       resIdx,
					scopeName:      sanitizeUTF8(scope.Name()),
					scopeVersion:   sanitizeUTF8(scope.Version()),
					eventName:      sanitizeUTF8(lr.EventName()),
					body:           sanitizeUTF8(lr.Body().AsString()),
				}
				if v, ok := lr.Attributes().Get(correlationAttr); ok {
					row.correlationID = sanitizeUTF8(v.AsString())
				}
				buf = appendAttributesJSON(buf[:0], lr.Attributes())
				row.attrsJSON = string(buf)
				b.logs = append(b.logs, row)
			}
		}
	}
	slices.SortStableFunc(b.logs, func(a, c logRow) int {
		if d := bytes.Compare(a.traceID[:], c.traceID[:]); d != 0 {
			return d
		}
		return cmp.Compare(a.correlationID, c.correlationID)
	})
	return b
}

type metricRow struct {
	table            string
	timeUnix         int64
	startTimeUnix    int64
	serviceName      string
	metricName       string
	resource         int
	value            float64
	flags            uint32
	temporality      int32
	isMonotonic      bool
	count            uint64
	sum              float64
	min, max         *float64
	scopeName        string
	scopeVersion     string
	description      string
	unit             string
	bucketCountsJSON string
	boundsJSON       string
	attrsJSON        string
	exemplarsJSON    string
	exemplarTraceIDs [][16]byte
}

type metricBatch struct {
	resources resourceSet
	points    []metricRow
}

// encodeMetrics keeps gauge, sum and histogram points. Exponential
// histograms and summaries are not stored by the embedded backend yet (the
// read model has no place for them); they are counted in skipped. A metric
// without a type has no points.
func encodeMetrics(md pmetric.Metrics) (b *metricBatch, skipped int) {
	b = &metricBatch{}
	var buf []byte
	for _, rm := range md.ResourceMetrics().All() {
		var resIdx int
		var service string
		resIdx, service, buf = b.resources.add(rm.Resource(), buf)
		for _, sm := range rm.ScopeMetrics().All() {
			scope := sm.Scope()
			for _, m := range sm.Metrics().All() {
				base := metricRow{
					serviceName:  service,
					metricName:   sanitizeUTF8(m.Name()),
					resource:     resIdx,
					scopeName:    sanitizeUTF8(scope.Name()),
					scopeVersion: sanitizeUTF8(scope.Version()),
					description:  sanitizeUTF8(m.Description()),
					unit:         sanitizeUTF8(m.Unit()),
				}
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					for _, dp := range m.Gauge().DataPoints().All() {
						row := base
						row.table = tableMetricsGauge
						buf = fillNumberPoint(&row, dp, buf)
						b.points = append(b.points, row)
					}
				case pmetric.MetricTypeSum:
					for _, dp := range m.Sum().DataPoints().All() {
						row := base
						row.table = tableMetricsSum
						row.temporality = int32(m.Sum().AggregationTemporality())
						row.isMonotonic = m.Sum().IsMonotonic()
						buf = fillNumberPoint(&row, dp, buf)
						b.points = append(b.points, row)
					}
				case pmetric.MetricTypeHistogram:
					for _, dp := range m.Histogram().DataPoints().All() {
						row := base
						row.table = tableMetricsHistogram
						row.temporality = int32(m.Histogram().AggregationTemporality())
						row.timeUnix, row.startTimeUnix = int64(dp.Timestamp()), int64(dp.StartTimestamp())
						row.flags = uint32(dp.Flags())
						row.count, row.sum = dp.Count(), signalstore.FiniteOrZero(dp.Sum())
						// A non-finite min or max is kept as absent: JSON
						// cannot carry it (see signalstore.FiniteOrZero).
						if v := dp.Min(); dp.HasMin() && signalstore.IsFinite(v) {
							row.min = &v
						}
						if v := dp.Max(); dp.HasMax() && signalstore.IsFinite(v) {
							row.max = &v
						}
						buf = appendUintsJSON(buf[:0], dp.BucketCounts().AsRaw())
						row.bucketCountsJSON = string(buf)
						buf = appendFloatsJSON(buf[:0], dp.ExplicitBounds().AsRaw())
						row.boundsJSON = string(buf)
						buf = appendAttributesJSON(buf[:0], dp.Attributes())
						row.attrsJSON = string(buf)
						row.exemplarsJSON, row.exemplarTraceIDs = encodeExemplars(dp.Exemplars(), buf[:0])
						b.points = append(b.points, row)
					}
				case pmetric.MetricTypeExponentialHistogram:
					skipped += m.ExponentialHistogram().DataPoints().Len()
				case pmetric.MetricTypeSummary:
					skipped += m.Summary().DataPoints().Len()
				}
			}
		}
	}
	return b, skipped
}

func fillNumberPoint(row *metricRow, dp pmetric.NumberDataPoint, buf []byte) []byte {
	row.timeUnix, row.startTimeUnix = int64(dp.Timestamp()), int64(dp.StartTimestamp())
	row.flags = uint32(dp.Flags())
	switch dp.ValueType() {
	case pmetric.NumberDataPointValueTypeInt:
		row.value = float64(dp.IntValue())
	case pmetric.NumberDataPointValueTypeDouble:
		row.value = signalstore.FiniteOrZero(dp.DoubleValue())
	}
	buf = appendAttributesJSON(buf[:0], dp.Attributes())
	row.attrsJSON = string(buf)
	row.exemplarsJSON, row.exemplarTraceIDs = encodeExemplars(dp.Exemplars(), buf[:0])
	return buf
}

// encodeExemplars writes [{"t":ns,"v":value,"tid":hex,"sid":hex,"a":{}}] and
// returns the distinct trace ids named, for the exemplar index.
func encodeExemplars(exemplars pmetric.ExemplarSlice, buf []byte) (string, [][16]byte) {
	if exemplars.Len() == 0 {
		return "", nil
	}
	var traceIDs [][16]byte
	buf = append(buf, '[')
	for i, ex := range exemplars.All() {
		if i > 0 {
			buf = append(buf, ',')
		}
		value := 0.0
		switch ex.ValueType() {
		case pmetric.ExemplarValueTypeInt:
			value = float64(ex.IntValue())
		case pmetric.ExemplarValueTypeDouble:
			value = signalstore.FiniteOrZero(ex.DoubleValue())
		}
		tid, sid := ex.TraceID(), ex.SpanID()
		buf = append(buf, `{"t":`...)
		buf = appendInt(buf, int64(ex.Timestamp()))
		buf = append(buf, `,"v":`...)
		buf = appendFloat(buf, value)
		if !tid.IsEmpty() {
			buf = append(buf, `,"tid":"`...)
			buf = append(buf, hexString(tid[:])...)
			buf = append(buf, '"')
			if !slices.Contains(traceIDs, [16]byte(tid)) {
				traceIDs = append(traceIDs, tid)
			}
		}
		if !sid.IsEmpty() {
			buf = append(buf, `,"sid":"`...)
			buf = append(buf, hexString(sid[:])...)
			buf = append(buf, '"')
		}
		buf = append(buf, `,"a":`...)
		buf = appendAttributesJSON(buf, ex.FilteredAttributes())
		buf = append(buf, '}')
	}
	return string(append(buf, ']')), traceIDs
}

func appendUintsJSON(buf []byte, vs []uint64) []byte {
	buf = append(buf, '[')
	for i, v := range vs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendUint(buf, v, 10)
	}
	return append(buf, ']')
}

func appendFloatsJSON(buf []byte, vs []float64) []byte {
	buf = append(buf, '[')
	for i, v := range vs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendFloat(buf, signalstore.FiniteOrZero(v))
	}
	return append(buf, ']')
}
