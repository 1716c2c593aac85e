package logpattern

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/ollystack/ollystack/pkg/analysis/internal/cputime"
)

// realisticLines returns service log lines of about twenty event types with
// ids, addresses, durations, paths and sizes that vary per line.
func realisticLines(n int) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	services := []string{"checkout", "payments", "inventory", "search", "auth"}
	formats := []func() string{
		func() string {
			return fmt.Sprintf("GET /api/v1/orders/%d returned %d in %dms", rng.IntN(1e6), 200+rng.IntN(3), rng.IntN(900))
		},
		func() string {
			return fmt.Sprintf("Accepted password for %s from 10.%d.%d.%d port %d ssh2", users[rng.IntN(5)], rng.IntN(255), rng.IntN(255), rng.IntN(255), 1024+rng.IntN(60000))
		},
		func() string {
			return fmt.Sprintf("connection pool exhausted: active=%d idle=0 waiting=%d timeout=%dms", 50+rng.IntN(5), rng.IntN(40), rng.IntN(5000))
		},
		func() string {
			return fmt.Sprintf("trace_id=%016x%016x span_id=%016x service=%s status=ERROR", rng.Uint64(), rng.Uint64(), rng.Uint64(), services[rng.IntN(5)])
		},
		func() string {
			return fmt.Sprintf("Deleting block blk_%d file /mnt/hadoop/dfs/data/current/subdir%d/blk_%d", rng.Int64(), rng.IntN(64), rng.Int64())
		},
		func() string {
			return fmt.Sprintf("user %s@example.com logged in from session %08x-%04x-%04x", users[rng.IntN(5)], rng.Uint32(), rng.IntN(65536), rng.IntN(65536))
		},
		func() string {
			return fmt.Sprintf("Failed to connect to db-%d.internal:5432 after %d retries: connection refused", rng.IntN(9), rng.IntN(5))
		},
		func() string {
			return fmt.Sprintf("cache miss for key product:%d, fetched in %.2fs", rng.IntN(1e5), rng.Float64())
		},
		func() string {
			return fmt.Sprintf("[instance: %08x-%04x-%04x-%04x-%012x] VM %s (Lifecycle Event)", rng.Uint32(), rng.IntN(65536), rng.IntN(65536), rng.IntN(65536), rng.Uint64()>>16, []string{"Started", "Stopped", "Paused"}[rng.IntN(3)])
		},
		func() string {
			return fmt.Sprintf("Received disconnect from %d.%d.%d.%d: 11: Bye Bye [preauth]", rng.IntN(255), rng.IntN(255), rng.IntN(255), rng.IntN(255))
		},
		func() string {
			return fmt.Sprintf("order %d shipped to warehouse %s with %d items totalling %d.%02d EUR", rng.IntN(1e7), services[rng.IntN(5)], rng.IntN(20), rng.IntN(500), rng.IntN(100))
		},
		func() string {
			return fmt.Sprintf("GC pause %dms heap %dMB -> %dMB", rng.IntN(200), 100+rng.IntN(900), 50+rng.IntN(400))
		},
	}
	lines := make([]string, n)
	for i := range lines {
		lines[i] = formats[rng.IntN(len(formats))]()
	}
	return lines
}

