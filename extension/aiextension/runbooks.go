package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"slices"

	"github.com/ollystack/ollystack/pkg/analysis/rca"
)

// runbookSuggestion is a configured runbook matching a hypothesis.
type runbookSuggestion struct {
	Name  string   `json:"name"`
	Steps []string `json:"steps"`
	URL   string   `json:"url,omitempty"`
}

// matchRunbooks returns the runbooks whose kinds and services (empty: any)
// both match, in configuration order; those naming the service come first,
// as the more specific.
func matchRunbooks(runbooks []RunbookConfig, kind rca.Kind, service string) []runbookSuggestion {
	var specific, general []runbookSuggestion
	for _, rb := range runbooks {
		if len(rb.Kinds) > 0 && !slices.Contains(rb.Kinds, string(kind)) {
			continue
		}
		if len(rb.Services) > 0 && !slices.Contains(rb.Services, service) {
			continue
		}
		s := runbookSuggestion{Name: rb.Name, Steps: append([]string{}, rb.Steps...), URL: rb.URL}
		if len(rb.Services) > 0 {
			specific = append(specific, s)
		} else {
			general = append(general, s)
		}
	}
	return append(append([]runbookSuggestion{}, specific...), general...)
}
