package signalstore

import (
	"encoding/hex"
	"fmt"
)

// TraceID is a W3C trace id. It marshals to lowercase hex (as OTLP/JSON and
// the ClickHouse schema spell it) and the zero value to "".
type TraceID [16]byte

// SpanID is a W3C span id, marshalled like TraceID.
type SpanID [8]byte

// ParseTraceID parses 32 hex characters.
func ParseTraceID(s string) (TraceID, error) {
	var id TraceID
	if err := decodeHexID(id[:], s); err != nil {
		return TraceID{}, fmt.Errorf("parse trace id: %w", err)
	}
	return id, nil
}

// ParseSpanID parses 16 hex characters.
func ParseSpanID(s string) (SpanID, error) {
	var id SpanID
	if err := decodeHexID(id[:], s); err != nil {
		return SpanID{}, fmt.Errorf("parse span id: %w", err)
	}
	return id, nil
}

func decodeHexID(dst []byte, s string) error {
	if len(s) != 2*len(dst) {
		return fmt.Errorf("want %d hex characters, got %d", 2*len(dst), len(s))
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return err
	}
	return nil
}

// IsEmpty reports whether the id is all zeros (invalid in W3C terms).
func (id TraceID) IsEmpty() bool { return id == TraceID{} }

// String returns lowercase hex, or "" for the zero id.
func (id TraceID) String() string {
	if id.IsEmpty() {
		return ""
	}
	return hex.EncodeToString(id[:])
}

// MarshalText implements encoding.TextMarshaler.
func (id TraceID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; "" is the zero id.
func (id *TraceID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*id = TraceID{}
		return nil
	}
	parsed, err := ParseTraceID(string(b))
	if err != nil {
		return err
	}
	*id = parsed
	return nil
}

// IsEmpty reports whether the id is all zeros.
func (id SpanID) IsEmpty() bool { return id == SpanID{} }

// String returns lowercase hex, or "" for the zero id.
func (id SpanID) String() string {
	if id.IsEmpty() {
		return ""
	}
	return hex.EncodeToString(id[:])
}

// MarshalText implements encoding.TextMarshaler.
func (id SpanID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; "" is the zero id.
func (id *SpanID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*id = SpanID{}
		return nil
	}
	parsed, err := ParseSpanID(string(b))
	if err != nil {
		return err
	}
	*id = parsed
	return nil
}
