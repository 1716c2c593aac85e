package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Attributes of the slometrics connector's alert log records.
const (
	attrSLOName        = "slo.name"
	attrSLOAlertName   = "slo.alert.name"
	attrSLOAlertState  = "slo.alert.state"
	attrSLOAlertSev    = "slo.alert.severity"
	attrSLOCorrelation = "slo.correlation_ids"
	attrServiceName    = "service.name"
	sloAlertFiring     = "firing"
)

// sloAlertPage is how many alert records one query returns; a poll reads
// as many pages as its window holds.
const sloAlertPage = 100

// maxSLOAlertWindow is the longest window one poll reads: records are read
// in one-second buckets, and the store's typed query allows 10 000.
const maxSLOAlertWindow = 10_000 * time.Second

// maxSLOAlertPollInterval keeps the first poll after a start, which reads
// four intervals (three before the start and the one waited), within
// maxSLOAlertWindow.
const maxSLOAlertPollInterval = 30 * time.Minute

// sloAlertPoller starts an investigation for each firing alert record the
// slometrics connector wrote to the store. Each poll reads back one more
// interval than it moved forward, for records that reached the store late;
// alert records map to deterministic investigation ids, so one read twice
// (or again after a restart) starts nothing new.
type sloAlertPoller struct {
	api      *api
	interval time.Duration
	done     chan struct{}

	mu    sync.Mutex // one poll at a time
	since time.Time
}

func newSLOAlertPoller(a *api, interval time.Duration) *sloAlertPoller {
	return &sloAlertPoller{api: a, interval: interval, since: a.now().Add(-2 * interval), done: make(chan struct{})}
}

// run polls until the API's routes stop.
func (p *sloAlertPoller) run(ctx context.Context) {
	defer close(p.done)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.poll(ctx); err != nil && ctx.Err() == nil {
				p.api.logger.Warn("Reading SLO alerts failed", zap.Error(err))
			}
		}
	}
}

// poll reads the firing alert records since the last poll (minus one
// interval), at most maxSLOAlertWindow back, page by page, and submits one
// investigation per record.
func (p *sloAlertPoller) poll(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.api.now()
	from := p.since.Add(-p.interval)
	if oldest := now.Add(-maxSLOAlertWindow); from.Before(oldest) {
		// Polls failed for long (the store was down, the queue full): a
		// longer window is more than the store answers.
		if p.since.Before(oldest) {
			p.api.logger.Warn("SLO alert records are skipped: the polls before failed for longer than one poll reads back",
				zap.Duration("skipped", oldest.Sub(p.since)), zap.Time("skipped_from", p.since), zap.Time("skipped_to", oldest),
				zap.Duration("max_window", maxSLOAlertWindow))
		}
		from = oldest
	}
	// Pages follow time; each starts at the second the previous one ended
	// in, which may have had more records than it returned, so that second
	// is read again and the records already submitted are skipped.
	submitted := map[string]bool{}
	limit := sloAlertPage
	for from.Before(now) {
		page, err := readFiringSLOAlerts(ctx, p.api.store, from, now, limit)
		if err != nil {
			p.advance(from)
			return err
		}
		for _, al := range page.alerts {
			inv := p.api.sloInvestigation(al, now)
			if submitted[inv.ID] {
				continue
			}
			if _, err := p.api.investigations.submit(ctx, inv); err != nil {
				p.advance(from)
				return fmt.Errorf("starting the investigation of SLO alert %s/%s: %w", al.slo, al.alert, err)
			}
			submitted[inv.ID] = true
		}
		switch {
		case !page.truncated:
			p.since = now
			return nil
		case page.last.After(from):
			from, limit = page.last, sloAlertPage
		case limit < signalstore.MaxQueryLimit:
			// One second holds more records than a page: read it whole.
			limit = signalstore.MaxQueryLimit
		default:
			p.api.logger.Warn("More firing SLO alert records in one second than a query returns; the rest of that second is skipped",
				zap.Time("second", page.last), zap.Int("read", limit))
			from, limit = page.last.Add(time.Second), sloAlertPage
		}
	}
	p.since = now
	return nil
}

// advance moves since forward to from after a failed poll: the records
// before from were submitted, and the next poll still reads one interval
// before it.
func (p *sloAlertPoller) advance(from time.Time) {
	if from.After(p.since) {
		p.since = from
	}
}

// sloAlert is one firing alert record.
type sloAlert struct {
	at                            time.Time
	service, slo, alert, severity string
	correlationIDs                []string
	traceID                       string
}

