package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"errors"
	"net/url"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	// The GenAI conventions left the main semantic conventions after
	// v1.40.0; it is the last Go package that names them.
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// chatTracer records each chat call as a span of the OpenTelemetry GenAI
// semantic conventions (the client inference span): one span for the logical
// operation, retries included, each retry an event on it. Prompt and
// completion text are never recorded: they carry the telemetry the prompt
// quotes, redacted or not.
type chatTracer struct {
	tracer trace.Tracer
	// spanName is "{gen_ai.operation.name} {gen_ai.request.model}".
	spanName string
	// request holds the attributes known before the call.
	request []attribute.KeyValue
}

func newChatTracer(tracer trace.Tracer, p Provider, model, baseURL string, maxTokens int) chatTracer {
	attrs := []attribute.KeyValue{
		semconv.GenAIOperationNameChat,
		semconv.GenAIProviderNameKey.String(string(p)),
		semconv.GenAIRequestModel(model),
		semconv.GenAIRequestMaxTokens(maxTokens),
		semconv.GenAIRequestTemperature(temperature),
	}
	// The URL was validated with the config; a parse failure only loses
	// the server attributes.
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		attrs = append(attrs, semconv.ServerAddress(u.Hostname()))
		if port := serverPort(u); port > 0 {
			attrs = append(attrs, semconv.ServerPort(port))
		}
	}
	return chatTracer{tracer: tracer, spanName: "chat " + model, request: attrs}
}

func serverPort(u *url.URL) int {
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	switch u.Scheme {
	case "https":
		return 443
	case "http":
		return 80
	}
	return 0
}

// start opens the span of one chat operation; the span in the returned
// context receives the retry events of llmClient.complete.
func (c chatTracer) start(ctx context.Context) (context.Context, trace.Span) {
	return c.tracer.Start(ctx, c.spanName, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(c.request...))
}

// endChat records what the provider answered and how the operation ended:
// err is the call's error or the validation's (invalidOutputError).
func endChat(span trace.Span, out completion, err error) {
	var attrs []attribute.KeyValue
	if out.responseModel != "" {
		attrs = append(attrs, semconv.GenAIResponseModel(out.responseModel))
	}
	if out.responseID != "" {
		attrs = append(attrs, semconv.GenAIResponseID(out.responseID))
	}
	if len(out.finishReasons) > 0 {
		attrs = append(attrs, semconv.GenAIResponseFinishReasons(out.finishReasons...))
	}
	if out.inputTokens > 0 {
		attrs = append(attrs, semconv.GenAIUsageInputTokens(out.inputTokens))
	}
	if out.outputTokens > 0 {
		attrs = append(attrs, semconv.GenAIUsageOutputTokens(out.outputTokens))
	}
	if err != nil {
		t := errorType(err)
		attrs = append(attrs, semconv.ErrorTypeKey.String(t))
		// A fixed description per error type: error messages can quote
		// the provider's or the model's text.
		desc, ok := errorDescriptions[t]
		if !ok {
			desc = "the provider answered HTTP " + t
		}
		span.SetStatus(codes.Error, desc)
	}
	span.SetAttributes(attrs...)
	span.End()
}

// retryEvent is the span event recorded when a failed attempt is sent again.
const retryEvent = "retry"

// recordRetry adds a retry event to the chat span in ctx: why the previous
// attempt failed and the ordinal of the attempt now sent again.
func recordRetry(ctx context.Context, previous error, resendCount int) {
	trace.SpanFromContext(ctx).AddEvent(retryEvent, trace.WithAttributes(
		semconv.ErrorTypeKey.String(errorType(previous)), semconv.HTTPRequestResendCount(resendCount)))
}

// Values of error.type other than an HTTP status code.
const (
	errorTypeTimeout           = "timeout"
	errorTypeCanceled          = "canceled"
	errorTypeInvalidOutput     = "invalid_output"
	errorTypeMalformedResponse = "malformed_response"
	errorTypeTransport         = "transport_error"
)

var errorDescriptions = map[string]string{
	errorTypeTimeout:           "the provider did not answer in time",
	errorTypeCanceled:          "the call was canceled",
	errorTypeInvalidOutput:     "the model's answer is not the expected JSON object",
	errorTypeMalformedResponse: "the provider's response is not the API's shape",
	errorTypeTransport:         "the request did not reach the provider or its answer was lost",
}

// errorType is the low-cardinality error.type of a failed chat: the HTTP
// status code of a non-2xx answer, or one of the errorType constants.
func errorType(err error) string {
	var se *errStatus
	var pe *parseError
	var ie *invalidOutputError
	switch {
	case errors.As(err, &ie):
		return errorTypeInvalidOutput
	case errors.Is(err, context.DeadlineExceeded):
		return errorTypeTimeout
	case errors.Is(err, context.Canceled):
		return errorTypeCanceled
	case errors.As(err, &se):
		return strconv.Itoa(se.status)
	case errors.As(err, &pe):
		return errorTypeMalformedResponse
	}
	return errorTypeTransport
}

// invalidOutputError is a provider answer whose text is not the JSON object
// the prompt asks for.
type invalidOutputError struct{ err error }

func (e *invalidOutputError) Error() string { return e.err.Error() }
func (e *invalidOutputError) Unwrap() error { return e.err }
