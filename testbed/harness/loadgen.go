package harness

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// LoadGenerator sends synthetic traces over OTLP/gRPC at a steady rate, the data provider and
// sender of a load test. Each request carries SpansPerRequest spans in traces of SpansPerTrace
// spans spread over three services, with 15 attributes per span, like instrumented HTTP servers.
type LoadGenerator struct {
	Endpoint        string // host:port of an OTLP gRPC receiver
	SpansPerSecond  int    // offered load; 0 sends as fast as the collector accepts
	SpansPerRequest int    // default 500
	SpansPerTrace   int    // default 10
	Concurrency     int    // parallel senders; default 2
}

// LoadResult is what the collector acknowledged.
type LoadResult struct {
	SentSpans   int64 // acknowledged by the receiver
	FailedSpans int64 // in requests that returned an error
	Elapsed     time.Duration
}

// Run sends for duration (or until ctx ends) and reports what was acknowledged.
func (g LoadGenerator) Run(ctx context.Context, duration time.Duration) (LoadResult, error) {
	g = g.withDefaults()
	conn, err := grpc.NewClient(g.Endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return LoadResult{}, fmt.Errorf("dial %s: %w", g.Endpoint, err)
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)

	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	var (
		sent, failed atomic.Int64
		nextTrace    atomic.Uint64
		wg           sync.WaitGroup
		firstErr     error
		errOnce      sync.Once
	)
	// Each sender paces itself so that together they offer SpansPerSecond.
	var interval time.Duration
	if g.SpansPerSecond > 0 {
		interval = time.Duration(float64(time.Second) * float64(g.SpansPerRequest*g.Concurrency) / float64(g.SpansPerSecond))
	}
	start := time.Now()
	for w := 0; w < g.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			td := g.newBatch()
			next := time.Now()
			for ctx.Err() == nil {
				if interval > 0 {
					next = next.Add(interval)
					if d := time.Until(next); d > 0 {
						select {
						case <-ctx.Done():
							return
						case <-time.After(d):
						}
					}
				}
				g.renumber(td, &nextTrace)
				_, err := client.Export(context.WithoutCancel(ctx), ptraceotlp.NewExportRequestFromTraces(td))
				if err != nil {
					failed.Add(int64(g.SpansPerRequest))
					errOnce.Do(func() { firstErr = err })
					continue
				}
				sent.Add(int64(g.SpansPerRequest))
			}
		}()
	}
	wg.Wait()
	res := LoadResult{SentSpans: sent.Load(), FailedSpans: failed.Load(), Elapsed: time.Since(start)}
	if firstErr != nil && res.SentSpans == 0 {
		return res, fmt.Errorf("no request succeeded: %w", firstErr)
	}
	return res, nil
}

func (g LoadGenerator) withDefaults() LoadGenerator {
	if g.SpansPerRequest <= 0 {
		g.SpansPerRequest = 500
	}
	if g.SpansPerTrace <= 0 {
		g.SpansPerTrace = 10
	}
	if g.Concurrency <= 0 {
		g.Concurrency = 2
	}
	return g
}

var loadServices = []string{"frontend", "checkout", "payments"}

// newBatch builds one request's worth of spans; renumber gives them fresh ids before each send.
func (g LoadGenerator) newBatch() ptrace.Traces {
	td := ptrace.NewTraces()
	for s, service := range loadServices {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", service)
		rs.Resource().Attributes().PutStr("host.name", "loadgen-"+strconv.Itoa(s))
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("ollystack-testbed")
		n := g.SpansPerRequest / len(loadServices)
		if s == 0 {
			n += g.SpansPerRequest % len(loadServices)
		}
		for i := 0; i < n; i++ {
			span := ss.Spans().AppendEmpty()
			span.SetName("GET /api/v1/items/{id}")
			span.SetKind(ptrace.SpanKindServer)
			attrs := span.Attributes()
			attrs.PutStr("http.request.method", "GET")
			attrs.PutStr("http.route", "/api/v1/items/{id}")
			attrs.PutStr("url.path", "/api/v1/items/"+strconv.Itoa(i))
			attrs.PutStr("url.scheme", "https")
			attrs.PutInt("http.response.status_code", 200)
			attrs.PutStr("server.address", service+".internal")
			attrs.PutInt("server.port", 8443)
			attrs.PutStr("client.address", "10.0.0."+strconv.Itoa(i%250))
			attrs.PutStr("user_agent.original", "ollystack-loadgen/1.0")
			attrs.PutStr("network.protocol.version", "1.1")
			attrs.PutStr("enduser.id", "user-"+strconv.Itoa(i%97))
			attrs.PutStr("tenant.id", "tenant-"+strconv.Itoa(i%7))
			attrs.PutInt("thread.id", int64(i%16))
			attrs.PutStr("code.function", "handleItem")
			attrs.PutBool("cache.hit", i%3 == 0)
		}
	}
	return td
}

// renumber assigns trace and span ids so that every SpansPerTrace consecutive spans form one trace
// (first span the root, the others its children) and no two requests share a trace.
func (g LoadGenerator) renumber(td ptrace.Traces, nextTrace *atomic.Uint64) {
	total := uint64(td.SpanCount())
	traces := (total + uint64(g.SpansPerTrace) - 1) / uint64(g.SpansPerTrace)
	first := nextTrace.Add(traces) - traces
	now := time.Now()
	var k uint64
	rss := td.ResourceSpans()
	for r := 0; r < rss.Len(); r++ {
		spans := rss.At(r).ScopeSpans().At(0).Spans()
		for i := 0; i < spans.Len(); i++ {
			traceNo := first + k/uint64(g.SpansPerTrace)
			pos := k % uint64(g.SpansPerTrace)
			span := spans.At(i)
			span.SetTraceID(traceID(traceNo))
			span.SetSpanID(spanID(traceNo, pos))
			if pos == 0 {
				span.SetParentSpanID(pcommon.SpanID{})
			} else {
				span.SetParentSpanID(spanID(traceNo, 0))
			}
			span.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Duration(pos) * time.Millisecond)))
			span.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Duration(pos+5) * time.Millisecond)))
			k++
		}
	}
}

// loadRun distinguishes trace ids of different test runs against the same store.
var loadRun = uint64(time.Now().UnixNano())

func traceID(n uint64) (id pcommon.TraceID) {
	binary.BigEndian.PutUint64(id[:8], loadRun)
	binary.BigEndian.PutUint64(id[8:], n+1)
	return id
}

func spanID(traceNo, pos uint64) (id pcommon.SpanID) {
	binary.BigEndian.PutUint64(id[:], traceNo<<8|(pos+1))
	return id
}
