package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"bytes"
	"context"
	"net"
	"strconv"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// maxTCPReadBytes bounds what is read while waiting for the expected reply.
const maxTCPReadBytes = 64 << 10

// tcpRunner connects, optionally sends a payload and waits for a reply
// containing the expected bytes.
type tcpRunner struct {
	cfg TCPCheckConfig
}

func (t *tcpRunner) run(ctx context.Context, r *run) *assertionFailure {
	s := r.startStep("tcp.connect "+t.cfg.Address, ptrace.SpanKindClient)
	host, port, _ := net.SplitHostPort(t.cfg.Address)
	s.attrs.PutStr("server.address", host)
	if p, err := strconv.Atoi(port); err == nil {
		s.attrs.PutInt("server.port", int64(p))
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", t.cfg.Address)
	if err != nil {
		return s.finish(requestFailure("a TCP connection", err))
	}
	defer conn.Close()
	// Closing the connection when the run's context ends unblocks reads and
	// writes, so a silent server cannot hold the run past its timeout.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	if t.cfg.Send != "" {
		if _, err := conn.Write([]byte(t.cfg.Send)); err != nil {
			return s.finish(requestFailure("the payload sent", err))
		}
	}
	if t.cfg.Expect == "" {
		return s.finish(nil)
	}
	received, err := readUntil(conn, []byte(t.cfg.Expect))
	if err != nil {
		reason := err.Error()
		if ctx.Err() != nil || timedOut(err) {
			reason = "timed out"
		}
		return s.finish(&assertionFailure{assertion: "expect", expected: strconv.Quote(t.cfg.Expect),
			actual: truncate(strconv.Quote(string(received)) + ", then " + reason)})
	}
	return s.finish(nil)
}

// readUntil reads until want appears, the limit is reached or the
// connection fails.
func readUntil(conn net.Conn, want []byte) ([]byte, error) {
	var received []byte
	buf := make([]byte, 4096)
	for len(received) < maxTCPReadBytes {
		n, err := conn.Read(buf)
		received = append(received, buf[:n]...)
		if bytes.Contains(received, want) {
			return received, nil
		}
		if err != nil {
			return received, err
		}
	}
	return received, errReadLimit
}

func (t *tcpRunner) close() {}
