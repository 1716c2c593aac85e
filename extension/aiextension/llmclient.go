package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxLLMResponseBytes bounds what is read from a provider.
const maxLLMResponseBytes = 1 << 20

// completion is a model's answer with what the API says about it.
type completion struct {
	text                      string
	inputTokens, outputTokens int
	responseID, responseModel string
	// finishReasons has one entry per choice the API returned.
	finishReasons []string
}

// provider is one LLM API: it builds the HTTP request and parses the answer.
type provider interface {
	name() string
	newRequest(ctx context.Context, system, user string) (*http.Request, error)
	parse(body []byte) (completion, error)
}

// errStatus is a non-2xx answer of a provider.
type errStatus struct {
	status     int
	retryAfter time.Duration
	message    string
}

func (e *errStatus) Error() string {
	return "status " + strconv.Itoa(e.status) + ": " + e.message
}

// retryable reports whether a later attempt may succeed: rate limits,
// server errors and Anthropic's "overloaded" (529).
func (e *errStatus) retryable() bool {
	return e.status == http.StatusTooManyRequests || e.status >= 500
}

// llmClient sends requests with a per-attempt timeout and retries with
// exponential backoff; each retry is an event on the chat span in the
// context.
type llmClient struct {
	p          provider
	http       *http.Client
	timeout    time.Duration
	maxRetries int
	// backoff is the first retry delay, doubled each retry up to maxBackoff.
	backoff, maxBackoff time.Duration
}

func (c *llmClient) complete(ctx context.Context, system, user string) (completion, error) {
	var lastErr error
	delay := c.backoff
	for attempt := 0; attempt <= c.maxRetries; attempt++ {
		if attempt > 0 {
			wait := delay
			var se *errStatus
			if errors.As(lastErr, &se) && se.retryAfter > wait {
				wait = min(se.retryAfter, c.maxBackoff)
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return completion{}, errors.Join(lastErr, ctx.Err())
			case <-t.C:
			}
			delay = min(2*delay, c.maxBackoff)
			recordRetry(ctx, lastErr, attempt)
		}
		out, err := c.attempt(ctx, system, user)
		if err == nil {
			return out, nil
		}
		lastErr = err
		if ctx.Err() != nil || !retryable(err) {
			break
		}
	}
	return completion{}, lastErr
}

func retryable(err error) bool {
	var se *errStatus
	if errors.As(err, &se) {
		return se.retryable()
	}
	var pe *parseError
	// A malformed answer is not retried: the same prompt tends to give the
	// same answer, and the deterministic result is there.
	return !errors.As(err, &pe)
}

// parseError is a 2xx answer that is not the API's response shape.
type parseError struct{ err error }

func (e *parseError) Error() string { return "malformed provider response: " + e.err.Error() }
func (e *parseError) Unwrap() error { return e.err }

func (c *llmClient) attempt(ctx context.Context, system, user string) (completion, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := c.p.newRequest(ctx, system, user)
	if err != nil {
		return completion{}, &parseError{err}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return completion{}, fmt.Errorf("%s request: %w", c.p.name(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxLLMResponseBytes))
	if err != nil {
		return completion{}, fmt.Errorf("%s response: %w", c.p.name(), err)
	}
	if resp.StatusCode/100 != 2 {
		se := &errStatus{status: resp.StatusCode, message: truncate(string(bytes.TrimSpace(body)), 300)}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			se.retryAfter = time.Duration(s) * time.Second
		}
		return completion{}, se
	}
	out, err := c.p.parse(body)
	if err != nil {
		return completion{}, &parseError{err}
	}
	return out, nil
}

func jsonRequest(ctx context.Context, url string, body any) (*http.Request, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	return req, nil
}
