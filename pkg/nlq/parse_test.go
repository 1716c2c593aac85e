package nlq

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

var (
	testCatalog = Catalog{
		Services:   []string{"api-gateway", "cart", "checkout", "frontend", "inventory-db", "payment-service"},
		Operations: []string{"GET /api/products", "GET /cart", "POST /cart", "POST /checkout", "PlaceOrder", "SELECT products", "charge"},
	}
	// testNow is a Tuesday afternoon.
	testNow = time.Date(2026, 3, 10, 14, 30, 0, 0, time.UTC)
)

// phrasing is a question and the plan the parser must make of it, with the
// typed queries as JSON (as the API shows them).
type phrasing struct {
	question string
	query    string
	opts     []func(*phrasing)
	// filled by opts
	compareLabel, compare string
	derive                Derivation
	top                   int
}

func compare(label, query string) func(*phrasing) {
	return func(p *phrasing) { p.compareLabel, p.compare = label, query }
}

func errorRate(top int) func(*phrasing) {
	return func(p *phrasing) { p.derive, p.top = DeriveErrorRate, top }
}

func ph(question, query string, opts ...func(*phrasing)) phrasing {
	p := phrasing{question: question, query: query}
	for _, o := range opts {
		o(&p)
	}
	return p
}

// phrasings covers time ranges, names (case, separators, typos), signals,
// thresholds, aggregations, grouping, ranking and comparisons.
var phrasings = []phrasing{
	ph("errors in checkout in the last hour",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"checkout"},{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("show me all errors in payment service last hour",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"payment-service"},{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("Errors In CHECKOUT Last Hour",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"checkout"},{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("What were the errors in checkout yesterday?",
		`{"signal":"spans","start":"2026-03-09T00:00:00Z","end":"2026-03-10T00:00:00Z","filters":[{"field":"service_name","op":"eq","value":"checkout"},{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("errors in chekout",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"checkout"},{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("errors in paymnt service",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"payment-service"},{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("errors in Payment_Service",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"payment-service"},{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("errors in the past 15 minutes",
		`{"signal":"spans","last":"15m0s","filters":[{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("errors in the last 2 days",
		`{"signal":"spans","last":"48h0m0s","filters":[{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("errors today",
		`{"signal":"spans","start":"2026-03-10T00:00:00Z","filters":[{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("errors since 9am",
		`{"signal":"spans","start":"2026-03-10T09:00:00Z","filters":[{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("errors since 09:30",
		`{"signal":"spans","start":"2026-03-10T09:30:00Z","filters":[{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("errors between 9am and 10am",
		`{"signal":"spans","start":"2026-03-10T09:00:00Z","end":"2026-03-10T10:00:00Z","filters":[{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("errors from 2 to 3pm",
		`{"signal":"spans","start":"2026-03-10T14:00:00Z","end":"2026-03-10T15:00:00Z","filters":[{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("errors since yesterday",
		`{"signal":"spans","start":"2026-03-09T00:00:00Z","filters":[{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("errors this week",
		`{"signal":"spans","start":"2026-03-09T00:00:00Z","filters":[{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("payment service errors in the last couple of hours",
		`{"signal":"spans","last":"2h0m0s","filters":[{"field":"service_name","op":"eq","value":"payment-service"},{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("how many errors in checkout since 9am",
		`{"signal":"spans","start":"2026-03-10T09:00:00Z","filters":[{"field":"service_name","op":"eq","value":"checkout"},{"field":"status_code","op":"eq","value":"Error"}],"aggregations":[{"func":"count"}]}`),
	ph("How many logs did frontend write today?",
		`{"signal":"logs","start":"2026-03-10T00:00:00Z","filters":[{"field":"service_name","op":"eq","value":"frontend"}],"aggregations":[{"func":"count"}]}`),
	ph("count of server spans by service",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"span_kind","op":"eq","value":"Server"}],"group_by":[{"field":"service_name"}],"aggregations":[{"func":"count"}],"order_by":[{"column":"count","desc":true}]}`),
	ph("p99 latency of checkout",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"checkout"}],"aggregations":[{"func":"p99","field":"duration"}]}`),
	ph("p99 latency by service",
		`{"signal":"spans","last":"1h0m0s","group_by":[{"field":"service_name"}],"aggregations":[{"func":"p99","field":"duration"},{"func":"count"}],"order_by":[{"column":"p99_duration","desc":true}]}`),
	ph("median latency of the payment service in the past day",
		`{"signal":"spans","last":"24h0m0s","filters":[{"field":"service_name","op":"eq","value":"payment-service"}],"aggregations":[{"func":"p50","field":"duration"}]}`),
	ph("95th percentile response time by service in the last 30 minutes",
		`{"signal":"spans","last":"30m0s","group_by":[{"field":"service_name"}],"aggregations":[{"func":"p95","field":"duration"},{"func":"count"}],"order_by":[{"column":"p95_duration","desc":true}]}`),
	ph("p95 latency per endpoint for checkout since 09:30",
		`{"signal":"spans","start":"2026-03-10T09:30:00Z","filters":[{"field":"service_name","op":"eq","value":"checkout"}],"group_by":[{"field":"span_name"}],"aggregations":[{"func":"p95","field":"duration"},{"func":"count"}],"order_by":[{"column":"p95_duration","desc":true}]}`),
	ph("p50 and p99 latency of GET /api/products",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"span_name","op":"eq","value":"GET /api/products"}],"aggregations":[{"func":"p50","field":"duration"},{"func":"p99","field":"duration"}]}`),
	ph("average response time of GET /cart",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"span_name","op":"eq","value":"GET /cart"}],"aggregations":[{"func":"avg","field":"duration"}]}`),
	ph("max duration of charge",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"span_name","op":"eq","value":"charge"}],"aggregations":[{"func":"max","field":"duration"}]}`),
	ph("how long do requests to checkout take",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"checkout"}],"aggregations":[{"func":"p50","field":"duration"},{"func":"p95","field":"duration"},{"func":"p99","field":"duration"}]}`),
	ph("latency of /cart over time",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"span_name","op":"contains","value":"/cart"}],"aggregations":[{"func":"p50","field":"duration"},{"func":"p95","field":"duration"},{"func":"p99","field":"duration"}],"interval":"1m0s"}`),
	ph("top 5 slowest endpoints",
		`{"signal":"spans","last":"1h0m0s","group_by":[{"field":"span_name"}],"aggregations":[{"func":"p99","field":"duration"},{"func":"count"}],"order_by":[{"column":"p99_duration","desc":true}],"limit":5}`),
	ph("top 5 slowest endpoints by p99",
		`{"signal":"spans","last":"1h0m0s","group_by":[{"field":"span_name"}],"aggregations":[{"func":"p99","field":"duration"},{"func":"count"}],"order_by":[{"column":"p99_duration","desc":true}],"limit":5}`),
	ph("which endpoint is slowest",
		`{"signal":"spans","last":"1h0m0s","group_by":[{"field":"span_name"}],"aggregations":[{"func":"p99","field":"duration"},{"func":"count"}],"order_by":[{"column":"p99_duration","desc":true}],"limit":1}`),
	ph("fastest endpoints in cart",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"cart"}],"group_by":[{"field":"span_name"}],"aggregations":[{"func":"p99","field":"duration"},{"func":"count"}],"order_by":[{"column":"p99_duration"}],"limit":10}`),
	ph("the 10 slowest requests in checkout",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"checkout"}],"order_by":[{"column":"duration","desc":true}],"limit":10}`),
	ph("slowest traces yesterday",
		`{"signal":"spans","start":"2026-03-09T00:00:00Z","end":"2026-03-10T00:00:00Z","order_by":[{"column":"duration","desc":true}],"limit":10}`),
	ph("slow requests over 2s",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"duration","op":"gt","value":"2s"}]}`),
	ph("requests longer than 2 seconds in the past 15 minutes",
		`{"signal":"spans","last":"15m0s","filters":[{"field":"duration","op":"gt","value":"2s"}]}`),
	ph("requests under 10ms",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"duration","op":"lt","value":"10ms"}]}`),
	ph("requests > 1.5s",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"duration","op":"gt","value":"1.5s"}]}`),
	ph("client calls from frontend slower than 1s",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"frontend"},{"field":"duration","op":"gt","value":"1s"},{"field":"span_kind","op":"eq","value":"Client"}]}`),
	ph("successful requests to cart taking more than 500ms",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"cart"},{"field":"status_code","op":"neq","value":"Error"},{"field":"duration","op":"gt","value":"500ms"}]}`),
	ph("requests with duration at least 750ms",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"duration","op":"gte","value":"750ms"}]}`),
	ph("logs containing timeout",
		`{"signal":"logs","last":"1h0m0s","filters":[{"field":"body","op":"contains","value":"timeout"}]}`),
	ph("logs mentioning 'payment declined' in payment service",
		`{"signal":"logs","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"payment-service"},{"field":"body","op":"contains","value":"payment declined"}]}`),
	ph("logs with \"OOMKilled\"",
		`{"signal":"logs","last":"1h0m0s","filters":[{"field":"body","op":"contains","value":"OOMKilled"}]}`),
	ph("error logs containing timeout since yesterday",
		`{"signal":"logs","start":"2026-03-09T00:00:00Z","filters":[{"field":"severity_number","op":"gte","value":"17"},{"field":"body","op":"contains","value":"timeout"}]}`),
	ph("error logs in checkout",
		`{"signal":"logs","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"checkout"},{"field":"severity_number","op":"gte","value":"17"}]}`),
	ph("warnings in frontend past 2 hours",
		`{"signal":"logs","last":"2h0m0s","filters":[{"field":"service_name","op":"eq","value":"frontend"},{"field":"severity_number","op":"gte","value":"13"},{"field":"severity_number","op":"lt","value":"17"}]}`),
	ph("logs from cart yesterday",
		`{"signal":"logs","start":"2026-03-09T00:00:00Z","end":"2026-03-10T00:00:00Z","filters":[{"field":"service_name","op":"eq","value":"cart"}]}`),
	ph("show the last 20 logs from inventory-db",
		`{"signal":"logs","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"inventory-db"}],"limit":20}`),
	ph("logs by severity",
		`{"signal":"logs","last":"1h0m0s","group_by":[{"field":"severity_text"}],"aggregations":[{"func":"count"}],"order_by":[{"column":"count","desc":true}]}`),
	ph("log volume per service over time",
		`{"signal":"logs","last":"1h0m0s","group_by":[{"field":"service_name"}],"aggregations":[{"func":"count"}],"interval":"1m0s"}`),
	ph("which service logs the most",
		`{"signal":"logs","last":"1h0m0s","group_by":[{"field":"service_name"}],"aggregations":[{"func":"count"}],"order_by":[{"column":"count","desc":true}],"limit":1}`),
	ph("error rate",
		`{"signal":"spans","last":"1h0m0s","group_by":[{"field":"status_code"}],"aggregations":[{"func":"count"}],"limit":1000}`,
		errorRate(0)),
	ph("error rate by service",
		`{"signal":"spans","last":"1h0m0s","group_by":[{"field":"service_name"},{"field":"status_code"}],"aggregations":[{"func":"count"}],"limit":1000}`,
		errorRate(0)),
	ph("error rate of checkout compared to yesterday",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"checkout"}],"group_by":[{"field":"status_code"}],"aggregations":[{"func":"count"}],"limit":1000}`,
		compare("yesterday", `{"signal":"spans","start":"2026-03-09T13:30:00Z","end":"2026-03-09T14:30:00Z","filters":[{"field":"service_name","op":"eq","value":"checkout"}],"group_by":[{"field":"status_code"}],"aggregations":[{"func":"count"}],"limit":1000}`),
		errorRate(0)),
	ph("what's the failure rate of api-gateway today",
		`{"signal":"spans","start":"2026-03-10T00:00:00Z","filters":[{"field":"service_name","op":"eq","value":"api-gateway"}],"group_by":[{"field":"status_code"}],"aggregations":[{"func":"count"}],"limit":1000}`,
		errorRate(0)),
	ph("top 5 endpoints with the highest error rate",
		`{"signal":"spans","last":"1h0m0s","group_by":[{"field":"span_name"},{"field":"status_code"}],"aggregations":[{"func":"count"}],"limit":1000}`,
		errorRate(5)),
	ph("which service has the highest error rate",
		`{"signal":"spans","last":"1h0m0s","group_by":[{"field":"service_name"},{"field":"status_code"}],"aggregations":[{"func":"count"}],"limit":1000}`,
		errorRate(1)),
	ph("errors per minute in the last 15 minutes",
		`{"signal":"spans","last":"15m0s","filters":[{"field":"status_code","op":"eq","value":"Error"}],"aggregations":[{"func":"count"}],"interval":"1m0s"}`),
	ph("errors per service per hour today",
		`{"signal":"spans","start":"2026-03-10T00:00:00Z","filters":[{"field":"status_code","op":"eq","value":"Error"}],"group_by":[{"field":"service_name"}],"aggregations":[{"func":"count"}],"interval":"1h0m0s"}`),
	ph("errors grouped by service and endpoint",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"status_code","op":"eq","value":"Error"}],"group_by":[{"field":"service_name"},{"field":"span_name"}],"aggregations":[{"func":"count"}],"order_by":[{"column":"count","desc":true}]}`),
	ph("errors by http.route",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"status_code","op":"eq","value":"Error"}],"group_by":[{"field":"attribute","key":"http.route"}],"aggregations":[{"func":"count"}],"order_by":[{"column":"count","desc":true}]}`),
	ph("which service has the most errors",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"status_code","op":"eq","value":"Error"}],"group_by":[{"field":"service_name"}],"aggregations":[{"func":"count"}],"order_by":[{"column":"count","desc":true}],"limit":1}`),
	ph("top 3 services by error count",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"status_code","op":"eq","value":"Error"}],"group_by":[{"field":"service_name"}],"aggregations":[{"func":"count"}],"order_by":[{"column":"count","desc":true}],"limit":3}`),
	ph("busiest services today",
		`{"signal":"spans","start":"2026-03-10T00:00:00Z","group_by":[{"field":"service_name"}],"aggregations":[{"func":"count"}],"order_by":[{"column":"count","desc":true}],"limit":10}`),
	ph("how many requests per endpoint",
		`{"signal":"spans","last":"1h0m0s","group_by":[{"field":"span_name"}],"aggregations":[{"func":"count"}],"order_by":[{"column":"count","desc":true}]}`),
	ph("requests per second for checkout",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"checkout"}],"aggregations":[{"func":"rate"}]}`),
	ph("throughput by service",
		`{"signal":"spans","last":"1h0m0s","group_by":[{"field":"service_name"}],"aggregations":[{"func":"rate"}],"order_by":[{"column":"rate","desc":true}]}`),
	ph("errors in checkout than yesterday",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"checkout"},{"field":"status_code","op":"eq","value":"Error"}],"aggregations":[{"func":"count"}]}`,
		compare("yesterday", `{"signal":"spans","start":"2026-03-09T13:30:00Z","end":"2026-03-09T14:30:00Z","filters":[{"field":"service_name","op":"eq","value":"checkout"},{"field":"status_code","op":"eq","value":"Error"}],"aggregations":[{"func":"count"}]}`)),
	ph("is checkout slower than yesterday",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"checkout"}],"aggregations":[{"func":"p50","field":"duration"},{"func":"p95","field":"duration"},{"func":"p99","field":"duration"}]}`,
		compare("yesterday", `{"signal":"spans","start":"2026-03-09T13:30:00Z","end":"2026-03-09T14:30:00Z","filters":[{"field":"service_name","op":"eq","value":"checkout"}],"aggregations":[{"func":"p50","field":"duration"},{"func":"p95","field":"duration"},{"func":"p99","field":"duration"}]}`)),
	ph("more errors than last week",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"status_code","op":"eq","value":"Error"}],"aggregations":[{"func":"count"}]}`,
		compare("last week", `{"signal":"spans","start":"2026-03-03T13:30:00Z","end":"2026-03-03T14:30:00Z","filters":[{"field":"status_code","op":"eq","value":"Error"}],"aggregations":[{"func":"count"}]}`)),
	ph("error count day over day",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"status_code","op":"eq","value":"Error"}],"aggregations":[{"func":"count"}]}`,
		compare("yesterday", `{"signal":"spans","start":"2026-03-09T13:30:00Z","end":"2026-03-09T14:30:00Z","filters":[{"field":"status_code","op":"eq","value":"Error"}],"aggregations":[{"func":"count"}]}`)),
	ph("latency of checkout vs the previous hour",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"checkout"}],"aggregations":[{"func":"p50","field":"duration"},{"func":"p95","field":"duration"},{"func":"p99","field":"duration"}]}`,
		compare("the previous period", `{"signal":"spans","start":"2026-03-10T12:30:00Z","end":"2026-03-10T13:30:00Z","filters":[{"field":"service_name","op":"eq","value":"checkout"}],"aggregations":[{"func":"p50","field":"duration"},{"func":"p95","field":"duration"},{"func":"p99","field":"duration"}]}`)),
	ph("p99 latency by service today compared to yesterday",
		`{"signal":"spans","start":"2026-03-10T00:00:00Z","group_by":[{"field":"service_name"}],"aggregations":[{"func":"p99","field":"duration"},{"func":"count"}],"order_by":[{"column":"p99_duration","desc":true}]}`,
		compare("yesterday", `{"signal":"spans","start":"2026-03-09T00:00:00Z","end":"2026-03-09T14:30:00Z","group_by":[{"field":"service_name"}],"aggregations":[{"func":"p99","field":"duration"},{"func":"count"}],"order_by":[{"column":"p99_duration","desc":true}]}`)),
	ph("last 5 errors",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"status_code","op":"eq","value":"Error"}],"limit":5}`),
	ph("first 3 errors today",
		`{"signal":"spans","start":"2026-03-10T00:00:00Z","filters":[{"field":"status_code","op":"eq","value":"Error"}],"order_by":[{"column":"timestamp"}],"limit":3}`),
	ph("errors excluding checkout",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"neq","value":"checkout"},{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("errors not in checkout",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"neq","value":"checkout"},{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("requests without errors in cart",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"service_name","op":"eq","value":"cart"},{"field":"status_code","op":"neq","value":"Error"}]}`),
	ph("spans with http.route=/cart",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"attribute","key":"http.route","op":"eq","value":"/cart"}]}`),
	ph("spans where http.route is /cart",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"attribute","key":"http.route","op":"eq","value":"/cart"}]}`),
	ph("logs where deployment.environment.name=prod",
		`{"signal":"logs","last":"1h0m0s","filters":[{"field":"resource","key":"deployment.environment.name","op":"eq","value":"prod"}]}`),
	ph("trace 4bf92f3577b34da6a3ce929d0e0e4736",
		`{"signal":"spans","last":"24h0m0s","filters":[{"field":"trace_id","op":"eq","value":"4bf92f3577b34da6a3ce929d0e0e4736"}]}`),
	ph("correlation id olly-abc123-xyz",
		`{"signal":"spans","last":"24h0m0s","filters":[{"field":"correlation_id","op":"eq","value":"olly-abc123-xyz"}]}`),
	ph("errors for the POST /checkout endpoint",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"span_name","op":"eq","value":"POST /checkout"},{"field":"status_code","op":"eq","value":"Error"}]}`),
	ph("calls to /cart",
		`{"signal":"spans","last":"1h0m0s","filters":[{"field":"span_name","op":"contains","value":"/cart"}]}`),
}

