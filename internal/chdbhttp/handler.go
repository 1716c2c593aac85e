package main

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ClickHouse/ch-go/compress"
)

// maxBody bounds a request: the harness holds it in memory.
const maxBody = 256 << 20

// httpParams are the URL parameters of clickhouse-server's HTTP interface
// that are not settings. Every other parameter is a setting, except
// param_<name>, the value of a {name:Type} placeholder.
var httpParams = map[string]bool{
	"query": true, "database": true, "default_format": true, "client_protocol_version": true,
	"compress": true, "decompress": true, "query_id": true, "quota_key": true,
	"session_id": true, "session_timeout": true, "session_check": true,
	"user": true, "password": true, "buffer_size": true, "wait_end_of_query": true, "stacktrace": true,
}

var (
	settingName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
	exceptionCode = regexp.MustCompile(`^Code: (\d+)\.`)
	// insertFormat splits `INSERT … FORMAT <name>`, the statement of an
	// insert whose data is the body.
	insertFormat = regexp.MustCompile(`(?is)^(\s*INSERT\s.*?)\s+FORMAT\s+(\w+)\s*;?\s*$`)
	// sessionStatement matches statements whose effect would outlast the
	// request here, as the engine keeps one session for all of them.
	sessionStatement = regexp.MustCompile(`(?i)^\s*(SET|USE)\s`)
)

// handler serves the subset of the HTTP interface that clickhouse-go uses:
// a statement in the body or in `query` (with the body as its data), the
// `database`, settings and param_* parameters, Native output for
// client_protocol_version, and ClickHouse's compressed framing for
// compress/decompress.
type handler struct {
	engine *engine
	logf   func(format string, args ...any)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/ping" || (r.Method == http.MethodGet && r.URL.RawQuery == "") {
		_, _ = io.WriteString(w, "Ok.\n")
		return
	}
	// With compress=1, clickhouse-server compresses everything it
	// answers, exceptions included, and clickhouse-go decompresses them.
	compressed := r.URL.Query().Get("compress") == "1"
	req, err := parseRequest(r)
	if err != nil {
		h.writeError(w, http.StatusBadRequest, err, compressed)
		return
	}
	out, err := h.execute(req)
	if err == nil && len(out) == 0 && req.format == "Native" && req.revision > 0 && selectStatement.MatchString(req.sql) {
		// A server writes the header block of a query without rows; the
		// engine writes nothing.
		out, err = h.headerNative(req)
	}
	if err != nil {
		h.writeError(w, http.StatusInternalServerError, err, compressed)
		return
	}
	writeBody(w, http.StatusOK, "application/octet-stream", out, compressed)
}

// writeError answers as clickhouse-server does: the message, with the
// engine's exception code in X-ClickHouse-Exception-Code.
func (h *handler) writeError(w http.ResponseWriter, status int, err error, compressed bool) {
	msg := strings.TrimRight(err.Error(), "\n")
	h.logf("%d: %s", status, msg)
	code := "1001" // STD_EXCEPTION: not an exception of the engine
	var engineErr *engineError
	if errors.As(err, &engineErr) {
		if m := exceptionCode.FindStringSubmatch(engineErr.message); m != nil {
			code = m[1]
		}
	}
	w.Header().Set("X-ClickHouse-Exception-Code", code)
	writeBody(w, status, "text/plain; charset=UTF-8", []byte(msg+"\n"), compressed)
}

// frameSize is the most data clickhouse-server puts in one compressed frame.
const frameSize = 1 << 20

func writeBody(w http.ResponseWriter, status int, contentType string, body []byte, compressed bool) {
	if compressed && len(body) > 0 {
		var framed []byte
		c := compress.NewWriter(compress.LevelZero, compress.LZ4)
		for len(body) > 0 {
			n := min(len(body), frameSize)
			if err := c.Compress(body[:n]); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			framed = append(framed, c.Data...)
			body = body[n:]
		}
		body = framed
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// request is one HTTP request, parsed.
type request struct {
	sql string
	// data, when set, is the data of the INSERT in sql, which ends with
	// its FORMAT clause.
	data     []byte
	database string
	format   string
	revision uint64
	settings [][2]string
	params   map[string]string
}

func parseRequest(r *http.Request) (*request, error) {
	q := r.URL.Query()
	req := &request{
		database: q.Get("database"),
		format:   q.Get("default_format"),
		params:   map[string]string{},
	}
	if req.format == "" {
		req.format = "TabSeparated"
	}
	if v := q.Get("client_protocol_version"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("client_protocol_version %q: %w", v, err)
		}
		req.revision = n
	}
	for key, values := range q {
		value := values[len(values)-1]
		switch {
		case strings.HasPrefix(key, "param_"):
			req.params[strings.TrimPrefix(key, "param_")] = value
		case httpParams[key]:
		case !settingName.MatchString(key):
			return nil, fmt.Errorf("parameter %q is neither a setting nor known to this server", key)
		default:
			req.settings = append(req.settings, [2]string{key, value})
		}
	}
	slices.SortFunc(req.settings, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	body, err := readBody(r, q.Get("decompress") == "1")
	if err != nil {
		return nil, err
	}
	req.sql = q.Get("query")
	switch {
	case req.sql == "":
		req.sql = string(body)
	case len(body) == 0:
	case insertFormat.MatchString(req.sql):
		// Kept apart: the engine ends inline data at the first blank
		// line, which binary data may hold.
		req.data = body
	default:
		// As clickhouse-server: the body is the rest of the statement.
		req.sql += "\n" + string(body)
	}
	if strings.TrimSpace(req.sql) == "" {
		return nil, errors.New("empty query")
	}
	if sessionStatement.MatchString(req.sql) {
		return nil, errors.New("SET and USE would outlast the request on this server: send settings as URL parameters")
	}
	return req, nil
}

func readBody(r *http.Request, decompress bool) ([]byte, error) {
	var body io.Reader = r.Body
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "":
	case "gzip":
		gz, err := gzip.NewReader(body)
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		body = gz
	case "deflate":
		// HTTP's deflate is the zlib format, as clickhouse-go sends it.
		zr, err := zlib.NewReader(body)
		if err != nil {
			return nil, fmt.Errorf("deflate body: %w", err)
		}
		body = zr
	default:
		return nil, fmt.Errorf("Content-Encoding %q is not supported by this server", enc)
	}
	b, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("body over %d bytes", maxBody)
	}
	if decompress {
		return decompressFrames(b)
	}
	return b, nil
}

