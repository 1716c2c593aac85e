// Package signalstoretest is the conformance suite every signal store
// backend runs, like Jaeger's storage integration tests: the same fixtures
// written through signalstore.Writer, read back through every primitive and
// through typed queries, with the same expected answers.
//
// A backend runs it from one small test file (the Documents group runs when
// the backend also implements signalstore.DocumentStore):
//
//	func TestConformance(t *testing.T) {
//		store := openStore(t)
//		(&signalstoretest.StoreUnderTest{Writer: store, Reader: store}).RunAll(t)
//	}
//
// Every test writes data under a run-unique prefix (service names,
// correlation ids, random trace ids) and filters on it, so tests do not see
// each other's data and the suite can run against a shared server.
package signalstoretest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// StoreUnderTest is what a backend hands to the suite.
type StoreUnderTest struct {
	Writer signalstore.Writer
	Reader signalstore.Reader
	// CleanUp, if set, runs before each test. Optional: tests isolate
	// themselves by unique names.
	CleanUp func(t *testing.T)
	// Capabilities opt out of tests; the zero value runs everything.
	Capabilities Capabilities
	// ConsistencyTimeout is how long reads are retried until they see
	// earlier writes (ClickHouse inserts are asynchronous). Zero means the
	// backend is read-your-writes: each read is tried once.
	ConsistencyTimeout time.Duration
	// Documents is the backend's optional DocumentStore. When nil, the
	// suite uses Reader if it implements signalstore.DocumentStore; a
	// backend keeping no documents skips the Documents group.
	Documents signalstore.DocumentStore
}

// Capabilities lists what a backend does not support. Opt-out, so a new
// backend runs every test unless it says otherwise.
type Capabilities struct {
	SkipMetrics            bool
	SkipServiceEdges       bool
	SkipRecentCorrelations bool
	SkipTypedQuery         bool
	// SkipTests names subtests to skip, as "Group/Test" or "Group".
	SkipTests []string
}

type suiteTest struct {
	name string
	skip func(Capabilities) bool
	run  func(t *testing.T, s *StoreUnderTest)
}

func always(Capabilities) bool { return false }

// RunAll runs every conformance test as a subtest of t.
func (s *StoreUnderTest) RunAll(t *testing.T) {
	if s.Documents == nil {
		s.Documents, _ = s.Reader.(signalstore.DocumentStore)
	}
	groups := []struct {
		name  string
		tests []suiteTest
		// needsDocuments skips the group for a backend without a
		// DocumentStore.
		needsDocuments bool
	}{
		{name: "Correlation", tests: correlationTests},
		{name: "Spans", tests: spanTests},
		{name: "Logs", tests: logTests},
		{name: "Metrics", tests: metricTests},
		{name: "ServiceEdges", tests: edgeTests},
		{name: "RecentCorrelations", tests: recentTests},
		{name: "Query", tests: queryTests},
		{name: "EdgeCases", tests: edgeCaseTests},
		{name: "Documents", tests: documentTests, needsDocuments: true},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			if slices.Contains(s.Capabilities.SkipTests, g.name) {
				t.Skip("skipped by the backend's capabilities")
			}
			if g.needsDocuments && s.Documents == nil {
				t.Skip("the backend keeps no documents (it does not implement signalstore.DocumentStore)")
			}
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					if tc.skip(s.Capabilities) || slices.Contains(s.Capabilities.SkipTests, g.name+"/"+tc.name) {
						t.Skip("skipped by the backend's capabilities")
					}
					if s.CleanUp != nil {
						s.CleanUp(t)
					}
					tc.run(t, s)
				})
			}
		})
	}
}

// eventually calls check until it reports no problem or the consistency
// timeout passes, then fails with the last problem. check returns "" when
// satisfied.
func (s *StoreUnderTest) eventually(t *testing.T, check func() string) {
	t.Helper()
	deadline := time.Now().Add(s.ConsistencyTimeout)
	wait := 50 * time.Millisecond
	for {
		problem := check()
		if problem == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(problem)
		}
		time.Sleep(wait)
		wait = min(2*wait, time.Second)
	}
}

// Poll is eventually for tests outside this package that check their own
// backend-specific behaviour: it retries check until it returns "" or
// timeout passes.
func Poll(t *testing.T, timeout time.Duration, check func() string) {
	t.Helper()
	(&StoreUnderTest{ConsistencyTimeout: timeout}).eventually(t, check)
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }
