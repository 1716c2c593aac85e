package slometricsconnector // import "github.com/ollystack/ollystack/connector/slometricsconnector"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// tracesConnector is one instance (traces→metrics or traces→logs) of the
// connector; the work happens in the shared engine.
type tracesConnector struct {
	engine *engine
	// counts is set on the one instance that feeds spans to the engine.
	counts  bool
	release component.ShutdownFunc
}

func (c *tracesConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

func (c *tracesConnector) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	if c.counts {
		c.engine.consume(ctx, td)
	}
	return nil
}

func (c *tracesConnector) Start(ctx context.Context, host component.Host) error {
	return c.engine.start(ctx, host)
}

func (c *tracesConnector) Shutdown(ctx context.Context) error {
	return c.release(ctx)
}
