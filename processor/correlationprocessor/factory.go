// Package correlationprocessor gives every span, log record and metric
// exemplar of a request one correlation id: the explicit id the request
// carried, else an id derived from its trace id, propagated trace-wide through
// a bounded cache.
package correlationprocessor // import "github.com/ollystack/ollystack/processor/correlationprocessor"

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/ollystack/ollystack/processor/correlationprocessor/internal/metadata"
)

var processorCapabilities = consumer.Capabilities{MutatesData: true}

// NewFactory returns the factory of the correlation processor.
func NewFactory() processor.Factory {
	shared := &sharedCorrelators{byConfig: map[*Config]*sharedCorrelator{}}
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithTraces(shared.createTraces, metadata.TracesStability),
		processor.WithLogs(shared.createLogs, metadata.LogsStability),
		processor.WithMetrics(shared.createMetrics, metadata.MetricsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		Attribute:             "correlation_id",
		IDPrefix:              "olly",
		GenerateIfMissing:     true,
		ExtractFromHeaders:    []string{"X-Correlation-ID", "X-Request-ID"},
		ExtractFromAttributes: []string{"correlation_id", "correlationId", "correlation.id", "request_id", "x_request_id"},
		ExtractFromBaggage:    true,
		EnrichSpans:           true,
		EnrichLogs:            true,
		EnrichMetrics:         true,
		Cache: CacheConfig{
			MaxTraces: 100_000,
			TTL:       2 * time.Minute,
		},
	}
}

// sharedCorrelators hands the traces, logs and metrics processors built from
// one configuration the same correlator, the way the OTLP receiver shares one
// server between pipelines: explicit ids learned from spans must reach logs and
// exemplars in other pipelines.
type sharedCorrelators struct {
	mu       sync.Mutex
	byConfig map[*Config]*sharedCorrelator
}

type sharedCorrelator struct {
	*correlator
	users int
}

func (s *sharedCorrelators) acquire(set processor.Settings, cfg component.Config) (*correlator, error) {
	pCfg, ok := cfg.(*Config)
	if !ok {
		return nil, fmt.Errorf("correlation processor: unexpected config type %T", cfg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if shared, ok := s.byConfig[pCfg]; ok {
		shared.users++
		return shared.correlator, nil
	}
	c, err := newCorrelator(set.TelemetrySettings, pCfg)
	if err != nil {
		return nil, fmt.Errorf("correlation processor: create telemetry: %w", err)
	}
	s.byConfig[pCfg] = &sharedCorrelator{correlator: c, users: 1}
	return c, nil
}

// releaser returns a Shutdown that gives the correlator back exactly once.
func (s *sharedCorrelators) releaser(cfg component.Config) component.ShutdownFunc {
	var once sync.Once
	return func(context.Context) error {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			pCfg := cfg.(*Config)
			shared, ok := s.byConfig[pCfg]
			if !ok {
				return
			}
			shared.users--
			if shared.users == 0 {
				delete(s.byConfig, pCfg)
				shared.shutdown()
			}
		})
		return nil
	}
}

// createShared builds one signal's processor on the correlator shared by
// cfg; build is that signal's processorhelper constructor, given the
// correlator and the options every signal uses. The correlator is released
// again if the constructor fails.
func createShared[P any](ctx context.Context, s *sharedCorrelators, set processor.Settings, cfg component.Config,
	build func(c *correlator, opts ...processorhelper.Option) (P, error),
) (P, error) {
	var none P
	c, err := s.acquire(set, cfg)
	if err != nil {
		return none, err
	}
	release := s.releaser(cfg)
	p, err := build(c,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithShutdown(release))
	if err != nil {
		_ = release(ctx)
		return none, err
	}
	return p, nil
}

func (s *sharedCorrelators) createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	return createShared(ctx, s, set, cfg, func(c *correlator, opts ...processorhelper.Option) (processor.Traces, error) {
		return processorhelper.NewTraces(ctx, set, cfg, next, c.processTraces, opts...)
	})
}

func (s *sharedCorrelators) createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	return createShared(ctx, s, set, cfg, func(c *correlator, opts ...processorhelper.Option) (processor.Logs, error) {
		return processorhelper.NewLogs(ctx, set, cfg, next, c.processLogs, opts...)
	})
}

func (s *sharedCorrelators) createMetrics(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	return createShared(ctx, s, set, cfg, func(c *correlator, opts ...processorhelper.Option) (processor.Metrics, error) {
		return processorhelper.NewMetrics(ctx, set, cfg, next, c.processMetrics, opts...)
	})
}