// BenchmarkAdd measures mining throughput on one core; lines/s is reported
// as a metric.
func BenchmarkAdd(b *testing.B) {
	lines := realisticLines(1 << 14)
	m := mustMiner(b, Config{})
	for _, l := range lines {
		m.Add(l) // learn the templates first: steady state is what matters
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, ok := cputime.Process()
	i := 0
	for b.Loop() {
		m.Add(lines[i&(len(lines)-1)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	if cpu1, ok1 := cputime.Process(); ok && ok1 && cpu1 > cpu0 {
		b.ReportMetric(float64(b.N)/(cpu1-cpu0).Seconds(), "lines/cpu-s")
	}
}

// BenchmarkTokenize isolates splitting and masking.
func BenchmarkTokenize(b *testing.B) {
	lines := realisticLines(1 << 14)
	tk := newTokenizer()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tk.tokenize(lines[i&(len(lines)-1)], 128)
		i++
	}
}

// BenchmarkAddQuotes: lines where every token opens a quote that no later
// quote closes (`"a "a "a …`), against plain lines of the same size. Finding
// the closing quote must not scan the rest of the line once per token: at
// 4 KiB that cost ~2 ms per line against ~10 µs for the plain one.
func BenchmarkAddQuotes(b *testing.B) {
	for _, size := range []int{4 << 10, 1 << 20} {
		for _, c := range []struct{ name, unit string }{{"plain", "a "}, {"unclosed", `"a `}} {
			b.Run(fmt.Sprintf("%s/%dKiB", c.name, size>>10), func(b *testing.B) {
				line := strings.Repeat(c.unit, size/len(c.unit))
				m := mustMiner(b, Config{})
				m.Add(line)
				for b.Loop() {
					m.Add(line)
				}
			})
		}
	}
}

// BenchmarkMinerHeap reports the heap one miner holds (heap-B/miner) after
// learning lines of several shapes, at the processor's default of 1,000
// templates: the figures of the processor README's memory section. Run it
// with -benchtime 1x; the time per op is that of learning the lines.
func BenchmarkMinerHeap(b *testing.B) {
	word := func(rng *rand.Rand, n int) string {
		w := make([]byte, n)
		for i := range w {
			w[i] = byte('a' + rng.IntN(26))
		}
		return string(w)
	}
	// Each case returns 1,000 lines of distinct templates, unless it says
	// otherwise.
	cases := []struct {
		name  string
		lines func(rng *rand.Rand) []string
	}{
		{"ordinary-110B", func(rng *rand.Rand) []string {
			lines := make([]string, 1000)
			for i := range lines {
				words := make([]string, 12)
				for j := range words {
					words[j] = word(rng, 7)
				}
				lines[i] = strings.Join(words, " ") + fmt.Sprintf(" user=%d took %dms", rng.IntN(100), rng.IntN(100))
			}
			return lines
		}},
		{"128-words-4KiB", func(rng *rand.Rand) []string {
			lines := make([]string, 1000)
			for i := range lines {
				words := make([]string, 128)
				for j := range words {
					words[j] = word(rng, 31)
				}
				lines[i] = strings.Join(words, " ")
			}
			return lines
		}},
		// Three long words: each is kept as a token, in the template text,
		// and the first two also as the tree route and the index key.
		{"3-words-4KiB", func(rng *rand.Rand) []string {
			lines := make([]string, 1000)
			for i := range lines {
				lines[i] = word(rng, 1364) + " " + word(rng, 1364) + " " + word(rng, 1366)
			}
			return lines
		}},
		// Masking lengthens these tokens ("abc=1=1…" → "abc=<*>=<*>…").
		{"masked-4KiB", func(rng *rand.Rand) []string {
			lines := make([]string, 1000)
			for i := range lines {
				words := make([]string, 128)
				for j := range words {
					words[j] = word(rng, 3) + strings.Repeat("=1", 9) + word(rng, 10)
				}
				lines[i] = strings.Join(words, " ")
			}
			return lines
		}},
		// 4,000 distinct long words with one digit: a template each, most
		// evicted, each masked to a distinct token ("kkkk…abc_<*>").
		{"distinct-long-tokens", func(*rand.Rand) []string {
			lines := make([]string, 4000)
			pad := strings.Repeat("k", 4000)
			for i := range lines {
				lines[i] = pad + letterWord(i) + "_1"
			}
			return lines
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			lines := c.lines(rand.New(rand.NewPCG(3, 4)))
			var held int64
			var ms runtime.MemStats
			for b.Loop() {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				before := ms.HeapAlloc
				m := mustMiner(b, Config{MaxClusters: 1000})
				for _, l := range lines {
					m.Add(l)
				}
				runtime.GC()
				runtime.ReadMemStats(&ms)
				held = int64(ms.HeapAlloc) - int64(before)
				runtime.KeepAlive(m)
			}
			b.ReportMetric(float64(held), "heap-B/miner")
		})
	}
}
