package correlationid

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

var traceID = [16]byte{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}

func TestDeriveAndReverse(t *testing.T) {
	id := Derive("olly", traceID)
	assert.Equal(t, "olly-t-4bf92f3577b34da6a3ce929d0e0e4736", id)
	assert.Equal(t, DerivedLength(4), len(id))
	assert.True(t, Valid(id))

	got, ok := TraceID(id)
	assert.True(t, ok)
	assert.Equal(t, traceID, got)
	assert.True(t, IsDerivedFrom(id, traceID))

	// Readers need not know the writer's prefix.
	got, ok = TraceID(Derive("other-prefix", traceID))
	assert.True(t, ok)
	assert.Equal(t, traceID, got)

	longest := Derive(strings.Repeat("p", MaxPrefixLength), traceID)
	assert.Len(t, longest, MaxLength)
	assert.True(t, Valid(longest))
}

func TestTraceIDRejectsOtherIDs(t *testing.T) {
	for _, id := range []string{
		"",
		"olly-t-4bf92f3577b34da6a3ce929d0e0e473", // too short
		"olly-x-4bf92f3577b34da6a3ce929d0e0e4736",                        // wrong marker
		"olly-t-4BF92F3577B34DA6A3CE929D0E0E4736",                        // uppercase: not our form
		"olly-t-4bf92f3577b34da6a3ce929d0e0e473g",                        // not hex
		"550e8400-e29b-41d4-a716-446655440000",                           // a UUID
		strings.Repeat("x", 200) + "-t-4bf92f3577b34da6a3ce929d0e0e4736", // longer than any id
	} {
		_, ok := TraceID(id)
		assert.False(t, ok, id)
	}
	assert.False(t, IsDerivedFrom("olly-t-00000000000000000000000000000000", traceID))
}

func TestCheck(t *testing.T) {
	tests := []struct {
		raw     string
		id      string
		verdict Verdict
	}{
		{"", "", Absent},
		{" \t ", "", Absent},
		{"req-1", "req-1", Accepted},
		{"  req-1\t", "req-1", Accepted},
		{"550e8400-e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-446655440000", Accepted},
		{"olly-lq2x3k-a8f3b2c1", "olly-lq2x3k-a8f3b2c1", Accepted},
		{"b64+/=", "", Rejected},
		{"a b", "", Rejected},
		{"x'; DROP TABLE t;--", "", Rejected},
		{"é", "", Rejected},
		{"line\nbreak", "", Rejected},
		{strings.Repeat("a", MaxLength), strings.Repeat("a", MaxLength), Accepted},
		{strings.Repeat("a", MaxLength+1), "", Rejected},
	}
	for _, tt := range tests {
		id, verdict := Check(tt.raw)
		assert.Equal(t, tt.verdict, verdict, "%q", tt.raw)
		assert.Equal(t, tt.id, id, "%q", tt.raw)
	}
	assert.False(t, Valid(" padded"), "Valid does not trim")
}

func FuzzTraceID(f *testing.F) {
	f.Add("olly-t-4bf92f3577b34da6a3ce929d0e0e4736")
	f.Add("-t-00000000000000000000000000000000")
	f.Add("x")
	f.Fuzz(func(t *testing.T, id string) {
		traceID, ok := TraceID(id)
		if !ok {
			return
		}
		// Every accepted id reverses to a trace id whose derived form it ends with.
		if !strings.HasSuffix(id, Derive("", traceID)) {
			t.Fatalf("%q reversed to %x", id, traceID)
		}
	})
}
