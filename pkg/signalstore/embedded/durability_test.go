package embedded

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// crashChildEnv makes the test binary act as the writer that gets killed.
const crashChildEnv = "OLLYSTACK_SIGNALSTORE_CRASH_CHILD_DB"

const (
	spansPerAck = 50
	logsPerAck  = 5
)

// ackTraceID is the trace of acknowledged batch n.
func ackTraceID(n uint64) signalstore.TraceID {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	sum := sha256.Sum256(b[:])
	return signalstore.TraceID(sum[:16])
}

func ackBatch(n uint64) (ptrace.Traces, plog.Logs) {
	tid := pcommon.TraceID(ackTraceID(n))
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "crash-writer")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	now := time.Now()
	for i := range spansPerAck {
		sp := spans.AppendEmpty()
		sp.SetTraceID(tid)
		sp.SetSpanID(pcommon.SpanID{byte(i + 1), 1, 2, 3, 4, 5, 6, 7})
		sp.SetName("step " + strconv.Itoa(i))
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
		sp.Attributes().PutStr("correlation_id", fmt.Sprintf("ack-%d", n))
	}
	ld := plog.NewLogs()
	recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for range logsPerAck {
		lr := recs.AppendEmpty()
		lr.SetTraceID(tid)
		lr.SetTimestamp(pcommon.NewTimestampFromTime(now))
		lr.Body().SetStr("acknowledged")
	}
	return td, ld
}

// ackDocument is the document put with acknowledged batch n.
func ackDocument(n uint64) signalstore.Document {
	return signalstore.Document{Kind: "ack", ID: strconv.FormatUint(n, 10), Ref: fmt.Sprintf("ack-%d", n),
		Updated: time.Now(), Body: fmt.Appendf(nil, `{"batch":%d}`, n)}
}

// TestDurabilityAfterKill re-executes the test binary as a child that writes
// from four goroutines and prints the sequence number of every batch whose
// WriteTraces, WriteLogs and PutDocument returned nil. The parent SIGKILLs
// it mid-stream, reopens the database and requires every acknowledged batch,
// whole, and its document.
func TestDurabilityAfterKill(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		runCrashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurabilityAfterKill$", "-test.v=false")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []uint64
	scanner := bufio.NewScanner(stdout)
	deadline := time.Now().Add(20 * time.Second)
	for scanner.Scan() {
		n, err := strconv.ParseUint(scanner.Text(), 10, 64)
		if err != nil {
			continue // not an ack line (e.g. test framework output)
		}
		acked = append(acked, n)
		if len(acked) >= 300 || time.Now().After(deadline) {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill child: %v", err)
	}
	// Acks already in the pipe were acknowledged before the kill too.
	for scanner.Scan() {
		if n, err := strconv.ParseUint(scanner.Text(), 10, 64); err == nil {
			acked = append(acked, n)
		}
	}
	_ = cmd.Wait()
	if len(acked) < 20 {
		t.Fatalf("child acknowledged only %d batches before the kill", len(acked))
	}

	store := openTestStore(t, func(c *Config) { c.Path = path })
	ctx := context.Background()
	for _, n := range acked {
		tid := ackTraceID(n)
		spans, err := store.SpansByTraceIDs(ctx, []signalstore.TraceID{tid}, signalstore.TimeRange{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		logs, err := store.LogsByTraceIDs(ctx, []signalstore.TraceID{tid}, signalstore.TimeRange{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := store.TraceIDsForCorrelation(ctx, fmt.Sprintf("ack-%d", n), signalstore.TimeRange{})
		if err != nil {
			t.Fatal(err)
		}
		if len(spans) != spansPerAck || len(logs) != logsPerAck || len(ids) != 1 {
			t.Errorf("acknowledged batch %d after kill -9: %d spans, %d logs, %d index entries; want %d, %d, 1",
				n, len(spans), len(logs), len(ids), spansPerAck, logsPerAck)
		}
		if _, err := store.GetDocument(ctx, "ack", strconv.FormatUint(n, 10)); err != nil {
			t.Errorf("document of acknowledged batch %d after kill -9: %v", n, err)
		}
	}
	t.Logf("all %d acknowledged batches and their documents survived kill -9", len(acked))
}

// runCrashChild writes until killed. It never returns normally.
func runCrashChild(path string) {
	cfg := NewDefaultConfig()
	cfg.Path = path
	store, err := Open(context.Background(), cfg, zap.NewNop())
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child: open:", err)
		os.Exit(2)
	}
	var seq atomic.Uint64
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				n := seq.Add(1)
				td, ld := ackBatch(n)
				if err := store.WriteTraces(context.Background(), td); err != nil {
					fmt.Fprintln(os.Stderr, "crash child: write traces:", err)
					os.Exit(2)
				}
				if err := store.WriteLogs(context.Background(), ld); err != nil {
					fmt.Fprintln(os.Stderr, "crash child: write logs:", err)
					os.Exit(2)
				}
				if err := store.PutDocument(context.Background(), ackDocument(n)); err != nil {
					fmt.Fprintln(os.Stderr, "crash child: put document:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintln(out, n)
				_ = out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
