package embedded

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	valid := NewDefaultConfig()
	valid.Path = "/var/lib/ollystack/signals.db"
	if err := valid.Validate(); err != nil {
		t.Fatalf("defaults with a path: %v", err)
	}
	if valid.Retention != 72*time.Hour || valid.CorrelationAttribute != "correlation_id" || valid.Sync != SyncFull {
		t.Errorf("unexpected defaults %+v", valid)
	}
	bad := &Config{MaxSizeMiB: 3, Sync: "sometimes", Retention: time.Second, MaintenanceInterval: time.Millisecond}
	err := bad.Validate()
	if err == nil {
		t.Fatal("an empty config validated")
	}
	for _, want := range []string{"path", "retention", "max_size_mib", "correlation_attribute", "sync",
		"read_connections", "max_batch_rows", "cache_size_mib", "maintenance_interval"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// TestConfigCacheSizeCeiling: a page cache as large as SQLite's heap makes
// commits fail with "out of memory" once it is warm; Validate stops it.
func TestConfigCacheSizeCeiling(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.Path = "signals.db"
	cfg.CacheSizeMiB = 512
	if err := cfg.Validate(); err != nil {
		t.Fatalf("cache_size_mib 512 (half the heap): %v", err)
	}
	cfg.CacheSizeMiB = 513
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "cache_size_mib 513: at most 512, half of the 1024 MiB heap") {
		t.Fatalf("cache_size_mib 513: %v; want an error naming the 512 MiB ceiling", err)
	}
}

func TestOpenRejectsForeignSchemaVersion(t *testing.T) {
	store := openTestStore(t)
	if err := store.submit(t.Context(), &writeRequest{rows: 1, purge: true}); err != nil {
		t.Fatal(err)
	}
	path := store.cfg.Path
	_ = store.Close()
	c, err := openConn(path, &store.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.exec(`UPDATE ollystack_meta SET Value = '999' WHERE Key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	_ = c.close()
	cfg := store.cfg
	if _, err := Open(t.Context(), &cfg, nil); err == nil || !strings.Contains(err.Error(), "schema version") {
		t.Fatalf("Open of a future schema: %v", err)
	}
}

func TestWritesAfterCloseFail(t *testing.T) {
	store := openTestStore(t)
	_ = store.Close()
	if err := store.Purge(t.Context()); err == nil {
		t.Error("write after Close succeeded")
	}
	if _, err := store.TraceIDsForCorrelation(t.Context(), "x", signalstoreTimeRange()); err == nil {
		t.Error("read after Close succeeded")
	}
}
