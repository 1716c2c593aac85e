package logpattern

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Keyed keeps one Miner per key, typically per service, so that one
// service's templates neither crowd out nor absorb another's. Ids depend only
// on template text, so the same template gets the same id under every key.
// It is safe for concurrent use; lines of different keys are mined in
// parallel.
type Keyed struct {
	mu      sync.Mutex
	cfg     Config
	maxKeys int
	clock   uint64
	miners  map[string]*keyedMiner
}

type keyedMiner struct {
	miner   *Miner
	lastUse uint64
}

// DefaultMaxKeys bounds the number of keys of a Keyed miner when NewKeyed is
// given no positive bound.
const DefaultMaxKeys = 1000

// NewKeyed returns a Keyed miner whose miners use cfg. At most maxKeys keys
// are kept; the least recently used key is dropped to make room.
func NewKeyed(cfg Config, maxKeys int) (*Keyed, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	return &Keyed{cfg: cfg, maxKeys: maxKeys, miners: make(map[string]*keyedMiner)}, nil
}

// Add mines the line in the miner of key, creating it when needed.
func (k *Keyed) Add(key, line string) Match {
	return k.miner(key, true).Add(line)
}

// Match returns the template the line would join under key without changing
// any state; ok is false when it would start a new one or the key is unknown.
func (k *Keyed) Match(key, line string) (Match, bool) {
	m := k.miner(key, false)
	if m == nil {
		return Match{}, false
	}
	return m.Match(line)
}

// Keys returns the keys held, sorted.
func (k *Keyed) Keys() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Sorted(maps.Keys(k.miners))
}

// Miner returns the miner of key, or nil.
func (k *Keyed) Miner(key string) *Miner {
	return k.miner(key, false)
}

func (k *Keyed) miner(key string, create bool) *Miner {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.clock++
	if e, ok := k.miners[key]; ok {
		e.lastUse = k.clock
		return e.miner
	}
	if !create {
		return nil
	}
	if len(k.miners) >= k.maxKeys {
		k.evictOldest()
	}
	m, _ := New(k.cfg) // cfg was validated by NewKeyed or Restore
	k.miners[key] = &keyedMiner{miner: m, lastUse: k.clock}
	return m
}

// evictOldest drops the least recently used key. The scan is linear, but it
// only runs when a new key arrives at a full table.
func (k *Keyed) evictOldest() {
	oldest, oldestUse := "", ^uint64(0)
	for key, e := range k.miners {
		// Keys of a snapshot without recency all have lastUse 0: the
		// smaller key goes first, not whichever the map yields.
		if e.lastUse < oldestUse || e.lastUse == oldestUse && key < oldest {
			oldest, oldestUse = key, e.lastUse
		}
	}
	delete(k.miners, oldest)
}

type keyedSnapshot struct {
	Version int                        `json:"version"`
	MaxKeys int                        `json:"max_keys"`
	Config  Config                     `json:"config"`
	Miners  map[string]json.RawMessage `json:"miners"`
	// Recency lists the keys least recently used first, so that a restored
	// Keyed miner drops the same key as the original would.
	Recency []string `json:"recency,omitempty"`
}

// Snapshot returns every key's miner state as JSON.
func (k *Keyed) Snapshot() ([]byte, error) {
	k.mu.Lock()
	entries := maps.Clone(k.miners)
	snap := keyedSnapshot{Version: snapshotVersion, MaxKeys: k.maxKeys, Config: k.cfg,
		Miners: make(map[string]json.RawMessage, len(entries))}
	snap.Recency = slices.SortedFunc(maps.Keys(k.miners), func(a, b string) int {
		return cmp.Or(cmp.Compare(k.miners[a].lastUse, k.miners[b].lastUse), cmp.Compare(a, b))
	})
	k.mu.Unlock()
	for key, e := range entries {
		data, err := e.miner.Snapshot()
		if err != nil {
			return nil, err
		}
		snap.Miners[key] = data
	}
	return json.Marshal(snap)
}

// Restore replaces all keys and miners with a snapshot. On error the Keyed
// miner is left unchanged.
func (k *Keyed) Restore(data []byte) error {
	var snap keyedSnapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("logpattern: decode keyed snapshot: %w", err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("logpattern: keyed snapshot version %d, want %d", snap.Version, snapshotVersion)
	}
	cfg := snap.Config.withDefaults()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("logpattern: keyed snapshot config: %w", err)
	}
	maxKeys := snap.MaxKeys
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	if len(snap.Miners) > maxKeys {
		return fmt.Errorf("logpattern: keyed snapshot holds %d keys, more than max_keys %d", len(snap.Miners), maxKeys)
	}
	miners := make(map[string]*keyedMiner, len(snap.Miners))
	for _, key := range slices.Sorted(maps.Keys(snap.Miners)) {
		m, _ := New(cfg)
		if err := m.Restore(snap.Miners[key]); err != nil {
			return fmt.Errorf("logpattern: key %q: %w", key, err)
		}
		miners[key] = &keyedMiner{miner: m}
	}
	clock := uint64(0)
	for _, key := range snap.Recency {
		if e, ok := miners[key]; ok && e.lastUse == 0 {
			clock++
			e.lastUse = clock
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cfg, k.maxKeys, k.miners, k.clock = cfg, maxKeys, miners, clock
	return nil
}
