package logpatternprocessor // import "github.com/ollystack/ollystack/processor/logpatternprocessor"

import (
	"context"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/analysis/logpattern"
	"github.com/ollystack/ollystack/processor/logpatternprocessor/internal/metadata"
)

var (
	outcomeMined   = metric.WithAttributeSet(attribute.NewSet(attribute.String(metadata.AttributeOutcome, "mined")))
	outcomeSkipped = metric.WithAttributeSet(attribute.NewSet(attribute.String(metadata.AttributeOutcome, "skipped")))
	eventNewAttr   = metric.WithAttributeSet(attribute.NewSet(attribute.String(metadata.AttributeEvent, EventNewTemplate)))
	eventJumpAttr  = metric.WithAttributeSet(attribute.NewSet(attribute.String(metadata.AttributeEvent, EventRateJump)))
)

// logPatternProcessor mines the template of each log record's message per
// service, writes it on the record and emits events for new templates and
// rate jumps.
type logPatternProcessor struct {
	cfg       *Config
	id        component.ID
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	miners    *serviceMiners
	// now is the clock of warm-up, windows and cooldowns; tests replace it.
	now func() time.Time

	mu sync.Mutex
	// rates is nil when rate_jump is disabled; guarded by mu.
	rates *rateTable
	// warmupEnd: births before it emit no event; set by Start.
	warmupEnd time.Time

	state *stateSaver
}

func newLogPatternProcessor(set component.TelemetrySettings, id component.ID, cfg *Config) (*logPatternProcessor, error) {
	miners, err := newServiceMiners(logpattern.Config{
		Depth:       cfg.Miner.Depth,
		Similarity:  cfg.Miner.Similarity,
		MaxClusters: cfg.Miner.MaxClusters,
	}, cfg.Miner.MaxServices)
	if err != nil {
		return nil, err
	}
	telemetry, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	p := &logPatternProcessor{cfg: cfg, id: id, logger: set.Logger, telemetry: telemetry, miners: miners, now: time.Now}
	if cfg.RateJump.Enabled {
		p.rates = newRateTable(cfg.RateJump)
	}
	if err := telemetry.RegisterProcessorLogpatternClustersCallback(miners.templates); err != nil {
		telemetry.Shutdown()
		return nil, err
	}
	return p, nil
}

func (p *logPatternProcessor) start(ctx context.Context, host component.Host) error {
	p.mu.Lock()
	p.warmupEnd = p.now().Add(p.cfg.NewTemplate.Warmup)
	p.mu.Unlock()
	if p.cfg.Storage == nil {
		return nil
	}
	state, err := startStateSaver(ctx, host, p.id, *p.cfg.Storage, p.cfg.SnapshotInterval, p.miners, p.logger)
	if err != nil {
		return err
	}
	p.state = state
	return nil
}

func (p *logPatternProcessor) shutdown(ctx context.Context) error {
	defer p.telemetry.Shutdown()
	if p.state == nil {
		return nil
	}
	err := p.state.stop(ctx)
	p.state = nil
	return err
}

// batchCounts are the self-telemetry of one batch, recorded once.
type batchCounts struct {
	mined, skipped, created, newEvents, jumpEvents int64
}

func (p *logPatternProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	now := p.now()
	var counts batchCounts
	var events []templateEvent
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		events = p.processResource(rl, now, &counts, events[:0])
		if len(events) > 0 {
			appendEvents(rl, events, now)
		}
	}
	p.record(ctx, &counts)
	return ld, nil
}

// processResource mines the records of one resource, i.e. of one service,
// and returns the events they trigger appended to events.
func (p *logPatternProcessor) processResource(rl plog.ResourceLogs, now time.Time, counts *batchCounts, events []templateEvent) []templateEvent {
	service := serviceName(rl.Resource())
	key := serviceKey(service)
	var miner *logpattern.Miner // looked up with the first minable record
	sls := rl.ScopeLogs()
	for j := 0; j < sls.Len(); j++ {
		sl := sls.At(j)
		if sl.Scope().Name() == EventScopeName {
			continue // our own events, when two logpattern processors are chained
		}
		records := sl.LogRecords()
		for k := 0; k < records.Len(); k++ {
			lr := records.At(k)
			msg, ok := messageOf(lr.Body(), p.cfg.BodyFields, p.cfg.MaxBodyBytes)
			if !ok {
				counts.skipped++
				continue
			}
			if miner == nil {
				miner = p.miners.get(key)
			}
			match := miner.Add(msg)
			counts.mined++
			if match.New {
				counts.created++
			}
			p.setAttributes(lr, match)
			events = p.observe(service, key, match, now, counts, events)
		}
	}
	return events
}

