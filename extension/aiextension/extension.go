package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/extension/aiextension/internal/metadata"
	"github.com/ollystack/ollystack/extension/signalstoreextension"
)

// aiExtension is the extension: an HTTP server answering analyses of
// correlated requests read from the configured signalstore extension.
type aiExtension struct {
	cfg       *Config
	settings  extension.Settings
	telemetry *metadata.TelemetryBuilder

	server *http.Server
	api    *api
	served sync.WaitGroup // the serve goroutine
}

var (
	_ extension.Extension             = (*aiExtension)(nil)
	_ extensioncapabilities.Dependent = (*aiExtension)(nil)
)

func newAIExtension(cfg *Config, set extension.Settings) (*aiExtension, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("ai telemetry: %w", err)
	}
	return &aiExtension{cfg: cfg, settings: set, telemetry: tb}, nil
}

// Dependencies makes the collector start the signalstore extension first.
func (e *aiExtension) Dependencies() []component.ID {
	return []component.ID{e.cfg.Store}
}

// Start binds the listener synchronously, so a busy port fails startup with
// a clear error, then serves in a goroutine.
func (e *aiExtension) Start(ctx context.Context, host component.Host) error {
	store, err := signalstoreextension.GetStore(host, e.cfg.Store)
	if err != nil {
		return fmt.Errorf("ai: store: %w", err)
	}
	narrator, err := newNarrator(e.cfg.LLM.Get(), e.settings.Logger, e.telemetry)
	if err != nil {
		return fmt.Errorf("ai: llm: %w", err)
	}
	api := newAPI(e.cfg, store, narrator, e.settings.Logger, e.telemetry)
	listener, err := e.cfg.ServerConfig.ToListener(ctx)
	if err != nil {
		return fmt.Errorf("ai: listen on %q: %w", e.cfg.ServerConfig.NetAddr.Endpoint, err)
	}
	server, err := e.cfg.ServerConfig.ToServer(ctx, host.GetExtensions(), e.settings.TelemetrySettings, api.handler())
	if err != nil {
		_ = listener.Close()
		return fmt.Errorf("ai: create server: %w", err)
	}
	// Requests run under the API's own context, which Shutdown cancels when
	// its deadline passes, so a slow LLM call cannot outlive the extension.
	server.BaseContext = func(net.Listener) context.Context { return api.ctx }
	e.server, e.api = server, api
	e.settings.Logger.Info("AI API listening", zap.String("endpoint", listener.Addr().String()),
		zap.Bool("llm", narrator != nil))

	e.served.Add(1)
	go func() {
		defer e.served.Done()
		if serveErr := server.Serve(listener); serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(fmt.Errorf("ai: serve: %w", serveErr)))
		}
	}()
	return nil
}

// Shutdown stops accepting requests, lets those in flight finish within
// ctx, and returns once the serve goroutine has exited. LLM calls run on the
// request's goroutine under its context, so none outlives the server.
func (e *aiExtension) Shutdown(ctx context.Context) error {
	if e.server == nil {
		return nil
	}
	err := e.server.Shutdown(ctx)
	if err != nil {
		// The deadline passed with requests still running: cut them so the
		// serve goroutine can exit.
		err = errors.Join(err, e.server.Close())
	}
	e.api.stop() // cancels what is still running and waits for the handlers
	e.api.narrator.close()
	e.served.Wait()
	e.server, e.api = nil, nil
	if err != nil {
		return fmt.Errorf("ai: shutdown: %w", err)
	}
	return nil
}
