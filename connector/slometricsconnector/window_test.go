package slometricsconnector

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseWindow(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "5m", want: 5 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "30d", want: 30 * day},
		{in: "28d", want: 28 * day},
		{in: "7d", want: 7 * day},
		{in: "4w", want: 28 * day},
		{in: "3650d", want: 3650 * day},
		{in: "", wantErr: true},
		{in: "d", wantErr: true},
		{in: "0d", wantErr: true},
		{in: "-1d", wantErr: true},
		{in: "1.5d", wantErr: true},
		{in: "3651d", wantErr: true},
		{in: "99999999999999999999d", wantErr: true},
		{in: "0s", wantErr: true},
		{in: "-5m", wantErr: true},
		{in: "month", wantErr: true},
		{in: "5", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseWindow(tt.in)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestFormatWindow(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute:  "5m",
		30 * time.Minute: "30m",
		6 * time.Hour:    "6h",
		day:              "1d",
		3 * day:          "3d",
		36 * time.Hour:   "36h",
		90 * time.Second: "1m30s",
	} {
		assert.Equal(t, want, formatWindow(d))
	}
}

// FuzzParseWindow checks that no input panics, that accepted windows are
// positive and bounded, and that whole-minute windows survive a round trip
// through formatWindow.
func FuzzParseWindow(f *testing.F) {
	for _, seed := range []string{"5m", "30d", "4w", "1h30m", "", "d", "-1d", "99999999999999999999d", "1e9h", "0x10d", "７d"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseWindow(s)
		if err != nil {
			return
		}
		if d <= 0 {
			t.Fatalf("parseWindow(%q) = %v, want positive", s, d)
		}
		if d%time.Minute != 0 {
			return
		}
		back, err := parseWindow(formatWindow(d))
		if err != nil || back != d {
			t.Fatalf("round trip of %q: %v → %q → %v, %v", s, d, formatWindow(d), back, err)
		}
	})
}
