// Package embedded is the signal store backend for a single collector: SQLite
// through github.com/ncruces/go-sqlite3 (pure Go, so the distribution stays a
// static binary), with tables named like the contrib ClickHouse exporter's.
// See README.md of the parent module for the layout and its reasons.
package embedded

import (
	"errors"
	"fmt"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Sync modes: what a nil Write error promises.
const (
	// SyncFull fsyncs the WAL at every commit: acknowledged data survives
	// kill -9, OS crashes and power loss.
	SyncFull = "full"
	// SyncNormal leaves the WAL in the OS page cache at commit:
	// acknowledged data survives kill -9 of the collector but not an OS
	// crash or power loss. Faster on slow disks.
	SyncNormal = "normal"
)

// Config configures the embedded backend.
type Config struct {
	// Path is the database file; its directory must exist. The WAL and
	// shared-memory files live next to it (<path>-wal, <path>-shm).
	Path string `mapstructure:"path"`
	// Retention is how long data is kept, from its ingestion (index and
	// rollup rows by event time, documents by Updated). Older rows are
	// deleted in small batches between writes.
	Retention time.Duration `mapstructure:"retention"`
	// MaxSizeMiB caps the space the data occupies; when it is exceeded the
	// oldest data is deleted early (with a warning in the log). 0 means no
	// cap.
	MaxSizeMiB int64 `mapstructure:"max_size_mib"`
	// CorrelationAttribute is the span and log attribute that carries the
	// correlation id.
	CorrelationAttribute string `mapstructure:"correlation_attribute"`
	// Sync is SyncFull (default) or SyncNormal.
	Sync string `mapstructure:"sync"`
	// ReadConnections is the size of the reader pool (WAL readers do not
	// block the writer or each other).
	ReadConnections int `mapstructure:"read_connections"`
	// MaxBatchRows caps the rows one group-commit transaction takes from
	// concurrent Write calls.
	MaxBatchRows int `mapstructure:"max_batch_rows"`
	// CacheSizeMiB is SQLite's page cache per connection, at most 512: half
	// of the 1 GiB heap each connection's SQLite may use (see
	// maxCacheSizeMiB).
	CacheSizeMiB int `mapstructure:"cache_size_mib"`
	// MaintenanceInterval is how often retention and the size cap are
	// checked.
	MaintenanceInterval time.Duration `mapstructure:"maintenance_interval"`
}

// NewDefaultConfig returns the defaults; Path still has to be set.
func NewDefaultConfig() *Config {
	return &Config{
		Retention:            72 * time.Hour,
		CorrelationAttribute: signalstore.DefaultCorrelationAttribute,
		Sync:                 SyncFull,
		ReadConnections:      4,
		MaxBatchRows:         50_000,
		CacheSizeMiB:         64,
		MaintenanceInterval:  10 * time.Second,
	}
}

// Validate reports every problem of the config.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.Path == "" {
		errs = append(errs, errors.New("path must be set"))
	}
	if cfg.Retention < time.Minute {
		errs = append(errs, fmt.Errorf("retention %s: must be at least 1m", cfg.Retention))
	}
	if cfg.MaxSizeMiB < 0 {
		errs = append(errs, fmt.Errorf("max_size_mib %d: must not be negative", cfg.MaxSizeMiB))
	} else if cfg.MaxSizeMiB > 0 && cfg.MaxSizeMiB < 16 {
		errs = append(errs, fmt.Errorf("max_size_mib %d: must be 0 (no cap) or at least 16", cfg.MaxSizeMiB))
	}
	if cfg.CorrelationAttribute == "" {
		errs = append(errs, errors.New("correlation_attribute must be set"))
	}
	if cfg.Sync != SyncFull && cfg.Sync != SyncNormal {
		errs = append(errs, fmt.Errorf("sync %q: want %q or %q", cfg.Sync, SyncFull, SyncNormal))
	}
	if cfg.ReadConnections < 1 || cfg.ReadConnections > 64 {
		errs = append(errs, fmt.Errorf("read_connections %d: want 1..64", cfg.ReadConnections))
	}
	if cfg.MaxBatchRows < 1 {
		errs = append(errs, fmt.Errorf("max_batch_rows %d: must be positive", cfg.MaxBatchRows))
	}
	if cfg.CacheSizeMiB < 1 {
		errs = append(errs, fmt.Errorf("cache_size_mib %d: must be positive", cfg.CacheSizeMiB))
	} else if limit := maxCacheSizeMiB(); cfg.CacheSizeMiB > limit {
		errs = append(errs, fmt.Errorf("cache_size_mib %d: at most %d, half of the %d MiB heap SQLite may use per connection",
			cfg.CacheSizeMiB, limit, connMaxMemory>>20))
	}
	if cfg.MaintenanceInterval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("maintenance_interval %s: must be at least 10ms", cfg.MaintenanceInterval))
	}
	return errors.Join(errs...)
}
