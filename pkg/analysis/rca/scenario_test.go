package rca

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// rankOf returns the 1-based rank of the first hypothesis matching kind and
// service, 0 when absent.
func rankOf(hs []Hypothesis, kind Kind, service string) int {
	for i, h := range hs {
		if h.Kind == kind && h.Service == service {
			return i + 1
		}
	}
	return 0
}

func describe(res Result) string {
	var sb strings.Builder
	for i, h := range res.Hypotheses {
		fmt.Fprintf(&sb, "  %d. %-20s %-10s %-16s conf=%.3f evidence=%d\n", i+1, h.Kind, h.Service, h.Operation, h.Confidence, len(h.Evidence))
	}
	return sb.String()
}

func TestScenarioPoolExhausted(t *testing.T) {
	baseline := shopBaseline()
	res := Analyze(shopTrace(1000, shopFault{poolExhausted: true}).context(), baseline, Options{})
	t.Logf("pool exhausted:\n%s", describe(res))
	top := res.Hypotheses[0]
	if top.Service != "payment" || (top.Kind != KindResourceSaturation && top.Kind != KindErrorOrigin) {
		t.Fatalf("top hypothesis = %s on %s, want payment saturation or error origin", top.Kind, top.Service)
	}
	r := rankOf(res.Hypotheses, KindResourceSaturation, "payment")
	if r == 0 || r > 2 {
		t.Fatalf("resource_saturation on payment ranked %d", r)
	}
	sat := res.Hypotheses[r-1]
	if sat.Operation != "db.client.connections.usage" || sat.Evidence[0].Actual != 1 {
		t.Errorf("saturation evidence = %+v", sat.Evidence[0])
	}
	eo := res.Hypotheses[rankOf(res.Hypotheses, KindErrorOrigin, "payment")-1]
	if eo.Operation != "POST /charge" {
		t.Errorf("error origin operation = %q", eo.Operation)
	}
	var poolLog bool
	for _, ev := range eo.Evidence {
		poolLog = poolLog || ev.Signal == SignalLog && strings.Contains(ev.Text, "connection pool exhausted")
	}
	if !poolLog {
		t.Errorf("error origin lacks the pool-exhausted log: %+v", eo.Evidence)
	}
	// The callers only propagate: their error is not an origin.
	if rankOf(res.Hypotheses, KindErrorOrigin, "checkout") != 0 || rankOf(res.Hypotheses, KindErrorOrigin, "frontend") != 0 {
		t.Errorf("propagated errors reported as origins:\n%s", describe(res))
	}
}

func TestScenarioSlowDownstream(t *testing.T) {
	baseline := shopBaseline()
	res := Analyze(shopTrace(1000, shopFault{slowShipping: 400 * ms}).context(), baseline, Options{})
	t.Logf("slow downstream:\n%s", describe(res))
	top := res.Hypotheses[0]
	if top.Kind != KindLatencyOutlier || top.Service != "shipping" || top.Operation != "compute rates" {
		t.Fatalf("top = %s %s %q, want latency_outlier shipping \"compute rates\"", top.Kind, top.Service, top.Operation)
	}
	for _, h := range res.Hypotheses {
		if h.Kind == KindLatencyOutlier && h.Operation != "compute rates" {
			t.Errorf("parent blamed for the slow child: %s %q", h.Service, h.Operation)
		}
	}
	for _, d := range res.Deviations {
		if d.Service == "shipping" && d.Operation == "compute rates" && !(d.HasBaseline && d.MaxSelfTime > 400*ms && d.BaselineP99 < 30*ms) {
			t.Errorf("deviation = %+v", d)
		}
	}
	last := res.CriticalPath[len(res.CriticalPath)-1]
	if last.Operation != "compute rates" || last.SelfTime < 400*ms {
		t.Errorf("critical path ends at %+v", last)
	}
}

func TestScenarioBadDeploy(t *testing.T) {
	baseline := shopBaseline()
	res := Analyze(shopTrace(1000, shopFault{badDeploy: true}).context(), baseline, Options{})
	t.Logf("bad deploy:\n%s", describe(res))
	top := res.Hypotheses[0]
	if top.Kind != KindVersionChange || top.Service != "checkout" {
		t.Fatalf("top = %s on %s, want version_change on checkout", top.Kind, top.Service)
	}
	// The version change explains the error origin: its evidence holds the
	// new version and the origin's failing span.
	origin := res.Hypotheses[rankOf(res.Hypotheses, KindErrorOrigin, "checkout")-1]
	var newVersion, takenIn bool
	for _, ev := range top.Evidence {
		newVersion = newVersion || ev.Unit == "new_version" && ev.Text == "2.4.0"
		takenIn = takenIn || ev.Reason == reasonSymptomInNewVersion+": error_origin" && ev.SpanID == origin.SpanID
	}
	if !newVersion || !takenIn {
		t.Errorf("version change evidence = %+v", top.Evidence)
	}
	if top.Confidence <= origin.Confidence {
		t.Errorf("version change %.3f not above the error origin %.3f", top.Confidence, origin.Confidence)
	}
	if r := rankOf(res.Hypotheses, KindNewLogPattern, "checkout"); r == 0 || r > 4 {
		t.Fatalf("new_log_pattern on checkout ranked %d", r)
	}
	for _, h := range res.Hypotheses {
		if h.Kind == KindNewLogPattern && strings.Contains(h.Evidence[0].Text, "checkout finished") {
			t.Errorf("an INFO log was reported as a new pattern")
		}
	}
}

