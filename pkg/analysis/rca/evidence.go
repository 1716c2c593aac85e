package rca

import (
	"strings"
	"unicode/utf8"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// maxTextBytes bounds the untrusted text copied into an evidence item.
const maxTextBytes = 256

// quote truncates untrusted text on a rune boundary for Evidence.Text.
func quote(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxTextBytes {
		return s
	}
	cut := maxTextBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func spanEvidence(n *node, reason string, weight float64) Evidence {
	s := n.span
	return Evidence{
		Signal: SignalSpan, Index: n.index, TraceID: s.TraceID, SpanID: s.SpanID,
		Time: s.Timestamp, Reason: reason, Name: s.SpanName, Weight: clamp01(weight),
	}
}

func logEvidence(logs []signalstore.LogRecord, i int, reason, name string, weight float64) Evidence {
	l := &logs[i]
	return Evidence{
		Signal: SignalLog, Index: i, TraceID: l.TraceID, SpanID: l.SpanID, Time: l.Timestamp,
		Reason: reason, Name: name, Text: quote(l.Body), Weight: clamp01(weight),
	}
}

func clamp01(x float64) float64 {
	switch {
	case x > 1:
		return 1
	case x > 0:
		return x
	default: // also NaN
		return 0
	}
}

// errorSeverityTexts are severity texts that mean error or worse when the
// severity number is unset.
var errorSeverityTexts = map[string]bool{
	"ERROR": true, "ERR": true, "FATAL": true, "CRITICAL": true, "CRIT": true,
	"SEVERE": true, "ALERT": true, "EMERG": true, "EMERGENCY": true, "PANIC": true,
}

var warnSeverityTexts = map[string]bool{"WARN": true, "WARNING": true}

// isErrorLog reports severity ERROR (17) or worse.
func isErrorLog(l *signalstore.LogRecord) bool {
	if l.SeverityNumber != 0 {
		return l.SeverityNumber >= 17
	}
	return errorSeverityTexts[strings.ToUpper(strings.TrimSpace(l.SeverityText))]
}

// isWarnLog reports severity WARN (13..16).
func isWarnLog(l *signalstore.LogRecord) bool {
	if l.SeverityNumber != 0 {
		return l.SeverityNumber >= 13 && l.SeverityNumber < 17
	}
	return warnSeverityTexts[strings.ToUpper(strings.TrimSpace(l.SeverityText))]
}

// logIndex finds the logs emitted in a span: same span id (and trace id
// when the log has one).
type logIndex struct {
	bySpan map[spanKey][]int
	// byTraceService holds logs with a trace id but no span id.
	byTraceService map[traceService][]int
}

type traceService struct {
	trace   signalstore.TraceID
	service string
}

func indexLogs(logs []signalstore.LogRecord) logIndex {
	ix := logIndex{bySpan: make(map[spanKey][]int), byTraceService: make(map[traceService][]int)}
	for i := range logs {
		l := &logs[i]
		switch {
		case !l.SpanID.IsEmpty():
			// A log with a span id but no trace id (bridged from older
			// loggers) is keyed by the zero trace id; of looks there too.
			k := spanKey{l.TraceID, l.SpanID}
			ix.bySpan[k] = append(ix.bySpan[k], i)
		case !l.TraceID.IsEmpty():
			k := traceService{l.TraceID, l.ServiceName}
			ix.byTraceService[k] = append(ix.byTraceService[k], i)
		}
	}
	return ix
}

// of returns the logs of the node's span, then the span-less logs of the
// same trace and service.
func (ix logIndex) of(n *node) (inSpan, inTrace []int) {
	s := n.span
	inSpan = append(inSpan, ix.bySpan[spanKey{s.TraceID, s.SpanID}]...)
	if s.TraceID != (signalstore.TraceID{}) {
		inSpan = append(inSpan, ix.bySpan[spanKey{signalstore.TraceID{}, s.SpanID}]...)
	}
	return inSpan, ix.byTraceService[traceService{s.TraceID, s.ServiceName}]
}
