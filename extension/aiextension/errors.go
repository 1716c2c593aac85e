package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Error codes of the JSON error shape shared with the correlate API.
const (
	codeInvalidParameter = "invalid_parameter"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeTooLarge         = "request_too_large"
	codeUnsupportedMedia = "unsupported_media_type"
	codeUnavailable      = "store_unavailable"
	codeTimeout          = "timeout"
	codeInternal         = "internal"
)

// apiError is the body of every non-2xx answer:
// {"error":{"status":400,"code":"invalid_parameter","message":"...","parameter":"analysis_type"}}.
type apiError struct {
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Parameter string `json:"parameter,omitempty"`
}

func (e *apiError) Error() string { return e.Message }

type errorBody struct {
	Error *apiError `json:"error"`
}

// paramError is a 400 naming the offending parameter.
func paramError(param, message string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: codeInvalidParameter, Parameter: param, Message: param + ": " + message}
}

func badRequest(message string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: codeInvalidParameter, Message: message}
}

func notFound(message string) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: message}
}

// storeError maps a read failure to the status a client can act on: retry
// later (503), narrow the request (504), or report a bug (500).
func storeError(err error) *apiError {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &apiError{Status: http.StatusGatewayTimeout, Code: codeTimeout, Message: "the store did not answer in time"}
	case errors.Is(err, signalstore.ErrClosed), errors.Is(err, context.Canceled):
		return &apiError{Status: http.StatusServiceUnavailable, Code: codeUnavailable, Message: "the store is unavailable"}
	default:
		return &apiError{Status: http.StatusInternalServerError, Code: codeInternal, Message: "reading the store failed"}
	}
}

func writeJSON(w http.ResponseWriter, logger *zap.Logger, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(body); err != nil {
		// The client went away mid-answer; nothing left to tell it.
		logger.Debug("Writing AI API response failed", zap.Error(err))
	}
}

func writeError(w http.ResponseWriter, logger *zap.Logger, e *apiError) {
	writeJSON(w, logger, e.Status, errorBody{Error: e})
}
