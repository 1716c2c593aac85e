package rca

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// randomContext decodes bytes into a span forest with arbitrary parents
// (including missing ones, self-parents and cycles), durations (negative and
// huge), statuses, kinds, logs and metric points.
func randomContext(data []byte) Context {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	var ctx Context
	services := []string{"a", "b", "c", ""}
	names := []string{"op", "GET /", "db", "\x00\xff"}
	kinds := []string{"Server", "Client", "Internal", "Producer"}
	count := int(next()) % 64
	for i := range count {
		var s signalstore.Span
		s.TraceID[0] = next() % 2
		binary.BigEndian.PutUint64(s.SpanID[:], uint64(next()%80))
		binary.BigEndian.PutUint64(s.ParentSpanID[:], uint64(next()%80))
		s.Timestamp = t0.Add(time.Duration(int8(next())) * ms)
		switch d := next(); {
		case d == 255:
			s.Duration = time.Duration(1<<63 - 1)
		case d == 254:
			s.Duration = -time.Second
		default:
			s.Duration = time.Duration(d) * ms
		}
		s.ServiceName = services[next()%4]
		s.SpanName = names[next()%4]
		s.SpanKind = kinds[next()%4]
		if next()%3 == 0 {
			s.StatusCode = signalstore.StatusCodeError
		}
		if next()%5 == 0 {
			s.SpanAttributes = map[string]string{"peer.service": services[i%4]}
			s.ResourceAttributes = map[string]string{"service.version": names[i%4]}
			s.Events = []signalstore.SpanEvent{{Name: "deployment", Timestamp: s.Timestamp}, {Name: "exception"}}
		}
		ctx.Spans = append(ctx.Spans, s)
	}
	for range int(next()) % 16 {
		l := signalstore.LogRecord{ServiceName: services[next()%4], SeverityNumber: int32(next() % 25)}
		size := int(next() % 40)
		l.Body = string(data[:min(len(data), size)])
		binary.BigEndian.PutUint64(l.SpanID[:], uint64(next()%80))
		ctx.Logs = append(ctx.Logs, l)
	}
	for range int(next()) % 8 {
		ctx.Metrics = append(ctx.Metrics, signalstore.MetricPoint{
			MetricType: signalstore.MetricTypeGauge, ServiceName: services[next()%4],
			MetricName: []string{"pool.usage", "pool.max", "cpu.utilization", "queue.pending"}[next()%4],
			Value:      float64(int8(next())) / 10,
		})
		if last := &ctx.Metrics[len(ctx.Metrics)-1]; last.Value == -12.8 {
			last.Value = math.Inf(1) // possible from any source that is not our store
		}
	}
	return ctx
}

func FuzzAnalyze(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{5, 0, 1, 0, 0, 10, 0, 0, 0, 0, 0, 1, 2, 1, 5, 3, 1, 1, 2, 0, 1})
	f.Add([]byte("a longer seed with many different bytes to build several spans and logs 0123456789"))
	baseline := shopBaseline()
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := randomContext(data)
		// versioned knows another version of every fuzzed service, so the
		// versions in the data are new and symptoms get linked to them.
		versioned := BaselineFromSpans(ctx.Spans, ctx.Logs)
		versioned.Versions = map[string][]string{"a": {"v0"}, "b": {"v0"}, "c": {"v0"}, "": {"v0"}}
		for _, bl := range []Baseline{{}, baseline, BaselineFromSpans(ctx.Spans, ctx.Logs), versioned} {
			first := Analyze(ctx, bl, Options{})
			second := Analyze(ctx, bl, Options{})
			if !reflect.DeepEqual(first, second) {
				t.Fatal("not deterministic")
			}
			for _, h := range first.Hypotheses {
				if !(h.Confidence >= 0 && h.Confidence <= MaxConfidence) {
					t.Fatalf("confidence %v", h.Confidence)
				}
			}
			scores := RankServices(Window{Spans: ctx.Spans}, bl, Options{})
			if !reflect.DeepEqual(scores, RankServices(Window{Spans: ctx.Spans}, bl, Options{})) {
				t.Fatal("RankServices not deterministic")
			}
			// Both are served as JSON: no NaN or infinity may reach them.
			if _, err := json.Marshal(first); err != nil {
				t.Fatalf("Analyze result: %v", err)
			}
			if _, err := json.Marshal(scores); err != nil {
				t.Fatalf("RankServices result: %v", err)
			}
		}
	})
}
