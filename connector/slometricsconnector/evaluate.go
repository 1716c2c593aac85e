package slometricsconnector // import "github.com/ollystack/ollystack/connector/slometricsconnector"

import (
	"cmp"
	"context"
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/ollystack/ollystack/connector/slometricsconnector/internal/metadata"
)

// burnRateTolerance lets a burn rate that equals its threshold up to float
// rounding fire: "2% of the budget in one hour" is exactly 14.4.
const burnRateTolerance = 1e-9

// windowRate is the burn rate over one window.
type windowRate struct {
	window    time.Duration
	good, bad uint64
	burnRate  float64
}

// alertReport is the evaluation of one alert at one flush.
type alertReport struct {
	def             alertDef
	firing          bool
	changed         bool
	long, short     windowRate
	correlationIDs  []string   // of bad events in the short window, on change only
	recentBadEvents []badEvent // in the short window, newest first, on change only
}

// sloReport is the evaluation of one SLO at one flush, detached from the
// state so it can be turned into metrics and logs without holding the lock.
type sloReport struct {
	def *sloDef
	// good and bad are cumulative since startedAt.
	good, bad uint64
	// windowGood and windowBad are over the SLO window.
	windowGood, windowBad uint64
	budgetRemaining       float64
	burnRates             []windowRate
	alerts                []alertReport
	// exemplars are the recent bad events, newest first, per window
	// (the SLO window is keyed by 0).
	exemplars map[time.Duration][]badEvent
	startedAt time.Time
}

// burnRate is how fast the error budget burns: the bad ratio over the budget
// ratio; 1 spends exactly the budget over the SLO window.
func burnRate(good, bad uint64, objective float64) float64 {
	total := good + bad
	if total == 0 {
		return 0
	}
	return float64(bad) / float64(total) / (1 - objective)
}

// budgetRemaining is 1 for an untouched budget, 0 for a spent one and
// negative for an overspent one.
func budgetRemaining(good, bad uint64, objective float64) float64 {
	return 1 - burnRate(good, bad, objective)
}

func reaches(rate, threshold float64) bool {
	return rate >= threshold*(1-burnRateTolerance)
}

// sloWindowCounts sums the SLO window: the last rolling window, or the
// current UTC calendar month.
func (s *sloState) sloWindowCounts(now time.Time) (good, bad uint64) {
	if !s.def.window.calendarMonth {
		return s.hours.window(now, s.def.window.rolling)
	}
	utc := now.UTC()
	monthStart := time.Date(utc.Year(), utc.Month(), 1, 0, 0, 0, 0, time.UTC)
	return s.hours.sum(s.hours.slotOf(monthStart), s.hours.slotOf(now))
}

// evaluate computes every SLO's report and moves alert states; mu is held.
func (e *engine) evaluate(now time.Time) []sloReport {
	reports := make([]sloReport, 0, len(e.slos))
	for _, s := range e.slos {
		reports = append(reports, e.evaluateSLO(s, now))
	}
	return reports
}

func (e *engine) evaluateSLO(s *sloState, now time.Time) sloReport {
	def := s.def
	r := sloReport{def: def, good: s.good, bad: s.bad, startedAt: s.startedAt, exemplars: map[time.Duration][]badEvent{}}
	r.windowGood, r.windowBad = s.sloWindowCounts(now)
	r.budgetRemaining = budgetRemaining(r.windowGood, r.windowBad, def.objective)
	rates := map[time.Duration]windowRate{}
	rate := func(d time.Duration) windowRate {
		if wr, ok := rates[d]; ok {
			return wr
		}
		good, bad := s.minutes.window(now, d)
		wr := windowRate{window: d, good: good, bad: bad, burnRate: burnRate(good, bad, def.objective)}
		rates[d] = wr
		r.burnRates = append(r.burnRates, wr)
		r.exemplars[d] = s.badEvents.recent(since(now, d), e.maxExemplars)
		return wr
	}
	for i, a := range def.alerts {
		long, short := rate(a.long), rate(a.short)
		firing := short.good+short.bad > 0 &&
			int64(short.good+short.bad) >= def.minEvents &&
			reaches(long.burnRate, a.burnRate) && reaches(short.burnRate, a.burnRate)
		ar := alertReport{def: a, firing: firing, changed: firing != s.firing[i], long: long, short: short}
		if ar.changed {
			s.firing[i] = firing
			ar.correlationIDs = s.badEvents.topCorrelationIDs(since(now, a.short), e.maxExemplars)
			ar.recentBadEvents = s.badEvents.recent(since(now, a.short), e.maxExemplars)
			e.telemetry.ConnectorSlometricsAlertTransitions.Add(context.Background(), 1, metric.WithAttributes(
				attribute.String(metadata.AttributeSLO, def.name),
				attribute.String(metadata.AttributeAlert, a.name),
				attribute.String(metadata.AttributeState, alertStateName(firing)),
			))
		}
		r.alerts = append(r.alerts, ar)
	}
	slices.SortFunc(r.burnRates, func(a, b windowRate) int { return cmp.Compare(a.window, b.window) })
	r.exemplars[0] = s.badEvents.recent(since(now, maxAlertWindow), e.maxExemplars)
	return r
}

// since is the earliest time a bad event can have to belong to the window.
func since(now time.Time, d time.Duration) pcommon.Timestamp {
	return pcommon.NewTimestampFromTime(now.Add(-d))
}

func alertStateName(firing bool) string {
	if firing {
		return "firing"
	}
	return "resolved"
}
