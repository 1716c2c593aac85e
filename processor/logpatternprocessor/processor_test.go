package logpatternprocessor

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/ollystack/ollystack/processor/logpatternprocessor/internal/metadata"
)

func defaultConfig() *Config { return createDefaultConfig().(*Config) }

// newTestProcessor returns a started processor on a fake clock.
func newTestProcessor(t *testing.T, cfg *Config, clock *fakeClock) *logPatternProcessor {
	t.Helper()
	set := processortest.NewNopSettings(metadata.Type)
	p, err := newLogPatternProcessor(set.TelemetrySettings, set.ID, cfg)
	require.NoError(t, err)
	p.now = clock.Now
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.shutdown(context.Background())) })
	return p
}

func process(t *testing.T, p *logPatternProcessor, ld plog.Logs) plog.Logs {
	t.Helper()
	out, err := p.processLogs(context.Background(), ld)
	require.NoError(t, err)
	return out
}

func TestAttributes(t *testing.T) {
	line := "connection pool exhausted: active=50 idle=0 waiting=12"
	const template = "connection pool exhausted: active=<*> idle=<*> waiting=<*>"
	tests := []struct {
		name     string
		mutate   func(*Config)
		wantAttr map[string]bool // attribute name → present
	}{
		{"defaults", func(*Config) {}, map[string]bool{"log.record.template": true, "log.record.template.id": true}},
		{"template only", func(c *Config) { c.TemplateIDAttribute.Enabled = false },
			map[string]bool{"log.record.template": true, "log.record.template.id": false}},
		{"id only", func(c *Config) { c.TemplateAttribute.Enabled = false },
			map[string]bool{"log.record.template": false, "log.record.template.id": true}},
		{"renamed", func(c *Config) { c.TemplateAttribute.Name = "pattern"; c.TemplateIDAttribute.Name = "pattern.id" },
			map[string]bool{"pattern": true, "pattern.id": true, "log.record.template": false}},
		{"events only", func(c *Config) { c.TemplateAttribute.Enabled = false; c.TemplateIDAttribute.Enabled = false },
			map[string]bool{"log.record.template": false, "log.record.template.id": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultConfig()
			tt.mutate(cfg)
			require.NoError(t, cfg.Validate())
			p := newTestProcessor(t, cfg, newFakeClock())
			out := process(t, p, newLogs("checkout", line))
			attrs := out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
			for name, present := range tt.wantAttr {
				v, ok := attrs.Get(name)
				require.Equal(t, present, ok, name)
				if ok && strings.HasSuffix(name, "id") {
					assert.Len(t, v.Str(), 16, "64-bit hex id")
				} else if ok {
					assert.Equal(t, template, v.Str())
				}
			}
		})
	}
}

func TestBodyExtraction(t *testing.T) {
	big := strings.Repeat("token=42 ", 1<<17) // about 1 MiB
	tests := []struct {
		name     string
		body     func(pcommon.Value)
		template string // "" when the record is skipped
	}{
		{"string", func(v pcommon.Value) { v.SetStr("user 42 logged in") }, "user <*> logged in"},
		{"map message", func(v pcommon.Value) {
			m := v.SetEmptyMap()
			m.PutStr("level", "info")
			m.PutStr("message", "cache miss for key 7f3a9c21")
		}, "cache miss for key <*>"},
		{"map msg", func(v pcommon.Value) { v.SetEmptyMap().PutStr("msg", "retrying in 30s") }, "retrying in <*>"},
		{"map prefers message", func(v pcommon.Value) {
			m := v.SetEmptyMap()
			m.PutStr("msg", "second choice")
			m.PutStr("message", "first choice")
		}, "first choice"},
		{"map non-string field", func(v pcommon.Value) { v.SetEmptyMap().PutInt("message", 3) }, ""},
		{"map without field", func(v pcommon.Value) { v.SetEmptyMap().PutStr("text", "hello") }, ""},
		{"empty body", func(pcommon.Value) {}, ""},
		{"empty string", func(v pcommon.Value) { v.SetStr("") }, ""},
		{"blank string", func(v pcommon.Value) { v.SetStr(" \t\n") }, ""},
		{"int body", func(v pcommon.Value) { v.SetInt(7) }, ""},
		{"bytes body", func(v pcommon.Value) { v.SetEmptyBytes().FromRaw([]byte("raw")) }, ""},
		{"invalid utf-8", func(v pcommon.Value) { v.SetStr("bad \xff\xfe byte") }, "bad \uFFFD byte"},
		{"huge", func(v pcommon.Value) { v.SetStr(big) }, "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestProcessor(t, defaultConfig(), newFakeClock())
			ld := newLogs("svc", "placeholder")
			lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
			lr.Body().SetStr("")
			tt.body(lr.Body())
			process(t, p, ld)
			v, ok := lr.Attributes().Get("log.record.template")
			switch tt.template {
			case "":
				assert.False(t, ok, "skipped")
				assert.Equal(t, 0, lr.Attributes().Len())
			case "*":
				require.True(t, ok)
				assert.LessOrEqual(t, len(v.Str()), defaultConfig().MaxBodyBytes)
			default:
				require.True(t, ok)
				assert.Equal(t, tt.template, v.Str())
			}
		})
	}
}