// sloAlertRecords is one page of firing alert records, in time order.
type sloAlertRecords struct {
	alerts []sloAlert
	// last is the second of the last record; truncated says that more
	// records followed, from that second on.
	last      time.Time
	truncated bool
}

// readFiringSLOAlerts reads up to limit firing alert records of [from, to)
// with one typed query: grouped by the alert's fields at one-second
// resolution, which gives each record once with its time, in time order.
func readFiringSLOAlerts(ctx context.Context, r signalstore.QueryRunner, from, to time.Time, limit int) (sloAlertRecords, error) {
	attr := func(k string) signalstore.GroupBy {
		return signalstore.GroupBy{Field: signalstore.FieldAttribute, Key: k}
	}
	q := signalstore.Query{
		Signal: signalstore.SignalLogs, Start: from, End: to,
		Filters: []signalstore.Filter{{Field: signalstore.FieldAttribute, Key: attrSLOAlertState, Op: signalstore.OpEq, Value: sloAlertFiring}},
		GroupBy: []signalstore.GroupBy{
			// The connector's records have an empty resource: the service
			// is a record attribute; the resource's is read too, for
			// records reshaped on the way.
			{Field: signalstore.FieldServiceName}, attr(attrServiceName), attr(attrSLOName), attr(attrSLOAlertName), attr(attrSLOAlertSev),
			attr(attrSLOCorrelation), {Field: signalstore.FieldTraceID},
		},
		Aggregations: []signalstore.Aggregation{{Func: signalstore.AggCount}},
		Interval:     signalstore.Duration(time.Second),
		Limit:        limit,
	}
	res, err := r.Query(ctx, q)
	if err != nil {
		return sloAlertRecords{}, fmt.Errorf("query SLO alert records: %w", err)
	}
	col := map[string]int{}
	for i, c := range res.Columns {
		col[c.Name] = i
	}
	str := func(row []any, name string) string {
		if i, ok := col[name]; ok {
			if s, ok := row[i].(string); ok {
				return s
			}
		}
		return ""
	}
	out := sloAlertRecords{truncated: res.Truncated}
	for _, row := range res.Rows {
		al := sloAlert{
			service: cmpOr(str(row, "attribute."+attrServiceName), str(row, "service_name")), slo: str(row, "attribute."+attrSLOName),
			alert: str(row, "attribute."+attrSLOAlertName), severity: str(row, "attribute."+attrSLOAlertSev),
			correlationIDs: stringList(str(row, "attribute."+attrSLOCorrelation)), traceID: str(row, "trace_id"),
		}
		if i, ok := col["time"]; ok {
			al.at, _ = row[i].(time.Time)
		}
		if !al.at.IsZero() {
			out.last = al.at
		}
		if al.slo == "" || al.alert == "" || al.at.IsZero() {
			continue
		}
		out.alerts = append(out.alerts, al)
	}
	return out, nil
}

// stringList reads a slice attribute as the store keeps it (a JSON array)
// or a single value.
func stringList(s string) []string {
	if s == "" {
		return nil
	}
	var list []string
	if json.Unmarshal([]byte(s), &list) == nil {
		return list
	}
	return []string{s}
}

// sloInvestigation scopes an investigation on an SLO alert: the service,
// the most frequent bad request first, the lookback before the alert.
func (a *api) sloInvestigation(al sloAlert, now time.Time) *investigation {
	var id string
	for _, c := range al.correlationIDs {
		if checkCorrelationID("", c, true) == nil {
			id = c
			break
		}
	}
	to := now
	if al.at.After(to) {
		to = al.at
	}
	inv := &investigation{
		ID:        investigationIDFor(sourceSLOAlert, al.service, al.slo, al.alert, al.traceID, al.at.UTC().Format(time.RFC3339)),
		CreatedAt: now.UTC(),
		Trigger: trigger{
			Source: sourceSLOAlert, AlertName: truncate(al.slo+"/"+al.alert, maxNameLen), Severity: truncate(al.severity, maxNameLen),
			StartsAt: al.at.UTC(), Services: []string{truncate(al.service, maxNameLen)},
		},
		Scope: scope{Service: truncate(al.service, maxNameLen), CorrelationID: id, From: al.at.Add(-a.cfg.Investigations.Lookback).UTC(), To: to.UTC()},
	}
	inv.addTimeline(al.at, "alert", al.service, id, "SLO alert "+inv.Trigger.AlertName+" started firing")
	return inv
}
