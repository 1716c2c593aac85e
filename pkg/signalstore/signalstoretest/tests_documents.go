package signalstoretest

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Every document test uses kinds under the fixture's run-unique prefix, so
// lists see only the test's own documents.
var documentTests = []suiteTest{
	{"PutGet", always, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		d := signalstore.Document{Kind: f.corr("analysis"), ID: "分析-1 🧪", Ref: f.corr("заказ-1"),
			Updated: f.at(123 * time.Millisecond),
			Body:    []byte(`{"summary":"payments → 502 ✗","confidence":0.8,"hypotheses":[{"service":"payments"}],"quote":"a\"b\\c\nd"}`)}
		putDocuments(t, s, d)
		s.eventually(t, func() string { return getDocument(s, d.Kind, d.ID, d) })
	}},
	{"Replace", always, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		first := signalstore.Document{Kind: f.corr("investigation"), ID: "inv-1", Ref: f.corr("order-1"),
			Updated: f.at(0), Body: []byte(`{"status":"open"}`)}
		second := signalstore.Document{Kind: first.Kind, ID: first.ID, Ref: f.corr("order-2"),
			Updated: f.at(time.Minute), Body: []byte(`{"status":"closed","notes":["done"]}`)}
		putDocuments(t, s, first, second)
		s.eventually(t, func() string {
			return joinProblems(
				getDocument(s, first.Kind, first.ID, second),
				listDocuments(s, signalstore.DocumentFilter{Kind: first.Kind}, second),
				listDocuments(s, signalstore.DocumentFilter{Kind: first.Kind, Ref: first.Ref}),
				listDocuments(s, signalstore.DocumentFilter{Kind: first.Kind, Ref: second.Ref}, second))
		})
	}},
	{"ListNewestFirst", always, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		docs := documentSeries(f, "analysis", 5, func(int) string { return "" })
		putDocuments(t, s, docs[2], docs[0], docs[4], docs[1], docs[3])
		s.eventually(t, func() string {
			return listDocuments(s, signalstore.DocumentFilter{Kind: docs[0].Kind}, newestFirst(docs)...)
		})
	}},
	{"RefFilter", always, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		refs := []string{f.corr("a"), f.corr("b"), f.corr("a"), "", f.corr("a"), f.corr("b")}
		docs := documentSeries(f, "analysis", len(refs), func(i int) string { return refs[i] })
		putDocuments(t, s, docs...)
		kind := docs[0].Kind
		s.eventually(t, func() string {
			return joinProblems(
				listDocuments(s, signalstore.DocumentFilter{Kind: kind, Ref: f.corr("a")}, docs[4], docs[2], docs[0]),
				listDocuments(s, signalstore.DocumentFilter{Kind: kind, Ref: f.corr("b")}, docs[5], docs[1]),
				listDocuments(s, signalstore.DocumentFilter{Kind: kind, Ref: f.corr("c")}),
				listDocuments(s, signalstore.DocumentFilter{Kind: kind}, newestFirst(docs)...))
		})
	}},
	{"Limit", always, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		docs := documentSeries(f, "analysis", 5, func(int) string { return f.corr("r") })
		putDocuments(t, s, docs...)
		all := newestFirst(docs)
		s.eventually(t, func() string {
			return joinProblems(
				listDocuments(s, signalstore.DocumentFilter{Kind: docs[0].Kind, Limit: 2}, all[:2]...),
				listDocuments(s, signalstore.DocumentFilter{Kind: docs[0].Kind, Ref: f.corr("r"), Limit: 3}, all[:3]...),
				listDocuments(s, signalstore.DocumentFilter{Kind: docs[0].Kind, Limit: -1}, all...))
		})
	}},
	{"DefaultLimit", always, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		docs := documentSeries(f, "analysis", signalstore.DefaultDocumentLimit+1, func(int) string { return "" })
		// Concurrently, so that a group-committing backend needs few commits.
		var wg sync.WaitGroup
		for _, d := range docs {
			wg.Go(func() {
				if err := s.Documents.PutDocument(ctx, d); err != nil {
					t.Errorf("PutDocument %s: %v", d.ID, err)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		s.eventually(t, func() string {
			return listDocuments(s, signalstore.DocumentFilter{Kind: docs[0].Kind},
				newestFirst(docs)[:signalstore.DefaultDocumentLimit]...)
		})
	}},
	{"KindsAreSeparate", always, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		a := signalstore.Document{Kind: f.corr("analysis"), ID: "same", Updated: f.at(0), Body: []byte(`"analysis"`)}
		b := signalstore.Document{Kind: f.corr("investigation"), ID: "same", Updated: f.at(time.Second), Body: []byte(`"investigation"`)}
		putDocuments(t, s, a, b)
		s.eventually(t, func() string {
			return joinProblems(
				getDocument(s, a.Kind, a.ID, a),
				getDocument(s, b.Kind, b.ID, b),
				listDocuments(s, signalstore.DocumentFilter{Kind: a.Kind}, a),
				listDocuments(s, signalstore.DocumentFilter{Kind: b.Kind}, b))
		})
	}},
	{"NotFound", always, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		d := signalstore.Document{Kind: f.corr("analysis"), ID: "present", Updated: f.at(0), Body: []byte(`{}`)}
		putDocuments(t, s, d)
		s.eventually(t, func() string { return getDocument(s, d.Kind, d.ID, d) })
		for _, key := range [][2]string{{d.Kind, "absent"}, {f.corr("unknown-kind"), d.ID}} {
			_, err := s.Documents.GetDocument(ctx, key[0], key[1])
			if !errors.Is(err, signalstore.ErrNotFound) {
				t.Errorf("GetDocument(%q, %q): %v; want an error wrapping ErrNotFound", key[0], key[1], err)
			}
		}
		if msg := listDocuments(s, signalstore.DocumentFilter{Kind: f.corr("unknown-kind")}); msg != "" {
			t.Error(msg)
		}
	}},
	{"InvalidRejected", always, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		valid := signalstore.Document{Kind: f.corr("analysis"), ID: "x", Updated: f.at(0), Body: []byte(`{}`)}
		for name, mutate := range map[string]func(*signalstore.Document){
			"empty kind": func(d *signalstore.Document) { d.Kind = "" },
			"empty id":   func(d *signalstore.Document) { d.ID = "" },
			"long id":    func(d *signalstore.Document) { d.ID = strings.Repeat("i", signalstore.MaxDocumentKeyLen+1) },
			"long ref": func(d *signalstore.Document) {
				d.ID, d.Ref = "long-ref", strings.Repeat("r", signalstore.MaxDocumentKeyLen+1)
			},
			"id not UTF-8":    func(d *signalstore.Document) { d.ID = "bad\xff" },
			"empty body":      func(d *signalstore.Document) { d.ID, d.Body = "empty-body", nil },
			"body not JSON":   func(d *signalstore.Document) { d.ID, d.Body = "not-json", []byte(`{"a":`) },
			"body too large":  func(d *signalstore.Document) { d.ID, d.Body = "too-large", jsonString(signalstore.MaxDocumentBytes+1) },
			"updated not set": func(d *signalstore.Document) { d.ID, d.Updated = "no-time", time.Time{} },
		} {
			d := valid
			mutate(&d)
			if err := s.Documents.PutDocument(ctx, d); !errors.Is(err, signalstore.ErrInvalidDocument) {
				t.Errorf("%s: PutDocument returned %v; want an error wrapping ErrInvalidDocument", name, err)
			}
		}
		if _, err := s.Documents.ListDocuments(ctx, signalstore.DocumentFilter{}); !errors.Is(err, signalstore.ErrInvalidDocument) {
			t.Errorf("ListDocuments without a kind: %v; want an error wrapping ErrInvalidDocument", err)
		}
		if _, err := s.Documents.GetDocument(ctx, "", ""); !errors.Is(err, signalstore.ErrInvalidDocument) {
			t.Errorf("GetDocument of an empty key: %v; want an error wrapping ErrInvalidDocument", err)
		}
		// Nothing of the rejected documents was stored.
		if msg := listDocuments(s, signalstore.DocumentFilter{Kind: valid.Kind}); msg != "" {
			t.Error(msg)
		}
	}},
	{"LargestDocument", always, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		d := signalstore.Document{Kind: f.corr(strings.Repeat("k", signalstore.MaxDocumentKeyLen-len(f.prefix)-1)),
			ID: strings.Repeat("i", signalstore.MaxDocumentKeyLen), Ref: strings.Repeat("r", signalstore.MaxDocumentKeyLen),
			Updated: f.at(0), Body: jsonString(signalstore.MaxDocumentBytes - 2)}
		putDocuments(t, s, d)
		s.eventually(t, func() string {
			return joinProblems(getDocument(s, d.Kind, d.ID, d),
				listDocuments(s, signalstore.DocumentFilter{Kind: d.Kind, Ref: d.Ref}, d))
		})
	}},
	{"CancelledContext", always, func(t *testing.T, s *StoreUnderTest) {
		cctx, cancel := contextWithCancel()
		cancel()
		if _, err := s.Documents.GetDocument(cctx, "analysis", "x"); err == nil || errors.Is(err, signalstore.ErrNotFound) {
			t.Errorf("GetDocument with a cancelled context: %v; want the context's error", err)
		}
		if _, err := s.Documents.ListDocuments(cctx, signalstore.DocumentFilter{Kind: "analysis"}); err == nil {
			t.Error("ListDocuments with a cancelled context succeeded")
		}
	}},
}

