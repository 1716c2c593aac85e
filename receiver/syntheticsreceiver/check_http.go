package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"context"
	"errors"
	"net/http"
)

// httpRunner runs an http check: one request, then its assertions.
type httpRunner struct {
	client     *http.Client
	request    outgoingRequest
	assertions []assertion
}

func newHTTPRunner(cfg *HTTPCheckConfig) (*httpRunner, error) {
	assertions, errs := compileAssertions(cfg.Assertions)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	client, err := newHTTPClient(cfg.TLS, cfg.MaxRedirects)
	if err != nil {
		return nil, err
	}
	return &httpRunner{
		client: client,
		request: outgoingRequest{
			method:  cfg.requestMethod(),
			url:     cfg.URL,
			headers: cfg.Headers,
			body:    cfg.Body,
		},
		assertions: assertions,
	}, nil
}

func (h *httpRunner) run(ctx context.Context, r *run) *assertionFailure {
	res, s, f := doHTTP(ctx, h.client, r, h.request.method, h.request)
	if f != nil {
		return s.finish(f)
	}
	return s.finish(assertAll(h.assertions, res))
}

func (h *httpRunner) close() { h.client.CloseIdleConnections() }
