package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/extension/aiextension/internal/metadata"
	"github.com/ollystack/ollystack/extension/signalstoreextension"
	"github.com/ollystack/ollystack/internal/httpapi"
)

// aiExtension is the extension: the /api/v1/ai routes, served on the
// correlate API's server (or its own), the investigation workers and the
// SLO alert poller.
type aiExtension struct {
	cfg       *Config
	settings  extension.Settings
	telemetry *metadata.TelemetryBuilder

	api     *api
	server  *httpapi.Server // own endpoint only
	unmount func()          // mounted only
	poller  *sloAlertPoller // nil unless slo_alerts is set
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

func (e *aiExtension) mounted() bool { return e.cfg.ServerConfig.NetAddr.Endpoint == "" }

// Dependencies makes the collector start the signalstore extension, and the
// correlate API whose server the routes are mounted on, first.
func (e *aiExtension) Dependencies() []component.ID {
	if e.mounted() {
		return []component.ID{e.cfg.Store, e.cfg.CorrelateAPI}
	}
	return []component.ID{e.cfg.Store}
}

// Start resumes unfinished investigations, then serves the routes: mounted
// on the correlate API's server, or on its own listener, bound
// synchronously so a busy port fails startup with a clear error.
func (e *aiExtension) Start(ctx context.Context, host component.Host) (err error) {
	logger := e.settings.Logger
	store, err := signalstoreextension.GetStore(host, e.cfg.Store)
	if err != nil {
		return fmt.Errorf("ai: store: %w", err)
	}
	docs, err := signalstoreextension.GetDocumentStore(host, e.cfg.Store)
	if errors.Is(err, signalstoreextension.ErrNoDocuments) {
		logger.Warn("The store keeps no documents: investigations live in memory and do not survive a restart, and the correlate API shows no AI insights", zap.Error(err))
		docs, err = newMemoryDocuments(), nil
	}
	if err != nil {
		return fmt.Errorf("ai: store: %w", err)
	}
	narrator, err := newNarrator(e.cfg.LLM.Get(), logger, e.telemetry, e.settings.TelemetrySettings.TracerProvider.Tracer(metadata.ScopeName))
	if err != nil {
		return fmt.Errorf("ai: llm: %w", err)
	}
	a := newAPI(e.cfg, store, docs, narrator, logger, e.telemetry)
	defer func() {
		if err != nil { // stop what was started
			a.routes.Stop()
			if a.investigations != nil {
				a.investigations.wait()
			}
			narrator.close()
		}
	}()

	var n *notifier
	if wh := e.cfg.Investigations.Webhook.Get(); wh != nil {
		client, err := wh.ToClient(ctx, host.GetExtensions(), e.settings.TelemetrySettings)
		if err != nil {
			return fmt.Errorf("ai: investigations::webhook: %w", err)
		}
		n = newNotifier(wh.Endpoint, client, e.cfg.Investigations.WebhookRetry, e.cfg.Investigations.LinkBaseURL, logger, e.telemetry)
	}
	a.investigations = newInvestigator(a, n)
	if err := a.investigations.start(ctx); err != nil {
		return fmt.Errorf("ai: %w", err)
	}

	if e.mounted() {
		mounter, err := httpapi.GetMounter(host, e.cfg.CorrelateAPI)
		if err != nil {
			return fmt.Errorf("ai: correlate_api: %w; or set endpoint to serve on its own", err)
		}
		if e.unmount, err = mounter.Mount(routePrefix, a.handler()); err != nil {
			return fmt.Errorf("ai: mount on %q: %w", e.cfg.CorrelateAPI, err)
		}
		logger.Info("AI API mounted on the correlate API's server", zap.String("correlate_api", e.cfg.CorrelateAPI.String()), zap.String("prefix", routePrefix))
	} else if e.server, err = httpapi.Serve(ctx, host, &e.cfg.ServerConfig, e.settings.TelemetrySettings, "ai", a.handler()); err != nil {
		return err
	}

	if s := e.cfg.Investigations.SLOAlerts.Get(); s != nil {
		e.poller = newSLOAlertPoller(a, s.PollInterval)
		go e.poller.run(a.routes.Context())
	}
	e.api = a
	logger.Info("AI extension started", zap.Bool("llm", narrator != nil), zap.Bool("slo_alerts", e.poller != nil), zap.Bool("webhook", n != nil))
	return nil
}

// Shutdown stops serving, cancels the requests and investigations still
// running (those are resumed at the next start) and waits for them.
func (e *aiExtension) Shutdown(ctx context.Context) error {
	if e.api == nil {
		return nil
	}
	var err error
	if e.unmount != nil {
		e.unmount()
	}
	if e.server != nil {
		err = e.server.Shutdown(ctx)
	}
	e.api.routes.Stop()
	e.api.investigations.wait()
	if e.poller != nil {
		<-e.poller.done
	}
	e.api.narrator.close()
	e.api, e.server, e.unmount, e.poller = nil, nil, nil, nil
	return err
}
