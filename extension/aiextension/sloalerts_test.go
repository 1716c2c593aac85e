package aiextension

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// sloPollerAt is a poller on store whose clock stands at now, submitting
// to an investigator without workers whose queue holds queueSize.
func sloPollerAt(t *testing.T, store signalstore.Reader, docs *spyDocuments, now time.Time, queueSize int) (*sloAlertPoller, *investigator, *observer.ObservedLogs) {
	t.Helper()
	iv, _, logs := newTestInvestigator(t, store, docs, nil, func(cfg *Config) { cfg.Investigations.QueueSize = queueSize })
	iv.api.now = func() time.Time { return now }
	return newSLOAlertPoller(iv.api, time.Minute), iv, logs
}

func countInvestigations(t *testing.T, docs signalstore.DocumentStore) int {
	t.Helper()
	list, err := docs.ListDocuments(context.Background(), signalstore.DocumentFilter{Kind: signalstore.DocumentKindInvestigation, Limit: 10_000})
	require.NoError(t, err)
	return len(list)
}

// TestEveryFiringSLOAlertOfAPollIsInvestigated: 150 firing records in one
// poll window, more than a page of the store's answer, each start one
// investigation, and none is submitted twice: the second a page ended in
// is read again, and what was submitted from it is skipped. Then 150
// records in a single second, which no page short of the whole second
// holds.
func TestEveryFiringSLOAlertOfAPollIsInvestigated(t *testing.T) {
	for _, tc := range []struct {
		name   string
		record func(i int, base time.Time) (time.Time, string)
	}{
		{"one a second", func(i int, base time.Time) (time.Time, string) {
			return base.Add(time.Duration(i) * time.Second), "gateway"
		}},
		{"all in one second", func(i int, base time.Time) (time.Time, string) {
			return base.Add(time.Duration(i) * time.Millisecond), fmt.Sprintf("service-%03d", i)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := openStore(t)
			now := time.Now().Truncate(time.Second)
			base := now.Add(-2*time.Minute - 40*time.Second) // within the first poll's three intervals
			for i := range 150 {
				at, service := tc.record(i, base)
				require.NoError(t, store.WriteLogs(context.Background(), sloAlertLog(at, service)))
			}
			docs := &spyDocuments{DocumentStore: store}
			p, iv, _ := sloPollerAt(t, store, docs, now, 1000)

			require.NoError(t, p.poll(context.Background()))
			assert.Equal(t, 150, countInvestigations(t, docs))
			assert.Len(t, iv.queue, 150)
			assert.Equal(t, 150, docs.reads(), "each alert submitted once (a submit reads the id first)")
			assert.Equal(t, now, p.since)
		})
	}
}

// TestSLOAlertPollGoesOnWhereAFullQueueStoppedIt: the queue fills after
// 100 alerts; the poll fails, and the next one, once the queue has room,
// starts the other 50.
func TestSLOAlertPollGoesOnWhereAFullQueueStoppedIt(t *testing.T) {
	store := openStore(t)
	now := time.Now().Truncate(time.Second)
	base := now.Add(-2*time.Minute - 40*time.Second)
	for i := range 150 {
		require.NoError(t, store.WriteLogs(context.Background(), sloAlertLog(base.Add(time.Duration(i)*time.Second), "gateway")))
	}
	docs := &spyDocuments{DocumentStore: store}
	p, iv, _ := sloPollerAt(t, store, docs, now, 100)

	require.ErrorIs(t, p.poll(context.Background()), errQueueFull)
	assert.Equal(t, 100, countInvestigations(t, docs))
	assert.True(t, base.Add(99*time.Second).Equal(p.since), "moved on to the second the failed page started at, not %s", p.since)
	for range 100 { // the workers take them
		iv.done(<-iv.queue)
	}
	require.NoError(t, p.poll(context.Background()))
	assert.Equal(t, 150, countInvestigations(t, docs))
}

// TestSLOAlertPollReadsAtMostTheLongestWindow: after polls failed for 5h,
// a poll reads the newest 2h46m40s (the store's 10,000 one-second
// buckets) instead of failing for good, and warns how long a stretch it
// skipped.
func TestSLOAlertPollReadsAtMostTheLongestWindow(t *testing.T) {
	store := openStore(t)
	now := time.Now().Truncate(time.Second)
	require.NoError(t, store.WriteLogs(context.Background(), sloAlertLog(now.Add(-time.Hour), "recent")))
	require.NoError(t, store.WriteLogs(context.Background(), sloAlertLog(now.Add(-4*time.Hour), "skipped")))
	docs := &spyDocuments{DocumentStore: store}
	p, _, logs := sloPollerAt(t, store, docs, now, 100)
	p.since = now.Add(-5 * time.Hour) // the last poll that worked

	require.NoError(t, p.poll(context.Background()))
	list, err := docs.ListDocuments(context.Background(), signalstore.DocumentFilter{Kind: signalstore.DocumentKindInvestigation})
	require.NoError(t, err)
	require.Len(t, list, 1)
	inv, err := p.api.investigations.load(context.Background(), list[0].ID)
	require.NoError(t, err)
	assert.Equal(t, "recent", inv.Scope.Service)
	warned := logs.FilterMessageSnippet("SLO alert records are skipped").All()
	require.Len(t, warned, 1)
	assert.Equal(t, 5*time.Hour-maxSLOAlertWindow, warned[0].ContextMap()["skipped"])
	assert.Equal(t, now, p.since)
}
