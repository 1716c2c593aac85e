package nlq

import (
	"context"
	"errors"
	"testing"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// FuzzParse: Parse never panics, and whatever it accepts is a valid typed
// query (and comparison) whose filter values come from the question, that
// Run can execute and summarize.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	for _, p := range phrasings {
		f.Add(p.question)
	}
	for _, q := range hostileQuestions {
		if len(q) <= 2*MaxQuestionLen {
			f.Add(q)
		}
	}
	f.Fuzz(func(t *testing.T, question string) {
		plan, err := Parse(question, testCatalog, testNow)
		if err != nil {
			var nu *NotUnderstoodError
			if !errors.As(err, &nu) || err.Error() == "" {
				t.Fatalf("Parse(%q): %v (%T), want *NotUnderstoodError", question, err, err)
			}
			return
		}
		checkHostileQuery(t, question, &plan.Query)
		if _, err := signalstore.ParseQuery([]byte(mustJSON(t, plan.Query))); err != nil {
			t.Fatalf("Parse(%q): the shown query does not parse back: %v", question, err)
		}
		if plan.Compare != nil {
			if err := plan.Compare.Validate(); err != nil {
				t.Fatalf("Parse(%q): invalid comparison: %v", question, err)
			}
		}
		if plan.Explanation == "" {
			t.Fatalf("Parse(%q): no explanation", question)
		}
		if _, err := Run(context.Background(), &recordingRunner{}, plan, Limits{}); err != nil {
			t.Fatalf("Run(%q): %v", question, err)
		}
	})
}
