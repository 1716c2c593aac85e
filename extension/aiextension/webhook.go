package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v7"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/extension/aiextension/internal/metadata"
)

// notifier posts a Slack-compatible message ({"text": ...}, which Slack,
// Mattermost and Rocket.Chat incoming webhooks accept) when an
// investigation ends. Messages wait in a bounded queue and are delivered
// one at a time by run, with retries, so a webhook that is down holds
// neither the investigation workers nor Shutdown.
type notifier struct {
	endpoint string
	client   *http.Client
	retry    configretry.BackOffConfig
	linkBase string
	logger   *zap.Logger
	tb       *metadata.TelemetryBuilder

	mu      sync.Mutex
	stopped bool // run has returned: nothing more is delivered
	pending chan notification
}

// notification is one message waiting for delivery.
type notification struct {
	id   string // the investigation's, for logs
	body []byte
}

// webhookMessage is the body sent.
type webhookMessage struct {
	Text string `json:"text"`
}

// maxWebhookText keeps the message within what chat services accept.
const maxWebhookText = 3000

// maxLinkBaseURL bounds link_base_url so that a message's link leaves most
// of maxWebhookText to its text.
const maxLinkBaseURL = 1024

// maxPendingNotifications bounds the messages waiting while one is being
// delivered (or retried); past it new ones are dropped.
const maxPendingNotifications = 100

// Outcomes of a notification (otelcol_ai_webhook_calls).
const (
	webhookOK      = "ok"      // delivered
	webhookError   = "error"   // refused (not 2xx, 408, 429 or 5xx), or retries exhausted
	webhookDropped = "dropped" // shutdown, or too many waiting
)

func newNotifier(endpoint string, client *http.Client, retry configretry.BackOffConfig, linkBase string, logger *zap.Logger, tb *metadata.TelemetryBuilder) *notifier {
	return &notifier{
		endpoint: endpoint, client: client, retry: retry, linkBase: linkBase, logger: logger, tb: tb,
		pending: make(chan notification, maxPendingNotifications),
	}
}

// notify queues the message of an ended investigation; it never blocks.
func (n *notifier) notify(inv *investigation) {
	body, _ := json.Marshal(webhookMessage{Text: n.text(inv)}) // one string: cannot fail
	msg := notification{id: inv.ID, body: body}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		n.drop(msg, "shutting down", nil)
		return
	}
	select {
	case n.pending <- msg:
	default:
		n.drop(msg, "too many notifications waiting", nil)
	}
}

// run delivers the queued messages until ctx is cancelled (Shutdown); the
// message being delivered then and those still queued are dropped.
func (n *notifier) run(ctx context.Context) {
	defer n.stop()
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-n.pending:
			n.deliver(ctx, msg)
		}
	}
}

// stop drops what is still queued and makes later notify calls drop theirs.
func (n *notifier) stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.stopped = true
	for {
		select {
		case msg := <-n.pending:
			n.drop(msg, "shutting down", nil)
		default:
			return
		}
	}
}

// deliver posts msg, retrying network errors, 408, 429 and 5xx with
// exponential backoff and jitter (webhook_retry) until it is accepted, the
// webhook refuses it, max_elapsed_time has passed or ctx is cancelled.
// Every attempt is bounded by the client's timeout.
func (n *notifier) deliver(ctx context.Context, msg notification) {
	bo := newBackoff(n.retry)
	var deadline time.Time
	if n.retry.MaxElapsedTime > 0 {
		deadline = time.Now().Add(n.retry.MaxElapsedTime)
	}
	for attempt := 1; ; attempt++ {
		err := n.post(ctx, msg.body)
		if err == nil {
			n.record(webhookOK)
			return
		}
		if ctx.Err() != nil {
			n.drop(msg, "shutting down", err)
			return
		}
		wait, ok := n.nextWait(bo, err, deadline)
		if !ok {
			reason := "retries exhausted"
			if !isRetryableWebhookError(err) {
				reason = "not retryable"
			} else if !n.retry.Enabled {
				reason = "retries disabled"
			}
			n.logger.Warn("Investigation webhook failed; the message is lost", zap.String("id", msg.id),
				zap.String("reason", reason), zap.Int("attempts", attempt), zap.Error(err))
			n.record(webhookError)
			return
		}
		n.logger.Info("Investigation webhook failed; retrying", zap.String("id", msg.id),
			zap.Int("attempt", attempt), zap.Duration("interval", wait), zap.Error(err))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			n.drop(msg, "shutting down", err)
			return
		case <-t.C:
		}
		n.tb.WebhookRetries.Add(context.Background(), 1)
	}
}

// newBackoff gives the jittered exponential intervals of cfg; like the
// collector's exporterhelper retry sender, the caller keeps the deadline.
func newBackoff(cfg configretry.BackOffConfig) *backoff.ExponentialBackOff {
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     cfg.InitialInterval,
		RandomizationFactor: cfg.RandomizationFactor,
		Multiplier:          cfg.Multiplier,
		MaxInterval:         cfg.MaxInterval,
	}
	bo.Reset()
	return bo
}