func TestTruncateKeepsRunes(t *testing.T) {
	s := "aé€😀"
	for n := 0; n <= len(s); n++ {
		got := truncate(s, n)
		assert.LessOrEqual(t, len(got), n)
		assert.True(t, strings.HasPrefix(s, got))
		assert.True(t, len(got) == n || len(got) > n-4)
	}
}

func TestServicesHaveTheirOwnTemplates(t *testing.T) {
	p := newTestProcessor(t, defaultConfig(), newFakeClock())
	process(t, p, newLogs("a", "job 1 done", "job 2 done"))
	process(t, p, newLogs("b", "job 3 done"))
	process(t, p, newLogs("", "job 4 done"))
	assert.Equal(t, int64(3), p.miners.templates())
}

func TestNewTemplateEventWithoutWarmup(t *testing.T) {
	cfg := defaultConfig()
	cfg.NewTemplate.Warmup = 0
	p := newTestProcessor(t, cfg, newFakeClock())

	out := process(t, p, newLogs("checkout", "payment 1 declined", "payment 2 declined", "order 9 shipped"))
	events := eventsOf(out)
	require.Len(t, events, 2, "one per template, not per record")
	e := events[0]
	assert.Equal(t, EventNewTemplate, e.EventName())
	assert.Equal(t, plog.SeverityNumberInfo, e.SeverityNumber())
	attrs := e.Attributes().AsRaw()
	assert.Equal(t, "checkout", attrs["service.name"])
	assert.Equal(t, "payment <*> declined", attrs["log.record.template"])
	assert.Equal(t, int64(1), attrs["log.template.count"])
	assert.Contains(t, attrs, "log.record.template.id")
	assert.Contains(t, attrs, "log.template.rate.baseline")
	assert.Contains(t, attrs, "log.template.rate.current")
	rl := out.ResourceLogs().At(0)
	assert.Equal(t, 2, rl.ScopeLogs().Len(), "events join the resource of their service")
	eventIDs := []string{}
	for _, ev := range events {
		id, _ := ev.Attributes().Get("log.record.template.id")
		eventIDs = append(eventIDs, id.Str())
	}
	first, _ := rl.ScopeLogs().At(0).LogRecords().At(0).Attributes().Get("log.record.template.id")
	assert.Equal(t, first.Str(), eventIDs[0])

	// Exactly once: the same templates again, in the same or a later batch.
	assert.Empty(t, eventsOf(process(t, p, newLogs("checkout", "payment 3 declined", "order 10 shipped"))))
	// Reprocessing a batch that holds our events mines neither them nor creates events.
	again := process(t, p, out)
	assert.Len(t, eventsOf(again), 2, "the old events pass through, no new ones")
}

