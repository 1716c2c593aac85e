package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// libEnv names libchdb.so for the tests that run the real engine; `make
// test-unit` sets it (and downloads the library).
const libEnv = "OLLYSTACK_CHDB_LIB"

// TestMain removes the engine's data directory of the shared server, and,
// with runMainEnv set, is the chdbhttp command (see TestShutdownIsClean).
func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) != "" {
		os.Args = append(os.Args[:1], strings.Fields(os.Getenv(runMainEnv))...)
		main()
		os.Exit(0)
	}
	code := m.Run()
	if sharedDir != "" {
		_ = os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

const runMainEnv = "CHDBHTTP_TEST_RUN_MAIN"

var (
	sharedNative string // address of the native protocol
	sharedDir    string
	sharedOnce   sync.Once
	sharedServer *httptest.Server
	sharedErr    error
)

// server starts the engine once per test process (the engine boots once per
// process) behind the handler.
func server(t *testing.T) *httptest.Server {
	t.Helper()
	lib := os.Getenv(libEnv)
	if lib == "" {
		t.Skipf("%s is not set: `make test-unit` downloads libchdb.so and sets it", libEnv)
	}
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "chdbhttp-test-")
		if err != nil {
			sharedErr = err
			return
		}
		sharedDir = dir
		e, err := openEngine(lib, dir)
		if err != nil {
			sharedErr = err
			return
		}
		h := &handler{engine: e, logf: func(string, ...any) {}}
		sharedServer = httptest.NewServer(h)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			sharedErr = err
			return
		}
		sharedNative = ln.Addr().String()
		go func() { _ = h.serveNative(ln) }()
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedServer
}

