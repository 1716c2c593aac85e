package slometricsconnector // import "github.com/ollystack/ollystack/connector/slometricsconnector"

import (
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/connector/slometricsconnector/internal/metadata"
)

const (
	// stateKey is the storage key of the snapshot.
	stateKey = "slometrics_state"
	// unreadableKey keeps the last snapshot that could not be decoded.
	unreadableKey = stateKey + ".unreadable"
	// snapshotVersion changes when the snapshot layout does; snapshots of
	// another version are set aside under unreadableKey rather than misread.
	snapshotVersion = 1
)

// snapshot is the persisted state of every SLO, keyed by SLO name.
type snapshot struct {
	Version int `json:"version"`
	// StartedAt is read from older snapshots only, whose SLOs all started
	// then; newer ones keep a start per SLO.
	StartedAt int64                   `json:"started_at,omitempty"`
	SLOs      map[string]*sloSnapshot `json:"slos"`
}

type sloSnapshot struct {
	// Fingerprint drops the state of an SLO whose definition changed.
	Fingerprint string `json:"fingerprint"`
	Good        uint64 `json:"good"`
	Bad         uint64 `json:"bad"`
	// StartedAt is the start of Good and Bad; 0 in older snapshots, whose
	// SLOs all started at snapshot.StartedAt.
	StartedAt int64            `json:"started_at,omitempty"`
	Minutes   []bucketSnapshot `json:"minutes"`
	Hours     []bucketSnapshot `json:"hours"`
	// Firing names the firing alerts, so a restart neither repeats their
	// firing record nor forgets to resolve them.
	Firing    []string        `json:"firing,omitempty"`
	BadEvents []eventSnapshot `json:"bad_events,omitempty"`
}

type bucketSnapshot struct {
	Slot int64  `json:"s"`
	Good uint64 `json:"g"`
	Bad  uint64 `json:"b"`
}

type eventSnapshot struct {
	At            uint64 `json:"at"`
	TraceID       string `json:"trace_id"`
	SpanID        string `json:"span_id"`
	CorrelationID string `json:"correlation_id,omitempty"`
	Duration      int64  `json:"duration"`
}

// marshalState encodes the state of every SLO; mu is held.
func (e *engine) marshalState() ([]byte, error) {
	snap := snapshot{Version: snapshotVersion, SLOs: make(map[string]*sloSnapshot, len(e.slos))}
	for _, s := range e.slos {
		ss := &sloSnapshot{
			Fingerprint: s.def.fingerprint(),
			Good:        s.good,
			Bad:         s.bad,
			StartedAt:   s.startedAt.UnixNano(),
			Minutes:     bucketSnapshots(s.minutes),
			Hours:       bucketSnapshots(s.hours),
		}
		for i, a := range s.def.alerts {
			if s.firing[i] {
				ss.Firing = append(ss.Firing, a.name)
			}
		}
		events := s.badEvents.recent(0, badEventRingSize)
		for i := len(events) - 1; i >= 0; i-- { // oldest first, the order to re-add them
			ev := events[i]
			ss.BadEvents = append(ss.BadEvents, eventSnapshot{
				At:            uint64(ev.at),
				TraceID:       hex.EncodeToString(ev.traceID[:]),
				SpanID:        hex.EncodeToString(ev.spanID[:]),
				CorrelationID: ev.correlationID,
				Duration:      ev.duration,
			})
		}
		snap.SLOs[s.def.name] = ss
	}
	return json.Marshal(snap)
}

func bucketSnapshots(r *ring) []bucketSnapshot {
	buckets := r.nonEmpty()
	out := make([]bucketSnapshot, 0, len(buckets))
	for _, b := range buckets {
		out = append(out, bucketSnapshot{Slot: b.slot, Good: b.good, Bad: b.bad})
	}
	return out
}

