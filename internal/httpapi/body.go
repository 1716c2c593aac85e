package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"
)

// DecodeJSON reads a request body of at most maxBytes into v: JSON only,
// unknown fields and trailing data refused, so a typo is an error and not
// silently a different request. shape describes the expected body in error
// messages, e.g. "{correlation_id, analysis_type}".
func DecodeJSON(w http.ResponseWriter, r *http.Request, maxBytes int64, shape string, v any) *Error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return &Error{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedMedia, Message: "the body must be application/json"}
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Message: "the body is larger than " + strconv.FormatInt(maxBytes, 10) + " bytes"}
		}
		return BadRequest("the body must be a JSON object " + shape + ": " + JSONProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return BadRequest("the body must hold exactly one JSON object")
	}
	return nil
}

// JSONProblem describes a decoding error without echoing the input back.
func JSONProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tm *time.ParseError
	switch {
	case errors.As(err, &syntax):
		return "malformed JSON at byte " + strconv.FormatInt(syntax.Offset, 10)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return "must be a JSON " + typ.Type.String()
		}
		return "field " + strconv.Quote(typ.Field) + " must be a " + typ.Type.String()
	case errors.As(err, &tm):
		return "times must be RFC 3339, e.g. 2026-01-02T15:04:05Z"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "empty or truncated body"
	default:
		// DisallowUnknownFields: `json: unknown field "x"`; the name is
		// quoted by encoding/json.
		return err.Error()
	}
}