// TestNewTemplateEventNotForJoinedTemplate: a line of a known event with
// optional parts ("(1.98 KB)") starts a template of another length that
// takes the known one's id. That id was announced: no second event, whether
// rate jumps are tracked or not, and after its rate entry was dropped.
func TestNewTemplateEventNotForJoinedTemplate(t *testing.T) {
	const (
		short = "proxy.example.com:443 close, 785 bytes sent, 145 bytes received, lifetime 00:01"
		long  = "proxy.example.com:443 close, 2034 bytes (1.98 KB) sent, 4206 bytes (4.10 KB) received, lifetime 00:39"
	)
	for _, tc := range []struct {
		name         string
		rateJump     bool
		maxTemplates int
	}{
		{"rate_jump enabled", true, 100},
		{"rate_jump disabled", false, 0},
		{"rate entry dropped", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.NewTemplate.Warmup = 0
			cfg.RateJump.Enabled = tc.rateJump
			cfg.RateJump.MaxTemplates = tc.maxTemplates
			p := newTestProcessor(t, cfg, newFakeClock())
			events := eventsOf(process(t, p, newLogs("proxy", short)))
			require.Len(t, events, 1)
			announced, _ := events[0].Attributes().Get("log.record.template.id")
			// Another template takes the only rate entry of a table of one.
			require.Len(t, eventsOf(process(t, p, newLogs("proxy", "cache warmed in 3s"))), 1)

			out := process(t, p, newLogs("proxy", long))
			assert.Empty(t, eventsOf(out), "a template joined to an announced id is not new")
			id, _ := out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get("log.record.template.id")
			assert.Equal(t, announced.Str(), id.Str(), "the long line joined the short one's id")
		})
	}
}

func TestNewTemplateEventAfterWarmup(t *testing.T) {
	cfg := defaultConfig()
	cfg.NewTemplate.Warmup = time.Minute
	clock := newFakeClock()
	p := newTestProcessor(t, cfg, clock)

	assert.Empty(t, eventsOf(process(t, p, newLogs("api", "GET /users/1 200", "startup complete in 3s"))), "warm-up")
	clock.Advance(time.Minute)
	assert.Empty(t, eventsOf(process(t, p, newLogs("api", "startup complete in 4s"))), "learnt during warm-up")
	events := eventsOf(process(t, p, newLogs("api", "disk full on /var/lib/data", "disk full on /var/lib/data")))
	require.Len(t, events, 1)
	tmpl, _ := events[0].Attributes().Get("log.record.template")
	assert.Equal(t, "disk full on <*>", tmpl.Str())
}

func TestNewTemplateEventDisabled(t *testing.T) {
	cfg := defaultConfig()
	cfg.NewTemplate.Enabled = false
	cfg.RateJump.Enabled = false
	p := newTestProcessor(t, cfg, newFakeClock())
	assert.Empty(t, eventsOf(process(t, p, newLogs("api", "brand new line"))))
}

// rateConfig: 1-minute windows, a jump is ≥ 20 records and > 3× baseline
// after 3 complete windows, at most one event per 10 minutes.
func rateConfig() *Config {
	cfg := defaultConfig()
	cfg.NewTemplate.Enabled = false
	cfg.RateJump = RateJumpConfig{Enabled: true, Interval: time.Minute, Smoothing: 0.3, Factor: 3,
		MinCount: 20, BaselineWindows: 3, Cooldown: 10 * time.Minute, MaxTemplates: 100}
	return cfg
}

func lines(n int, format string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strings.ReplaceAll(format, "#", string(rune('0'+i%10)))
	}
	return out
}

func TestRateJumpEvent(t *testing.T) {
	clock := newFakeClock()
	p := newTestProcessor(t, rateConfig(), clock)
	steady := lines(10, "request # served in 12ms")

	for range 6 { // 10 a minute: the baseline
		assert.Empty(t, eventsOf(process(t, p, newLogs("api", steady...))))
		clock.Advance(time.Minute)
	}
	var events []plog.LogRecord
	for range 5 { // 50 in one minute, in batches
		events = append(events, eventsOf(process(t, p, newLogs("api", steady...)))...)
	}
	require.Len(t, events, 1, "one event per cooldown")
	e := events[0].Attributes().AsRaw()
	assert.Equal(t, EventRateJump, events[0].EventName())
	assert.Equal(t, plog.SeverityNumberWarn, events[0].SeverityNumber())
	assert.Equal(t, "api", e["service.name"])
	assert.Equal(t, "request <*> served in <*>", e["log.record.template"])
	assert.Equal(t, int64(31), e["log.template.count"], "first count above 3 × 10")
	assert.InDelta(t, 10.0/60, e["log.template.rate.baseline"], 1e-9)
	assert.InDelta(t, 31.0/60, e["log.template.rate.current"], 1e-9)

	clock.Advance(5 * time.Minute)
	for range 10 {
		assert.Empty(t, eventsOf(process(t, p, newLogs("api", steady...))), "cooldown")
	}
}

