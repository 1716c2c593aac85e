package clickhouse

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := cm.Sub(name)
	if err != nil {
		t.Fatal(err)
	}
	cfg := NewDefaultConfig()
	if err := sub.Unmarshal(cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestConfigLoad(t *testing.T) {
	if got := loadConfig(t, "clickhouse"); !equalConfig(got, NewDefaultConfig()) {
		t.Errorf("defaults: got %+v", got)
	}
	if err := confmap.Validate(NewDefaultConfig()); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}

	full := loadConfig(t, "clickhouse/full")
	want := NewDefaultConfig()
	want.Endpoint = "tcp://ch-1:9000,ch-2:9000?dial_timeout=5s&compress=lz4"
	want.Username, want.Password, want.Database = "ollystack_reader", "s3cret", "otel"
	want.TLS.CAFile, want.TLS.ServerName = "/etc/ssl/clickhouse-ca.pem", "clickhouse.internal"
	want.DialTimeout, want.QueryTimeout, want.MaxOpenConns = 5*time.Second, 20*time.Second, 16
	want.TracesTableName, want.LogsTableName = "spans", "logs"
	want.MetricsTables = MetricTablesConfig{Gauge: MetricTableConfig{"m_gauge"}, Sum: MetricTableConfig{"m_sum"},
		Histogram: MetricTableConfig{"m_histogram"}}
	want.CreateSchema, want.ClusterName, want.Replicated, want.TTL = false, "prod-cluster", true, 168*time.Hour
	want.CorrelationAttribute, want.TraceSlack, want.DefaultLookback = "request_id", 2*time.Minute, 6*time.Hour
	if !equalConfig(full, want) {
		t.Errorf("full:\n got %+v\nwant %+v", full, want)
	}
	if err := confmap.Validate(full); err != nil {
		t.Errorf("full does not validate: %v", err)
	}
	if got := full.tables(); got.traceIDTimes != "spans_trace_id_ts" || got.histogram != "m_histogram" {
		t.Errorf("tables = %+v", got)
	}
}

func equalConfig(a, b *Config) bool {
	// configtls.ClientConfig holds unexported fields; compare what YAML sets.
	return a.Endpoint == b.Endpoint && a.Username == b.Username && a.Password == b.Password &&
		a.Database == b.Database && a.TLS.CAFile == b.TLS.CAFile && a.TLS.ServerName == b.TLS.ServerName &&
		a.DialTimeout == b.DialTimeout && a.QueryTimeout == b.QueryTimeout && a.MaxOpenConns == b.MaxOpenConns &&
		a.TracesTableName == b.TracesTableName && a.LogsTableName == b.LogsTableName && a.MetricsTables == b.MetricsTables &&
		a.CreateSchema == b.CreateSchema && a.ClusterName == b.ClusterName && a.Replicated == b.Replicated &&
		a.TTL == b.TTL && a.CorrelationAttribute == b.CorrelationAttribute && a.TraceSlack == b.TraceSlack &&
		a.DefaultLookback == b.DefaultLookback
}

func TestConfigInvalid(t *testing.T) {
	for name, wantErrs := range map[string][]string{
		"clickhouse/invalid-identifiers": {`database "otel; DROP TABLE x"`, "traces_table_name", `cluster_name "a b"`,
			`correlation_attribute "it's"`},
		"clickhouse/invalid-values": {"endpoint:", "dial_timeout 0s", "query_timeout -1s", "max_open_conns 0",
			"replicated needs cluster_name", "default_lookback 1s"},
		"clickhouse/http-with-tls": {"tls is set but endpoint is http://"},
	} {
		t.Run(name, func(t *testing.T) {
			err := confmap.Validate(loadConfig(t, name))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, want := range wantErrs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestClientOptions(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.Endpoint = "tcp://user:dsnpass@ch:9440?secure=true"
	cfg.Username, cfg.Password, cfg.Database = "reader", "s3cret", "otel"
	opts, err := cfg.clientOptions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if opts.Auth.Username != "reader" || opts.Auth.Password != "s3cret" || opts.Auth.Database != "otel" {
		t.Errorf("auth = %+v", opts.Auth)
	}
	if opts.TLS == nil {
		t.Error("secure=true in the DSN must enable TLS")
	}
	if opts.DialTimeout != cfg.DialTimeout || opts.ReadTimeout != cfg.QueryTimeout || opts.MaxOpenConns != cfg.MaxOpenConns {
		t.Errorf("timeouts/pool not applied: %+v", opts)
	}
	if strings.Contains(redactDSN(cfg.Endpoint), "dsnpass") {
		t.Error("redactDSN leaks the password")
	}

	cfg.Endpoint = "https://ch:8443?compress=gzip"
	if opts, err := cfg.clientOptions(context.Background()); err != nil || opts.Protocol != ch.HTTP || opts.TLS == nil ||
		opts.Settings["cancel_http_readonly_queries_on_client_close"] != 1 {
		t.Errorf("https endpoint: options %+v, err %v", opts, err)
	}
	cfg.Endpoint = "tcp://ch:9000"
	cfg.TLS.CAFile = "/nonexistent/ca.pem"
	if _, err := cfg.clientOptions(context.Background()); err == nil {
		t.Error("a missing CA file must fail")
	}
}

// TestPasswordIsOpaque: the password must not show when the config is
// printed (the collector logs configs on some errors).
func TestPasswordIsOpaque(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.Password = "s3cret"
	if s := cfg.Password.String(); strings.Contains(s, "s3cret") {
		t.Errorf("password printed as %q", s)
	}
}

// TestReadmeExample loads every YAML example of README.md that configures
// this backend, so the docs cannot drift from the code.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no yaml example")
	}
	for i, block := range blocks {
		path := filepath.Join(t.TempDir(), "example.yaml")
		if err := os.WriteFile(path, block[1], 0o600); err != nil {
			t.Fatal(err)
		}
		cm, err := confmaptest.LoadConf(path)
		if err != nil {
			t.Fatalf("example %d: %v", i, err)
		}
		sub, err := cm.Sub("extensions::signalstore::clickhouse")
		if err != nil {
			t.Fatalf("example %d: %v", i, err)
		}
		cfg := NewDefaultConfig()
		if err := sub.Unmarshal(cfg); err != nil {
			t.Fatalf("example %d: %v", i, err)
		}
		if err := confmap.Validate(cfg); err != nil {
			t.Errorf("example %d does not validate: %v", i, err)
		}
		if cfg.Endpoint == DefaultEndpoint {
			t.Errorf("example %d configures no endpoint", i)
		}
	}
}
