package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"

	"github.com/ollystack/ollystack/extension/correlateapiextension/internal/metadata"
	"github.com/ollystack/ollystack/extension/signalstoreextension"
	"github.com/ollystack/ollystack/internal/httpapi"
)

// correlateAPI is the extension: an HTTP server answering correlation
// queries from the configured signalstore extension. Other extensions (the
// AI API) mount their routes on its server through Mount.
type correlateAPI struct {
	cfg       *Config
	settings  extension.Settings
	telemetry *metadata.TelemetryBuilder

	api    *api
	mux    *httpapi.Mux
	server *httpapi.Server
}

var (
	_ extension.Extension             = (*correlateAPI)(nil)
	_ extensioncapabilities.Dependent = (*correlateAPI)(nil)
	_ httpapi.Mounter                 = (*correlateAPI)(nil)
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
	// Without a document store there are no AI insights to show.
	docs, _ := signalstoreextension.GetDocumentStore(host, c.cfg.Store)
	api, err := newAPI(c.cfg, store, docs, c.settings.Logger, c.telemetry)
	if err != nil {
		return fmt.Errorf("correlateapi: %w", err)
	}
	mux := httpapi.NewMux(api.handler())
	server, err := httpapi.Serve(ctx, host, &c.cfg.ServerConfig, c.settings.TelemetrySettings, "correlateapi", mux)
	if err != nil {
		return err
	}
	c.api, c.mux, c.server = api, mux, server
	return nil
}

// Mount serves another extension's routes under prefix on this server. The
// collector starts this extension before those depending on it, so the
// server is up when they mount.
func (c *correlateAPI) Mount(prefix string, h http.Handler) (func(), error) {
	if c.mux == nil {
		return nil, errors.New("correlateapi: not started")
	}
	return c.mux.Mount(prefix, h)
}

// Shutdown stops accepting requests, lets those in flight finish within
// ctx, and returns once the serve goroutine has exited.
func (c *correlateAPI) Shutdown(ctx context.Context) error {
	if c.server == nil {
		return nil
	}
	err := c.server.Shutdown(ctx)
	c.api.routes.Stop()
	c.api, c.mux, c.server = nil, nil, nil
	return err
}
