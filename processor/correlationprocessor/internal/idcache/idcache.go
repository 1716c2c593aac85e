// Package idcache holds the bounded trace id → explicit correlation id cache.
//
// Memory is fixed when the cache is built: an entry array of MaxTraces slots
// and an open-addressing index of at most four int32 per slot are allocated
// once and never grow, and every stored id is a private copy of at most
// correlationid.MaxLength bytes. BytesPerEntry gives the resulting hard bound.
// Replacement is CLOCK (second chance), preferring expired entries, so
// inserting never allocates beyond the id copy and never scans more than
// twice around the ring.
package idcache // import "github.com/ollystack/ollystack/processor/correlationprocessor/internal/idcache"

import (
	"hash/maphash"
	"math/bits"
	"strings"
	"sync"
	"time"

	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
)

// BytesPerEntry is the most memory one entry can use: the 48-byte entry, up to
// 16 bytes of index (the index has between 2 and 4 int32 slots per entry), and
// the id copy (at most correlationid.MaxLength bytes, which is a Go size class).
const BytesPerEntry = entrySize + 4*4 + correlationid.MaxLength

const entrySize = 48

// MaxTraces bounds max_traces so a typo cannot preallocate gigabytes.
const MaxTraces = 10_000_000

// Eviction tells why an entry left the cache to make room.
type Eviction uint8

const (
	// EvictedExpired means the entry had outlived its ttl.
	EvictedExpired Eviction = iota
	// EvictedCapacity means a live entry was dropped because the cache was full.
	EvictedCapacity
)

type entry struct {
	traceID   [16]byte
	id        string
	expiresAt int64 // unix nanoseconds
	fromRoot  bool
	// referenced gives the entry a second chance before CLOCK evicts it.
	referenced bool
}

// Cache maps trace ids to the explicit correlation id of their trace. It is
// safe for concurrent use.
type Cache struct {
	mu      sync.Mutex
	seed    maphash.Seed
	ttl     int64
	entries []entry
	// index holds entry positions + 1 (0 is empty), linear probing with
	// backward-shift deletion so there are no tombstones.
	index []int32
	mask  uint64
	size  int
	hand  int
	// evictions counts entries dropped to make room, by Eviction.
	evictions [2]uint64
}

// New returns a cache of maxTraces entries whose entries expire ttl after they
// were last written or read.
func New(maxTraces int, ttl time.Duration) *Cache {
	maxTraces = max(1, min(maxTraces, MaxTraces))
	indexLen := 1 << bits.Len(uint(2*maxTraces-1)) // power of two ≥ 2×maxTraces keeps probes short
	return &Cache{
		// A per-process random seed keeps attacker-chosen trace ids from
		// colliding into long probe chains.
		seed:    maphash.MakeSeed(),
		ttl:     int64(ttl),
		entries: make([]entry, maxTraces),
		index:   make([]int32, indexLen),
		mask:    uint64(indexLen - 1),
	}
}

// Stats returns the number of entries held (expired or not) and the number
// of evictions so far, indexed by Eviction. Telemetry reads it when
// collected, which keeps metric calls off the hot path.
func (c *Cache) Stats() (entries int, evictions [2]uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size, c.evictions
}

// Get returns the id cached for traceID and whether it came from the trace's
// root span. A hit extends the entry's life by ttl.
func (c *Cache) Get(traceID [16]byte, now time.Time) (id string, fromRoot, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pos := c.find(traceID)
	if pos < 0 {
		return "", false, false
	}
	e := &c.entries[pos]
	nowNanos := now.UnixNano()
	if e.expiresAt <= nowNanos {
		return "", false, false
	}
	e.expiresAt = nowNanos + c.ttl
	e.referenced = true
	return e.id, e.fromRoot, true
}

// Put stores id for traceID. The cache keeps its own copy of id, so callers may
// pass substrings of large values.
func (c *Cache) Put(traceID [16]byte, id string, fromRoot bool, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	expiresAt := now.UnixNano() + c.ttl
	if pos := c.find(traceID); pos >= 0 {
		e := &c.entries[pos]
		if e.id != id {
			e.id = strings.Clone(id)
		}
		e.fromRoot, e.expiresAt, e.referenced = fromRoot, expiresAt, true
		return
	}
	pos := c.freeEntry(now.UnixNano())
	c.entries[pos] = entry{traceID: traceID, id: strings.Clone(id), expiresAt: expiresAt, fromRoot: fromRoot}
	c.insertIndex(traceID, int32(pos))
}

// freeEntry returns the position of an unused entry, evicting one when full.
func (c *Cache) freeEntry(nowNanos int64) int {
	if c.size < len(c.entries) {
		c.size++
		return c.size - 1
	}
	// Two turns of the ring are enough: the first clears every second chance.
	for range 2 * len(c.entries) {
		pos := c.hand
		c.hand++
		if c.hand == len(c.entries) {
			c.hand = 0
		}
		e := &c.entries[pos]
		switch {
		case e.expiresAt <= nowNanos:
			c.evict(pos, EvictedExpired)
			return pos
		case e.referenced:
			e.referenced = false
		default:
			c.evict(pos, EvictedCapacity)
			return pos
		}
	}
	// Unreachable: after one full turn no entry is referenced.
	pos := c.hand
	c.evict(pos, EvictedCapacity)
	return pos
}

func (c *Cache) evict(pos int, reason Eviction) {
	c.removeIndex(c.entries[pos].traceID)
	c.entries[pos] = entry{}
	c.evictions[reason]++
}

func (c *Cache) home(traceID [16]byte) uint64 {
	return maphash.Comparable(c.seed, traceID) & c.mask
}

// find returns the entry position of traceID, or -1.
func (c *Cache) find(traceID [16]byte) int {
	for slot := c.home(traceID); ; slot = (slot + 1) & c.mask {
		ref := c.index[slot]
		if ref == 0 {
			return -1
		}
		if c.entries[ref-1].traceID == traceID {
			return int(ref - 1)
		}
	}
}

func (c *Cache) insertIndex(traceID [16]byte, pos int32) {
	slot := c.home(traceID)
	for c.index[slot] != 0 {
		slot = (slot + 1) & c.mask
	}
	c.index[slot] = pos + 1
}

// removeIndex deletes traceID from the index and shifts later members of its
// probe chain back so lookups never need tombstones.
func (c *Cache) removeIndex(traceID [16]byte) {
	slot := c.home(traceID)
	for {
		ref := c.index[slot]
		if ref == 0 {
			return
		}
		if c.entries[ref-1].traceID == traceID {
			break
		}
		slot = (slot + 1) & c.mask
	}
	hole := slot
	for next := (hole + 1) & c.mask; c.index[next] != 0; next = (next + 1) & c.mask {
		home := c.home(c.entries[c.index[next]-1].traceID)
		// Move the member back only if its home is not in (hole, next].
		if (next-home)&c.mask >= (next-hole)&c.mask {
			c.index[hole] = c.index[next]
			hole = next
		}
	}
	c.index[hole] = 0
}
