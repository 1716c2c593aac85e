package correlateapiextension

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNormaliseMessage(t *testing.T) {
	tests := []struct {
		message, want string
	}{
		{"order 1234567 not found", "order <n> not found"},
		{"order 12345678 not found", "order <n> not found"},
		{"order 1234567890123 not found", "order <n> not found"},
		{"amount 12345678.50 refused", "amount <n> refused"},
		{"connection pool exhausted after 30000 ms", "connection pool exhausted after <n> ms"},
		{"trace 4bf92f3577b34da6a3ce929d0e0e4736 failed", "trace <hex> failed"},
		{"span 00F067AA0BA902B7 failed", "span <hex> failed"},
		{"object deadbeef gone", "object <hex> gone"},
		{"fault at 0x7ffd1234", "fault at <hex>"},
		{"fault at 0x12345678", "fault at <hex>"},
		{"user 123e4567-e89b-12d3-a456-426614174000 missing", "user <uuid> missing"},
		{"user 12345678-1234-1234-1234-123456789012 missing", "user <uuid> missing"},
		{"  retry   3 of 5 ", "retry <n> of <n>"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, normaliseMessage(tt.message), tt.message)
	}
}
