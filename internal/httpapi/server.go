package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.uber.org/zap"
)

// Server is a confighttp server serving one handler in a goroutine.
type Server struct {
	name   string
	server *http.Server
	served sync.WaitGroup
}

// Serve binds the listener synchronously, so a busy port fails the
// extension's Start with a clear error, then serves in a goroutine; a later
// serve failure is reported to the host as fatal. name starts messages,
// e.g. "correlateapi".
func Serve(ctx context.Context, host component.Host, cfg *confighttp.ServerConfig, set component.TelemetrySettings, name string, h http.Handler) (*Server, error) {
	listener, err := cfg.ToListener(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: listen on %q: %w", name, cfg.NetAddr.Endpoint, err)
	}
	server, err := cfg.ToServer(ctx, host.GetExtensions(), set, h)
	if err != nil {
		_ = listener.Close()
		return nil, fmt.Errorf("%s: create server: %w", name, err)
	}
	s := &Server{name: name, server: server}
	set.Logger.Info("API listening", zap.String("endpoint", listener.Addr().String()))
	s.served.Add(1)
	go func() {
		defer s.served.Done()
		if serveErr := server.Serve(listener); serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(fmt.Errorf("%s: serve: %w", name, serveErr)))
		}
	}()
	return s, nil
}

// Shutdown stops accepting requests, lets those in flight finish within
// ctx, cuts the rest when ctx ends, and returns once the serve goroutine has
// exited.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.server.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.server.Close())
	}
	s.served.Wait()
	if err != nil {
		return fmt.Errorf("%s: shutdown: %w", s.name, err)
	}
	return nil
}
