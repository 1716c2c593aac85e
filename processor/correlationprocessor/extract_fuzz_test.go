package correlationprocessor

import (
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
)

// FuzzExtractID feeds hostile input to every place an id is read from: a JSON
// log body, a baggage header, and attribute values. Whatever the input, an
// accepted id must be valid and nothing may panic.
func FuzzExtractID(f *testing.F) {
	for _, seed := range []string{
		`{"correlation_id":"abc"}`,
		`{"a":{"b":[1,"}",{"c":"\""}]},"correlationId":"x-1","request_id":"y"}`,
		`{"correlation_id":"a\"b"}`,
		`{"correlation_id":`,
		`{"correlation_id" "x"}`,
		`{"k":tru`,
		`   {"request_id":"` + strings.Repeat("a", 200) + `"}`,
		`correlation_id=abc;p=1, request_id = def`,
		`correlation_id=%41%zz`,
		`=,;=,==`,
		"http.request.header.X-Request-Id",
		"correlationXid",
		"\xff\xfe",
		"",
	} {
		f.Add(seed)
	}
	cfg := defaultConfig()
	m := newMatcher(cfg)
	c := &correlator{cfg: cfg, matcher: m, bodyKeys: bodyKeys(cfg)}
	f.Fuzz(func(t *testing.T, input string) {
		check := func(where, id string, verdict correlationid.Verdict) {
			if verdict == correlationid.Accepted && !correlationid.Valid(id) {
				t.Fatalf("%s accepted invalid id %q from %q", where, id, input)
			}
			if verdict != correlationid.Accepted && id != "" {
				t.Fatalf("%s returned id %q with verdict %d", where, id, verdict)
			}
		}
		id, verdict := lookupJSONBody(input, c.bodyKeys, pcommon.TraceID{1})
		check("json body", id, verdict)
		id, verdict = lookupBaggage(input, m.baggageKeys)
		check("baggage", id, verdict)

		attrs := pcommon.NewMap()
		attrs.PutStr("correlation_id", input)
		attrs.PutStr("http.request.header.baggage", input)
		attrs.PutEmptySlice("http.request.header.x-request-id").AppendEmpty().SetStr(input)
		found := m.find(attrs, pcommon.TraceID{1})
		if found.id != "" && !correlationid.Valid(found.id) {
			t.Fatalf("attributes accepted invalid id %q", found.id)
		}
		// As a key, input is matched exactly when it names a source.
		keyed := pcommon.NewMap()
		keyed.PutStr(input, "req-1")
		wantKey := false
		for _, src := range m.byLen[min(len(input), len(m.byLen)-1)] {
			wantKey = wantKey || input == src.key || src.foldCase && len(input) == len(src.key) && strings.EqualFold(input, src.key)
		}
		if found := m.find(keyed, pcommon.TraceID{1}); (found.id == "req-1") != wantKey && !strings.EqualFold(input, headerAttributePrefix+baggageHeader) {
			t.Fatalf("key %q: matched %v, want %v", input, found.id == "req-1", wantKey)
		}

		var mt match
		body := pcommon.NewValueStr(input)
		c.findInBody(&mt, body, pcommon.TraceID{1})
		if mt.id != "" && !correlationid.Valid(mt.id) {
			t.Fatalf("body accepted invalid id %q", mt.id)
		}
	})
}
