package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// maxBodyBytes bounds how much of a response is read and asserted on, so
// a huge or endless response cannot exhaust memory.
const maxBodyBytes = 1 << 20

// loadTLSConfig builds a client TLS configuration; it reads the CA file
// at start, so a missing file fails startup rather than every run.
func loadTLSConfig(cfg ClientTLSConfig) (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         cfg.ServerName,
		InsecureSkipVerify: cfg.InsecureSkipVerify, //nolint:gosec // opt-in, warned about at start
	}
	if cfg.CAFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %q holds no PEM certificate", cfg.CAFile)
	}
	tc.RootCAs = pool
	return tc, nil
}

// newHTTPClient returns a client for one check. Keep-alives are off: every
// run measures a fresh connection (DNS, connect, TLS) as a user would
// see it, and no idle connection outlives a run.
func newHTTPClient(tlsCfg ClientTLSConfig, maxRedirects *int) (*http.Client, error) {
	tc, err := loadTLSConfig(tlsCfg)
	if err != nil {
		return nil, err
	}
	limit := defaultMaxRedirects
	if maxRedirects != nil {
		limit = *maxRedirects
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:             http.ProxyFromEnvironment,
			DialContext:       (&net.Dialer{}).DialContext,
			TLSClientConfig:   tc,
			DisableKeepAlives: true,
			ForceAttemptHTTP2: true,
		},
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) > limit {
				// Assert on the redirect itself instead of failing.
				return http.ErrUseLastResponse
			}
			return nil
		},
	}, nil
}

// outgoingRequest is a request after template rendering.
type outgoingRequest struct {
	method  string
	url     string
	headers map[string]string
	body    string
}

// doHTTP sends one request as a client span of the run and returns the
// response for assertions. The caller finishes the returned step once it
// has asserted, so an assertion failure marks this span.
func doHTTP(ctx context.Context, client *http.Client, r *run, stepName string, out outgoingRequest) (*response, *step, *assertionFailure) {
	s := r.startStep(stepName, ptrace.SpanKindClient)
	s.attrs.PutStr("http.request.method", out.method)
	s.attrs.PutStr("url.full", redactURL(out.url))

	var body io.Reader
	if out.body != "" {
		body = strings.NewReader(out.body)
	}
	req, err := http.NewRequestWithContext(ctx, out.method, out.url, body)
	if err != nil {
		return nil, s, requestFailure("a valid request", err)
	}
	for k, v := range out.headers {
		if strings.EqualFold(k, "host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	for _, h := range r.propagationHeaders(s) {
		req.Header.Set(h[0], h[1])
	}
	s.attrs.PutStr("server.address", req.URL.Hostname())

	certs := &hopCertificates{run: r}
	req = req.WithContext(httptrace.WithClientTrace(ctx, certs.trace()))
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, s, requestFailure("a response", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	latency := time.Since(start)
	if err != nil {
		return nil, s, requestFailure("a complete response body", err)
	}
	res := &response{status: resp.StatusCode, header: resp.Header, body: data, latency: latency}
	res.tlsDaysLeft, res.hasTLS = certs.fewestDaysLeft()
	s.attrs.PutInt("http.response.status_code", int64(resp.StatusCode))
	s.attrs.PutInt("http.response.body.size", int64(len(data)))
	return res, s, nil
}

// hopCertificates observes the certificate of every server a request
// reaches, redirects included: a check of https://example.com that is
// redirected to https://www.example.com must still see the first one expire.
type hopCertificates struct {
	run *run
	mu  sync.Mutex
	// host is the server of the connection being made.
	host     string
	daysLeft float64
	seen     bool
}

func (h *hopCertificates) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(hostPort string) {
			host, _, err := net.SplitHostPort(hostPort)
			if err != nil {
				host = hostPort
			}
			h.mu.Lock()
			h.host = host
			h.mu.Unlock()
		},
		TLSHandshakeDone: func(state tls.ConnectionState, err error) {
			if err != nil || len(state.PeerCertificates) == 0 {
				return
			}
			days := daysLeft(state.PeerCertificates[0], time.Now())
			h.mu.Lock()
			defer h.mu.Unlock()
			h.run.observeTLS(h.host, days)
			if !h.seen || days < h.daysLeft {
				h.daysLeft, h.seen = days, true
			}
		},
	}
}

// fewestDaysLeft returns the days left of the certificate that expires
// first, and whether any server presented one.
func (h *hopCertificates) fewestDaysLeft() (float64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.daysLeft, h.seen
}

// redactURL hides the credentials of a URL written as
// https://user:password@host/, as the semantic conventions of url.full ask:
// the request still sends them, telemetry does not carry them. Other URLs
// are returned as they are.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		u.User = url.UserPassword("REDACTED", "REDACTED")
	} else {
		u.User = url.User("REDACTED")
	}
	return u.String()
}

func daysLeft(cert *x509.Certificate, now time.Time) float64 {
	return cert.NotAfter.Sub(now).Hours() / 24
}

// requestFailure describes a request that produced no response to assert
// on, with the reason a timeout is easy to recognise.
func requestFailure(expected string, err error) *assertionFailure {
	if urlErr, ok := errors.AsType[*url.Error](err); ok {
		// Its text quotes the URL, and hides only a password: a token used
		// as the user name would be written out.
		redacted := *urlErr
		redacted.URL = redactURL(urlErr.URL)
		err = &redacted
	}
	actual := err.Error()
	if timedOut(err) {
		actual = "timed out: " + actual
	}
	return &assertionFailure{assertion: "request", expected: expected, actual: truncate(actual)}
}

// timedOut tells whether err ended a request because the run's time ran out:
// its context's deadline, or a connection deadline set from it.
func timedOut(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded)
}

// assertAll evaluates assertions in order and stops at the first failure.
func assertAll(assertions []assertion, res *response) *assertionFailure {
	for i := range assertions {
		if f := assertions[i].evaluate(res); f != nil {
			return f
		}
	}
	return nil
}
