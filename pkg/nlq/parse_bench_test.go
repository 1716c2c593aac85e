package nlq

import (
	"fmt"
	"testing"
)

// BenchmarkParse parses the phrasings of the table in turn (one question
// per op), against the small test catalog and against a large one (500
// services, 1000 operations, the LoadCatalog caps), prepared once by
// NewCatalog as LoadCatalog does, or as a plain literal (names prepared for
// every question).
func BenchmarkParse(b *testing.B) {
	large := Catalog{Services: append([]string{}, testCatalog.Services...), Operations: append([]string{}, testCatalog.Operations...)}
	for i := len(large.Services); i < maxCatalogServices; i++ {
		large.Services = append(large.Services, fmt.Sprintf("service-%03d-%s", i, []string{"api", "worker", "db", "cache"}[i%4]))
	}
	for i := len(large.Operations); i < maxCatalogOperations; i++ {
		large.Operations = append(large.Operations, fmt.Sprintf("%s /api/v1/resource%03d", []string{"GET", "POST", "PUT", "DELETE"}[i%4], i))
	}
	for _, bc := range []struct {
		name string
		cat  Catalog
	}{{"catalog=small", NewCatalog(testCatalog.Services, testCatalog.Operations)},
		{"catalog=500x1000", NewCatalog(large.Services, large.Operations)},
		{"catalog=500x1000-literal", large}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := Parse(phrasings[i%len(phrasings)].question, bc.cat, testNow); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
