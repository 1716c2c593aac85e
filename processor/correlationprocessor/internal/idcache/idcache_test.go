package idcache

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var epoch = time.Unix(1_700_000_000, 0)

func traceID(n int) [16]byte {
	return [16]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24), 0xaa}
}

func TestGetPut(t *testing.T) {
	c := New(4, time.Minute)
	_, _, ok := c.Get(traceID(1), epoch)
	assert.False(t, ok)

	c.Put(traceID(1), "one", false, epoch)
	id, fromRoot, ok := c.Get(traceID(1), epoch)
	assert.True(t, ok)
	assert.Equal(t, "one", id)
	assert.False(t, fromRoot)

	assert.Equal(t, "root", c.Put(traceID(1), "root", true, epoch))
	id, fromRoot, ok = c.Get(traceID(1), epoch)
	assert.True(t, ok)
	assert.Equal(t, "root", id)
	assert.True(t, fromRoot)

	// A root's id stays.
	assert.Equal(t, "root", c.Put(traceID(1), "other-root", true, epoch))
	assert.Equal(t, "root", c.Put(traceID(1), "child", false, epoch))
	id, _, _ = c.Get(traceID(1), epoch)
	assert.Equal(t, "root", id)
	entries, _ := c.Stats()
	assert.Equal(t, 1, entries)
}

// TestGetAllPutAll checks that the batch calls do what Get and Put do for
// each entry: on a cache whose sets hold several traces each, including one
// evicted by PutAll itself.
func TestGetAllPutAll(t *testing.T) {
	const n = 64
	single, batched := New(24, time.Minute), New(24, time.Minute)
	batched.seed = single.seed
	for i := range n {
		single.Put(traceID(i), "old-"+strconv.Itoa(i), i%3 == 0, epoch)
	}
	batched.PutAll(func() []Entry {
		var entries []Entry
		for i := range n {
			entries = append(entries, Entry{TraceID: traceID(i), ID: "old-" + strconv.Itoa(i), FromRoot: i%3 == 0})
		}
		return entries
	}(), epoch)

	// Later puts: a root's id stays, a child's is replaced, in order.
	var puts []Entry
	for i := n / 2; i < n+8; i++ {
		puts = append(puts, Entry{TraceID: traceID(i), ID: "new-" + strconv.Itoa(i), FromRoot: i%2 == 0})
	}
	later := epoch.Add(time.Second)
	for _, e := range puts {
		single.Put(e.TraceID, e.ID, e.FromRoot, later)
	}
	batched.PutAll(puts, later)

	var gets []Entry
	for i := range n + 8 {
		gets = append(gets, Entry{TraceID: traceID(i), ID: "stale"})
	}
	batched.GetAll(gets, later)
	hits := 0
	for i, e := range gets {
		id, fromRoot, ok := single.Get(traceID(i), later)
		assert.Equal(t, id, e.ID, "trace %d", i)
		assert.Equal(t, fromRoot, e.FromRoot, "trace %d", i)
		if ok {
			hits++
		}
	}
	assert.Equal(t, 24, hits, "a full cache")
	singleSize, singleEvictions := single.Stats()
	batchedSize, batchedEvictions := batched.Stats()
	assert.Equal(t, singleSize, batchedSize)
	assert.Equal(t, singleEvictions, batchedEvictions)
}

func TestPutCopiesTheID(t *testing.T) {
	c := New(1, time.Minute)
	big := strings.Repeat("x", 1<<20)
	c.Put(traceID(1), big[:8], false, epoch)
	id, _, _ := c.Get(traceID(1), epoch)
	assert.Equal(t, "xxxxxxxx", id)
	assert.NotSame(t, unsafeData(big), unsafeData(id), "the cache must not pin the caller's buffer")
}

func TestTTL(t *testing.T) {
	c := New(4, time.Minute)
	c.Put(traceID(1), "one", false, epoch)
	_, _, ok := c.Get(traceID(1), epoch.Add(59*time.Second))
	assert.True(t, ok, "a hit extends the entry's life")
	_, _, ok = c.Get(traceID(1), epoch.Add(118*time.Second))
	assert.True(t, ok)
	_, _, ok = c.Get(traceID(1), epoch.Add(179*time.Second))
	assert.False(t, ok)
}

// TestExpiredRootIDDoesNotComeBack: once expired, an entry is gone for Put
// as for Get, its root's id included.
func TestExpiredRootIDDoesNotComeBack(t *testing.T) {
	c := New(4, time.Minute)
	c.Put(traceID(1), "root-A", true, epoch)
	later := epoch.Add(5 * time.Minute)
	_, _, ok := c.Get(traceID(1), later)
	require.False(t, ok)
	assert.Equal(t, "child-B", c.Put(traceID(1), "child-B", false, later))
	id, fromRoot, ok := c.Get(traceID(1), later)
	assert.True(t, ok)
	assert.Equal(t, "child-B", id)
	assert.False(t, fromRoot)
	assert.Equal(t, "root-C", c.Put(traceID(1), "root-C", true, later))
	entries, evictions := c.Stats()
	assert.Equal(t, 1, entries)
	assert.Equal(t, [2]uint64{}, evictions)
}

