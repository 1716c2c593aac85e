// Package slometricsconnector turns spans into service level objectives:
// SLI event counts, error budget remaining, burn rates and multi-window
// multi-burn-rate alert states as metrics, and alert transitions as logs.
package slometricsconnector // import "github.com/ollystack/ollystack/connector/slometricsconnector"

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"

	"github.com/ollystack/ollystack/connector/slometricsconnector/internal/metadata"
)

const (
	defaultFlushInterval = 15 * time.Second
	defaultMaxExemplars  = 5
)

// NewFactory returns the factory of the slometrics connector.
func NewFactory() connector.Factory {
	shared := &sharedEngines{byConfig: map[*Config]*sharedEngine{}, now: time.Now}
	return connector.NewFactory(
		metadata.Type,
		createDefaultConfig,
		connector.WithTracesToMetrics(shared.createTracesToMetrics, metadata.TracesToMetricsStability),
		connector.WithTracesToLogs(shared.createTracesToLogs, metadata.TracesToLogsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		FlushInterval: defaultFlushInterval,
		MaxExemplars:  defaultMaxExemplars,
	}
}

// sharedEngines gives the traces→metrics and traces→logs instances of one
// connector the same engine: an alert's state must be one, whichever output
// reports it. Both instances receive the same spans from the traces
// pipelines, so only the first one created counts them.
type sharedEngines struct {
	mu       sync.Mutex
	byConfig map[*Config]*sharedEngine
	now      func() time.Time
}

type sharedEngine struct {
	*engine
	users int
}

func (s *sharedEngines) acquire(set connector.Settings, cfg component.Config) (e *engine, counts bool, err error) {
	cCfg, ok := cfg.(*Config)
	if !ok {
		return nil, false, fmt.Errorf("slometrics: unexpected config type %T", cfg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if shared, ok := s.byConfig[cCfg]; ok {
		shared.users++
		return shared.engine, false, nil
	}
	e, err = newEngine(set.TelemetrySettings, set.ID, cCfg, s.now)
	if err != nil {
		return nil, false, err
	}
	s.byConfig[cCfg] = &sharedEngine{engine: e, users: 1}
	return e, true, nil
}

// releaser returns a Shutdown that gives the engine back exactly once and
// stops it with its last user.
func (s *sharedEngines) releaser(cfg *Config) component.ShutdownFunc {
	var once sync.Once
	return func(ctx context.Context) error {
		var last *engine
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			shared, ok := s.byConfig[cfg]
			if !ok {
				return
			}
			shared.users--
			if shared.users == 0 {
				delete(s.byConfig, cfg)
				last = shared.engine
			}
		})
		if last == nil {
			return nil
		}
		return last.shutdown(ctx)
	}
}

func (s *sharedEngines) create(set connector.Settings, cfg component.Config, metrics consumer.Metrics, logs consumer.Logs) (*tracesConnector, error) {
	e, counts, err := s.acquire(set, cfg)
	if err != nil {
		return nil, err
	}
	e.attach(metrics, logs)
	return &tracesConnector{engine: e, counts: counts, release: s.releaser(cfg.(*Config))}, nil
}

func (s *sharedEngines) createTracesToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Traces, error) {
	return s.create(set, cfg, next, nil)
}

func (s *sharedEngines) createTracesToLogs(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Logs) (connector.Traces, error) {
	return s.create(set, cfg, nil, next)
}
