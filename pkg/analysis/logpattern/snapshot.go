package logpattern

import (
	"encoding/json"
	"errors"
	"fmt"
)

// snapshotVersion changes when the snapshot layout does.
const snapshotVersion = 1

type snapshot struct {
	Version  int           `json:"version"`
	Config   Config        `json:"config"`
	Clusters []snapCluster `json:"clusters"` // least recently used first
}

type snapCluster struct {
	ID     string   `json:"id"`
	Tokens []string `json:"tokens"`
	Count  uint64   `json:"count"`
	Path   []string `json:"path"`
	Anchor string   `json:"anchor,omitempty"`
}

// Snapshot returns the miner's settings and templates as JSON. Restoring it
// gives a miner that assigns the same ids to the same lines, so template ids
// survive restarts when the snapshot is kept, for example, in a collector
// storage extension.
func (m *Miner) Snapshot() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	snap := snapshot{Version: snapshotVersion, Config: m.cfg, Clusters: make([]snapCluster, 0, m.lru.len)}
	for c := m.lru.tail; c != nil; c = c.prev {
		snap.Clusters = append(snap.Clusters, snapCluster{
			ID: c.id, Tokens: c.tokens, Count: c.count, Path: c.path, Anchor: c.anchor,
		})
	}
	return json.Marshal(snap)
}

// Restore replaces the miner's settings and templates with a snapshot. On
// error the miner is left unchanged.
func (m *Miner) Restore(data []byte) error {
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("logpattern: decode snapshot: %w", err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("logpattern: snapshot version %d, want %d", snap.Version, snapshotVersion)
	}
	cfg := snap.Config.withDefaults()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("logpattern: snapshot config: %w", err)
	}
	if len(snap.Clusters) > cfg.MaxClusters {
		return fmt.Errorf("logpattern: snapshot holds %d templates, more than max_clusters %d",
			len(snap.Clusters), cfg.MaxClusters)
	}
	fresh := &Miner{cfg: cfg, tok: newTokenizer(), tree: newTree(cfg.Depth, cfg.MaxChildren), shape: newShapeIndex()}
	for i, sc := range snap.Clusters {
		if err := sc.validate(cfg); err != nil {
			return fmt.Errorf("logpattern: snapshot template %d: %w", i, err)
		}
		c := &cluster{id: sc.ID, tokens: sc.Tokens, count: sc.Count, path: sc.Path, anchor: sc.Anchor}
		c.template = joinTokens(c.tokens)
		leaf := fresh.tree.leafAt(len(c.tokens), c.path)
		leaf.clusters = append(leaf.clusters, c)
		fresh.lru.pushFront(c)
		fresh.shape.add(c)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg, m.tree, m.shape, m.lru = fresh.cfg, fresh.tree, fresh.shape, fresh.lru
	return nil
}

func (sc *snapCluster) validate(cfg Config) error {
	if sc.ID == "" {
		return errors.New("empty id")
	}
	if len(sc.Tokens) > cfg.MaxTokens {
		return errors.New("more tokens than max_tokens")
	}
	if len(sc.Path) != min(cfg.Depth, len(sc.Tokens)) {
		return errors.New("route does not match the depth")
	}
	return nil
}
