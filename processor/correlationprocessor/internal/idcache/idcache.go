// Package idcache holds the bounded trace id → explicit correlation id cache.
//
// The cache is set-associative: a seeded hash of the trace id picks one set
// of Ways entries, and the trace can only live there. A lookup reads one set,
// a few adjacent cache lines (most misses read only its 64 present bits), and
// an insert replaces an empty or expired entry of the set, else its least
// recently used one; there are no probe chains to walk or repair, so every
// operation is O(Ways) whatever the trace ids, chosen or not. The sets are
// allocated once and never grow; ids are copied into 128-byte chunks shared
// by several entries (one allocation for several traces, a hard bound of
// correlationid.MaxLength bytes per entry). BytesPerEntry gives the
// resulting bound.
//
// A large cache is mostly out of the CPU caches, so each operation waits for
// memory. GetAll and PutAll serve a whole batch of traces under one lock and
// read all their sets before using any, so that those waits overlap.
package idcache // import "github.com/ollystack/ollystack/processor/correlationprocessor/internal/idcache"

import (
	"hash/maphash"
	"math/bits"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
)

// Ways is the number of entries of a set: capacities of Ways entries or more
// are rounded up to a multiple of it; smaller caches are a single set.
const Ways = 8

// BytesPerEntry is the most memory one entry can use: its share of its set
// and of the present bits, and at most one id chunk of
// correlationid.MaxLength bytes (a Go size class).
const BytesPerEntry = (setSize+presentSize)/Ways + idChunkSize

const (
	setSize     = 336
	presentSize = 8
)

// idChunkSize is also the longest id, so that any id fits in a fresh chunk.
const idChunkSize = correlationid.MaxLength

// MaxTraces bounds max_traces so a typo cannot preallocate gigabytes.
const MaxTraces = 10_000_000

// MaxTTL bounds the ttl: expiry times are Unix nanoseconds, and now + ttl
// must not overflow them (it would from about 235 years on, expiring every
// entry at once).
const MaxTTL = 365 * 24 * time.Hour

// Eviction tells why an entry left the cache to make room.
type Eviction uint8

const (
	// EvictedExpired means the entry had outlived its ttl.
	EvictedExpired Eviction = iota
	// EvictedCapacity means a live entry was dropped because its set was full.
	EvictedCapacity
)

// set holds up to Ways entries. Its header (tags, flags and expiry times) is
// what lookups and replacement read; a lookup that misses reads nothing
// else, and one that hits reads one entry besides.
type set struct {
	// tags hold 8 bits of the hash of each entry's trace id: most
	// mismatches are found without reading the trace id.
	tags [Ways]uint8
	// Bit w of used is set when way w holds an entry, of fromRoot when its
	// id came from the trace's root span.
	used, fromRoot uint8
	// An entry lives until expiresAt, ttl after it was last written or read,
	// so the smallest is also the least recently used.
	expiresAt [Ways]int64
	entries   [Ways]entry
}

type entry struct {
	traceID [16]byte
	id      string
}

// Cache maps trace ids to the explicit correlation id of their trace. It is
// safe for concurrent use.
type Cache struct {
	mu   sync.Mutex
	seed maphash.Seed
	ttl  int64
	sets []set
	// present[i] has bit tag&63 set for the tag of each entry of sets[i].
	// Most lookups of a trace the cache does not hold, the common case of
	// a new trace, are answered from this array, 40 times smaller than the
	// sets and so far more often in the CPU caches, without reading the set.
	present []uint64
	// ways is the number of ways used in each set, Ways but in tiny caches.
	ways int
	size int
	// chunk receives copies of new ids. Bytes are only appended, never
	// overwritten, because ids handed out by Get end up in telemetry data
	// that outlives their entry; a chunk is freed by the garbage collector
	// once neither an entry nor such data refers to it.
	chunk []byte
	// evictions counts entries dropped to make room, by Eviction.
	evictions [2]uint64
	// touched is the sum of the words touch loads.
	touched uint64
}

// New returns a cache of maxTraces entries (from Ways up, rounded up to a
// multiple of Ways) whose entries expire ttl after they were last written or
// read.
func New(maxTraces int, ttl time.Duration) *Cache {
	maxTraces = max(1, min(maxTraces, MaxTraces))
	ways := min(maxTraces, Ways)
	return &Cache{
		// A per-process random seed keeps attacker-chosen trace ids from
		// aiming at the sets of other traces.
		seed:    maphash.MakeSeed(),
		ttl:     int64(ttl),
		sets:    make([]set, (maxTraces+ways-1)/ways),
		present: make([]uint64, (maxTraces+ways-1)/ways),
		ways:    ways,
	}
}

// Capacity returns the number of entries the cache can hold.
func (c *Cache) Capacity() int {
	return len(c.sets) * c.ways
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
	e := Entry{TraceID: traceID}
	e.locate(c)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.get(&e, now.UnixNano())
	return e.ID, e.FromRoot, e.ID != ""
}

// Put stores id for traceID, unless the cache holds the id of the trace's
// root span, which no other id replaces, and returns the id it holds then.
// The cache keeps its own copy of id, so callers may pass substrings of large
// values. The processor stores through PutAll; Put is its one-trace form,
// which the tests hold PutAll to.
func (c *Cache) Put(traceID [16]byte, id string, fromRoot bool, now time.Time) string {
	e := Entry{TraceID: traceID, ID: id, FromRoot: fromRoot}
	e.locate(c)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.put(&e, now.UnixNano())
}

// Entry is one trace of GetAll and PutAll.
type Entry struct {
	TraceID [16]byte
	// ID is the trace's id: GetAll sets it, "" when not cached; PutAll
	// stores it (never "").
	ID string
	// FromRoot tells whether ID came from the trace's root span.
	FromRoot bool

	set int
	tag uint8
}

