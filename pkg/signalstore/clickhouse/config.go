package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configtls"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Config configures the ClickHouse backend. Table names and their YAML keys
// match the contrib clickhouseexporter (v0.161.0), so the same values can be
// copied from the exporter's section.
type Config struct {
	// Endpoint is the clickhouse-go DSN: the native protocol, e.g.
	// tcp://clickhouse:9000 or
	// clickhouse://host1:9000,host2:9000?dial_timeout=5s&compress=lz4, or
	// HTTP, e.g. https://clickhouse:8443. Query parameters are clickhouse-go
	// DSN options.
	Endpoint string `mapstructure:"endpoint"`
	// Username and Password override the DSN's credentials. Write the
	// password as ${env:CLICKHOUSE_PASSWORD} to keep it out of the file.
	Username string              `mapstructure:"username"`
	Password configopaque.String `mapstructure:"password"`
	// Database holds the exporter's tables and OllyStack's own.
	Database string `mapstructure:"database"`
	// TLS is used when any of its fields is set (or the DSN says
	// secure=true).
	TLS configtls.ClientConfig `mapstructure:"tls"`

	// DialTimeout bounds connecting; QueryTimeout bounds each read (the
	// caller's context deadline wins when earlier).
	DialTimeout  time.Duration `mapstructure:"dial_timeout"`
	QueryTimeout time.Duration `mapstructure:"query_timeout"`
	// MaxOpenConns caps the connection pool.
	MaxOpenConns int `mapstructure:"max_open_conns"`

	TracesTableName string             `mapstructure:"traces_table_name"`
	LogsTableName   string             `mapstructure:"logs_table_name"`
	MetricsTables   MetricTablesConfig `mapstructure:"metrics_tables"`

	// CreateSchema creates OllyStack's index tables and materialized views
	// (IF NOT EXISTS). The exporter's own tables are the exporter's to
	// create.
	CreateSchema bool `mapstructure:"create_schema"`
	// ClusterName adds ON CLUSTER to every DDL statement.
	ClusterName string `mapstructure:"cluster_name"`
	// Replicated uses Replicated*MergeTree engines (needs cluster_name and
	// the server's default_replica_path / {shard} {replica} macros).
	Replicated bool `mapstructure:"replicated"`
	// TTL expires OllyStack's index rows; set it like the exporter's ttl.
	// Rows kept per day expire ttl after the end of their day.
	// 0 keeps them forever.
	TTL time.Duration `mapstructure:"ttl"`

	// CorrelationAttribute is the span and log attribute carrying the
	// correlation id, as the correlation processor writes it.
	CorrelationAttribute string `mapstructure:"correlation_attribute"`
	// TraceSlack widens a trace's [first span, last span] window when
	// looking for its logs, its metric exemplars and parent spans of
	// edges: those may lie a little outside the spans' own times.
	TraceSlack time.Duration `mapstructure:"trace_slack"`
	// DefaultLookback bounds reads given no start time (recent
	// correlations, service edges), so they never scan all history.
	DefaultLookback time.Duration `mapstructure:"default_lookback"`
}

// MetricTablesConfig names the metric tables, as the exporter's
// metrics_tables does.
type MetricTablesConfig struct {
	Gauge     MetricTableConfig `mapstructure:"gauge"`
	Sum       MetricTableConfig `mapstructure:"sum"`
	Histogram MetricTableConfig `mapstructure:"histogram"`
}

// MetricTableConfig is one metric table.
type MetricTableConfig struct {
	Name string `mapstructure:"name"`
}

