package testbed

// Fragments the end-to-end config templates share, joined into them as
// whole lines (each ends with a newline); harness renders the result with
// the test's ports and directory.
const (
	// healthCheckExtension is the health_check entry under extensions:,
	// which harness polls until the collector is ready.
	healthCheckExtension = `  health_check:
    endpoint: 127.0.0.1:{{.Health}}
`
	// otlpReceivers receive OTLP on both protocols.
	otlpReceivers = `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{{.GRPC}}
      http:
        endpoint: 127.0.0.1:{{.HTTP}}
`
	// fileExporters write each signal to OTLP/JSON files in the test's
	// directory.
	fileExporters = `exporters:
  file/traces:
    path: {{.Dir}}/traces.json
  file/logs:
    path: {{.Dir}}/logs.json
  file/metrics:
    path: {{.Dir}}/metrics.json
`
	// selfMetricsReaders go under service::telemetry::metrics: the
	// collector's own metrics, served for Prometheus on the Telemetry port.
	selfMetricsReaders = `      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {{.Telemetry}}
`
)
