package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Semantic-convention keys an error is described by.
const (
	attrExceptionType    = "exception.type"
	attrExceptionMessage = "exception.message"
	exceptionEventName   = "exception"
	// severityError is the first OpenTelemetry severity number of the
	// ERROR range.
	severityError = 17
	// maxMessageLength bounds normalised messages: the start of a message
	// identifies it, and a log body can be megabytes.
	maxMessageLength = 256
)

// failure is what one error span or error log says went wrong.
type failure struct {
	at            time.Time
	exceptionType string
	message       string
}

// spanFailure reads a failed span's exception event, falling back to its
// status message, then its name.
func spanFailure(sp *signalstore.Span) failure {
	f := failure{at: sp.Timestamp.Add(sp.Duration), message: sp.StatusMessage}
	for i := range sp.Events {
		ev := &sp.Events[i]
		if ev.Name != exceptionEventName {
			continue
		}
		f.at = ev.Timestamp
		f.exceptionType = ev.Attributes[attrExceptionType]
		if m := ev.Attributes[attrExceptionMessage]; m != "" {
			f.message = m
		}
		break
	}
	if f.exceptionType == "" {
		f.exceptionType = sp.SpanAttributes[attrExceptionType]
	}
	if f.message == "" {
		f.message = sp.SpanName
	}
	return f
}

func isErrorLog(l *signalstore.LogRecord) bool {
	if l.SeverityNumber >= severityError {
		return true
	}
	if l.SeverityNumber == 0 {
		switch strings.ToUpper(l.SeverityText) {
		case "ERROR", "FATAL", "CRITICAL":
			return true
		}
	}
	return false
}

func logFailure(l *signalstore.LogRecord) failure {
	f := failure{at: l.Timestamp, exceptionType: l.LogAttributes[attrExceptionType], message: l.LogAttributes[attrExceptionMessage]}
	if f.message == "" {
		f.message = l.Body
	}
	return f
}

var (
	uuidPattern   = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	hexPattern    = regexp.MustCompile(`\b(?:0x)?[0-9a-fA-F]{8,}\b`)
	numberPattern = regexp.MustCompile(`\d+(?:\.\d+)?`)
	spacePattern  = regexp.MustCompile(`\s+`)
)

// hexPlaceholder blanks a hex id, but leaves a run of decimal digits to the
// number rule: "order 12345678" must read like "order 1234567", not become
// a different error because the number grew an eighth digit.
func hexPlaceholder(run string) string {
	if !strings.HasPrefix(run, "0x") && strings.Trim(run, "0123456789") == "" {
		return run
	}
	return "<hex>"
}

// normaliseMessage blanks out what differs between occurrences of the same
// error (ids, numbers) so they share one fingerprint.
func normaliseMessage(msg string) string {
	if len(msg) > 4*maxMessageLength {
		msg = msg[:4*maxMessageLength]
	}
	msg = strings.ToValidUTF8(msg, "")
	msg = uuidPattern.ReplaceAllString(msg, "<uuid>")
	msg = hexPattern.ReplaceAllStringFunc(msg, hexPlaceholder)
	msg = numberPattern.ReplaceAllString(msg, "<n>")
	msg = strings.TrimSpace(spacePattern.ReplaceAllString(msg, " "))
	if len(msg) > maxMessageLength {
		msg = strings.ToValidUTF8(msg[:maxMessageLength], "")
	}
	return msg
}

func fingerprint(service, exceptionType, message string) string {
	sum := sha256.Sum256([]byte(service + "\x00" + exceptionType + "\x00" + message))
	return hex.EncodeToString(sum[:8])
}

// groupErrors groups error spans and error logs by fingerprint. Groups that
// hold an origin candidate come first, then by first occurrence.
func groupErrors(spans []signalstore.Span, logs []signalstore.LogRecord) []errorGroup {
	origins := originSpans(spans)
	groups := []errorGroup{}
	index := map[string]int{}
	add := func(service string, f failure, traceID signalstore.TraceID, isSpan, origin bool) {
		msg := normaliseMessage(f.message)
		fp := fingerprint(service, f.exceptionType, msg)
		gi, ok := index[fp]
		if !ok {
			gi = len(groups)
			index[fp] = gi
			groups = append(groups, errorGroup{Fingerprint: fp, Service: service, ExceptionType: f.exceptionType,
				Message: msg, FirstSeen: f.at, LastSeen: f.at, TraceIDs: []signalstore.TraceID{}})
		}
		g := &groups[gi]
		g.Count++
		if isSpan {
			g.SpanCount++
		} else {
			g.LogCount++
		}
		if f.at.Before(g.FirstSeen) {
			g.FirstSeen = f.at
		}
		if f.at.After(g.LastSeen) {
			g.LastSeen = f.at
		}
		if !traceID.IsEmpty() && !slices.Contains(g.TraceIDs, traceID) {
			g.TraceIDs = append(g.TraceIDs, traceID)
		}
		g.OriginCandidate = g.OriginCandidate || origin
	}
	for i := range spans {
		if sp := &spans[i]; sp.IsError() {
			_, origin := origins[sp.SpanID]
			add(sp.ServiceName, spanFailure(sp), sp.TraceID, true, origin)
		}
	}
	for i := range logs {
		if l := &logs[i]; isErrorLog(l) {
			// A log inside an origin span, or outside any span, may be
			// where the failure started.
			_, inOrigin := origins[l.SpanID]
			add(l.ServiceName, logFailure(l), l.TraceID, false, inOrigin || l.SpanID.IsEmpty())
		}
	}
	slices.SortStableFunc(groups, func(a, b errorGroup) int {
		if a.OriginCandidate != b.OriginCandidate {
			if a.OriginCandidate {
				return -1
			}
			return 1
		}
		return a.FirstSeen.Compare(b.FirstSeen)
	})
	return groups
}

// originSpans returns the error spans none of whose children failed.
func originSpans(spans []signalstore.Span) map[signalstore.SpanID]struct{} {
	failedChild := map[signalstore.SpanID]struct{}{}
	for i := range spans {
		if spans[i].IsError() && !spans[i].ParentSpanID.IsEmpty() {
			failedChild[spans[i].ParentSpanID] = struct{}{}
		}
	}
	origins := map[signalstore.SpanID]struct{}{}
	for i := range spans {
		if spans[i].IsError() {
			if _, hasFailedChild := failedChild[spans[i].SpanID]; !hasFailedChild {
				origins[spans[i].SpanID] = struct{}{}
			}
		}
	}
	return origins
}
