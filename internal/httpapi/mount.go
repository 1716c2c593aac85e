package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/component"
)

// Mounter is implemented by an extension whose server also serves other
// extensions' routes: the correlate API, so that the AI routes share its
// base URL, TLS and auth.
type Mounter interface {
	// Mount serves every path under prefix (which starts and ends with "/")
	// with h until unmount is called.
	Mount(prefix string, h http.Handler) (unmount func(), err error)
}

// GetMounter returns the extension id of host as a Mounter.
func GetMounter(host component.Host, id component.ID) (Mounter, error) {
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return nil, fmt.Errorf("extension %q is not configured", id)
	}
	m, ok := ext.(Mounter)
	if !ok {
		return nil, fmt.Errorf("extension %q cannot serve other extensions' routes", id)
	}
	return m, nil
}

// Mux sends requests under a mounted prefix to its handler and every other
// request to the fallback. Mounts change while the server runs.
type Mux struct {
	fallback http.Handler
	mu       sync.RWMutex
	mounts   map[string]http.Handler
}

var _ Mounter = (*Mux)(nil)

// NewMux returns a Mux with nothing mounted.
func NewMux(fallback http.Handler) *Mux {
	return &Mux{fallback: fallback, mounts: map[string]http.Handler{}}
}

// Mount implements Mounter. A prefix may be mounted once at a time.
func (m *Mux) Mount(prefix string, h http.Handler) (func(), error) {
	if len(prefix) < 2 || !strings.HasPrefix(prefix, "/") || !strings.HasSuffix(prefix, "/") {
		return nil, fmt.Errorf("mount prefix %q must start and end with /", prefix)
	}
	if h == nil {
		return nil, errors.New("mount handler must not be nil")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, taken := m.mounts[prefix]; taken {
		return nil, fmt.Errorf("prefix %q is already mounted", prefix)
	}
	m.mounts[prefix] = h
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			delete(m.mounts, prefix)
			m.mu.Unlock()
		})
	}, nil
}

// ServeHTTP implements http.Handler.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.RLock()
	var h http.Handler
	for prefix, mh := range m.mounts { // a handful of mounts at most
		if strings.HasPrefix(r.URL.Path, prefix) {
			h = mh
			break
		}
	}
	m.mu.RUnlock()
	if h == nil {
		h = m.fallback
	}
	h.ServeHTTP(w, r)
}
