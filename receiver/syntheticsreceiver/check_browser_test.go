package syntheticsreceiver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/ollystack/ollystack/receiver/syntheticsreceiver/internal/metadata"
)

// chromiumForTest returns the Chromium binary, or skips the test when there
// is none outside CI (`make chromium` installs it); in CI a missing
// browser is a failure, so browser checks cannot silently go untested.
func chromiumForTest(t *testing.T) string {
	t.Helper()
	path, err := findChromium(os.Getenv("OLLYSTACK_CHROMIUM"))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and Chromium is missing: %v", err)
		}
		t.Skipf("skipping browser test: %v (run `make chromium`, or set CI to make this a failure)", err)
	}
	return path
}

const shopPage = `<!doctype html>
<html><head><title>Shop</title></head><body>
<input id="q"><button id="go">Search</button><div id="result"></div>
<script>
document.getElementById('go').addEventListener('click', async () => {
  const q = document.getElementById('q').value;
  const r = await fetch('/api/search?q=' + encodeURIComponent(q));
  document.getElementById('result').textContent = await r.text();
});
</script></body></html>`

func shopServer(t *testing.T) (*httptest.Server, *recordingBackend, *recordingBackend) {
	t.Helper()
	pages, api := &recordingBackend{}, &recordingBackend{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		pages.record(r)
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, shopPage)
	})
	mux.HandleFunc("GET /api/search", func(w http.ResponseWriter, r *http.Request) {
		api.record(r)
		_, _ = io.WriteString(w, "found "+r.URL.Query().Get("q"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, pages, api
}

func browserCheck(chromium, url string, steps ...BrowserStepConfig) *Config {
	cfg := oneCheck(CheckConfig{Name: "search", Type: typeBrowser, Timeout: 60 * time.Second,
		Browser: &BrowserCheckConfig{URL: url, Steps: steps}})
	cfg.ChromiumPath = chromium
	return cfg
}

func TestBrowserCheckJourney(t *testing.T) {
	chromium := chromiumForTest(t)
	srv, pages, api := shopServer(t)
	s, _ := startReceiver(t, browserCheck(chromium, srv.URL+"/",
		BrowserStepConfig{Action: actionWaitVisible, Selector: "#q"},
		BrowserStepConfig{Action: actionType, Selector: "#q", Text: "shoes"},
		BrowserStepConfig{Name: "search", Action: actionClick, Selector: "#go"},
		BrowserStepConfig{Action: actionAssertText, Selector: "#result", Text: "found shoes"},
	))

	spans := s.firstRun(t)
	names := make([]string, len(spans))
	for i, sp := range spans {
		names[i] = sp.Name()
		assert.Equal(t, ptrace.StatusCodeOk, sp.Status().Code(), "%s: %s", sp.Name(), sp.Status().Message())
	}
	assert.Equal(t, []string{"synthetics.check search", "browser.start", "navigate " + srv.URL + "/",
		"wait_visible #q", "type #q", "search", "assert_text #result"}, names)

	navigate, click := spans[2], spans[5]
	_, hasLoad := navigate.Attributes().Get("browser.page.load_ms")
	assert.True(t, hasLoad, "page load timing is recorded")
	assert.Equal(t, "200", attrStr(navigate.Attributes(), "http.response.status_code"))

	corrID := attrStr(spans[0].Attributes(), attrCorrelationID)
	page, _ := pages.first()
	assert.Equal(t, "00-"+navigate.TraceID().String()+"-"+navigate.SpanID().String()+"-01", page.Get("traceparent"))
	assert.Equal(t, corrID, page.Get("X-Correlation-ID"))
	xhr, _ := api.first()
	assert.Equal(t, "00-"+click.TraceID().String()+"-"+click.SpanID().String()+"-01", xhr.Get("traceparent"),
		"the request the click triggers is a child of the click step")
	assert.Equal(t, "correlation_id="+corrID+",synthetic=true", xhr.Get("baggage"))
	assert.Equal(t, int64(1), successValue(t, s.waitMetrics(t)))
}

func TestBrowserCheckAssertTextFails(t *testing.T) {
	chromium := chromiumForTest(t)
	srv, _, _ := shopServer(t)
	s, _ := startReceiver(t, browserCheck(chromium, srv.URL+"/",
		BrowserStepConfig{Action: actionAssertText, Selector: "#go", Text: "Checkout"},
	))
	rec := s.waitFailureLog(t)
	assert.Equal(t, "assert_text #go", attrStr(rec.Attributes(), "assertion"))
	assert.Equal(t, "Search", attrStr(rec.Attributes(), "actual"))
	assert.Equal(t, `containing "Checkout"`, attrStr(rec.Attributes(), "expected"))
	assert.Equal(t, "assert_text #go", attrStr(rec.Attributes(), attrStepName))
}

func TestBrowserCheckNeedsChromium(t *testing.T) {
	cfg := browserCheck(t.TempDir()+"/no-chromium", "http://127.0.0.1/")
	r, err := newReceiver(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	err = r.Start(t.Context(), nil)
	require.ErrorContains(t, err, "synthetics: chromium_path:")
	require.NoError(t, r.Shutdown(t.Context()))

	t.Setenv("PATH", t.TempDir())
	cfg.ChromiumPath = ""
	r, err = newReceiver(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	err = r.Start(t.Context(), nil)
	require.ErrorContains(t, err, "browser checks need Chromium")
	require.ErrorContains(t, err, "set chromium_path")
	require.NoError(t, r.Shutdown(t.Context()))
}
