// Package httpapi holds what OllyStack's HTTP API extensions share: the JSON
// error shape, strict JSON bodies, per-route instrumentation, serving a
// confighttp server with a clean shutdown, and mounting one extension's
// routes on another's server so that every /api/v1 route has one base URL.
package httpapi // import "github.com/ollystack/ollystack/internal/httpapi"