// open connects clickhouse-go over HTTP or the native protocol, as the
// ClickHouse backend and the contrib exporter do.
func open(t *testing.T, protocol ch.Protocol, method ch.CompressionMethod, database string) ch.Conn {
	t.Helper()
	addr := strings.TrimPrefix(server(t).URL, "http://")
	if protocol == ch.Native {
		addr = sharedNative
	}
	conn, err := ch.Open(&ch.Options{
		Protocol:    protocol,
		Addr:        []string{addr},
		Auth:        ch.Auth{Database: database},
		Compression: &ch.Compression{Method: method},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// TestClickHouseGoRoundTrip writes rows of the column types the exporter's
// tables use through a batch insert and reads them back, with and without
// compression: what the Native re-encoding and the framing must get right.
func TestClickHouseGoRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		protocol ch.Protocol
		method   ch.CompressionMethod
	}{
		{ch.HTTP, ch.CompressionNone}, {ch.HTTP, ch.CompressionLZ4}, {ch.HTTP, ch.CompressionZSTD},
		{ch.HTTP, ch.CompressionGZIP}, {ch.HTTP, ch.CompressionDeflate},
		{ch.Native, ch.CompressionNone}, {ch.Native, ch.CompressionLZ4}, {ch.Native, ch.CompressionZSTD},
	} {
		name := c.protocol.String() + "_" + c.method.String()
		t.Run(name, func(t *testing.T) {
			table := "roundtrip_" + name
			conn := open(t, c.protocol, c.method, "default")
			if err := conn.Exec(ctx, "CREATE TABLE "+table+` (
				Timestamp DateTime64(9),
				Service LowCardinality(String),
				Attributes Map(LowCardinality(String), String),
				Links Nested(TraceId String, Attributes Map(LowCardinality(String), String)),
				Duration UInt64,
				Ratio Float64,
				Note Nullable(String)
			) ENGINE = MergeTree ORDER BY Timestamp`); err != nil {
				t.Fatal(err)
			}
			batch, err := conn.PrepareBatch(ctx, "INSERT INTO "+table)
			if err != nil {
				t.Fatal(err)
			}
			ts := time.Date(2026, 11, 23, 6, 0, 0, 123456789, time.UTC)
			// A blank line in the data ("\n\n", and 2570 is 0A 0A) must
			// not end it.
			note := "it's \\ ünïcode\n\nand on"
			for i := range 3 {
				if err := batch.Append(ts.Add(time.Duration(i)*time.Second), "checkout",
					map[string]string{"k": strings.Repeat("v", i)},
					[]string{"t1"}, []map[string]string{{"a": "b"}},
					uint64(i)*1000+2570, float64(i)/4, &note); err != nil {
					t.Fatal(err)
				}
			}
			if err := batch.Send(); err != nil {
				t.Fatal(err)
			}
			rows, err := conn.Query(ctx, "SELECT Timestamp, Service, Attributes, Links.TraceId, Duration, Ratio, Note FROM "+table+" WHERE Duration >= ? ORDER BY Timestamp", 3570)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				var (
					gotTS    time.Time
					service  string
					attrs    map[string]string
					traceIDs []string
					duration uint64
					ratio    float64
					gotNote  *string
				)
				if err := rows.Scan(&gotTS, &service, &attrs, &traceIDs, &duration, &ratio, &gotNote); err != nil {
					t.Fatal(err)
				}
				n++
				if !gotTS.Equal(ts.Add(time.Duration(n)*time.Second)) || service != "checkout" ||
					attrs["k"] != strings.Repeat("v", n) || len(traceIDs) != 1 || traceIDs[0] != "t1" ||
					duration != uint64(n)*1000+2570 || ratio != float64(n)/4 || gotNote == nil || *gotNote != note {
					t.Errorf("row %d = %v %q %v %v %d %v %v", n, gotTS, service, attrs, traceIDs, duration, ratio, gotNote)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if n != 2 {
				t.Errorf("%d rows, want 2", n)
			}
		})
	}
}

// TestEngineErrorsReachTheClient: over HTTP with compression (clickhouse-go
// asks for it on queries, not on Exec) and without, and over the native
// protocol, where the connection goes on serving after the exception.
func TestEngineErrorsReachTheClient(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		protocol ch.Protocol
		method   ch.CompressionMethod
	}{{ch.HTTP, ch.CompressionNone}, {ch.HTTP, ch.CompressionLZ4}, {ch.Native, ch.CompressionNone}, {ch.Native, ch.CompressionLZ4}} {
		conn := open(t, c.protocol, c.method, "default")
		_, err := conn.Query(ctx, "SELECT * FROM no_such_table")
		if err == nil || !strings.Contains(err.Error(), "UNKNOWN_TABLE") {
			t.Errorf("%s %s: err = %v", c.protocol, c.method, err)
		}
		if err := conn.Exec(ctx, "SELECT 1"); err != nil {
			t.Errorf("%s %s: the next statement fails: %v", c.protocol, c.method, err)
		}
	}
	for _, protocol := range []ch.Protocol{ch.HTTP, ch.Native} {
		conn := open(t, protocol, ch.CompressionNone, "default")
		if err := conn.Exec(ctx, "DROP TABLE no_such_table"); err == nil || !strings.Contains(err.Error(), "UNKNOWN_TABLE") {
			t.Errorf("%s exec: err = %v", protocol, err)
		}
	}
}

// TestEmptyResultHasColumns: a server sends the header block of a query
// without rows; clickhouse-go over the native protocol fails without it.
func TestEmptyResultHasColumns(t *testing.T) {
	for _, protocol := range []ch.Protocol{ch.HTTP, ch.Native} {
		conn := open(t, protocol, ch.CompressionLZ4, "default")
		rows, err := conn.Query(context.Background(), "SELECT number AS n, toString(number) AS s FROM numbers(10) WHERE n > ?", 100)
		if err != nil {
			t.Fatalf("%s: %v", protocol, err)
		}
		if got := rows.Columns(); len(got) != 2 || got[0] != "n" || got[1] != "s" || rows.Next() {
			t.Errorf("%s: columns %v", protocol, got)
		}
		_ = rows.Close()
		if err := conn.Ping(context.Background()); err != nil {
			t.Errorf("%s: ping: %v", protocol, err)
		}
	}
}

// TestSettingsLastOneRequest: a setting sent with one request does not leak
// into the next, as on a server where settings are per query.
func TestSettingsLastOneRequest(t *testing.T) {
	ctx := context.Background()
	conn := open(t, ch.HTTP, ch.CompressionNone, "default")
	read := func(ctx context.Context) uint64 {
		var v uint64
		if err := conn.QueryRow(ctx, "SELECT toUInt64(getSetting('max_query_size'))").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	def := read(ctx)
	if got := read(ch.Context(ctx, ch.WithSettings(ch.Settings{"max_query_size": def * 2}))); got != def*2 {
		t.Errorf("setting not applied: %d", got)
	}
	if got := read(ctx); got != def {
		t.Errorf("setting leaked into the next request: %d, want %d", got, def)
	}
}

// TestOneStatementPerRequest: a server refuses a request holding several
// statements, and so must the harness, or tests would pass here that fail
// there; a trailing semicolon or comment is one statement.
func TestOneStatementPerRequest(t *testing.T) {
	ctx := context.Background()
	for _, protocol := range []ch.Protocol{ch.HTTP, ch.Native} {
		conn := open(t, protocol, ch.CompressionNone, "default")
		err := conn.Exec(ctx, "CREATE TABLE multi (n UInt8) ENGINE = Memory; SELECT 1")
		if err == nil || !strings.Contains(err.Error(), "Multi-statements are not allowed") {
			t.Errorf("%s: err = %v", protocol, err)
		}
		var exists uint8
		if err := conn.QueryRow(ctx, "EXISTS TABLE multi").Scan(&exists); err != nil || exists != 0 {
			t.Errorf("%s: the refused request ran: exists = %d, err = %v", protocol, exists, err)
		}
		var one uint8
		if err := conn.QueryRow(ctx, "SELECT 1; -- the end; of it").Scan(&one); err != nil || one != 1 {
			t.Errorf("%s: one statement with a trailing semicolon: %d, %v", protocol, one, err)
		}
	}
}

func TestUnknownDatabaseIsRefused(t *testing.T) {
	for _, protocol := range []ch.Protocol{ch.HTTP, ch.Native} {
		conn := open(t, protocol, ch.CompressionNone, "nope")
		if err := conn.Ping(context.Background()); err == nil || !strings.Contains(err.Error(), "UNKNOWN_DATABASE") {
			t.Errorf("%s: err = %v", protocol, err)
		}
	}
}

// TestShutdownIsClean runs the command and stops it as the scripts do: it
// must exit 0 and remove its temporary data directory.
func TestShutdownIsClean(t *testing.T) {
	lib := os.Getenv(libEnv)
	if lib == "" {
		t.Skipf("%s is not set", libEnv)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	addrFile := filepath.Join(tmp, "addr")
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), runMainEnv+"=-lib "+lib+" -listen 127.0.0.1:0 -listen-native 127.0.0.1:0 -addr-file "+addrFile, "TMPDIR="+tmp)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var endpoint []byte
	for range 600 {
		if endpoint, _ = os.ReadFile(addrFile); len(endpoint) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(endpoint) == 0 {
		_ = cmd.Process.Kill()
		t.Fatalf("never listened:\n%s", stderr.String())
	}
	endpoints := strings.Fields(string(endpoint))
	if len(endpoints) != 2 {
		t.Fatalf("endpoints %q", endpoint)
	}
	resp, err := http.Get(endpoints[0] + "/?query=SELECT+1")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	// A native connection still open at the signal does not hold the
	// shutdown up.
	conn, err := ch.Open(&ch.Options{Addr: []string{strings.TrimPrefix(endpoints[1], "tcp://")}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "chdbhttp-*"))
	if len(left) > 0 {
		t.Errorf("data directory left behind: %v", left)
	}
}