func TestParsePhrasings(t *testing.T) {
	if len(phrasings) < 60 {
		t.Fatalf("only %d phrasings", len(phrasings))
	}
	for _, tc := range phrasings {
		t.Run(tc.question, func(t *testing.T) {
			plan, err := Parse(tc.question, testCatalog, testNow)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := mustJSON(t, plan.Query); got != tc.query {
				t.Errorf("query\n got %s\nwant %s", got, tc.query)
			}
			gotCompare := ""
			if plan.Compare != nil {
				gotCompare = mustJSON(t, plan.Compare)
			}
			if gotCompare != tc.compare || plan.CompareLabel != tc.compareLabel {
				t.Errorf("compare %q\n got %s\nwant %q %s", plan.CompareLabel, gotCompare, tc.compareLabel, tc.compare)
			}
			if plan.Derive != tc.derive || plan.Top != tc.top {
				t.Errorf("derive %q top %d, want %q top %d", plan.Derive, plan.Top, tc.derive, tc.top)
			}
			// What the API shows must be what the store accepts.
			if _, err := signalstore.ParseQuery([]byte(tc.query)); err != nil {
				t.Errorf("ParseQuery of the shown query: %v", err)
			}
			if plan.Source != SourceParser || plan.Question != tc.question || !plan.Now.Equal(testNow) || plan.Explanation == "" {
				t.Errorf("plan metadata: %+v", plan)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestParseTimeZone resolves clock words in the asker's zone, here on the
// day Berlin switches to summer time (23 hours long).
func TestParseTimeZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	now := time.Date(2026, 3, 29, 8, 15, 0, 0, berlin) // 06:15Z, CEST
	for question, want := range map[string]string{
		"errors yesterday":            `"start":"2026-03-27T23:00:00Z","end":"2026-03-28T23:00:00Z"`,
		"errors today":                `"start":"2026-03-28T23:00:00Z"`,
		"errors since 9am":            `"start":"2026-03-28T08:00:00Z"`, // 9:00 has not come yet today
		"errors since 7am":            `"start":"2026-03-29T05:00:00Z"`,
		"errors since midnight":       `"start":"2026-03-28T23:00:00Z"`,
		"errors between 1am and 4am":  `"start":"2026-03-29T00:00:00Z","end":"2026-03-29T02:00:00Z"`,
		"errors between 10pm and 1am": `"start":"2026-03-28T21:00:00Z","end":"2026-03-29T00:00:00Z"`,
		"errors since 3pm":            `"start":"2026-03-28T14:00:00Z"`, // a clock time still to come is yesterday's
	} {
		plan, err := Parse(question, testCatalog, now)
		if err != nil {
			t.Errorf("%q: %v", question, err)
			continue
		}
		if got := mustJSON(t, plan.Query); !strings.Contains(got, want) {
			t.Errorf("%q: %s, want %s", question, got, want)
		}
	}
}

// TestParseCompareAcrossDST: "yesterday" and "last week" are calendar days
// in the asker's zone. The Monday after Berlin switched to summer time,
// yesterday (a Sunday of 23 hours) began 24 hours before 23:00 today, not
// 24 hours before midnight; shifting by a fixed 24h or 168h compared with a
// window that began on Saturday 23:00.
func TestParseCompareAcrossDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	now := time.Date(2026, 3, 30, 10, 0, 0, 0, berlin) // Monday 08:00Z, CEST
	for question, want := range map[string]string{
		// Sunday 00:00 CET to Sunday 10:00 CEST.
		"errors today compared to yesterday": `"start":"2026-03-28T23:00:00Z","end":"2026-03-29T08:00:00Z"`,
		// Yesterday is Sunday; the day before is all of Saturday (24 hours).
		"errors yesterday compared to the day before": `"start":"2026-03-27T23:00:00Z","end":"2026-03-28T23:00:00Z"`,
		// This week began today, Monday 00:00 CEST; last week on Monday 00:00 CET.
		"errors this week compared to last week": `"start":"2026-03-22T23:00:00Z","end":"2026-03-23T09:00:00Z"`,
		// Not a calendar shift: the hour before, whatever the clock says.
		"errors in the last hour compared to the previous hour": `"start":"2026-03-30T06:00:00Z","end":"2026-03-30T07:00:00Z"`,
	} {
		plan, err := Parse(question, testCatalog, now)
		if err != nil {
			t.Errorf("%q: %v", question, err)
			continue
		}
		if plan.Compare == nil {
			t.Errorf("%q: no comparison", question)
			continue
		}
		if got := mustJSON(t, plan.Compare); !strings.Contains(got, want) {
			t.Errorf("%q: comparison %s, want %s", question, got, want)
		}
	}
}

func TestParseExplains(t *testing.T) {
	plan, err := Parse("p99 latency of chekout since 9am by endpoint", testCatalog, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`p99 latency`, `service_name = "checkout"`, `since 09:00`, `grouped by span_name`,
		`read "chekout" as the service "checkout"`} {
		if !strings.Contains(plan.Explanation, want) {
			t.Errorf("explanation %q lacks %q", plan.Explanation, want)
		}
	}
	plan, err = Parse("error rate by service compared to yesterday", testCatalog, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"status Error divided by all spans", "Compared with the same query between Mon 9 Mar 13:30 and Mon 9 Mar 14:30"} {
		if !strings.Contains(plan.Explanation, want) {
			t.Errorf("explanation %q lacks %q", plan.Explanation, want)
		}
	}
}

// TestParseNotUnderstood: questions that cannot be answered name what was
// not understood, or say why.
func TestParseNotUnderstood(t *testing.T) {
	for _, tc := range []struct {
		question string
		unknown  []string // exactly these, in order
		reason   string   // or a reason containing this
		hint     string   // and a hint containing this
	}{
		{question: "errors in paymnt-gatway-xyz", unknown: []string{"paymnt-gatway-xyz"}, hint: "Known services include api-gateway, cart"},
		{question: "errors in checkot-service-v2", unknown: []string{"checkot-service-v2"}},
		{question: "errors in chkout", unknown: []string{"chkout"}, hint: `Did you mean the service "checkout"?`},
		{question: "errors by region", unknown: []string{"by region"}},
		{question: "cpu usage of checkout", unknown: []string{"cpu", "usage"}},
		{question: "hello", unknown: []string{"hello"}},
		{question: "show me everything", unknown: []string{"everything"}},
		{question: "how is checkout doing", unknown: []string{"doing"}},
		{question: "errors since 25:00", unknown: []string{"since", "25:00"}},
		{question: "errors in the last hour and yesterday", unknown: []string{"a second time range"}},
		{question: "errors in checkout or cart", unknown: []string{"or"}},
		{question: "logs containing connection refused", unknown: []string{"refused"}},
		{question: "errors in /unknown/path", unknown: []string{"/unknown/path"}},
		{question: "show me", reason: "asks for nothing"},
		{question: "", reason: "asks for nothing"},
		{question: "errors in checkout and cart", reason: "one service, not checkout and cart"},
		{question: "latency of logs", reason: `"latency" applies to spans (traces), not logs`},
		{question: "logs slower than 2s", reason: `"duration" applies to spans (traces), not logs`},
		{question: "p99 latency of logs containing timeout", reason: "ask about one signal at a time"},
		{question: "spans and logs of checkout", reason: "one at a time"},
		{question: "error rate and p99 latency of checkout", reason: "two questions"},
		{question: "error rate of logs", reason: `"error rate" applies to spans`},
		{question: strings.Repeat("errors ", 200), reason: "longer than 1000 characters"},
	} {
		t.Run(tc.question[:min(len(tc.question), 40)], func(t *testing.T) {
			_, err := Parse(tc.question, testCatalog, testNow)
			checkNotUnderstood(t, err, tc.unknown, tc.reason, tc.hint)
		})
	}
	// A store that has seen nothing yet knows no names.
	_, err := Parse("errors in checkout", Catalog{}, testNow)
	checkNotUnderstood(t, err, []string{"checkout"}, "", "no service name is known yet")
}

func checkNotUnderstood(t *testing.T, err error, unknown []string, reason, hint string) {
	t.Helper()
	var nu *NotUnderstoodError
	if !errors.As(err, &nu) {
		t.Fatalf("error %v, want *NotUnderstoodError", err)
	}
	if unknown != nil && strings.Join(nu.Unknown, "|") != strings.Join(unknown, "|") {
		t.Errorf("unknown %q, want %q", nu.Unknown, unknown)
	}
	if !strings.Contains(nu.Reason, reason) {
		t.Errorf("reason %q, want it to contain %q", nu.Reason, reason)
	}
	if !strings.Contains(nu.Hint, hint) || nu.Hint == "" {
		t.Errorf("hint %q, want it to contain %q", nu.Hint, hint)
	}
	for _, u := range nu.Unknown {
		if !strings.Contains(err.Error(), u) {
			t.Errorf("message %q does not name %q", err.Error(), u)
		}
	}
}
