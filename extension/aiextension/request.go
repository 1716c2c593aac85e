package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
)

// maxBodyBytes bounds the analyze request body; a real one is under 200
// bytes.
const maxBodyBytes = 4 << 10

// Analysis types.
const (
	analysisRCA        = "rca"
	analysisAnomaly    = "anomaly"
	analysisComparison = "comparison"
)

// analyzeRequest is the body of POST /api/v1/ai/analyze.
type analyzeRequest struct {
	CorrelationID string `json:"correlation_id"`
	AnalysisType  string `json:"analysis_type"`
}

// parseAnalyzeRequest reads and validates the body: size-limited, unknown
// fields and trailing data refused, so a typo is an error and not silently
// a different analysis.
func parseAnalyzeRequest(w http.ResponseWriter, r *http.Request) (analyzeRequest, *apiError) {
	var req analyzeRequest
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return req, &apiError{Status: http.StatusUnsupportedMediaType, Code: codeUnsupportedMedia, Message: "the body must be application/json"}
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return req, &apiError{Status: http.StatusRequestEntityTooLarge, Code: codeTooLarge, Message: "the body is larger than " + strconv.Itoa(maxBodyBytes) + " bytes"}
		}
		return req, badRequest("the body must be a JSON object {correlation_id, analysis_type}: " + jsonProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, badRequest("the body must hold exactly one JSON object")
	}
	if req.CorrelationID == "" {
		return req, paramError("correlation_id", "must be set")
	}
	if len(req.CorrelationID) > correlationid.MaxLength || !correlationid.Valid(req.CorrelationID) {
		return req, paramError("correlation_id", "must be 1 to "+strconv.Itoa(correlationid.MaxLength)+" characters of A-Z a-z 0-9 - _ . : @ + = ~")
	}
	switch req.AnalysisType {
	case "":
		req.AnalysisType = analysisRCA
	case analysisRCA, analysisAnomaly, analysisComparison:
	default:
		return req, paramError("analysis_type", "must be rca, anomaly or comparison")
	}
	return req, nil
}

// jsonProblem describes a decoding error without echoing the input back.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return "malformed JSON at byte " + strconv.FormatInt(syntax.Offset, 10)
	case errors.As(err, &typ):
		return "field " + strconv.Quote(typ.Field) + " must be a " + typ.Type.String()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "empty or truncated body"
	default:
		// DisallowUnknownFields: `json: unknown field "x"`; the name is
		// quoted by encoding/json.
		return err.Error()
	}
}