// documentSeries makes n documents of one kind updated a second apart, in
// ascending Updated order, with refs from ref(i).
func documentSeries(f *fixture, kind string, n int, ref func(i int) string) []signalstore.Document {
	docs := make([]signalstore.Document, n)
	for i := range docs {
		docs[i] = signalstore.Document{Kind: f.corr(kind), ID: fmt.Sprintf("doc-%03d", i), Ref: ref(i),
			Updated: f.at(time.Duration(i) * time.Second), Body: fmt.Appendf(nil, `{"n":%d}`, i)}
	}
	return docs
}

// newestFirst returns a documentSeries in the order ListDocuments gives.
func newestFirst(docs []signalstore.Document) []signalstore.Document {
	out := make([]signalstore.Document, len(docs))
	for i, d := range docs {
		out[len(docs)-1-i] = d
	}
	return out
}

// jsonString is a JSON string value of n bytes (n >= 2), quotes included.
func jsonString(n int) []byte {
	return []byte(`"` + strings.Repeat("x", n-2) + `"`)
}

func putDocuments(t *testing.T, s *StoreUnderTest, docs ...signalstore.Document) {
	t.Helper()
	for _, d := range docs {
		if err := s.Documents.PutDocument(ctx, d); err != nil {
			t.Fatalf("PutDocument %s %q: %v", d.Kind, d.ID, err)
		}
	}
}

