package aiextension

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRedactText(t *testing.T) {
	r := newRedactor(nil)
	for in, secret := range map[string]string{
		"Authorization: Bearer eyJhbGciOi.abc.def":                             "eyJhbGciOi",
		"login failed password=hunter2 for x":                                  "hunter2",
		`{"api_key":"abcd1234efgh"}`:                                           "abcd1234efgh",
		"db_password: s3cr3t!":                                                 "s3cr3t!",
		"connect postgres://app:pa55@db:5432/x":                                "pa55",
		"key sk-proj-ABCDEFGHIJKLMNOPQRSTUV used":                              "sk-proj-ABCDEFGHIJKLMNOPQRSTUV",
		"aws AKIAABCDEFGHIJKLMNOP":                                             "AKIAABCDEFGHIJKLMNOP",
		"mail to alice.smith+x@example.co.uk failed":                           "alice.smith",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----": "MIIE",
	} {
		out := r.text(in)
		assert.NotContains(t, out, secret, in)
		assert.Contains(t, out, redacted, in)
	}
	assert.Equal(t, "order 1234 created in 25ms", r.text("order 1234 created in 25ms"), "ordinary text stays")
}

// TestRedactLogBodyBeforeCutting: a secret across the quoted length of a
// log body is masked whole; cut first, its head would no longer match.
func TestRedactLogBodyBeforeCutting(t *testing.T) {
	r := newRedactor(nil)
	for _, secret := range []string{"sk-proj-ABCDEFGHIJKLMNOPQRSTUV", "AKIAABCDEFGHIJKLMNOP"} {
		body := strings.Repeat("x", maxPromptLogBody-8) + " " + secret + " after"
		out := r.logBody(body)
		assert.NotContains(t, out, secret[:6], "no part of the secret is quoted")
		assert.LessOrEqual(t, len(out), maxPromptLogBody+len("…"))
	}
	assert.Equal(t, "short body", r.logBody("short body"))
}

func TestRedactAttributes(t *testing.T) {
	r := newRedactor([]string{"User.SSN"})
	out := r.attrs(map[string]string{"user.ssn": "123-45-6789", "http.request.header.authorization": "x", "session_id": "s", "order.id": "1", "note": "mail bob@example.com"})
	assert.Equal(t, map[string]string{"user.ssn": redacted, "http.request.header.authorization": redacted, "session_id": redacted,
		"order.id": "1", "note": "mail " + redacted}, out)
	assert.Nil(t, r.attrs(nil))
}

func TestValidateAnswer(t *testing.T) {
	resp := &analyzeResponse{Hypotheses: []hypothesis{{ID: "h1"}, {ID: "h2"}}}
	a, err := validateAnswer(`{"summary":"s","ranked_hypotheses":["h2","x","h2","h1"],"recommendations":["a",""]}`, resp)
	assert.NoError(t, err)
	assert.Equal(t, []string{"h2", "h1"}, a.RankedHypotheses)
	assert.Equal(t, []string{"a"}, a.Recommendations)
	for _, bad := range []string{``, `null`, `{}`, `{"summary":""}`, `{"summary":"s","ranked_hypotheses":"h1"}`, `{"summary":"s","ranked_hypotheses":["h1"]} {"x":1}`, strings.Repeat("[", 10000)} {
		_, err := validateAnswer(bad, resp)
		assert.Error(t, err, bad)
	}
	long, err := validateAnswer(`{"summary":"`+strings.Repeat("é", 5000)+`","ranked_hypotheses":["h1"]}`, resp)
	assert.NoError(t, err)
	assert.LessOrEqual(t, len(long.Summary), maxSummaryChars+len("…"))
}

func TestFitBudget(t *testing.T) {
	d := &promptData{}
	for range 30 {
		h := promptHypothesis{ID: "h", Kind: "error_origin"}
		for range 10 {
			h.Evidence = append(h.Evidence, promptEvidence{Reason: "r", Text: strings.Repeat("x", 256)})
		}
		d.Hypotheses = append(d.Hypotheses, h)
	}
	for range 20 {
		d.ErrorLogs = append(d.ErrorLogs, promptLog{Body: strings.Repeat("y", 1024)})
	}
	data, err := fitBudget(d, 1000)
	assert.NoError(t, err)
	assert.LessOrEqual(t, estimateTokens(string(data)), 1000)
	assert.True(t, d.Truncated)
	assert.NotEmpty(t, d.Hypotheses)

	_, err = fitBudget(&promptData{CorrelationID: strings.Repeat("z", 10000)}, 100)
	assert.Error(t, err)
}
