package syntheticsreceiver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/ollystack/ollystack/receiver/syntheticsreceiver/internal/metadata"
)

// sinks collect what a receiver under test emits.
type sinks struct {
	traces  *consumertest.TracesSink
	metrics *consumertest.MetricsSink
	logs    *consumertest.LogsSink
}

// startReceiver creates the receiver for all three signals, as a collector
// with three pipelines would, starts it and shuts it down at cleanup.
func startReceiver(t *testing.T, cfg *Config) (*sinks, *syntheticsReceiver) {
	t.Helper()
	return startReceiverWith(t, cfg, receivertest.NewNopSettings(metadata.Type))
}

func startReceiverWith(t *testing.T, cfg *Config, set receiver.Settings) (*sinks, *syntheticsReceiver) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	s := &sinks{traces: new(consumertest.TracesSink), metrics: new(consumertest.MetricsSink), logs: new(consumertest.LogsSink)}
	f := NewFactory()
	ctx := context.Background()
	tr, err := f.CreateTraces(ctx, set, cfg, s.traces)
	require.NoError(t, err)
	_, err = f.CreateMetrics(ctx, set, cfg, s.metrics)
	require.NoError(t, err)
	_, err = f.CreateLogs(ctx, set, cfg, s.logs)
	require.NoError(t, err)
	require.NoError(t, tr.Start(ctx, componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, tr.Shutdown(context.Background())) })
	return s, tr.(*syntheticsReceiver)
}

// oneCheck returns a config holding c, scheduled often enough that the
// first run, which starts at once, is all a test waits for.
func oneCheck(c CheckConfig) *Config {
	if c.Interval == 0 && c.Cron == "" {
		c.Interval = time.Hour
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	return &Config{Location: "test-lab", Concurrency: 2, Checks: []CheckConfig{c}}
}

// firstRun waits for the first run's traces and returns its spans, root
// first.
func (s *sinks) firstRun(t *testing.T) []ptrace.Span {
	t.Helper()
	require.Eventually(t, func() bool { return len(s.traces.AllTraces()) > 0 }, 10*time.Second, 10*time.Millisecond)
	spans := s.traces.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	out := make([]ptrace.Span, spans.Len())
	for i := range out {
		out[i] = spans.At(i)
	}
	return out
}

// waitMetrics waits for the first run's metrics.
func (s *sinks) waitMetrics(t *testing.T) pmetric.MetricSlice {
	t.Helper()
	require.Eventually(t, func() bool { return len(s.metrics.AllMetrics()) > 0 }, 10*time.Second, 10*time.Millisecond)
	return s.metrics.AllMetrics()[0].ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
}

func (s *sinks) waitFailureLog(t *testing.T) plog.LogRecord {
	t.Helper()
	require.Eventually(t, func() bool { return len(s.logs.AllLogs()) > 0 }, 10*time.Second, 10*time.Millisecond)
	return s.logs.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
}

func findMetric(ms pmetric.MetricSlice, name string) (pmetric.Metric, bool) {
	for i := 0; i < ms.Len(); i++ {
		if ms.At(i).Name() == name {
			return ms.At(i), true
		}
	}
	return pmetric.Metric{}, false
}

func successValue(t *testing.T, ms pmetric.MetricSlice) int64 {
	t.Helper()
	m, ok := findMetric(ms, metricCheckSuccess)
	require.True(t, ok)
	return m.Gauge().DataPoints().At(0).IntValue()
}

func attrStr(m pcommon.Map, key string) string {
	v, ok := m.Get(key)
	if !ok {
		return ""
	}
	return v.AsString()
}

// testCert is a self-signed certificate for 127.0.0.1 and localhost that is
// its own root, valid for the given duration.
type testCert struct {
	tls    tls.Certificate
	caFile string
}

func newTestCert(t *testing.T, validFor time.Duration) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "synthetics-test"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validFor),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return testCert{tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caFile: caFile}
}
