package signalstoreextension // import "github.com/ollystack/ollystack/extension/signalstoreextension"

import (
	"fmt"
	"path/filepath"
	"slices"

	"go.opentelemetry.io/collector/confmap"

	"github.com/ollystack/ollystack/pkg/signalstore/clickhouse"
	"github.com/ollystack/ollystack/pkg/signalstore/embedded"
)

// DefaultEmbeddedPath is where the embedded store lives unless configured:
// relative to the working directory, so `make run` keeps its data in
// ./data of the repository and the Docker image in its WORKDIR
// (/var/lib/otelcol-ollystack/data). The directory is created if missing.
var DefaultEmbeddedPath = filepath.Join("data", "ollystack.db")

const (
	embeddedKey   = "embedded"
	clickhouseKey = "clickhouse"
)

// Config selects and configures the one storage backend the extension owns.
// It is a union in the style of Jaeger's jaegerstorage: one optional pointer
// per backend, exactly one of them set. A backend is one pointer here, one
// entry in backends, and one case in openBackend.
type Config struct {
	// Embedded is the SQLite backend inside the collector process.
	Embedded *embedded.Config `mapstructure:"embedded"`
	// ClickHouse reads the tables of the contrib clickhouse exporter.
	ClickHouse *clickhouse.Config `mapstructure:"clickhouse"`
}

var (
	_ confmap.Unmarshaler = (*Config)(nil)
	_ confmap.Validator   = (*Config)(nil)
)

// backendChoice is one member of the union.
type backendChoice struct {
	key         string
	setDefaults func(*Config)
	isSelected  func(*Config) bool
}

var backends = []backendChoice{
	{
		key:         embeddedKey,
		setDefaults: func(cfg *Config) { cfg.Embedded = newDefaultEmbeddedConfig() },
		isSelected:  func(cfg *Config) bool { return cfg.Embedded != nil },
	},
	{
		key:         clickhouseKey,
		setDefaults: func(cfg *Config) { cfg.ClickHouse = clickhouse.NewDefaultConfig() },
		isSelected:  func(cfg *Config) bool { return cfg.ClickHouse != nil },
	},
}

func newDefaultEmbeddedConfig() *embedded.Config {
	cfg := embedded.NewDefaultConfig()
	cfg.Path = DefaultEmbeddedPath
	return cfg
}

// Unmarshal fills defaults only for the backend keys present, so that
// configuring one backend does not also select the default one. A
// configuration naming no backend keeps the default (embedded), which lets
// `signalstore:` alone work.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	if slices.ContainsFunc(backends, func(b backendChoice) bool { return conf.IsSet(b.key) }) {
		*cfg = Config{}
		for _, b := range backends {
			if conf.IsSet(b.key) {
				b.setDefaults(cfg)
			}
		}
	}
	if err := conf.Unmarshal(cfg); err != nil {
		return err
	}
	// A key with no body (`embedded:`) decodes to a nil pointer; it still
	// selects its backend, with the defaults.
	for _, b := range backends {
		if conf.IsSet(b.key) && !b.isSelected(cfg) {
			b.setDefaults(cfg)
		}
	}
	return nil
}

// Validate requires exactly one backend. The selected backend's own config
// is validated by the collector, which walks nested structs.
func (cfg *Config) Validate() error {
	var selected, keys []string
	for _, b := range backends {
		keys = append(keys, b.key)
		if b.isSelected(cfg) {
			selected = append(selected, b.key)
		}
	}
	switch len(selected) {
	case 1:
		return nil
	case 0:
		return fmt.Errorf("no backend configured: set one of %q", keys)
	default:
		return fmt.Errorf("backends %q configured: set exactly one", selected)
	}
}
