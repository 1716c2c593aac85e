package slometricsconnector // import "github.com/ollystack/ollystack/connector/slometricsconnector"

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

const (
	day = 24 * time.Hour
	// windowCalendarMonth selects the current UTC calendar month as SLO window.
	windowCalendarMonth = "calendar_month"
	// maxWindowDays bounds parsed day and week counts so they cannot overflow
	// a time.Duration.
	maxWindowDays = 3650
)

// parseWindow parses a window such as "5m", "6h", "30d" or "4w": Go durations
// plus the day and week units SLOs are usually written in.
func parseWindow(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty window")
	}
	unit := time.Duration(0)
	switch {
	case strings.HasSuffix(s, "d"):
		unit = day
	case strings.HasSuffix(s, "w"):
		unit = 7 * day
	}
	if unit == 0 {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("window %q: %w", s, err)
		}
		if d <= 0 {
			return 0, fmt.Errorf("window %q must be positive", s)
		}
		return d, nil
	}
	digits := s[:len(s)-1]
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, fmt.Errorf("window %q: want a whole number before %q", s, s[len(s)-1:])
	}
	n, err := strconv.Atoi(digits)
	// Compared before multiplying, which could overflow.
	if err != nil || n <= 0 || int64(n) > int64(maxWindowDays*day/unit) {
		return 0, fmt.Errorf("window %q must be between 1%s and %d days", s, s[len(s)-1:], maxWindowDays)
	}
	return time.Duration(n) * unit, nil
}

// formatWindow renders a window the way users write it, for attribute values:
// "30d", "6h", "5m".
func formatWindow(d time.Duration) string {
	switch {
	case d >= day && d%day == 0:
		return strconv.FormatInt(int64(d/day), 10) + "d"
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d >= time.Minute && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	default:
		return d.String()
	}
}
