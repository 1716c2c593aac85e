package idcache

import (
	"math/rand/v2"
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

	c.Put(traceID(1), "root", true, epoch)
	id, fromRoot, ok = c.Get(traceID(1), epoch)
	assert.True(t, ok)
	assert.Equal(t, "root", id)
	assert.True(t, fromRoot)
	entries, _ := c.Stats()
	assert.Equal(t, 1, entries)
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

func TestEvictionPrefersExpiredThenUnreferenced(t *testing.T) {
	c := New(3, time.Minute)
	c.Put(traceID(1), "one", false, epoch)
	c.Put(traceID(2), "two", false, epoch.Add(30*time.Second))
	c.Put(traceID(3), "three", false, epoch.Add(30*time.Second))

	// Entry 1 has expired at +61s: it goes first, for that reason.
	c.Put(traceID(4), "four", false, epoch.Add(61*time.Second))
	_, evictions := c.Stats()
	assert.Equal(t, [2]uint64{EvictedExpired: 1}, evictions)
	_, _, ok := c.Get(traceID(1), epoch.Add(61*time.Second))
	assert.False(t, ok)

	// Read entry 3 (second chance) so that 2 is evicted next, for capacity.
	_, _, ok = c.Get(traceID(3), epoch.Add(62*time.Second))
	require.True(t, ok)
	c.Put(traceID(5), "five", false, epoch.Add(62*time.Second))
	_, evictions = c.Stats()
	assert.Equal(t, [2]uint64{EvictedExpired: 1, EvictedCapacity: 1}, evictions)
	for n, want := range map[int]bool{2: false, 3: true, 4: true, 5: true} {
		_, _, ok := c.Get(traceID(n), epoch.Add(63*time.Second))
		assert.Equal(t, want, ok, "trace %d", n)
	}
	entries, _ := c.Stats()
	assert.Equal(t, 3, entries)
}

// TestAgainstModel churns a small cache with many colliding keys and checks
// that every entry it reports is right and that it never exceeds capacity.
func TestAgainstModel(t *testing.T) {
	const capacity = 64
	c := New(capacity, time.Hour)
	model := map[[16]byte]string{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20_000 {
		key := traceID(rng.IntN(300))
		if rng.IntN(2) == 0 {
			id := string(rune('a' + i%26))
			c.Put(key, id, false, epoch)
			model[key] = id
		}
		if id, _, ok := c.Get(key, epoch); ok {
			assert.Equal(t, model[key], id)
		}
		entries, _ := c.Stats()
		require.LessOrEqual(t, entries, capacity)
	}
	held := 0
	for key, want := range model {
		if id, _, ok := c.Get(key, epoch); ok {
			held++
			assert.Equal(t, want, id)
		}
	}
	assert.Equal(t, capacity, held, "a full cache finds every entry it holds")
}

func TestSizeBounds(t *testing.T) {
	c := New(0, time.Minute)
	assert.Len(t, c.entries, 1)
	c = New(1000, time.Minute)
	assert.Len(t, c.index, 2048)
	assert.Equal(t, uintptr(entrySize), entrySizeOf(), "BytesPerEntry must follow the entry layout")
	assert.Equal(t, 192, BytesPerEntry)
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
