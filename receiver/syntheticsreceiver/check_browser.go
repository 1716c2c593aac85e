package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
)

// chromiumNames are looked up on PATH when chromium_path is not set.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// findChromium resolves the browser binary at start, so a missing Chromium
// is one clear startup error rather than a failure on every run.
func findChromium(configured string) (string, error) {
	if configured != "" {
		info, err := os.Stat(configured)
		if err != nil {
			return "", fmt.Errorf("chromium_path: %w", err)
		}
		if info.IsDir() || info.Mode()&0o111 == 0 {
			return "", fmt.Errorf("chromium_path: %q is not an executable file", configured)
		}
		return configured, nil
	}
	for _, name := range chromiumNames {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("browser checks need Chromium, but none of %s is on PATH: install it (Debian: apt-get install chromium) or set chromium_path",
		strings.Join(chromiumNames, ", "))
}

// browserRunner starts a fresh headless Chromium for every run: no cookie,
// cache or service worker leaks from one run into the next, and the run's
// timeout kills the browser with everything it started.
type browserRunner struct {
	chromium string
	cfg      BrowserCheckConfig
	logger   *zap.Logger
}

func (b *browserRunner) allocatorOptions() []chromedp.ExecAllocatorOption {
	// chromedp's defaults already run headless with background networking
	// off and a temporary user-data-dir it removes afterwards; the rest keep
	// Chromium from phoning home, which matters on hosts without egress.
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(b.chromium),
		// Collectors often run as root in containers, where the sandbox
		// cannot start.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
	)
}

func (b *browserRunner) run(ctx context.Context, r *run) *assertionFailure {
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, b.allocatorOptions()...)
	defer cancelAlloc() // waits for the browser process to exit
	debugf := func(format string, args ...any) { b.logger.Debug("chromedp: " + fmt.Sprintf(format, args...)) }
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(debugf), chromedp.WithErrorf(debugf))
	defer cancelTab()

	start := r.startStep("browser.start", ptrace.SpanKindInternal)
	if err := chromedp.Do(tabCtx); err != nil {
		return start.finish(browserFailure("start", "a running Chromium", err))
	}
	start.finish(nil)

	steps := append([]BrowserStepConfig{{Action: actionNavigate, URL: b.cfg.URL}}, b.cfg.Steps...)
	for i := range steps {
		if f := b.runStep(tabCtx, r, &steps[i]); f != nil {
			return f
		}
	}
	return nil
}

func (b *browserRunner) runStep(ctx context.Context, r *run, cfg *BrowserStepConfig) *assertionFailure {
	kind := ptrace.SpanKindInternal
	if cfg.Action == actionNavigate {
		kind = ptrace.SpanKindClient
	}
	s := r.startStep(cfg.stepName(), kind)
	s.attrs.PutStr("browser.action", cfg.Action)
	if cfg.Selector != "" {
		s.attrs.PutStr("browser.selector", cfg.Selector)
	}
	// Requests the page makes during this step (the document, XHR after a
	// click) carry this step's span as their parent.
	headers := network.Headers{}
	for _, h := range r.propagationHeaders(s) {
		headers[h[0]] = h[1]
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: headers}); err != nil {
		return s.finish(browserFailure(cfg.Action, "propagation headers set", err))
	}
	sel := chromedp.CSS(cfg.Selector)
	switch cfg.Action {
	case actionNavigate:
		return s.finish(b.navigate(ctx, s, cfg.URL))
	case actionWaitVisible:
		return s.finish(browserFailure(cfg.Action, cfg.Selector+" visible", chromedp.Do(ctx, chromedp.WaitVisible(sel))))
	case actionClick:
		return s.finish(browserFailure(cfg.Action, cfg.Selector+" clicked", chromedp.Do(ctx, chromedp.Click(sel))))
	case actionType:
		return s.finish(browserFailure(cfg.Action, "text typed into "+cfg.Selector, chromedp.Do(ctx, chromedp.SendKeys(sel, cfg.Text))))
	default: // actionAssertText; Validate allows nothing else
		return s.finish(assertText(ctx, cfg.Selector, cfg.Text))
	}
}

// assertTextWait bounds how long assert_text waits for the text to show up
// (pages update asynchronously after a click), like Playwright's expect.
const assertTextWait = 5 * time.Second

// assertText polls the element's visible text until it contains want.
func assertText(ctx context.Context, selector, want string) *assertionFailure {
	ctx, cancel := context.WithTimeout(ctx, assertTextWait)
	defer cancel()
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	var lastText string
	var lastErr error
	attempted := false
	for {
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector)))
		if err == nil && strings.Contains(text, want) {
			return nil
		}
		// The attempt the deadline cuts short says nothing about the page;
		// report what the last complete attempt saw.
		if !attempted || ctx.Err() == nil {
			lastText, lastErr, attempted = text, err, true
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return browserFailure(actionAssertText, "text of "+selector, lastErr)
			}
			return &assertionFailure{assertion: "assert_text " + selector,
				expected: "containing " + strconv.Quote(want), actual: truncate(lastText)}
		case <-ticker.C:
		}
	}
}

// navigationTiming is the part of the Navigation Timing API a run reports,
// in milliseconds since navigation start.
type navigationTiming struct {
	ResponseStart            float64 `json:"responseStart"`
	DOMContentLoadedEventEnd float64 `json:"domContentLoadedEventEnd"`
	LoadEventEnd             float64 `json:"loadEventEnd"`
}

const navigationTimingJS = `(() => {
	const n = performance.getEntriesByType('navigation')[0];
	return n ? {responseStart: n.responseStart, domContentLoadedEventEnd: n.domContentLoadedEventEnd, loadEventEnd: n.loadEventEnd} : null;
})()`

func (b *browserRunner) navigate(ctx context.Context, s *step, url string) *assertionFailure {
	s.attrs.PutStr("url.full", redactURL(url))
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		return browserFailure(actionNavigate, "page "+redactURL(url)+" loaded", err)
	}
	if resp != nil {
		s.attrs.PutInt("http.response.status_code", resp.Status)
		if resp.Status >= 400 {
			return &assertionFailure{assertion: "navigate status", expected: "status below 400", actual: strconv.FormatInt(resp.Status, 10)}
		}
	}
	timing, err := chromedp.Run(ctx, chromedp.Evaluate[*navigationTiming](navigationTimingJS))
	if err == nil && timing != nil {
		s.attrs.PutDouble("browser.page.time_to_first_byte_ms", timing.ResponseStart)
		s.attrs.PutDouble("browser.page.dom_content_loaded_ms", timing.DOMContentLoadedEventEnd)
		s.attrs.PutDouble("browser.page.load_ms", timing.LoadEventEnd)
	}
	return nil
}

// browserFailure turns a chromedp error into a failure; nil stays nil.
func browserFailure(action, expected string, err error) *assertionFailure {
	if err == nil {
		return nil
	}
	actual := err.Error()
	if errors.Is(err, context.DeadlineExceeded) {
		actual = "timed out: " + actual
	}
	return &assertionFailure{assertion: action, expected: expected, actual: truncate(actual)}
}

func (b *browserRunner) close() {}
