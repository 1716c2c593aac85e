package logpatternprocessor // import "github.com/ollystack/ollystack/processor/logpatternprocessor"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
)

const (
	// stateKey is the storage key of the miners' snapshot.
	stateKey = "templates"
	// unrestoredKey keeps the last snapshot that was not restored in full.
	unrestoredKey = stateKey + ".unreadable"
)

// stateSaver keeps the miners' snapshot in a storage extension: it restores
// it on start, saves it every interval and once more on stop.
type stateSaver struct {
	client storage.Client
	miners *serviceMiners
	logger *zap.Logger

	saveMu   sync.Mutex // one save at a time: ticker and stop
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stopOnce sync.Once
}

func startStateSaver(ctx context.Context, host component.Host, self, storageID component.ID, interval time.Duration,
	miners *serviceMiners, logger *zap.Logger,
) (*stateSaver, error) {
	ext, found := host.GetExtensions()[storageID]
	if !found {
		return nil, fmt.Errorf("storage extension %q not found", storageID)
	}
	storageExt, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("extension %q is not a storage extension", storageID)
	}
	client, err := storageExt.GetClient(ctx, component.KindProcessor, self, "")
	if err != nil {
		return nil, fmt.Errorf("storage client from %q: %w", storageID, err)
	}
	s := &stateSaver{client: client, miners: miners, logger: logger}
	if err := s.load(ctx, storageID); err != nil {
		return nil, errors.Join(err, client.Close(ctx))
	}
	// The ticker must not depend on the Start context, which ends with Start.
	loopCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go s.loop(loopCtx, interval)
	return s, nil
}

// load restores the saved snapshot. A read error fails Start: starting
// without the templates would let the first save overwrite them. A snapshot
// that is not restored in full (corrupt, another version, more services than
// max_services, changed miner settings) is copied to unrestoredKey first,
// since the next save drops what was not restored; only failing to keep that
// copy fails Start.
func (s *stateSaver) load(ctx context.Context, storageID component.ID) error {
	data, err := s.client.Get(ctx, stateKey)
	if err != nil {
		return fmt.Errorf("read saved log templates from storage %q: %w", storageID, err)
	}
	if data == nil {
		return nil
	}
	if err := s.miners.restore(data); err != nil {
		if setErr := s.client.Set(ctx, unrestoredKey, data); setErr != nil {
			return fmt.Errorf("keep the unrestored log templates under %q in storage %q: %w (restoring them failed: %w)",
				unrestoredKey, storageID, setErr, err)
		}
		s.logger.Warn("Some saved log templates were not restored; the saved snapshot is kept under another key",
			zap.String("key", unrestoredKey), zap.Error(err))
	}
	s.logger.Info("Restored log templates", zap.Int64("templates", s.miners.templates()))
	return nil
}

func (s *stateSaver) loop(ctx context.Context, interval time.Duration) {
	defer s.wg.Done()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if err := s.save(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.logger.Warn("Cannot save the log templates", zap.Error(err))
			}
		}
	}
}

func (s *stateSaver) save(ctx context.Context) error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	data, err := s.miners.snapshot()
	if err != nil {
		return err
	}
	return s.client.Set(ctx, stateKey, data)
}

// stop ends the periodic saves, saves a last time and closes the client.
func (s *stateSaver) stop(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
		err = errors.Join(s.save(ctx), s.client.Close(ctx))
	})
	return err
}
