package signalstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

func TestDocumentValidate(t *testing.T) {
	valid := signalstore.Document{Kind: "analysis", ID: "a1", Ref: "order-1", Updated: time.Now(), Body: []byte(`{"x":1}`)}
	require.NoError(t, valid.Validate())
	noRef := valid
	noRef.Ref = ""
	require.NoError(t, noRef.Validate(), "Ref is optional")
	largest := valid
	largest.Body = []byte(`"` + strings.Repeat("x", signalstore.MaxDocumentBytes-2) + `"`)
	require.NoError(t, largest.Validate(), "a body of exactly MaxDocumentBytes")
	longest := valid
	longest.Kind, longest.ID, longest.Ref = strings.Repeat("k", 256), strings.Repeat("i", 256), strings.Repeat("r", 256)
	require.NoError(t, longest.Validate(), "keys of exactly MaxDocumentKeyLen bytes")

	for _, tt := range []struct {
		name   string
		mutate func(*signalstore.Document)
		want   string
	}{
		{"empty kind", func(d *signalstore.Document) { d.Kind = "" }, "kind is empty"},
		{"empty id", func(d *signalstore.Document) { d.ID = "" }, "id is empty"},
		{"long kind", func(d *signalstore.Document) { d.Kind = strings.Repeat("k", 257) }, "kind has 257 bytes; at most 256"},
		{"long id", func(d *signalstore.Document) { d.ID = strings.Repeat("é", 129) }, "id has 258 bytes; at most 256"},
		{"long ref", func(d *signalstore.Document) { d.Ref = strings.Repeat("r", 300) }, "ref has 300 bytes"},
		{"kind not UTF-8", func(d *signalstore.Document) { d.Kind = "ana\xfflysis" }, "kind \"ana\\xfflysis\" is not valid UTF-8"},
		{"ref not UTF-8", func(d *signalstore.Document) { d.Ref = "\xc3" }, "ref \"\\xc3\" is not valid UTF-8"},
		{"empty body", func(d *signalstore.Document) { d.Body = nil }, "body is empty; want a JSON value"},
		{"body not JSON", func(d *signalstore.Document) { d.Body = []byte(`{"x":`) }, "body is not valid JSON"},
		{"body too large", func(d *signalstore.Document) {
			d.Body = []byte(`"` + strings.Repeat("x", signalstore.MaxDocumentBytes) + `"`)
		}, "body has 1048578 bytes; at most 1048576"},
		{"updated zero", func(d *signalstore.Document) { d.Updated = time.Time{} }, "updated is not set"},
		{"updated out of range", func(d *signalstore.Document) { d.Updated = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) },
			"outside the years 1678 to 2262"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := valid
			tt.mutate(&d)
			err := d.Validate()
			require.ErrorIs(t, err, signalstore.ErrInvalidDocument)
			assert.ErrorContains(t, err, tt.want)
		})
	}

	err := signalstore.Document{}.Validate()
	for _, want := range []string{"kind is empty", "id is empty", "body is empty", "updated is not set"} {
		assert.ErrorContains(t, err, want, "every problem is reported")
	}
}

func TestDocumentFilterAndKeyValidate(t *testing.T) {
	require.NoError(t, signalstore.DocumentFilter{Kind: "analysis"}.Validate())
	require.NoError(t, signalstore.DocumentFilter{Kind: "analysis", Ref: "order-1", Limit: -1}.Validate())
	err := signalstore.DocumentFilter{Ref: "order-1"}.Validate()
	require.ErrorIs(t, err, signalstore.ErrInvalidDocument)
	assert.ErrorContains(t, err, "kind is empty")
	assert.ErrorContains(t, signalstore.DocumentFilter{Kind: "analysis", Ref: strings.Repeat("r", 257)}.Validate(), "ref has 257 bytes")

	require.NoError(t, signalstore.ValidateDocumentKey("analysis", "a1"))
	err = signalstore.ValidateDocumentKey("", "")
	require.ErrorIs(t, err, signalstore.ErrInvalidDocument)
	assert.ErrorContains(t, err, "kind is empty")
	assert.ErrorContains(t, err, "id is empty")
}
