package logpatternprocessor

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/ollystack/ollystack/processor/logpatternprocessor/internal/metadata"
)

// TestConcurrentConsumeLogs runs batches of several services from several
// goroutines, with snapshots and the clusters gauge read meanwhile; run with
// -race. Every record must get the id its template has at the end.
func TestConcurrentConsumeLogs(t *testing.T) {
	cfg := defaultConfig()
	cfg.NewTemplate.Warmup = 0
	set := processortest.NewNopSettings(metadata.Type)
	p, err := newLogPatternProcessor(set.TelemetrySettings, set.ID, cfg)
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))
	// processorhelper's ConsumeLogs adds no locking around processLogs.
	sink := &consumertest.LogsSink{}

	const goroutines, batches = 8, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			service := fmt.Sprintf("svc-%d", g%3)
			for b := range batches {
				ld := newLogs(service,
					fmt.Sprintf("user %d logged in from 10.0.%d.%d", b, g, b),
					fmt.Sprintf("order %d shipped in %dms", g*batches+b, b),
					fmt.Sprintf("cache miss for key k%x", b*g+1))
				out, err := p.processLogs(context.Background(), ld)
				assert.NoError(t, err)
				assert.NoError(t, sink.ConsumeLogs(context.Background(), out))
			}
		})
	}
	wg.Go(func() { // what the state saver and the clusters gauge do meanwhile
		for range 20 {
			_, err := p.miners.snapshot()
			assert.NoError(t, err)
			p.miners.templates()
		}
	})
	wg.Wait()
	require.NoError(t, p.shutdown(context.Background()))

	ids := map[string]map[string]bool{}    // template → ids seen
	learnt := map[string]map[string]bool{} // service → template ids on its records
	records, newEvents := 0, 0
	for _, ld := range sink.AllLogs() {
		rl := ld.ResourceLogs().At(0)
		service, _ := rl.Resource().Attributes().Get("service.name")
		for i := 0; i < rl.ScopeLogs().Len(); i++ {
			sl := rl.ScopeLogs().At(i)
			for k := 0; k < sl.LogRecords().Len(); k++ {
				lr := sl.LogRecords().At(k)
				if sl.Scope().Name() == EventScopeName {
					newEvents++
					continue
				}
				records++
				tmpl, _ := lr.Attributes().Get("log.record.template")
				id, _ := lr.Attributes().Get("log.record.template.id")
				if ids[tmpl.Str()] == nil {
					ids[tmpl.Str()] = map[string]bool{}
				}
				ids[tmpl.Str()][id.Str()] = true
				if learnt[service.Str()] == nil {
					learnt[service.Str()] = map[string]bool{}
				}
				learnt[service.Str()][id.Str()] = true
			}
		}
	}
	assert.Equal(t, goroutines*batches*3, records)
	for tmpl, set := range ids {
		assert.Len(t, set, 1, "one id per template text: %s", tmpl)
	}
	// How lines cluster depends on the order they arrive in (Drain is online), so the number of
	// templates varies with the interleaving; what must hold is one birth event per template
	// each service learnt, never a duplicate or a missing one.
	templates := 0
	for _, set := range learnt {
		templates += len(set)
	}
	assert.Len(t, learnt, 3)
	assert.Equal(t, templates, newEvents, "each template born once per service")
}