func TestRateJumpNoneUnderSteadyTraffic(t *testing.T) {
	clock := newFakeClock()
	p := newTestProcessor(t, rateConfig(), clock)
	for minute := range 120 {
		n := 40 + 10*(minute%3) // 40 to 60 a minute: noisy but steady
		for range n / 10 {
			assert.Empty(t, eventsOf(process(t, p, newLogs("api", lines(10, "heartbeat # ok")...))))
		}
		clock.Advance(time.Minute)
	}
}

func TestRateJumpNotForYoungOrRareTemplates(t *testing.T) {
	clock := newFakeClock()
	p := newTestProcessor(t, rateConfig(), clock)
	// A burst of a brand-new template has no baseline.
	assert.Empty(t, eventsOf(process(t, p, newLogs("api", lines(100, "boot step # done")...))))
	for range 5 {
		clock.Advance(time.Minute)
		process(t, p, newLogs("api", "rare event 1 happened"))
	}
	// 1 → 15 a minute is a jump by factor but below min_count.
	assert.Empty(t, eventsOf(process(t, p, newLogs("api", lines(15, "rare event # happened")...))))
}

func TestRateJumpAfterSilence(t *testing.T) {
	clock := newFakeClock()
	p := newTestProcessor(t, rateConfig(), clock)
	for range 5 {
		process(t, p, newLogs("api", lines(5, "sync # finished")...))
		clock.Advance(time.Minute)
	}
	clock.Advance(24 * time.Hour) // idle windows decay the baseline towards 0
	events := eventsOf(process(t, p, newLogs("api", lines(20, "sync # finished")...)))
	require.Len(t, events, 1)
	count, _ := events[0].Attributes().Get("log.template.count")
	assert.Equal(t, int64(20), count.Int(), "min_count reached")
}

func TestRateTableIsBounded(t *testing.T) {
	cfg := rateConfig()
	cfg.RateJump.MaxTemplates = 3
	p := newTestProcessor(t, cfg, newFakeClock())
	for _, svc := range []string{"a", "b", "c", "d", "e"} {
		process(t, p, newLogs(svc, "one line for "+svc))
	}
	assert.Equal(t, 3, p.rates.len())
	_, ok := p.rates.byKey[templateKey{service: "a"}]
	assert.False(t, ok)
}

func TestMinerIsBounded(t *testing.T) {
	cfg := defaultConfig()
	cfg.Miner.MaxClusters = 5
	cfg.Miner.MaxServices = 2
	p := newTestProcessor(t, cfg, newFakeClock())
	for _, svc := range []string{"a", "b", "c"} {
		for i := range 10 {
			process(t, p, newLogs(svc, strings.Repeat("word", i+1)+" event"))
		}
	}
	assert.Equal(t, int64(10), p.miners.templates(), "2 services × 5 templates")
	assert.Len(t, p.miners.entries(), 2)
}

// TestHugeServiceNamesDoNotPinMemory: the rate table keeps up to
// rate_jump.max_templates entries keyed by service, also of services the
// miners have dropped. Keys built from huge service.name values would pin
// every one of them (50,000 × whatever a client sends); the key is bounded.
func TestHugeServiceNamesDoNotPinMemory(t *testing.T) {
	cfg := defaultConfig()
	cfg.Miner.MaxServices = 2
	p := newTestProcessor(t, cfg, newFakeClock())
	const services, nameBytes = 300, 64 << 10

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range services {
		name := fmt.Sprintf("%06d", i) + strings.Repeat("s", nameBytes)
		out := process(t, p, newLogs(name, "worker 7 started"))
		got, _ := out.ResourceLogs().At(0).Resource().Attributes().Get("service.name")
		require.Equal(t, name, got.Str(), "the record's resource is untouched")
	}
	runtime.GC()
	runtime.ReadMemStats(&after)

	assert.Equal(t, services, p.rates.len(), "every service's template is tracked")
	for key := range p.rates.byKey {
		assert.LessOrEqual(t, len(key.service), maxServiceKeyBytes)
	}
	retained := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	assert.Less(t, retained, int64(services*nameBytes/4), "retained %d bytes for %d services", retained, services)
}