func (e *Entry) locate(c *Cache) {
	e.set, e.tag = c.set(e.TraceID)
}

// GetAll does what Get does for each of entries, under one lock, and reads
// the sets of all of them before using any: a large cache is mostly out of
// the CPU caches, and their misses then overlap instead of adding up.
func (c *Cache) GetAll(entries []Entry, now time.Time) {
	c.forAll(entries, now, c.get)
}

// PutAll does what Put does for each of entries, in order, under one lock,
// reading their sets first as GetAll does; the ids held afterwards are not
// returned.
func (c *Cache) PutAll(entries []Entry, now time.Time) {
	c.forAll(entries, now, func(e *Entry, nowNanos int64) { c.put(e, nowNanos) })
}

func (c *Cache) forAll(entries []Entry, now time.Time, op func(e *Entry, nowNanos int64)) {
	if len(entries) == 0 {
		return
	}
	for i := range entries {
		entries[i].locate(c)
	}
	nowNanos := now.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.touch(entries)
	for i := range entries {
		op(&entries[i], nowNanos)
	}
}

// touch loads the words of the sets of entries that get and put read first.
// Go has no prefetch instruction, but these loads depend on nothing but the
// entries, so the CPU issues many at once; their sum is kept only so that
// the compiler keeps them.
func (c *Cache) touch(entries []Entry) {
	var sum uint64
	for i := range entries {
		s := &c.sets[entries[i].set]
		sum += c.present[entries[i].set] + uint64(s.used) + uint64(s.expiresAt[Ways-1])
	}
	c.touched += sum
}

// get sets e.ID and e.FromRoot to what the cache holds for e.TraceID; c.mu
// is held.
func (c *Cache) get(e *Entry, nowNanos int64) {
	e.ID, e.FromRoot = "", false
	if c.present[e.set]&presenceBit(e.tag) == 0 {
		return
	}
	s := &c.sets[e.set]
	w := s.find(e.TraceID, e.tag)
	if w < 0 || s.expiresAt[w] <= nowNanos {
		return
	}
	s.expiresAt[w] = nowNanos + c.ttl
	e.ID, e.FromRoot = s.entries[w].id, s.fromRoot&(1<<w) != 0
}

// put stores e as Put does; c.mu is held.
func (c *Cache) put(e *Entry, nowNanos int64) string {
	// The present bits are loaded while the set is: both miss the CPU
	// caches at once, and the store, if any, then finds its line there.
	present := c.present[e.set]
	s := &c.sets[e.set]
	w := s.find(e.TraceID, e.tag)
	switch {
	case w < 0:
		w = c.replace(s, nowNanos)
		s.tags[w] = e.tag
		s.entries[w] = entry{traceID: e.TraceID}
		s.fromRoot &^= 1 << w
		if p := s.presence(); p != present {
			c.present[e.set] = p
		}
	case s.expiresAt[w] <= nowNanos:
		// Expired, as Get tells: its root's id no longer holds.
		s.fromRoot &^= 1 << w
	}
	s.expiresAt[w] = nowNanos + c.ttl
	held := &s.entries[w]
	if s.fromRoot&(1<<w) != 0 {
		return held.id
	}
	if held.id != e.ID {
		held.id = c.copyID(e.ID)
	}
	if e.FromRoot {
		s.fromRoot |= 1 << w
	}
	return e.ID
}

// set returns the index of the set of traceID and its tag. Multiplying the
// hash by the number of sets maps its high bits onto them evenly, without
// rounding that number to a power of two; the tag is its low bits.
func (c *Cache) set(traceID [16]byte) (int, uint8) {
	h := maphash.Comparable(c.seed, traceID)
	index, _ := bits.Mul64(h, uint64(len(c.sets)))
	return int(index), uint8(h)
}

func presenceBit(tag uint8) uint64 {
	return 1 << (tag & 63)
}

// presence returns the present bits of s.
func (s *set) presence() uint64 {
	var p uint64
	for w := range s.tags {
		if s.used&(1<<w) != 0 {
			p |= presenceBit(s.tags[w])
		}
	}
	return p
}

// find returns the way holding traceID, or -1.
func (s *set) find(traceID [16]byte, tag uint8) int {
	for w := range s.tags {
		if s.tags[w] == tag && s.used&(1<<w) != 0 && s.entries[w].traceID == traceID {
			return w
		}
	}
	return -1
}

// replace returns the way a new entry of s goes to: an empty one, else the
// least recently used, which is an expired one if there is any.
func (c *Cache) replace(s *set, nowNanos int64) int {
	if w := bits.TrailingZeros8(^s.used); w < c.ways {
		s.used |= 1 << w
		c.size++
		return w
	}
	victim := 0
	for w := range c.ways {
		if s.expiresAt[w] < s.expiresAt[victim] {
			victim = w
		}
	}
	if s.expiresAt[victim] <= nowNanos {
		c.evictions[EvictedExpired]++
	} else {
		c.evictions[EvictedCapacity]++
	}
	return victim
}

// copyID appends id to the current chunk, starting a new one when it is full.
func (c *Cache) copyID(id string) string {
	if len(id) > idChunkSize {
		// Checked ids are never that long; should one be, it gets its own copy.
		return strings.Clone(id)
	}
	if cap(c.chunk)-len(c.chunk) < len(id) {
		c.chunk = make([]byte, 0, idChunkSize)
	}
	start := len(c.chunk)
	c.chunk = append(c.chunk, id...)
	return unsafe.String(unsafe.SliceData(c.chunk[start:]), len(id))
}
