package signalstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// ErrInvalidDocument is wrapped by the errors of Document.Validate,
// DocumentFilter.Validate and ValidateDocumentKey, and so by every
// DocumentStore call they reject: the caller's input is wrong, retrying
// cannot help.
var ErrInvalidDocument = errors.New("signalstore: invalid document")

// MinTime and MaxTime bound the times a store can hold or compare: every
// backend keeps them as Unix nanoseconds, which an int64 holds from September
// 1677 to April 2262 only; outside, a time wraps around.
var (
	MinTime = time.Unix(0, -1<<63)
	MaxTime = time.Unix(0, 1<<63-1)
)

// Storable reports whether t lies within MinTime..MaxTime.
func Storable(t time.Time) bool { return !t.Before(MinTime) && !t.After(MaxTime) }

// Validate reports every problem that makes PutDocument refuse the
// document, in an error wrapping ErrInvalidDocument.
func (d Document) Validate() error {
	errs := []error{checkDocumentKey("kind", d.Kind), checkDocumentKey("id", d.ID)}
	if d.Ref != "" {
		errs = append(errs, checkDocumentKey("ref", d.Ref))
	}
	switch {
	case len(d.Body) == 0:
		errs = append(errs, errors.New("body is empty; want a JSON value"))
	case len(d.Body) > MaxDocumentBytes:
		errs = append(errs, fmt.Errorf("body has %d bytes; at most %d", len(d.Body), MaxDocumentBytes))
	case !json.Valid(d.Body):
		errs = append(errs, errors.New("body is not valid JSON"))
	}
	switch {
	case d.Updated.IsZero():
		errs = append(errs, errors.New("updated is not set"))
	case !Storable(d.Updated):
		errs = append(errs, fmt.Errorf("updated %s is outside the years 1678 to 2262 that backends store", d.Updated))
	}
	return invalidDocument(errs)
}

// Validate reports the problems that make ListDocuments refuse the filter,
// in an error wrapping ErrInvalidDocument. A Ref that no document can have
// is not one of them.
func (f DocumentFilter) Validate() error {
	errs := []error{checkDocumentKey("kind", f.Kind)}
	if f.Ref != "" {
		errs = append(errs, checkDocumentKey("ref", f.Ref))
	}
	return invalidDocument(errs)
}

// ValidateDocumentKey reports what makes (kind, id) a key no document can
// have, in an error wrapping ErrInvalidDocument. GetDocument checks it first.
func ValidateDocumentKey(kind, id string) error {
	return invalidDocument([]error{checkDocumentKey("kind", kind), checkDocumentKey("id", id)})
}

// checkDocumentKey checks Kind, ID or Ref, which backends index.
func checkDocumentKey(field, value string) error {
	switch {
	case value == "":
		return fmt.Errorf("%s is empty", field)
	case len(value) > MaxDocumentKeyLen:
		return fmt.Errorf("%s has %d bytes; at most %d", field, len(value), MaxDocumentKeyLen)
	case !utf8.ValidString(value):
		return fmt.Errorf("%s %q is not valid UTF-8", field, value)
	}
	return nil
}

func invalidDocument(errs []error) error {
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	return nil
}
