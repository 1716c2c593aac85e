package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ClickHouse/ch-go/compress"
)

func TestParseRequest(t *testing.T) {
	q := url.Values{
		"database":                {"otel"},
		"default_format":          {"Native"},
		"client_protocol_version": {"54460"},
		"max_query_size":          {"524288"},
		"async_insert":            {"1"},
		"param_id":                {"abc"},
		"query_id":                {"q1"},
		"query":                   {"INSERT INTO t FORMAT Native"},
	}
	r := httptest.NewRequest(http.MethodPost, "/?"+q.Encode(), strings.NewReader("DATA"))
	req, err := parseRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if req.sql != "INSERT INTO t FORMAT Native" || string(req.data) != "DATA" {
		t.Errorf("sql = %q, data %q: the body is the insert's data", req.sql, req.data)
	}
	r = httptest.NewRequest(http.MethodPost, "/?query=SELECT", strings.NewReader("1"))
	if req, err := parseRequest(r); err != nil || req.sql != "SELECT\n1" || req.data != nil {
		t.Errorf("the body continues a statement that is not an insert: %+v, %v", req, err)
	}
	if req.database != "otel" || req.format != "Native" || req.revision != 54460 || req.params["id"] != "abc" {
		t.Errorf("request = %+v", req)
	}
	want := [][2]string{{"async_insert", "1"}, {"max_query_size", "524288"}}
	if len(req.settings) != len(want) || req.settings[0] != want[0] || req.settings[1] != want[1] {
		t.Errorf("settings = %v, want %v (query_id is not a setting)", req.settings, want)
	}
}

func TestParseRequestRefusesBadInput(t *testing.T) {
	for name, target := range map[string]string{
		"setting name that is not an identifier": "/?" + url.Values{"x = 1; DROP": {"1"}}.Encode(),
		"client_protocol_version not a number":   "/?client_protocol_version=new",
		"SET would outlast the request":          "/?query=" + url.QueryEscape("set max_threads = 1"),
		"USE would outlast the request":          "/?query=" + url.QueryEscape(" USE other"),
	} {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, target, strings.NewReader("SELECT 1"))
			if _, err := parseRequest(r); err == nil {
				t.Error("accepted")
			}
		})
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("  \n"))
	if _, err := parseRequest(r); err == nil || !strings.Contains(err.Error(), "empty query") {
		t.Errorf("blank query: err = %v", err)
	}
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader("SELECT 1"))
	r.Header.Set("Content-Encoding", "br")
	if _, err := parseRequest(r); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("brotli body: err = %v", err)
	}
}

// TestParseRequestDecompresses: with decompress=1 the body is in
// ClickHouse's compressed framing, possibly several frames.
func TestParseRequestDecompresses(t *testing.T) {
	var body []byte
	for _, part := range []string{"SELECT ", "42"} {
		w := compress.NewWriter(compress.LevelZero, compress.LZ4)
		if err := w.Compress([]byte(part)); err != nil {
			t.Fatal(err)
		}
		body = append(body, w.Data...)
	}
	r := httptest.NewRequest(http.MethodPost, "/?decompress=1", bytes.NewReader(body))
	req, err := parseRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if req.sql != "SELECT 42" {
		t.Errorf("sql = %q", req.sql)
	}
	r = httptest.NewRequest(http.MethodPost, "/?decompress=1", bytes.NewReader(body[:len(body)-3]))
	if _, err := parseRequest(r); err == nil {
		t.Error("a cut frame was accepted")
	}
}

func TestQuoting(t *testing.T) {
	for in, want := range map[string]string{
		`it's`:  `'it\'s'`,
		`a\'b`:  `'a\\\'b'`,
		"plain": `'plain'`,
	} {
		if got := quoteString(in); got != want {
			t.Errorf("quoteString(%q) = %s, want %s", in, got, want)
		}
	}
	if got := quoteIdentifier("a`b"); got != "`a\\`b`" {
		t.Errorf("quoteIdentifier = %s", got)
	}
}

// TestErrorsAreCompressedWhenAsked: clickhouse-go decompresses every answer
// to a compress=1 request, exceptions included, as clickhouse-server sends
// them.
func TestErrorsAreCompressedWhenAsked(t *testing.T) {
	h := &handler{logf: t.Logf}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/?compress=1&client_protocol_version=x", strings.NewReader("SELECT 1")))
	if rec.Code != http.StatusBadRequest || rec.Header().Get("X-ClickHouse-Exception-Code") == "" {
		t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
	}
	msg, err := io.ReadAll(compress.NewReader(rec.Body))
	if len(msg) == 0 || !strings.Contains(string(msg), "client_protocol_version") {
		t.Errorf("message %q, err %v", msg, err)
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add("query=SELECT+1&max_threads=2", []byte("FORMAT Native"))
	f.Add("param_x=1&database=d", []byte("SELECT {x:UInt8}"))
	f.Add("decompress=1", []byte{0, 1, 2})
	f.Fuzz(func(t *testing.T, rawQuery string, body []byte) {
		r, err := http.NewRequest(http.MethodPost, "http://h/", bytes.NewReader(body))
		if err != nil {
			t.Skip()
		}
		r.URL.RawQuery = rawQuery
		req, err := parseRequest(r)
		if err != nil {
			return
		}
		// Setting names are written into SET statements: only
		// identifiers may pass.
		for _, s := range req.settings {
			if !settingName.MatchString(s[0]) {
				t.Fatalf("setting name %q passed", s[0])
			}
		}
		if strings.TrimSpace(req.sql) == "" {
			t.Fatal("empty statement passed")
		}
	})
}
