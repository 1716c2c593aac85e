package embedded

import (
	"context"
	"path/filepath"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/ollystack/ollystack/pkg/signalstore/signalstoretest"
)

func openTestStore(t testing.TB, mutate ...func(*Config)) *Store {
	t.Helper()
	cfg := NewDefaultConfig()
	cfg.Path = filepath.Join(t.TempDir(), "signals.db")
	for _, m := range mutate {
		m(cfg)
	}
	store, err := Open(context.Background(), cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return store
}

func TestConformance(t *testing.T) {
	store := openTestStore(t)
	(&signalstoretest.StoreUnderTest{Writer: store, Reader: store}).RunAll(t)
}