// Defaults, matching the contrib exporter where the setting is shared.
const (
	DefaultEndpoint        = "tcp://localhost:9000"
	DefaultDatabase        = "default"
	DefaultTracesTable     = "otel_traces"
	DefaultLogsTable       = "otel_logs"
	DefaultGaugeTable      = "otel_metrics_gauge"
	DefaultSumTable        = "otel_metrics_sum"
	DefaultHistogramTable  = "otel_metrics_histogram"
	defaultDialTimeout     = 10 * time.Second
	defaultQueryTimeout    = 30 * time.Second
	defaultMaxOpenConns    = 10
	defaultMaxIdleConns    = 5 // clickhouse-go's own default
	defaultTraceSlack      = 5 * time.Minute
	defaultDefaultLookback = 24 * time.Hour
)

// NewDefaultConfig returns the defaults.
func NewDefaultConfig() *Config {
	return &Config{
		Endpoint:        DefaultEndpoint,
		Database:        DefaultDatabase,
		DialTimeout:     defaultDialTimeout,
		QueryTimeout:    defaultQueryTimeout,
		MaxOpenConns:    defaultMaxOpenConns,
		TracesTableName: DefaultTracesTable,
		LogsTableName:   DefaultLogsTable,
		MetricsTables: MetricTablesConfig{
			Gauge:     MetricTableConfig{Name: DefaultGaugeTable},
			Sum:       MetricTableConfig{Name: DefaultSumTable},
			Histogram: MetricTableConfig{Name: DefaultHistogramTable},
		},
		CreateSchema:         true,
		CorrelationAttribute: signalstore.DefaultCorrelationAttribute,
		TraceSlack:           defaultTraceSlack,
		DefaultLookback:      defaultDefaultLookback,
	}
}

// Validate reports every problem of the config.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.Endpoint == "" {
		errs = append(errs, errors.New("endpoint must be set"))
	} else if opts, err := parseEndpoint(cfg.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("endpoint: %w", err))
	} else if opts.Protocol == ch.HTTP && opts.TLS == nil && cfg.tlsConfigured() {
		// clickhouse-go keeps the scheme: the credentials would go out in
		// clear text with TLS configured.
		errs = append(errs, errors.New("tls is set but endpoint is http://: write https://"))
	}
	if err := validateIdentifier("database", cfg.Database); err != nil {
		errs = append(errs, err)
	}
	for _, t := range []struct{ key, name string }{
		{"traces_table_name", cfg.TracesTableName},
		{"logs_table_name", cfg.LogsTableName},
		{"metrics_tables::gauge::name", cfg.MetricsTables.Gauge.Name},
		{"metrics_tables::sum::name", cfg.MetricsTables.Sum.Name},
		{"metrics_tables::histogram::name", cfg.MetricsTables.Histogram.Name},
	} {
		if err := validateIdentifier(t.key, t.name); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.ClusterName != "" && !clusterPattern.MatchString(cfg.ClusterName) {
		errs = append(errs, fmt.Errorf("cluster_name %q: want letters, digits, _ . and - (at most 128)", cfg.ClusterName))
	}
	if cfg.Replicated && cfg.ClusterName == "" {
		errs = append(errs, errors.New("replicated needs cluster_name"))
	}
	if !attributeNamePattern.MatchString(cfg.CorrelationAttribute) {
		errs = append(errs, fmt.Errorf("correlation_attribute %q: want letters, digits and _ . : / - (at most 128)", cfg.CorrelationAttribute))
	}
	if cfg.DialTimeout <= 0 {
		errs = append(errs, fmt.Errorf("dial_timeout %s: must be positive", cfg.DialTimeout))
	}
	if cfg.QueryTimeout <= 0 {
		errs = append(errs, fmt.Errorf("query_timeout %s: must be positive", cfg.QueryTimeout))
	}
	if cfg.MaxOpenConns < 1 {
		errs = append(errs, fmt.Errorf("max_open_conns %d: must be positive", cfg.MaxOpenConns))
	}
	if cfg.TTL < 0 {
		errs = append(errs, fmt.Errorf("ttl %s: must not be negative", cfg.TTL))
	}
	if cfg.TraceSlack < 0 {
		errs = append(errs, fmt.Errorf("trace_slack %s: must not be negative", cfg.TraceSlack))
	}
	if cfg.DefaultLookback < time.Minute {
		errs = append(errs, fmt.Errorf("default_lookback %s: must be at least 1m", cfg.DefaultLookback))
	}
	return errors.Join(errs...)
}