// unmarshalState replaces the state of every SLO found in data with the same
// name and definition; SLOs absent from data keep a fresh state. mu is held.
func (e *engine) unmarshalState(data []byte) error {
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("decode SLO state: %w", err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("decode SLO state: unsupported version %d", snap.Version)
	}
	// SLOs left fresh below keep the start time of this run: their counts
	// restart at zero.
	var errs []error
	for _, s := range e.slos {
		ss, ok := snap.SLOs[s.def.name]
		if !ok || ss == nil {
			continue
		}
		if ss.Fingerprint != s.def.fingerprint() {
			e.logger.Info("Dropping the saved state of an SLO whose definition changed", zap.String("slo", s.def.name))
			continue
		}
		fresh := newSLOState(s.def)
		fresh.good, fresh.bad = ss.Good, ss.Bad
		fresh.startedAt = s.startedAt
		if start := cmp.Or(ss.StartedAt, snap.StartedAt); start != 0 {
			fresh.startedAt = time.Unix(0, start)
		}
		for _, b := range ss.Minutes {
			fresh.minutes.restore(bucket{slot: b.Slot, good: b.Good, bad: b.Bad})
		}
		for _, b := range ss.Hours {
			fresh.hours.restore(bucket{slot: b.Slot, good: b.Good, bad: b.Bad})
		}
		for i, a := range s.def.alerts {
			for _, name := range ss.Firing {
				if a.name == name {
					fresh.firing[i] = true
				}
			}
		}
		for _, es := range ss.BadEvents {
			ev, err := es.event()
			if err != nil {
				errs = append(errs, fmt.Errorf("slo %q: %w", s.def.name, err))
				continue
			}
			fresh.badEvents.add(ev)
		}
		*s = *fresh
	}
	return errors.Join(errs...)
}

func (es eventSnapshot) event() (badEvent, error) {
	ev := badEvent{at: pcommon.Timestamp(es.At), correlationID: es.CorrelationID, duration: es.Duration}
	if err := decodeHexID(ev.traceID[:], es.TraceID); err != nil {
		return badEvent{}, fmt.Errorf("trace id: %w", err)
	}
	if err := decodeHexID(ev.spanID[:], es.SpanID); err != nil {
		return badEvent{}, fmt.Errorf("span id: %w", err)
	}
	return ev, nil
}

func decodeHexID(dst []byte, s string) error {
	if hex.DecodedLen(len(s)) != len(dst) {
		return fmt.Errorf("%q is not %d hex bytes", s, len(dst))
	}
	_, err := hex.Decode(dst, []byte(s))
	return err
}

// storageClient finds the configured storage extension and opens this
// connector's client.
func storageClient(ctx context.Context, host component.Host, storageID, id component.ID) (storage.Client, error) {
	ext, ok := host.GetExtensions()[storageID]
	if !ok {
		return nil, fmt.Errorf("slometrics: storage extension %q not found", storageID)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("slometrics: extension %q is not a storage extension", storageID)
	}
	client, err := se.GetClient(ctx, component.KindConnector, id, "")
	if err != nil {
		return nil, fmt.Errorf("slometrics: open storage %q: %w", storageID, err)
	}
	return client, nil
}

// restore loads the saved state. A read error fails Start: starting fresh
// would let the first save overwrite the budget history. A snapshot that is
// read but not decoded in full (corrupt, or written by a newer version) is
// copied to unreadableKey first, since the next save replaces it; only
// failing to keep that copy fails Start.
func (e *engine) restore(ctx context.Context, client storage.Client) error {
	data, err := client.Get(ctx, stateKey)
	if err != nil {
		e.stateError("restore")
		return fmt.Errorf("slometrics: read saved state from storage %q: %w", *e.storageID, err)
	}
	if data == nil {
		return nil
	}
	e.mu.Lock()
	err = e.unmarshalState(data)
	e.mu.Unlock()
	if err == nil {
		return nil
	}
	e.stateError("restore")
	if setErr := client.Set(ctx, unreadableKey, data); setErr != nil {
		return fmt.Errorf("slometrics: keep the unreadable saved state under %q in storage %q: %w (decoding it failed: %w)",
			unreadableKey, *e.storageID, setErr, err)
	}
	e.logger.Warn("Failed to restore the SLO state in full; what was not restored starts fresh, and the saved snapshot is kept under another key",
		zap.String("key", unreadableKey), zap.Error(err))
	return nil
}

// save writes the state to the storage client.
func (e *engine) save(ctx context.Context, client storage.Client) error {
	e.mu.Lock()
	data, err := e.marshalState()
	e.mu.Unlock()
	if err == nil {
		err = client.Set(ctx, stateKey, data)
	}
	if err != nil {
		e.stateError("save")
		return fmt.Errorf("save SLO state: %w", err)
	}
	return nil
}

func (e *engine) stateError(operation string) {
	e.telemetry.ConnectorSlometricsStateErrors.Add(context.Background(), 1,
		metric.WithAttributes(attribute.String(metadata.AttributeOperation, operation)))
}
