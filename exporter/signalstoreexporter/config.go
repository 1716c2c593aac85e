package signalstoreexporter // import "github.com/ollystack/ollystack/exporter/signalstoreexporter"

import (
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// Config configures the signalstore exporter.
type Config struct {
	// TimeoutConfig bounds one write (timeout:). A write that times out was
	// not stored (the embedded store withdraws it), so a retry stores it
	// once; once the store has begun its commit, the write waits for it.
	exporterhelper.TimeoutConfig `mapstructure:",squash"`
	// QueueConfig is the in-memory (or, with storage:, persistent) queue
	// between the pipeline and the store.
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	// RetryConfig retries writes that failed for reasons that can pass.
	RetryConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`
	// StoreID names the signalstore extension that owns the store.
	StoreID component.ID `mapstructure:"store"`
}

var _ confmap.Validator = (*Config)(nil)

// Validate checks the exporter's own fields; the collector validates the
// nested timeout, queue and retry configs itself.
func (cfg *Config) Validate() error {
	if cfg.StoreID.Type().String() == "" {
		return errors.New("store must name a signalstore extension, e.g. `store: signalstore`")
	}
	return nil
}