// clientOptions turns the config into clickhouse-go options: the DSN's
// options first, then the explicit settings, which win.
func (cfg *Config) clientOptions(ctx context.Context) (*ch.Options, error) {
	opts, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("parse endpoint %q: %w", redactDSN(cfg.Endpoint), err)
	}
	opts.Auth.Database = cfg.Database
	if cfg.Username != "" {
		opts.Auth.Username = cfg.Username
		opts.Auth.Password = string(cfg.Password)
	}
	opts.DialTimeout = cfg.DialTimeout
	opts.ReadTimeout = cfg.QueryTimeout
	opts.MaxOpenConns = cfg.MaxOpenConns
	if opts.MaxIdleConns <= 0 {
		opts.MaxIdleConns = defaultMaxIdleConns
	}
	opts.MaxIdleConns = min(opts.MaxIdleConns, cfg.MaxOpenConns)
	if opts.Protocol == ch.HTTP {
		// Over the native protocol a cancelled read is cancelled on the
		// server; over HTTP only the connection closes, and the server
		// would run the query on until max_execution_time.
		if opts.Settings == nil {
			opts.Settings = ch.Settings{}
		}
		if _, set := opts.Settings["cancel_http_readonly_queries_on_client_close"]; !set {
			opts.Settings["cancel_http_readonly_queries_on_client_close"] = 1
		}
	}
	if cfg.tlsConfigured() {
		if opts.TLS, err = cfg.TLS.LoadTLSConfig(ctx); err != nil {
			return nil, fmt.Errorf("load tls config: %w", err)
		}
	}
	return opts, nil
}

// parseEndpoint parses a clickhouse-go DSN. An https:// endpoint means TLS,
// as for the contrib exporter: clickhouse-go alone refuses it without
// secure=true.
func parseEndpoint(endpoint string) (*ch.Options, error) {
	if u, err := url.Parse(endpoint); err == nil && u.Scheme == "https" && !u.Query().Has("secure") {
		q := u.Query()
		q.Set("secure", "true")
		u.RawQuery = q.Encode()
		endpoint = u.String()
	}
	return ch.ParseDSN(endpoint)
}

func (cfg *Config) tlsConfigured() bool {
	t := cfg.TLS
	return !t.Insecure && (t.CAFile != "" || t.CAPem != "" || t.CertFile != "" || t.CertPem != "" ||
		t.KeyFile != "" || t.KeyPem != "" || t.ServerName != "" || t.InsecureSkipVerify)
}

// redactDSN drops the password of a DSN for error messages and logs.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable endpoint)"
	}
	return u.Redacted()
}

// tables resolves every table name the backend reads or creates.
type tables struct {
	database                   string
	traces, traceIDTimes, logs string
	gauge, sum, histogram      string
	correlations, serviceSpans string
	errorFingerprints          string
}

func (cfg *Config) tables() tables {
	return tables{
		database:          cfg.Database,
		traces:            cfg.TracesTableName,
		traceIDTimes:      cfg.TracesTableName + "_trace_id_ts", // named by the exporter after its traces table
		logs:              cfg.LogsTableName,
		gauge:             cfg.MetricsTables.Gauge.Name,
		sum:               cfg.MetricsTables.Sum.Name,
		histogram:         cfg.MetricsTables.Histogram.Name,
		correlations:      "ollystack_correlations",
		serviceSpans:      "ollystack_service_spans",
		errorFingerprints: "ollystack_error_fingerprints",
	}
}

// q returns the qualified, quoted name of a table of the database.
func (t tables) q(table string) string { return qualified(t.database, table) }
