package correlationprocessor

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
)

func TestLookupBaggage(t *testing.T) {
	keys := newMatcher(defaultConfig()).baggageKeys
	tests := []struct {
		header  string
		id      string
		verdict correlationid.Verdict
	}{
		{"", "", correlationid.Absent},
		{"userId=1,tenant=a", "", correlationid.Absent},
		{"correlation_id=abc", "abc", correlationid.Accepted},
		{" request_id = r-1 ; p=1 , correlationId=c-1", "c-1", correlationid.Accepted},
		{"X-Correlation-ID=hdr", "hdr", correlationid.Accepted},
		{"correlation_id=%3Cscript%3E", "", correlationid.Rejected},
		{"correlation_id=%zz", "", correlationid.Rejected},
		{"correlation_id=a%20b,request_id=ok", "ok", correlationid.Accepted},
		{"noequals,correlation_id", "", correlationid.Absent},
		// Members beyond the W3C size limit are ignored, not truncated.
		{"pad=" + strings.Repeat("x", maxBaggageBytes) + ",correlation_id=late", "", correlationid.Absent},
		{"correlation_id=early,pad=" + strings.Repeat("x", maxBaggageBytes), "early", correlationid.Accepted},
		{strings.Repeat("k=v,", maxBaggageMembers) + "correlation_id=too-many", "", correlationid.Absent},
	}
	for _, tt := range tests {
		id, verdict := lookupBaggage(tt.header, keys)
		assert.Equal(t, tt.verdict, verdict, "%.60q", tt.header)
		assert.Equal(t, tt.id, id, "%.60q", tt.header)
	}
}

func TestLookupJSONBody(t *testing.T) {
	keys := bodyKeys(defaultConfig())
	tests := []struct {
		body    string
		id      string
		verdict correlationid.Verdict
	}{
		{`not json`, "", correlationid.Absent},
		{`["correlation_id","x"]`, "", correlationid.Absent},
		{`{}`, "", correlationid.Absent},
		{` {"correlation_id" : "a-1" }`, "a-1", correlationid.Accepted},
		{`{"request_id":"r","correlationId":"c"}`, "c", correlationid.Accepted},
		{`{"x":{"correlation_id":"nested"},"y":[{"z":"]"}],"request_id":"top"}`, "top", correlationid.Accepted},
		{`{"n":1.5e3,"t":true,"nil":null,"request_id":"after-literals"}`, "after-literals", correlationid.Accepted},
		{`{"correlation_id":42}`, "", correlationid.Absent},
		{`{"correlation_id":"a\u0041"}`, "", correlationid.Rejected},
		{`{"correlation_id":"` + strings.Repeat("a", 200) + `"}`, "", correlationid.Rejected},
		{`{"msg":"unterminated`, "", correlationid.Absent},
		{`{"correl\u0061tion_id":"escaped-key"}`, "", correlationid.Absent},
		// An id derived from the record's trace is skipped, not taken as explicit.
		{`{"correlation_id":"` + derivedID(1) + `","request_id":"explicit"}`, "explicit", correlationid.Accepted},
		{`{"correlation_id":"` + derivedID(1) + `"}`, "", correlationid.Absent},
		{`{"correlation_id":"` + derivedID(2) + `"}`, derivedID(2), correlationid.Accepted},
	}
	for _, tt := range tests {
		id, verdict := lookupJSONBody(tt.body, keys, testTraceID(1))
		assert.Equal(t, tt.verdict, verdict, tt.body)
		assert.Equal(t, tt.id, id, tt.body)
	}
	beyond := `{"pad":"` + strings.Repeat("x", maxJSONBodyScan) + `","correlation_id":"late"}`
	_, verdict := lookupJSONBody(beyond, keys, testTraceID(1))
	assert.Equal(t, correlationid.Absent, verdict, "fields beyond the scan limit are not read")
}

// TestMatcherKeys checks which keys the matcher's filter lets through to the
// exact comparison: only configured sources, whatever their length, with
// ASCII case ignored for captured headers alone.
func TestMatcherKeys(t *testing.T) {
	long := "app." + strings.Repeat("nested.", 10) + "request_id" // beyond the filter's 63 bytes
	cfg := defaultConfig()
	cfg.ExtractFromAttributes = append(cfg.ExtractFromAttributes, long)
	m := newMatcher(cfg)
	tests := []struct {
		key  string
		want bool
	}{
		{"correlation_id", true},
		{"correlation.id", true},
		{"correlationId", true},
		{"request_id", true},
		{"http.request.header.x-request-id", true},
		{"HTTP.Request.Header.X-Request-ID", true},
		{long, true},
		// Same length and end bytes as a source, other bytes differ.
		{"correlationXid", false},
		{"reques__id", false},
		// The filter ignores case, the comparison of attribute names does not.
		{"Request_iD", false},
		{"CORRELATION_ID", false},
		{"2equest_id", false}, // '2' and 'r' share their low 5 bits
		{long[:len(long)-1] + "D", false},
		{long + "x", false},
		{"server.address", false},
		{"x", false},
		{"", false},
	}
	for _, tt := range tests {
		attrs := pcommon.NewMap()
		attrs.PutStr("url.path", "/")
		attrs.PutStr(tt.key, "req-1")
		attrs.PutInt("server.port", 8443)
		got := m.find(attrs, pcommon.TraceID{1})
		assert.Equal(t, tt.want, got.id == "req-1", "%q", tt.key)
	}
}
