package slometricsconnector // import "github.com/ollystack/ollystack/connector/slometricsconnector"

import (
	"context"
	"fmt"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottlspan"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/ottlfuncs"
	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"
)

// spanCondition is a parsed OTTL condition on spans.
type spanCondition struct {
	source    string
	condition *ottl.Condition[*ottlspan.TransformContext]
}

// parseSpanCondition parses an OTTL condition in the span context with the
// standard converters, as the filter processor does.
func parseSpanCondition(source string) (*spanCondition, error) {
	// Parsing only needs a logger; the condition never reports telemetry.
	set := component.TelemetrySettings{Logger: zap.NewNop()}
	parser, err := ottlspan.NewParser(ottlfuncs.StandardConverters[*ottlspan.TransformContext](), set)
	if err != nil {
		return nil, fmt.Errorf("create OTTL parser: %w", err)
	}
	parsed, err := parser.ParseCondition(source)
	if err != nil {
		return nil, fmt.Errorf("condition: %w", err)
	}
	return &spanCondition{source: source, condition: parsed}, nil
}

// matches evaluates the condition on the span; a condition that fails to
// evaluate (e.g. a type mismatch) does not match, so the span is not counted.
func (c *spanCondition) matches(ctx context.Context, f *spanFacts) bool {
	tCtx := ottlspan.NewTransformContext(f.resourceSpans, f.scopeSpans, f.span)
	defer tCtx.Close()
	ok, err := c.condition.Eval(ctx, tCtx)
	return err == nil && ok
}
