package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"os"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The file exporter writes one OTLP/JSON message per line; these read such files back.
// A missing file reads as empty: the exporter creates it on its first write.

// ReadTracesFile returns every span batch in an OTLP/JSON lines file.
func ReadTracesFile(path string) ([]ptrace.Traces, error) {
	var u ptrace.JSONUnmarshaler
	return readLines(path, u.UnmarshalTraces)
}

// ReadLogsFile returns every log batch in an OTLP/JSON lines file.
func ReadLogsFile(path string) ([]plog.Logs, error) {
	var u plog.JSONUnmarshaler
	return readLines(path, u.UnmarshalLogs)
}

// ReadMetricsFile returns every metric batch in an OTLP/JSON lines file.
func ReadMetricsFile(path string) ([]pmetric.Metrics, error) {
	var u pmetric.JSONUnmarshaler
	return readLines(path, u.UnmarshalMetrics)
}

func readLines[T any](path string, unmarshal func([]byte) (T, error)) ([]T, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1<<20), 256<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		v, err := unmarshal(sc.Bytes())
		if err != nil {
			// The exporter may be mid-write on the last line; callers poll again.
			return out, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// SpanCount, LogCount and DataPointCount total the items of batches read from files.
func SpanCount(batches []ptrace.Traces) (n int) {
	for _, b := range batches {
		n += b.SpanCount()
	}
	return n
}

func LogCount(batches []plog.Logs) (n int) {
	for _, b := range batches {
		n += b.LogRecordCount()
	}
	return n
}

func DataPointCount(batches []pmetric.Metrics) (n int) {
	for _, b := range batches {
		n += b.DataPointCount()
	}
	return n
}
