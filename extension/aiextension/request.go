package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"net/http"
	"strconv"

	"github.com/ollystack/ollystack/internal/httpapi"
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

// parseAnalyzeRequest reads and validates the body.
func parseAnalyzeRequest(w http.ResponseWriter, r *http.Request) (analyzeRequest, *httpapi.Error) {
	var req analyzeRequest
	if aerr := httpapi.DecodeJSON(w, r, maxBodyBytes, "{correlation_id, analysis_type}", &req); aerr != nil {
		return req, aerr
	}
	if aerr := checkCorrelationID("correlation_id", req.CorrelationID, true); aerr != nil {
		return req, aerr
	}
	switch req.AnalysisType {
	case "":
		req.AnalysisType = analysisRCA
	case analysisRCA, analysisAnomaly, analysisComparison:
	default:
		return req, httpapi.ParamError("analysis_type", "must be rca, anomaly or comparison")
	}
	return req, nil
}

// checkCorrelationID validates an id given by a client.
func checkCorrelationID(param, id string, required bool) *httpapi.Error {
	if id == "" {
		if required {
			return httpapi.ParamError(param, "must be set")
		}
		return nil
	}
	if len(id) > correlationid.MaxLength || !correlationid.Valid(id) {
		return httpapi.ParamError(param, "must be 1 to "+strconv.Itoa(correlationid.MaxLength)+" characters of A-Z a-z 0-9 - _ . : @ + = ~")
	}
	return nil
}
