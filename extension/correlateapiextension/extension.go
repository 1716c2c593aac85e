package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/extension/correlateapiextension/internal/metadata"
	"github.com/ollystack/ollystack/extension/signalstoreextension"
)

// correlateAPI is the extension: an HTTP server answering correlation
// queries from the configured signalstore extension.
type correlateAPI struct {
	cfg       *Config
	settings  extension.Settings
	telemetry *metadata.TelemetryBuilder

	api    *api
	server *http.Server
	served sync.WaitGroup // the serve goroutine
}

var (
	_ extension.Extension             = (*correlateAPI)(nil)
	_ extensioncapabilities.Dependent = (*correlateAPI)(nil)
)

func newCorrelateAPI(cfg *Config, set extension.Settings) (*correlateAPI, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("correlateapi telemetry: %w", err)
	}
	return &correlateAPI{cfg: cfg, settings: set, telemetry: tb}, nil
}

// Dependencies makes the collector start the signalstore extension first.
func (c *correlateAPI) Dependencies() []component.ID {
	return []component.ID{c.cfg.Store}
}

// Start binds the listener synchronously, so a busy port fails startup with
// a clear error, then serves in a goroutine.
func (c *correlateAPI) Start(ctx context.Context, host component.Host) error {
	store, err := signalstoreextension.GetStore(host, c.cfg.Store)
	if err != nil {
		return fmt.Errorf("correlateapi: store: %w", err)
	}
	api, err := newAPI(c.cfg, store, c.settings.Logger, c.telemetry)
	if err != nil {
		return fmt.Errorf("correlateapi: %w", err)
	}
	listener, err := c.cfg.ServerConfig.ToListener(ctx)
	if err != nil {
		return fmt.Errorf("correlateapi: listen on %q: %w", c.cfg.ServerConfig.NetAddr.Endpoint, err)
	}
	server, err := c.cfg.ServerConfig.ToServer(ctx, host.GetExtensions(), c.settings.TelemetrySettings, api.handler())
	if err != nil {
		_ = listener.Close()
		return fmt.Errorf("correlateapi: create server: %w", err)
	}
	c.api, c.server = api, server
	c.settings.Logger.Info("Correlate API listening", zap.String("endpoint", listener.Addr().String()))

	c.served.Add(1)
	go func() {
		defer c.served.Done()
		if serveErr := server.Serve(listener); serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(fmt.Errorf("correlateapi: serve: %w", serveErr)))
		}
	}()
	return nil
}

// Shutdown stops accepting requests, lets those in flight finish within
// ctx, and returns once the serve goroutine has exited.
func (c *correlateAPI) Shutdown(ctx context.Context) error {
	if c.server == nil {
		return nil
	}
	err := c.server.Shutdown(ctx)
	if err != nil {
		// The deadline passed with requests still running: cut them so the
		// serve goroutine can exit.
		err = errors.Join(err, c.server.Close())
	}
	c.served.Wait()
	c.api, c.server = nil, nil
	if err != nil {
		return fmt.Errorf("correlateapi: shutdown: %w", err)
	}
	return nil
}
