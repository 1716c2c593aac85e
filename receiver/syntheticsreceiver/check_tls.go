package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// tlsRunner completes a TLS handshake, which verifies the chain unless
// insecure_skip_verify is set, and checks the leaf certificate's expiry.
type tlsRunner struct {
	address     string
	minDaysLeft int
	config      *tls.Config
}

func newTLSRunner(cfg *TLSCheckConfig) (*tlsRunner, error) {
	tc, err := loadTLSConfig(ClientTLSConfig{CAFile: cfg.CAFile, InsecureSkipVerify: cfg.InsecureSkipVerify, ServerName: cfg.ServerName})
	if err != nil {
		return nil, err
	}
	if tc.ServerName == "" {
		host, _, _ := net.SplitHostPort(cfg.Address)
		tc.ServerName = host
	}
	return &tlsRunner{address: cfg.Address, minDaysLeft: cfg.MinDaysLeft, config: tc}, nil
}

func (t *tlsRunner) run(ctx context.Context, r *run) *assertionFailure {
	s := r.startStep("tls.handshake "+t.address, ptrace.SpanKindClient)
	s.attrs.PutStr("server.address", t.config.ServerName)
	dialer := &tls.Dialer{Config: t.config}
	conn, err := dialer.DialContext(ctx, "tcp", t.address)
	if err != nil {
		return s.finish(&assertionFailure{assertion: "handshake", expected: "a verified TLS handshake", actual: truncate(err.Error())})
	}
	defer conn.Close()
	state := conn.(*tls.Conn).ConnectionState()
	if len(state.PeerCertificates) == 0 {
		return s.finish(&assertionFailure{assertion: "certificate", expected: "a server certificate", actual: "none"})
	}
	leaf := state.PeerCertificates[0]
	days := daysLeft(leaf, time.Now())
	r.observeTLS(t.config.ServerName, days)
	s.attrs.PutStr("tls.server.subject", leaf.Subject.String())
	s.attrs.PutStr("tls.server.not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	s.attrs.PutInt("tls.server.chain_length", int64(len(state.PeerCertificates)))
	if days < float64(t.minDaysLeft) {
		return s.finish(&assertionFailure{assertion: "min_days_left",
			expected: fmt.Sprintf("at least %d days of certificate validity", t.minDaysLeft),
			actual:   strconv.FormatFloat(days, 'f', 1, 64) + " days"})
	}
	return s.finish(nil)
}

func (t *tlsRunner) close() {}
