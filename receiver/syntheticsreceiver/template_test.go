package syntheticsreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTemplate(t *testing.T) {
	vars := map[string]string{"base": "https://x", "id": "7", "_t2": "tok"}
	lookup := func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
	tests := []struct {
		in, want string
		names    []string
	}{
		{"plain", "plain", nil},
		{"${base}/users/${id}", "https://x/users/7", []string{"base", "id"}},
		{"Bearer ${_t2}", "Bearer tok", []string{"_t2"}},
		{"price: $$${id}", "price: $7", []string{"id"}},
		{"cost $5 and $", "cost $5 and $", nil},
		{"{${id}}", "{7}", []string{"id"}},
	}
	for _, tt := range tests {
		tmpl, err := parseTemplate(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.names, tmpl.variables(), tt.in)
		got, err := tmpl.render(lookup)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}

	for _, bad := range []string{"${", "${base", "${}", "${1a}", "${a-b}", "${a b}"} {
		_, err := parseTemplate(bad)
		assert.Error(t, err, bad)
	}

	tmpl, err := parseTemplate("${missing}")
	require.NoError(t, err)
	_, err = tmpl.render(lookup)
	assert.EqualError(t, err, `variable "missing" is not defined`)
}
