package httpapi

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
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
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Message: "the body is larger than " + strconv.FormatInt(maxBytes, 10) + " bytes"}
		}
		return BadRequest("reading the body failed")
	}
	if err := UnmarshalStrict(body, v); err != nil {
		return BodyError(shape, err)
	}
	return nil
}

// BodyError is the 400 for a body that did not decode into an object of
// the given shape (see DecodeJSON).
func BodyError(shape string, err error) *Error {
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, errTrailingData):
		return BadRequest("the body must hold exactly one JSON object")
	case errors.As(err, &typ) && typ.Field == "":
		return BadRequest("the body must be " + jsonKind(typ.Type) + " " + shape)
	default:
		return BadRequest("the body must be a JSON object " + shape + ": " + JSONProblem(err))
	}
}

var errTrailingData = errors.New("data after the JSON value")

// UnmarshalStrict decodes exactly one JSON value into v, refusing object
// keys that name no field. Keys match field names as in encoding/json,
// ignoring case.
func UnmarshalStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errTrailingData
	}
	return nil
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// JSONProblem describes a decoding error without echoing the input back
// and in JSON's terms, not Go's.
func JSONProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tm *time.ParseError
	switch {
	case errors.As(err, &syntax):
		return "malformed JSON at byte " + strconv.FormatInt(syntax.Offset, 10)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return "must be " + jsonKind(typ.Type)
		}
		return "field " + strconv.Quote(typ.Field) + " must be " + jsonKind(typ.Type)
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

// jsonKind names the JSON value a Go type is decoded from, with its
// article: "a JSON object", "an integer".
func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nil:
		return "a JSON value"
	case reflect.PointerTo(t).Implements(textUnmarshaler): // time.Time too
		return "a string"
	case reflect.PointerTo(t).Implements(jsonUnmarshaler):
		return "a JSON value"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a JSON object"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "a JSON array"
	case reflect.Array:
		return "a JSON array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	default:
		return "a JSON value"
	}
}