func (p *logPatternProcessor) setAttributes(lr plog.LogRecord, match logpattern.Match) {
	if p.cfg.TemplateAttribute.Enabled {
		lr.Attributes().PutStr(p.cfg.TemplateAttribute.Name, match.Template)
	}
	if p.cfg.TemplateIDAttribute.Enabled {
		lr.Attributes().PutStr(p.cfg.TemplateIDAttribute.Name, match.ID)
	}
}

// observe updates the template's rate and appends the events it triggers;
// key is serviceKey(service).
func (p *logPatternProcessor) observe(service, key string, match logpattern.Match, now time.Time, counts *batchCounts, events []templateEvent) []templateEvent {
	if p.rates == nil && !(match.New && p.cfg.NewTemplate.Enabled) {
		return events
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// A template joined to an older one of another length is born with that
	// one's id: not a new template for the reader.
	born := match.New && !match.Joined
	if p.rates != nil {
		r, jumped := p.rates.observe(templateKey{service: key, id: match.ID}, now)
		// A template evicted from its miner and born again keeps its id:
		// while its rate entry lasts, it is not announced twice. Batches of
		// one service run concurrently, so another record of a new template
		// may be observed before its birth: the entry remembers whether the
		// birth was announced rather than whether it was seen.
		born = born && !r.announced
		if born {
			r.announced = true
		}
		if jumped {
			counts.jumpEvents++
			events = append(events, templateEvent{
				name: EventRateJump, service: service, id: match.ID, template: match.Template,
				count:        int64(r.count),
				baselineRate: p.rates.perSecond(r.baseline),
				currentRate:  p.rates.perSecond(float64(r.count)),
			})
		}
	}
	if born && p.cfg.NewTemplate.Enabled && !now.Before(p.warmupEnd) {
		counts.newEvents++
		events = append(events, templateEvent{name: EventNewTemplate, service: service, id: match.ID, template: match.Template, count: 1})
	}
	return events
}

func (p *logPatternProcessor) record(ctx context.Context, c *batchCounts) {
	t := p.telemetry
	if c.mined > 0 {
		t.ProcessorLogpatternRecords.Add(ctx, c.mined, outcomeMined)
	}
	if c.skipped > 0 {
		t.ProcessorLogpatternRecords.Add(ctx, c.skipped, outcomeSkipped)
	}
	if c.created > 0 {
		t.ProcessorLogpatternTemplatesCreated.Add(ctx, c.created)
	}
	if c.newEvents > 0 {
		t.ProcessorLogpatternEvents.Add(ctx, c.newEvents, eventNewAttr)
	}
	if c.jumpEvents > 0 {
		t.ProcessorLogpatternEvents.Add(ctx, c.jumpEvents, eventJumpAttr)
	}
}

// maxServiceKeyBytes bounds the service name that keys a miner and the rate
// entries of its templates. The rate table keeps max_templates entries, also
// of services the miners dropped: keys as long as a client's service.name
// would let that client pin max_templates huge strings.
const maxServiceKeyBytes = maxNameLength

// serviceKey is service cut to maxServiceKeyBytes, copied so that it does not
// keep the whole name alive; longer names sharing that prefix share a miner.
func serviceKey(service string) string {
	if len(service) <= maxServiceKeyBytes {
		return service
	}
	return strings.Clone(truncate(service, maxServiceKeyBytes))
}

// serviceName returns the resource's service.name, or "" for records of no
// known service, which then share one miner.
func serviceName(res pcommon.Resource) string {
	if v, ok := res.Attributes().Get(attrServiceName); ok && v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}
