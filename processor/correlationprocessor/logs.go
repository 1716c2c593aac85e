package correlationprocessor // import "github.com/ollystack/ollystack/processor/correlationprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
)

// processLogs gives each log record its explicit id (attributes, then a
// JSON or map body field, then the request metadata), else the id of its
// trace (cached explicit id, else derived). Records with neither an id nor a
// trace id are left alone. Logs read the cache but never write it: only spans
// say which explicit id a trace has.
func (c *correlator) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	if !c.cfg.EnrichLogs {
		return ld, nil
	}
	now := c.now()
	req := c.requestID(ctx)
	b := c.getBatch()
	defer c.putBatch(b)

	var counts outcomeCounts
	resourceLogs := ld.ResourceLogs()
	for i := 0; i < resourceLogs.Len(); i++ {
		scopeLogs := resourceLogs.At(i).ScopeLogs()
		for j := 0; j < scopeLogs.Len(); j++ {
			records := scopeLogs.At(j).LogRecords()
			for k := 0; k < records.Len(); k++ {
				record := records.At(k)
				traceID := record.TraceID()
				m := c.matcher.find(record.Attributes(), traceID)
				if m.id == "" {
					c.findInBody(&m, record.Body(), traceID)
				}
				applyRequestID(&m, req)
				id, oc := c.itemCorrelation(b, &m, traceID, now)
				c.write(record.Attributes(), &m, id)
				counts[oc]++
			}
		}
	}
	c.record(ctx, signalLogs, &counts)
	return ld, nil
}

// findInBody looks for an explicit id in a structured body: a map body
// directly, a string body when it holds a JSON object.
func (c *correlator) findInBody(m *match, body pcommon.Value, traceID pcommon.TraceID) {
	var id string
	var verdict correlationid.Verdict
	switch body.Type() {
	case pcommon.ValueTypeMap:
		found := c.matcher.find(body.Map(), traceID)
		id, verdict = found.id, correlationid.Absent
		// A field holding no string (or an empty one) is no id, as in a
		// JSON body; only an invalid string is rejected.
		if id != "" {
			verdict = correlationid.Accepted
		} else if found.rejected {
			verdict = correlationid.Rejected
		}
	case pcommon.ValueTypeStr:
		if !looksLikeJSONObject(body.Str()) {
			return
		}
		id, verdict = lookupJSONBody(body.Str(), c.bodyKeys, traceID)
	default:
		return
	}
	switch verdict {
	case correlationid.Accepted:
		m.id = id
	case correlationid.Rejected:
		m.rejected = true
	}
}
