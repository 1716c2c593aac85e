package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// memoryDocuments keeps documents in process memory, for stores that keep
// none (ClickHouse): investigations then work but do not survive a
// restart, and the correlate API shows no insights. Bounded: the oldest
// documents of a kind go first.
type memoryDocuments struct {
	mu   sync.Mutex
	docs map[string]map[string]signalstore.Document // kind → id → document
}

// maxMemoryDocuments bounds each kind.
const maxMemoryDocuments = 10_000

var _ signalstore.DocumentStore = (*memoryDocuments)(nil)

func newMemoryDocuments() *memoryDocuments {
	return &memoryDocuments{docs: map[string]map[string]signalstore.Document{}}
}

func (m *memoryDocuments) PutDocument(_ context.Context, d signalstore.Document) error {
	if err := d.Validate(); err != nil {
		return err
	}
	d.Body = slices.Clone(d.Body)
	m.mu.Lock()
	defer m.mu.Unlock()
	byID := m.docs[d.Kind]
	if byID == nil {
		byID = map[string]signalstore.Document{}
		m.docs[d.Kind] = byID
	}
	if _, ok := byID[d.ID]; !ok && len(byID) >= maxMemoryDocuments {
		var oldest signalstore.Document
		for _, o := range byID {
			if oldest.ID == "" || o.Updated.Before(oldest.Updated) {
				oldest = o
			}
		}
		delete(byID, oldest.ID)
	}
	byID[d.ID] = d
	return nil
}

func (m *memoryDocuments) GetDocument(_ context.Context, kind, id string) (signalstore.Document, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.docs[kind][id]
	if !ok {
		return signalstore.Document{}, fmt.Errorf("document %s/%s: %w", kind, id, signalstore.ErrNotFound)
	}
	return d, nil
}

func (m *memoryDocuments) ListDocuments(_ context.Context, f signalstore.DocumentFilter) ([]signalstore.Document, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = signalstore.DefaultDocumentLimit
	}
	m.mu.Lock()
	var out []signalstore.Document
	for _, d := range m.docs[f.Kind] {
		if f.Ref == "" || d.Ref == f.Ref {
			out = append(out, d)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b signalstore.Document) int {
		return cmp.Or(b.Updated.Compare(a.Updated), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(len(out), limit)], nil
}
