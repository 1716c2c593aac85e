package correlationprocessor

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	grpcmetadata "google.golang.org/grpc/metadata"
)

// TestMetadataThroughOTLPReceiver runs a real OTLP receiver with
// include_metadata: true in front of the processor, and checks that ids sent
// as request headers over HTTP and gRPC reach spans and logs.
func TestMetadataThroughOTLPReceiver(t *testing.T) {
	p := newPipelines(t, defaultConfig())
	grpcEndpoint, httpEndpoint := freeEndpoint(t), freeEndpoint(t)
	startOTLPReceiver(t, p, grpcEndpoint, httpEndpoint)

	t.Run("http header", func(t *testing.T) {
		body, err := ptraceotlp.NewExportRequestFromTraces(makeTraces(t, spanSpec{name: "root", trace: 1})).MarshalProto()
		require.NoError(t, err)
		postOTLP(t, "http://"+httpEndpoint+"/v1/traces", body, map[string]string{"X-Correlation-ID": "http-req-1"})
		assert.Equal(t, map[string]string{"root": "http-req-1"}, p.receivedSpans(t))
	})

	t.Run("http baggage header", func(t *testing.T) {
		body, err := plogotlp.NewExportRequestFromLogs(makeLogs(t, logSpec{name: "log", trace: 2})).MarshalProto()
		require.NoError(t, err)
		postOTLP(t, "http://"+httpEndpoint+"/v1/logs", body, map[string]string{"Baggage": "tenant=a,correlation_id=bag-2"})
		require.Eventually(t, func() bool { return p.logsOut.LogRecordCount() == 1 }, 5*time.Second, 10*time.Millisecond)
		record := p.logsOut.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
		assert.Equal(t, "bag-2", attributeOrAbsent(record.Attributes()))
	})

	t.Run("grpc metadata", func(t *testing.T) {
		conn, err := grpc.NewClient(grpcEndpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ctx = grpcmetadata.AppendToOutgoingContext(ctx, "x-request-id", "grpc-req-3")
		_, err = ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(makeTraces(t,
			spanSpec{name: "grpc-root", trace: 3},
			spanSpec{name: "grpc-own", trace: 4, attrs: map[string]any{"correlation_id": "own-4"}},
		)))
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"grpc-root": "grpc-req-3", "grpc-own": "own-4"}, p.receivedSpans(t))
	})

	t.Run("hostile header", func(t *testing.T) {
		body, err := ptraceotlp.NewExportRequestFromTraces(makeTraces(t, spanSpec{name: "root", trace: 5})).MarshalProto()
		require.NoError(t, err)
		postOTLP(t, "http://"+httpEndpoint+"/v1/traces", body, map[string]string{"X-Correlation-ID": "<script>alert(1)</script>"})
		assert.Equal(t, map[string]string{"root": derivedID(5)}, p.receivedSpans(t))
	})
}

func startOTLPReceiver(t *testing.T, p *pipelines, grpcEndpoint, httpEndpoint string) {
	t.Helper()
	factory := otlpreceiver.NewFactory()
	cfg := factory.CreateDefaultConfig()
	require.NoError(t, confmap.NewFromStringMap(map[string]any{
		"protocols": map[string]any{
			"grpc": map[string]any{"endpoint": grpcEndpoint, "include_metadata": true},
			"http": map[string]any{"endpoint": httpEndpoint, "include_metadata": true},
		},
	}).Unmarshal(cfg))
	set := receivertest.NewNopSettings(factory.Type())
	ctx := context.Background()
	traces, err := factory.CreateTraces(ctx, set, cfg, p.traces)
	require.NoError(t, err)
	logs, err := factory.CreateLogs(ctx, set, cfg, p.logs)
	require.NoError(t, err)
	require.NoError(t, traces.Start(ctx, componenttest.NewNopHost()))
	require.NoError(t, logs.Start(ctx, componenttest.NewNopHost()))
	t.Cleanup(func() {
		require.NoError(t, traces.Shutdown(context.Background()))
		require.NoError(t, logs.Shutdown(context.Background()))
	})
}

func postOTLP(t *testing.T, url string, body []byte, headers map[string]string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-protobuf")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// receivedSpans waits for the spans of one export and returns their ids.
func (p *pipelines) receivedSpans(t *testing.T) map[string]string {
	t.Helper()
	require.Eventually(t, func() bool { return len(p.tracesOut.AllTraces()) > 0 }, 5*time.Second, 10*time.Millisecond)
	return p.consumeTraces(t, context.Background())
}

func freeEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return fmt.Sprintf("127.0.0.1:%d", l.Addr().(*net.TCPAddr).Port)
}