func getDocument(s *StoreUnderTest, kind, id string, want signalstore.Document) string {
	got, err := s.Documents.GetDocument(ctx, kind, id)
	if err != nil {
		return fmt.Sprintf("GetDocument(%q, %q): %v", kind, id, err)
	}
	return diff("document", documentView(got), documentView(want))
}

func listDocuments(s *StoreUnderTest, f signalstore.DocumentFilter, want ...signalstore.Document) string {
	got, err := s.Documents.ListDocuments(ctx, f)
	if err != nil {
		return fmt.Sprintf("ListDocuments(%+v): %v", f, err)
	}
	g, w := make([]comparableDocument, len(got)), make([]comparableDocument, len(want))
	for i := range got {
		g[i] = documentView(got[i])
	}
	for i := range want {
		w[i] = documentView(want[i])
	}
	return diff(fmt.Sprintf("documents of %+v", f), g, w)
}

// comparableDocument holds what a backend must keep of a document: the same
// instant (not location) and the same JSON value (not spelling).
type comparableDocument struct {
	Kind, ID, Ref string
	Updated       int64
	// Body is the body re-marshalled, which sorts object keys and drops
	// white space; a long one is shown by length and digest.
	Body string
}

func documentView(d signalstore.Document) comparableDocument {
	var value any
	body := "invalid JSON"
	if err := json.Unmarshal(d.Body, &value); err == nil {
		canonical, _ := json.Marshal(value) // a decoded JSON value always marshals
		body = string(canonical)
	}
	if len(body) > 200 {
		body = fmt.Sprintf("%d bytes, sha256 %x", len(body), sha256.Sum256([]byte(body)))
	}
	return comparableDocument{Kind: d.Kind, ID: d.ID, Ref: d.Ref, Updated: d.Updated.UnixNano(), Body: body}
}

// joinProblems joins the non-empty results of checks.
func joinProblems(problems ...string) string {
	var out []string
	for _, p := range problems {
		if p != "" {
			out = append(out, p)
		}
	}
	return joinLines(out)
}
