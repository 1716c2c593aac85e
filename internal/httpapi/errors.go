package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Error codes of the stable JSON error shape.
const (
	CodeInvalidParameter = "invalid_parameter"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeTooLarge         = "request_too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeUnprocessable    = "not_understood"
	CodeUnavailable      = "store_unavailable"
	CodeShuttingDown     = "shutting_down"
	CodeBusy             = "busy"
	CodeModelUnavailable = "model_unavailable"
	CodeTimeout          = "timeout"
	CodeInternal         = "internal"
)

// Error is the body of every non-2xx answer:
// {"error":{"status":400,"code":"invalid_parameter","message":"...","parameter":"limit"}}.
type Error struct {
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Parameter string `json:"parameter,omitempty"`
}

func (e *Error) Error() string { return e.Message }

type errorBody struct {
	Error *Error `json:"error"`
}

// ParamError is a 400 naming the offending parameter.
func ParamError(param, message string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidParameter, Parameter: param, Message: param + ": " + message}
}

// BadRequest is a 400 about the request as a whole.
func BadRequest(message string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidParameter, Message: message}
}

// NotFound is a 404.
func NotFound(message string) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: message}
}

// MethodNotAllowed is a 405 that sets the Allow header.
func MethodNotAllowed(w http.ResponseWriter, allow string) *Error {
	w.Header().Set("Allow", allow)
	return &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed, Message: "only " + allow + " is supported"}
}

// Internal is a 500 that tells the client nothing of the cause.
func Internal() *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error"}
}

// StoreError maps a read failure to the status a client can act on: retry
// later (503), narrow the request (504), or report a bug (500).
func StoreError(err error) *Error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusGatewayTimeout, Code: CodeTimeout, Message: "the store did not answer in time"}
	case errors.Is(err, signalstore.ErrClosed), errors.Is(err, context.Canceled):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "the store is unavailable"}
	default:
		return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "reading the store failed"}
	}
}

// WriteJSON writes body as the JSON answer with the given status. The body
// is encoded before the status is sent, so one that cannot be encoded (a
// non-finite float, say) is answered with a 500, not a 2xx with no body.
func WriteJSON(w http.ResponseWriter, logger *zap.Logger, status int, body any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(body); err != nil {
		logger.Error("Encoding an API response failed", zap.Int("status", status), zap.Error(err))
		WriteError(w, logger, Internal()) // always encodes
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if _, err := w.Write(buf.Bytes()); err != nil {
		// The client went away mid-answer; nothing left to tell it.
		logger.Debug("Writing an API response failed", zap.Error(err))
	}
}

// WriteError writes e in the error shape.
func WriteError(w http.ResponseWriter, logger *zap.Logger, e *Error) {
	WriteJSON(w, logger, e.Status, errorBody{Error: e})
}
