package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// answerCache keeps assembled answers of correlations that have gone quiet.
// A correlation still receiving signals is never cached, so a fresh request
// is never answered stale; the TTL lets very late data in eventually.
// (golang-lru's expirable cache is not used: its cleanup goroutine never
// exits, and no goroutine may outlive Shutdown.)
type answerCache struct {
	lru         *lru.Cache[string, cachedAnswer]
	quietPeriod time.Duration
	ttl         time.Duration
}

type cachedAnswer struct {
	answer   *correlatedContext
	cachedAt time.Time
}

// newAnswerCache returns nil (no caching) when cfg disables the cache.
func newAnswerCache(cfg CacheConfig) (*answerCache, error) {
	if cfg.MaxEntries <= 0 {
		return nil, nil
	}
	cache, err := lru.New[string, cachedAnswer](cfg.MaxEntries)
	if err != nil {
		return nil, err
	}
	return &answerCache{lru: cache, quietPeriod: cfg.QuietPeriod, ttl: cfg.TTL}, nil
}

func (c *answerCache) get(id string, now time.Time) (*correlatedContext, bool) {
	if c == nil {
		return nil, false
	}
	entry, ok := c.lru.Get(id)
	if !ok {
		return nil, false
	}
	if now.Sub(entry.cachedAt) >= c.ttl {
		c.lru.Remove(id)
		return nil, false
	}
	return entry.answer, true
}

// put caches the answer if it is whole and its newest signal is older than
// the quiet period. A truncated answer keeps the earliest signals, so its
// newest one says nothing about whether the correlation went quiet: it is
// never cached. Cached answers are shared between requests and must not be
// modified.
func (c *answerCache) put(answer *correlatedContext, now time.Time) {
	if c == nil || answer.Truncated.Any() || now.Sub(answer.lastSignal) < c.quietPeriod {
		return
	}
	c.lru.Add(answer.CorrelationID, cachedAnswer{answer: answer, cachedAt: now})
}
