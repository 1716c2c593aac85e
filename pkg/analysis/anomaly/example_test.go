package anomaly_test

import (
	"fmt"
	"time"

	"github.com/ollystack/ollystack/pkg/analysis/anomaly"
)

func Example() {
	d, err := anomaly.New(anomaly.Config{})
	if err != nil {
		panic(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var last anomaly.Score
	for i := range 200 {
		value := 100.0 + float64(i%5) // an ordinary, slightly wiggling rate
		if i == 150 {
			value = 180 // a burst
		}
		s := d.Update(start.Add(time.Duration(i)*time.Minute), value)
		if s.Value >= 0.5 {
			fmt.Printf("point %d: score %.2f, %s, expected about %.0f\n", i, s.Value, s.Direction, s.Expected)
		}
		last = s
	}
	fmt.Println("warm:", last.Warm)
	// Output:
	// point 150: score 1.00, up, expected about 102
	// warm: true
}