func TestEvictionPrefersExpiredThenLeastRecentlyUsed(t *testing.T) {
	c := New(Ways, time.Minute) // a single set
	require.Equal(t, Ways, c.Capacity())
	c.Put(traceID(1), "one", false, epoch)
	for n := 2; n <= Ways; n++ {
		c.Put(traceID(n), "other", false, epoch.Add(30*time.Second))
	}
	_, evictions := c.Stats()
	assert.Equal(t, [2]uint64{}, evictions, "empty ways are used first")

	// Entry 1 has expired at +61s: it goes first, for that reason.
	c.Put(traceID(100), "new", false, epoch.Add(61*time.Second))
	_, evictions = c.Stats()
	assert.Equal(t, [2]uint64{EvictedExpired: 1}, evictions)
	_, _, ok := c.Get(traceID(1), epoch.Add(61*time.Second))
	assert.False(t, ok)

	// Read entries 3 to Ways so that 2, now the least recently used, goes
	// next, for capacity.
	for n := 3; n <= Ways; n++ {
		_, _, ok = c.Get(traceID(n), epoch.Add(62*time.Second))
		require.True(t, ok)
	}
	c.Put(traceID(101), "newer", false, epoch.Add(63*time.Second))
	_, evictions = c.Stats()
	assert.Equal(t, [2]uint64{EvictedExpired: 1, EvictedCapacity: 1}, evictions)
	_, _, ok = c.Get(traceID(2), epoch.Add(63*time.Second))
	assert.False(t, ok)
	for _, n := range []int{3, Ways, 100, 101} {
		_, _, ok = c.Get(traceID(n), epoch.Add(63*time.Second))
		assert.True(t, ok, "trace %d", n)
	}
	entries, _ := c.Stats()
	assert.Equal(t, Ways, entries)
}

// TestAgainstModel churns a small cache with many colliding keys and checks
// that every entry it reports is right and that it never exceeds capacity.
func TestAgainstModel(t *testing.T) {
	c := New(64, time.Hour)
	type modelEntry struct {
		id       string
		fromRoot bool
	}
	model := map[[16]byte]modelEntry{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20_000 {
		key := traceID(rng.IntN(300))
		if rng.IntN(2) == 0 {
			// Unique ids: Put returning another one tells that it kept a root's.
			id := strings.Repeat(string(rune('a'+i%26)), 1+i%40) + strconv.Itoa(i)
			fromRoot := i%3 == 0
			held := c.Put(key, id, fromRoot, epoch)
			if held != id {
				// Only a root's id, not evicted since, stays.
				require.Equal(t, modelEntry{held, true}, model[key])
				continue
			}
			model[key] = modelEntry{id, fromRoot}
		}
		if id, fromRoot, ok := c.Get(key, epoch); ok {
			assert.Equal(t, model[key], modelEntry{id, fromRoot})
		}
		entries, _ := c.Stats()
		require.LessOrEqual(t, entries, c.Capacity())
	}
	held := 0
	for key, want := range model {
		if id, _, ok := c.Get(key, epoch); ok {
			held++
			assert.Equal(t, want.id, id)
		}
	}
	entries, _ := c.Stats()
	assert.Equal(t, entries, held, "the cache finds every entry it holds")
	assert.Greater(t, held, c.Capacity()/2)
}

// TestIDsStayImmutable checks that ids handed out keep their value after
// their entries are replaced: they share chunks, which are only appended to.
func TestIDsStayImmutable(t *testing.T) {
	c := New(Ways, time.Minute)
	handedOut := map[string]string{}
	for n := range 200 {
		want := strings.Repeat(string(rune('a'+n%26)), 1+n%50)
		c.Put(traceID(n), want, false, epoch)
		got, _, ok := c.Get(traceID(n), epoch)
		require.True(t, ok)
		handedOut[want] = got
		c.Put(traceID(n), want+"-changed", true, epoch)
	}
	for want, got := range handedOut {
		assert.Equal(t, want, got)
	}
	long := strings.Repeat("z", idChunkSize+1)
	c.Put(traceID(1000), long, false, epoch)
	got, _, _ := c.Get(traceID(1000), epoch)
	assert.Equal(t, long, got)
}

func TestSizeBounds(t *testing.T) {
	c := New(0, time.Minute)
	assert.Equal(t, 1, c.Capacity())
	c = New(3, time.Minute)
	assert.Equal(t, 3, c.Capacity(), "tiny caches are exact")
	c = New(Ways+1, time.Minute)
	assert.Equal(t, 2*Ways, c.Capacity())
	c = New(1001, time.Minute)
	assert.Equal(t, 1008, c.Capacity(), "rounded up to whole sets")
	assert.Equal(t, uintptr(setSize), setSizeOf(), "BytesPerEntry must follow the set layout")
	assert.Equal(t, 171, BytesPerEntry)
}

func BenchmarkGetHit(b *testing.B) {
	c := New(100_000, time.Minute)
	for i := range 100_000 {
		c.Put(traceID(i), "some-correlation-id", false, epoch)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		c.Get(traceID(i%100_000), epoch)
	}
}

func BenchmarkPutEvict(b *testing.B) {
	c := New(10_000, time.Minute)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		c.Put(traceID(i), "some-correlation-id", false, epoch)
	}
}