// Frames of ClickHouse's compressed framing: a 16-byte checksum, then the
// method byte, the frame's size from the method byte on, and the size of
// its data once decompressed.
const (
	frameHeaderSize = 16 + 1 + 4 + 4
	frameSizeOffset = 17
)

// decompressFrames decompresses a body of whole frames; a cut frame is an
// error, where a streaming reader would see a clean end.
func decompressFrames(b []byte) ([]byte, error) {
	var out []byte
	for len(b) > 0 {
		if len(b) < frameHeaderSize {
			return nil, errors.New("decompress body: cut frame header")
		}
		size := int(binary.LittleEndian.Uint32(b[frameSizeOffset:])) + 16
		if size < frameHeaderSize || size > len(b) {
			return nil, fmt.Errorf("decompress body: frame of %d bytes, %d left", size, len(b))
		}
		data, err := io.ReadAll(compress.NewReader(bytes.NewReader(b[:size])))
		// The reader reports the end of its one frame as an error
		// wrapping io.EOF.
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("decompress body: %w", err)
		}
		if out = append(out, data...); len(out) > maxBody {
			return nil, fmt.Errorf("body over %d bytes once decompressed", maxBody)
		}
		b = b[size:]
	}
	return out, nil
}

// execute runs the statement in the request's database with its settings,
// which are reset afterwards: they apply to one request, as on a server.
func (h *handler) execute(req *request) (out []byte, err error) {
	e := h.engine
	e.mu.Lock()
	defer e.mu.Unlock()
	database := req.database
	if database == "" {
		database = "default"
	}
	if _, err := e.run("USE "+quoteIdentifier(database), req.format, nil); err != nil {
		return nil, err
	}
	for i, s := range req.settings {
		if _, err := e.run(fmt.Sprintf("SET %s = %s", s[0], quoteString(s[1])), req.format, nil); err != nil {
			req.settings = req.settings[:i]
			return nil, errors.Join(err, h.reset(req))
		}
	}
	defer func() { err = errors.Join(err, h.reset(req)) }()
	// A server runs one statement per request and the engine would run them
	// all: ClickHouse's own parser, through formatQuery, refuses the rest
	// with the server's error.
	if _, err := e.run("SELECT formatQuery({statement:String})", "TabSeparated", map[string]string{"statement": paramEscaper.Replace(req.sql)}); err != nil {
		return nil, err
	}
	sql := req.sql
	if req.data != nil {
		path, err := writeInsertData(e.dataDir, req.data)
		if err != nil {
			return nil, err
		}
		defer os.Remove(path)
		m := insertFormat.FindStringSubmatch(sql)
		sql = m[1] + " FROM INFILE " + quoteString(path) + " FORMAT " + m[2]
	}
	out, err = e.run(sql, req.format, req.params)
	if err != nil || len(out) == 0 || req.format != "Native" || req.revision == 0 {
		return out, err
	}
	return withRevision(out, req.revision)
}

// writeInsertData stores the data of an insert for INSERT … FROM INFILE.
func writeInsertData(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, "insert-*.data")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err = errors.Join(err, f.Close()); err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func (h *handler) reset(req *request) error {
	var errs []error
	for _, s := range req.settings {
		if _, err := h.engine.run("SET "+s[0]+" = DEFAULT", req.format, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// paramEscaper writes a String query parameter in the escaped form the
// engine parses parameter values in.
var paramEscaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`, "\x00", `\0`)

func quoteIdentifier(s string) string {
	return "`" + strings.NewReplacer(`\`, `\\`, "`", "\\`").Replace(s) + "`"
}

func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
