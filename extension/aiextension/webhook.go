package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/extension/aiextension/internal/metadata"
)

// notifier posts a Slack-compatible message ({"text": ...}, which Slack,
// Mattermost and Rocket.Chat incoming webhooks accept) when an
// investigation ends.
type notifier struct {
	endpoint string
	client   *http.Client
	linkBase string
	logger   *zap.Logger
	tb       *metadata.TelemetryBuilder
}

// webhookMessage is the body sent.
type webhookMessage struct {
	Text string `json:"text"`
}

// maxWebhookText keeps the message within what chat services accept.
const maxWebhookText = 3000

func (n *notifier) notify(ctx context.Context, inv *investigation) {
	err := n.post(ctx, webhookMessage{Text: n.text(inv)})
	outcome := "ok"
	if err != nil {
		outcome = "error"
		n.logger.Warn("Investigation webhook failed", zap.String("id", inv.ID), zap.Error(err))
	}
	n.tb.WebhookCalls.Add(context.WithoutCancel(ctx), 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", outcome))))
}

func (n *notifier) post(ctx context.Context, msg webhookMessage) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
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
