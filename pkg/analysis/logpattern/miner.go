// Package logpattern mines log templates online, in the Drain family: lines are
// tokenised, variables are masked, a fixed-depth parse tree keyed by token
// count and leading tokens picks a few candidate templates, and the most
// similar one above a threshold absorbs the line (differing tokens become
// "<*>"); otherwise the line starts a new template.
//
// Memory is bounded by Config.MaxClusters with least-recently-used eviction.
// Template ids are hashes of the template text at birth, so they do not depend
// on arrival order in other processes, and Snapshot/Restore carry the whole
// state across restarts.
package logpattern

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// Config tunes a Miner. Zero fields take the defaults of DefaultConfig.
type Config struct {
	// Depth is the number of leading tokens the parse tree routes on.
	Depth int `json:"depth"`
	// Similarity is the share of matching tokens (0..1] a line needs to join
	// an existing template.
	Similarity float64 `json:"similarity"`
	// MaxChildren bounds the fan-out of a tree node; further distinct leading
	// tokens share a wildcard branch.
	MaxChildren int `json:"max_children"`
	// MaxClusters bounds the number of templates; the least recently used is
	// evicted to make room.
	MaxClusters int `json:"max_clusters"`
	// MaxTokens bounds the tokens per line; the tail of a longer line is
	// folded into one trailing wildcard.
	MaxTokens int `json:"max_tokens"`
}

// DefaultConfig returns the settings measured in the README.
func DefaultConfig() Config {
	return Config{Depth: 2, Similarity: 0.6, MaxChildren: 100, MaxClusters: 10000, MaxTokens: 128}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Depth <= 0 {
		c.Depth = d.Depth
	}
	if c.Similarity <= 0 {
		c.Similarity = d.Similarity
	}
	if c.MaxChildren <= 1 {
		c.MaxChildren = d.MaxChildren
	}
	if c.MaxClusters <= 0 {
		c.MaxClusters = d.MaxClusters
	}
	if c.MaxTokens <= 1 {
		c.MaxTokens = d.MaxTokens
	}
	return c
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.Similarity > 1 {
		errs = append(errs, fmt.Errorf("similarity %v must be at most 1", c.Similarity))
	}
	if c.Depth > 16 {
		errs = append(errs, fmt.Errorf("depth %d must be at most 16", c.Depth))
	}
	return errors.Join(errs...)
}

// Match is the template a line belongs to.
type Match struct {
	// ID identifies the template; see the package comment for its stability.
	ID string
	// Template is the current template text, variables shown as "<*>".
	Template string
	// New is true when this line created the template.
	New bool
	// Joined is true when the new template took the id of an existing
	// template of another token count (the same event with an optional
	// part): the template is new, its id is not.
	Joined bool
}

// Miner is an online template miner. It is safe for concurrent use; calls are
// serialised by a mutex because each line may change the shared state.
type Miner struct {
	mu    sync.Mutex
	cfg   Config
	tok   *tokenizer
	tree  *tree
	shape *shapeIndex
	lru   lruList
}

// New returns a Miner; zero fields of cfg take their defaults.
func New(cfg Config) (*Miner, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Miner{cfg: cfg, tok: newTokenizer(), tree: newTree(cfg.Depth, cfg.MaxChildren), shape: newShapeIndex()}, nil
}

// Config returns the effective settings.
func (m *Miner) Config() Config {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg
}

// Add assigns the line to a template, learning from it: the template may
// generalise, or a new one is created (evicting the least recently used one
// when the miner is full).
func (m *Miner) Add(line string) Match {
	m.mu.Lock()
	defer m.mu.Unlock()
	tokens := m.tok.tokenize(validUTF8(line), m.cfg.MaxTokens)
	if c := m.best(tokens); c != nil {
		c.absorb(tokens)
		m.lru.moveToFront(c)
		return Match{ID: c.id, Template: c.template}
	}
	// Evict before routing: pruning the victim's branch could otherwise
	// detach the still empty leaf the new cluster is about to join.
	if m.lru.len >= m.cfg.MaxClusters {
		m.evict()
	}
	leaf, path := m.tree.route(tokens)
	c := newCluster(tokens, path)
	joined := m.shape.join(c, shapeSimilarity)
	if joined != nil {
		c.id = joined.id
	}
	leaf.clusters = append(leaf.clusters, c)
	m.lru.pushFront(c)
	return Match{ID: c.id, Template: c.template, New: true, Joined: joined != nil}
}

// Match returns the template Add would assign the line to, without changing
// any state. ok is false when the line would start a new template.
func (m *Miner) Match(line string) (match Match, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.best(m.tok.tokenize(validUTF8(line), m.cfg.MaxTokens))
	if c == nil {
		return Match{}, false
	}
	return Match{ID: c.id, Template: c.template}, true
}

// Len returns the number of templates held.
func (m *Miner) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.len
}

// Templates returns the held templates, most recently used first.
func (m *Miner) Templates() []Template {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Template, 0, m.lru.len)
	for c := m.lru.head; c != nil; c = c.next {
		out = append(out, Template{ID: c.id, Template: c.template, Count: c.count})
	}
	return out
}

// Template describes one held template.
type Template struct {
	ID       string
	Template string
	// Count is the number of lines the template absorbed since its birth.
	Count uint64
}

// validUTF8 replaces invalid bytes, so that templates are valid text for
// any consumer (OpenTelemetry attributes, JSON snapshots) whatever the input.
func validUTF8(line string) string {
	if utf8.ValidString(line) {
		return line
	}
	return strings.ToValidUTF8(line, "\uFFFD")
}

// best returns the most similar cluster of the line's leaf when it reaches
// the similarity threshold.
func (m *Miner) best(tokens []string) *cluster {
	leaf := m.tree.find(tokens)
	if leaf == nil {
		return nil
	}
	var (
		best          *cluster
		bestSim       = -1.0
		bestWildcards = -1
	)
	for _, c := range leaf.clusters {
		sim, wildcards := c.similarity(tokens)
		// A full tie goes to the smaller id, not to the first in the leaf: a
		// restore rebuilds leaves in least-recently-used order, not in the
		// order of birth, and must pick the same template.
		if sim > bestSim || sim == bestSim && (wildcards > bestWildcards ||
			wildcards == bestWildcards && c.id < best.id) {
			best, bestSim, bestWildcards = c, sim, wildcards
		}
	}
	if best == nil || bestSim < m.cfg.Similarity {
		return nil
	}
	return best
}

func (m *Miner) evict() {
	victim := m.lru.tail
	if victim == nil {
		return
	}
	m.lru.remove(victim)
	m.tree.remove(victim)
	m.shape.remove(victim)
}

// shapeSimilarity is the share of constant tokens two clusters of different
// lengths must have in common, in order, to share an id.
const shapeSimilarity = 0.8