// nextWait is the wait before the next attempt after err, and false when
// there is none: err is not retryable, retries are disabled or the
// deadline (zero: none) has passed. A wait never reaches past the
// deadline, so the last attempt is made at it.
func (n *notifier) nextWait(bo *backoff.ExponentialBackOff, err error, deadline time.Time) (time.Duration, bool) {
	if !n.retry.Enabled || !isRetryableWebhookError(err) {
		return 0, false
	}
	wait := bo.NextBackOff()
	var se *webhookStatusError
	if errors.As(err, &se) {
		wait = retryWait(wait, se.retryAfter, n.retry.MaxInterval)
	}
	if !deadline.IsZero() {
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return 0, false
		}
		wait = min(wait, remaining)
	}
	return wait, true
}

// retryWait honours a Retry-After: the backoff's delay, or longer when the
// webhook asked for it, but never longer than max_interval for its sake.
func retryWait(backoffDelay, retryAfter, maxInterval time.Duration) time.Duration {
	return max(backoffDelay, min(retryAfter, maxInterval))
}

// webhookStatusError is a non-2xx answer.
type webhookStatusError struct {
	code   int
	status string
	body   string // the start of the answer, which names the problem (Slack: "invalid_payload", "no_service")
	// retryAfter is the Retry-After of a 429 or 503; zero when absent.
	retryAfter time.Duration
}

func (e *webhookStatusError) Error() string {
	if e.body == "" {
		return "webhook answered " + e.status
	}
	return "webhook answered " + e.status + ": " + e.body
}

// isRetryableWebhookError reports whether a later attempt may succeed:
// network errors, 408, 429 and 5xx. Other answers mean the message or the
// webhook's configuration is wrong and sending it again will not help.
func isRetryableWebhookError(err error) bool {
	var se *webhookStatusError
	if !errors.As(err, &se) {
		return true // transport: refused, reset, timed out, DNS
	}
	return se.code == http.StatusRequestTimeout || se.code == http.StatusTooManyRequests || se.code >= 500
}

// maxWebhookAnswer bounds what is read of an answer; the rest is dropped
// with the connection.
const maxWebhookAnswer = 64 << 10

// post makes one attempt.
func (n *notifier) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		// The error names the URL, which is a chat webhook's credential:
		// keep only what went wrong, for the logs.
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("%s: %w", ue.Op, ue.Err)
		}
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxWebhookAnswer))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	se := &webhookStatusError{code: resp.StatusCode, status: resp.Status, body: truncate(string(bytes.TrimSpace(answer)), 200)}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		se.retryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return se
}

// maxRetryAfter bounds a parsed Retry-After, so a huge value cannot
// overflow; waits are capped far lower by webhook_retry::max_interval.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After value (RFC 9110, section 10.2.3):
// delay-seconds, or an HTTP date, counted from now (a past one is zero).
// The result is within [0, maxRetryAfter]; false means there is none or it
// is malformed.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err == nil {
			return time.Duration(min(secs, uint64(maxRetryAfter/time.Second))) * time.Second, true
		}
		if errors.Is(err, strconv.ErrRange) {
			return maxRetryAfter, true
		}
		// Not only digits: an HTTP date never starts with one either.
		return 0, false
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(at.Sub(now), 0), maxRetryAfter), true
}

// drop counts and logs a message that will not be delivered; err is the
// last attempt's, if any.
func (n *notifier) drop(msg notification, reason string, err error) {
	fields := []zap.Field{zap.String("id", msg.id), zap.String("reason", reason)}
	if err != nil {
		fields = append(fields, zap.Error(err))
	}
	n.logger.Warn("Investigation webhook message dropped", fields...)
	n.record(webhookDropped)
}

func (n *notifier) record(outcome string) {
	n.tb.WebhookCalls.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", outcome))))
}

// text is the message: status, trigger, summary and a link. Values read
// from telemetry are in the summary only as names, never as markup: the
// characters chat services treat as markup are escaped.
func (n *notifier) text(inv *investigation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "OllyStack investigation %s %s", inv.ID, inv.Status)
	if inv.Trigger.AlertName != "" {
		fmt.Fprintf(&b, " (alert %s)", inv.Trigger.AlertName)
	}
	b.WriteString(": ")
	if inv.Status == statusFailed {
		b.WriteString(inv.Error)
	} else {
		b.WriteString(inv.Summary)
	}
	for _, h := range inv.Hypotheses[:min(len(inv.Hypotheses), 1)] {
		for _, rb := range h.Runbooks[:min(len(h.Runbooks), 1)] {
			fmt.Fprintf(&b, " Runbook: %s.", rb.Name)
		}
	}
	link := "/api/v1/ai/investigations/" + inv.ID
	if n.linkBase != "" {
		link = strings.TrimRight(n.linkBase, "/") + link
	}
	text := escapeMarkup(b.String())
	if limit := maxWebhookText - len(link) - 1; len(text) > limit {
		text = truncate(text, limit-len("…"))
		// Do not leave half an entity such as "&am".
		if i := strings.LastIndexByte(text, '&'); i >= 0 && !strings.Contains(text[i:], ";") {
			text = text[:i]
		}
	}
	return text + " " + link
}

// escapeMarkup escapes what Slack's mrkdwn gives meaning to (&, <, >).
func escapeMarkup(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