// deployEventTrace is the bad-deploy request of a release known only from a
// deployment event at offset at from the request's start: checkout's spans
// and logs keep the baseline's version.
func deployEventTrace(at time.Duration) Context {
	b := shopTrace(1000, shopFault{badDeploy: true})
	for i := range b.spans {
		if b.spans[i].ServiceName == "checkout" {
			b.spans[i].ResourceAttributes["service.version"] = shopVersions["checkout"]
		}
	}
	for i := range b.logs {
		if b.logs[i].ServiceName == "checkout" {
			b.logs[i].ResourceAttributes["service.version"] = shopVersions["checkout"]
		}
	}
	b.logs = append(b.logs, signalstore.LogRecord{
		Timestamp: b.base.Add(at), ServiceName: "checkout", EventName: "deployment",
		SeverityText: "INFO", SeverityNumber: 9, Body: "rolled out checkout 2.4.0",
	})
	return b.context()
}

func TestScenarioDeployEvent(t *testing.T) {
	baseline := shopBaseline()
	for _, tc := range []struct {
		name     string
		at       time.Duration
		explains bool
	}{
		{"five minutes before the errors", -5 * time.Minute, true},
		{"in the request, before the errors", time.Millisecond, true},
		{"after the errors", 10 * time.Second, false},
		{"beyond the deploy window", -2 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Analyze(deployEventTrace(tc.at), baseline, Options{})
			r := rankOf(res.Hypotheses, KindVersionChange, "checkout")
			if r == 0 {
				t.Fatalf("no version change:\n%s", describe(res))
			}
			v := res.Hypotheses[r-1]
			var takenIn bool
			for _, ev := range v.Evidence {
				takenIn = takenIn || strings.HasPrefix(ev.Reason, reasonSymptomAfterDeploy)
			}
			if tc.explains != (r == 1) || tc.explains != takenIn {
				t.Errorf("version change ranked %d, symptom taken in %v, want first and taken in = %v:\n%s", r, takenIn, tc.explains, describe(res))
			}
		})
	}
}

// TestScenarioSymptomsInOldVersion: a new version seen in the request does
// not explain errors that the old version produced.
func TestScenarioSymptomsInOldVersion(t *testing.T) {
	b := shopTrace(1000, shopFault{badDeploy: true})
	for i := range b.spans {
		s := &b.spans[i]
		if s.ServiceName == "checkout" && s.SpanName != "POST /quote" {
			s.ResourceAttributes["service.version"] = shopVersions["checkout"]
		}
	}
	for i := range b.logs {
		if b.logs[i].ServiceName == "checkout" {
			b.logs[i].ResourceAttributes["service.version"] = shopVersions["checkout"]
		}
	}
	res := Analyze(b.context(), shopBaseline(), Options{})
	r := rankOf(res.Hypotheses, KindVersionChange, "checkout")
	if r <= 1 || len(res.Hypotheses[r-1].Evidence) != 1 {
		t.Errorf("version change ranked %d with %d evidence items, want below its unrelated symptoms with its own item only:\n%s",
			r, len(res.Hypotheses[r-1].Evidence), describe(res))
	}
}

func TestScenarioRetryStorm(t *testing.T) {
	baseline := shopBaseline()
	res := Analyze(shopTrace(1000, shopFault{retryStorm: 6}).context(), baseline, Options{})
	t.Logf("retry storm:\n%s", describe(res))
	top := res.Hypotheses[0]
	if top.Kind != KindDependencyFailure || top.Service != "inventory" {
		t.Fatalf("top = %s on %s, want dependency_failure on inventory", top.Kind, top.Service)
	}
	var retries float64
	for _, ev := range top.Evidence {
		if strings.Contains(ev.Reason, "retries") {
			retries = ev.Actual
		}
	}
	if retries != 5 {
		t.Errorf("retries = %v, want 5", retries)
	}
}

// TestScenarioHealthy checks that a normal request produces no strong
// hypothesis.
func TestScenarioHealthy(t *testing.T) {
	baseline := shopBaseline()
	res := Analyze(shopTrace(3, shopFault{}).context(), baseline, Options{})
	for _, h := range res.Hypotheses {
		if h.Confidence > 0.3 {
			t.Errorf("healthy request: %s on %s conf %.2f", h.Kind, h.Service, h.Confidence)
		}
	}
	if res.Duration <= 0 || res.Duration > time.Second {
		t.Errorf("duration = %v", res.Duration)
	}
}

// TestSaturationNonFiniteValues: a utilisation that is not a number (an
// infinite ratio, a usage so large its ratio to the limit overflows) is no
// measurement, and must not reach the result, which is served as JSON.
func TestSaturationNonFiniteValues(t *testing.T) {
	b := shopTrace(1000, shopFault{})
	b.gauge("payment", "system.cpu.utilization", math.Inf(1), nil)
	b.gauge("payment", "db.client.connections.usage", 1e308, map[string]string{"state": "used"})
	b.gauge("payment", "db.client.connections.max", 0.5, nil)
	// A real saturation whose queueing metric is infinite.
	b.gauge("inventory", "db.client.connections.usage", 50, map[string]string{"state": "used"})
	b.gauge("inventory", "db.client.connections.max", 50, nil)
	b.gauge("inventory", "db.client.connections.pending_requests", math.Inf(1), nil)
	res := Analyze(b.context(), shopBaseline(), Options{})
	if _, err := json.Marshal(res); err != nil {
		t.Fatalf("result cannot be encoded: %v\n%s", err, describe(res))
	}
	if r := rankOf(res.Hypotheses, KindResourceSaturation, "payment"); r != 0 {
		t.Errorf("saturation from non-finite values ranked %d:\n%s", r, describe(res))
	}
	if r := rankOf(res.Hypotheses, KindResourceSaturation, "inventory"); r == 0 || len(res.Hypotheses[r-1].Evidence) != 1 {
		t.Errorf("inventory saturation missing or with the infinite queue as evidence:\n%s", describe(res))
	}
}
