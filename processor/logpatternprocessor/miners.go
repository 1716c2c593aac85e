package logpatternprocessor // import "github.com/ollystack/ollystack/processor/logpatternprocessor"

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/ollystack/ollystack/pkg/analysis/logpattern"
)

// snapshotVersion changes when the layout of minerSnapshot does.
const snapshotVersion = 1

// serviceMiners keeps one template miner per service, at most maxServices of
// them, dropping the least recently used service to make room. It is a
// small variant of logpattern.Keyed that hands out the miner itself, so that
// a batch looks its service up once per resource instead of once per record,
// and that counts templates without touching the services' recency.
type serviceMiners struct {
	mu          sync.Mutex
	cfg         logpattern.Config
	maxServices int
	clock       uint64
	byService   map[string]*serviceMiner
}

type serviceMiner struct {
	miner   *logpattern.Miner
	lastUse uint64
}

func newServiceMiners(cfg logpattern.Config, maxServices int) (*serviceMiners, error) {
	// Validate once here, so that later New calls with the same config cannot fail.
	if _, err := logpattern.New(cfg); err != nil {
		return nil, err
	}
	return &serviceMiners{cfg: cfg, maxServices: maxServices, byService: make(map[string]*serviceMiner)}, nil
}

// get returns the miner of service, creating it when needed.
func (s *serviceMiners) get(service string) *logpattern.Miner {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock++
	if e, ok := s.byService[service]; ok {
		e.lastUse = s.clock
		return e.miner
	}
	if len(s.byService) >= s.maxServices {
		s.evictOldest()
	}
	m, _ := logpattern.New(s.cfg) // validated by newServiceMiners
	s.byService[service] = &serviceMiner{miner: m, lastUse: s.clock}
	return m
}

// evictOldest drops the least recently used service. The scan is linear but
// runs only when a new service arrives at a full table.
func (s *serviceMiners) evictOldest() {
	oldest, oldestUse := "", ^uint64(0)
	for service, e := range s.byService {
		if e.lastUse < oldestUse {
			oldest, oldestUse = service, e.lastUse
		}
	}
	delete(s.byService, oldest)
}

func (s *serviceMiners) entries() map[string]*serviceMiner {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.byService)
}

// templates returns the number of templates held over all services.
func (s *serviceMiners) templates() int64 {
	var n int64
	for _, e := range s.entries() {
		n += int64(e.miner.Len())
	}
	return n
}

// minerSnapshot is the state kept in the storage extension.
type minerSnapshot struct {
	Version  int                        `json:"version"`
	Services map[string]json.RawMessage `json:"services"`
}

// snapshot returns every service's miner state as JSON. Each miner is
// snapshotted under its own lock, so mining goes on meanwhile.
func (s *serviceMiners) snapshot() ([]byte, error) {
	entries := s.entries()
	snap := minerSnapshot{Version: snapshotVersion, Services: make(map[string]json.RawMessage, len(entries))}
	for service, e := range entries {
		data, err := e.miner.Snapshot()
		if err != nil {
			return nil, err
		}
		snap.Services[service] = data
	}
	return json.Marshal(snap)
}

// restore loads the services of a snapshot. A service whose saved miner
// settings differ from the configured ones is left out (the settings were
// changed; its templates start afresh), and reported in the returned error
// along with any service that could not be decoded; the others are loaded.
func (s *serviceMiners) restore(data []byte) error {
	var snap minerSnapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("decode snapshot: %w", err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("snapshot version %d, want %d", snap.Version, snapshotVersion)
	}
	want, _ := logpattern.New(s.cfg)
	var errs []error
	restored := make(map[string]*serviceMiner, len(snap.Services))
	// Sorted, so that which services are kept when the snapshot holds more
	// than max_services does not depend on map order.
	for _, service := range slices.Sorted(maps.Keys(snap.Services)) {
		if len(restored) >= s.maxServices {
			errs = append(errs, fmt.Errorf("snapshot holds %d services, more than max_services %d", len(snap.Services), s.maxServices))
			break
		}
		m, _ := logpattern.New(s.cfg)
		if err := m.Restore(snap.Services[service]); err != nil {
			errs = append(errs, fmt.Errorf("service %q: %w", service, err))
			continue
		}
		if m.Config() != want.Config() {
			errs = append(errs, fmt.Errorf("service %q: saved miner settings %+v differ from the configured %+v; its templates start afresh", service, m.Config(), want.Config()))
			continue
		}
		restored[service] = &serviceMiner{miner: m}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byService = restored
	return errors.Join(errs...)
}
