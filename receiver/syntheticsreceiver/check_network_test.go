package syntheticsreceiver

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
)

// pingServer answers "PING" lines with "+PONG" like Redis, and stays silent
// on anything else.
func pingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				reader := bufio.NewReader(conn)
				line, err := reader.ReadString('\n')
				if err == nil && strings.TrimSpace(line) == "PING" {
					_, _ = conn.Write([]byte("+PONG\r\n"))
					return
				}
				_, _ = io.Copy(io.Discard, reader) // silent until the client hangs up
			})
		}
	})
	return ln.Addr().String()
}

func TestTCPCheck(t *testing.T) {
	addr := pingServer(t)

	t.Run("send and expect", func(t *testing.T) {
		s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "redis", Type: typeTCP,
			TCP: &TCPCheckConfig{Address: addr, Send: "PING\r\n", Expect: "+PONG"}}))
		assert.Equal(t, int64(1), successValue(t, s.waitMetrics(t)))
		spans := s.firstRun(t)
		assert.Equal(t, "tcp.connect "+addr, spans[1].Name())
	})

	t.Run("connect only", func(t *testing.T) {
		s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "port", Type: typeTCP, TCP: &TCPCheckConfig{Address: addr}}))
		assert.Equal(t, int64(1), successValue(t, s.waitMetrics(t)))
	})

	t.Run("silent server times out", func(t *testing.T) {
		s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "silent", Type: typeTCP, Timeout: 200 * time.Millisecond,
			TCP: &TCPCheckConfig{Address: addr, Send: "HELLO\r\n", Expect: "+PONG"}}))
		rec := s.waitFailureLog(t)
		assert.Equal(t, "expect", attrStr(rec.Attributes(), "assertion"))
		assert.Equal(t, `"+PONG"`, attrStr(rec.Attributes(), "expected"))
		assert.Equal(t, `"", then timed out`, attrStr(rec.Attributes(), "actual"))
	})
}

// dnsServer serves api.test. A 192.0.2.10 and 192.0.2.11 and
// www.test. CNAME api.test. over UDP on a loopback port.
func dnsServer(t *testing.T) string {
	t.Helper()
	mux := dns.NewServeMux()
	mux.HandleFunc("test.", func(w dns.ResponseWriter, req *dns.Msg) {
		reply := new(dns.Msg)
		reply.SetReply(req)
		q := req.Question[0]
		switch {
		case q.Name == "api.test." && q.Qtype == dns.TypeA:
			for _, ip := range []string{"192.0.2.10", "192.0.2.11"} {
				rr, _ := dns.NewRR("api.test. 60 IN A " + ip)
				reply.Answer = append(reply.Answer, rr)
			}
		case q.Name == "www.test." && q.Qtype == dns.TypeCNAME:
			rr, _ := dns.NewRR("www.test. 60 IN CNAME api.test.")
			reply.Answer = append(reply.Answer, rr)
		case q.Name == "api.test.":
			// The name exists, but has no records of the asked type.
		default:
			reply.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(reply)
	})
	return serveDNS(t, mux)
}

// serveDNS serves handler over UDP on a loopback port until the test ends,
// and returns the address.
func serveDNS(t *testing.T, handler dns.Handler) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: handler, NotifyStartedFunc: func() { close(started) }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ActivateAndServe()
	}()
	<-started
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return pc.LocalAddr().String()
}

func TestDNSCheck(t *testing.T) {
	server := dnsServer(t)
	tests := []struct {
		name      string
		cfg       DNSCheckConfig
		assertion string
	}{
		{"expected addresses", DNSCheckConfig{Name: "api.test", Expect: []string{"192.0.2.11", "192.0.2.10"}}, ""},
		{"cname without trailing dot", DNSCheckConfig{Name: "www.test", RecordType: "cname", Expect: []string{"API.test"}}, ""},
		{"missing address", DNSCheckConfig{Name: "api.test", Expect: []string{"192.0.2.99"}}, "expect"},
		{"nxdomain", DNSCheckConfig{Name: "nope.test"}, "rcode"},
		{"no records of type", DNSCheckConfig{Name: "api.test", RecordType: "CNAME"}, "answers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Server = server
			s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "dns", Type: typeDNS, DNS: &tt.cfg}))
			ms := s.waitMetrics(t)
			if tt.assertion == "" {
				assert.Equal(t, int64(1), successValue(t, ms), s.logs.AllLogs())
				return
			}
			assert.Equal(t, int64(0), successValue(t, ms))
			assert.Equal(t, tt.assertion, attrStr(s.waitFailureLog(t).Attributes(), "assertion"))
		})
	}
}

func TestTLSCheck(t *testing.T) {
	cert := newTestCert(t, 10*24*time.Hour)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert.tls}, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				_ = conn.(*tls.Conn).Handshake()
				conn.Close()
			})
		}
	})
	addr := ln.Addr().String()

	t.Run("valid chain with enough days", func(t *testing.T) {
		s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "cert", Type: typeTLS,
			TLS: &TLSCheckConfig{Address: addr, CAFile: cert.caFile, MinDaysLeft: 7}}))
		ms := s.waitMetrics(t)
		assert.Equal(t, int64(1), successValue(t, ms), s.logs.AllLogs())
		days, ok := findMetric(ms, metricTLSDaysLeft)
		require.True(t, ok)
		assert.InDelta(t, 10.0, days.Gauge().DataPoints().At(0).DoubleValue(), 0.1)
	})

	t.Run("expiring soon", func(t *testing.T) {
		s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "cert", Type: typeTLS,
			TLS: &TLSCheckConfig{Address: addr, CAFile: cert.caFile, MinDaysLeft: 30}}))
		rec := s.waitFailureLog(t)
		assert.Equal(t, "min_days_left", attrStr(rec.Attributes(), "assertion"))
		assert.Equal(t, "at least 30 days of certificate validity", attrStr(rec.Attributes(), "expected"))
	})

	t.Run("untrusted chain", func(t *testing.T) {
		s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "cert", Type: typeTLS, TLS: &TLSCheckConfig{Address: addr}}))
		rec := s.waitFailureLog(t)
		assert.Equal(t, "handshake", attrStr(rec.Attributes(), "assertion"))
		assert.Contains(t, attrStr(rec.Attributes(), "actual"), "certificate")
	})
}

// slowDNSServer answers every A query for slow.test. after delay, or never
// when delay is negative; received is closed when the first query arrives.
func slowDNSServer(t *testing.T, delay time.Duration) (addr string, received <-chan struct{}) {
	t.Helper()
	stop, first := make(chan struct{}), make(chan struct{})
	var once sync.Once
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		once.Do(func() { close(first) })
		if delay < 0 {
			return
		}
		select {
		case <-time.After(delay):
		case <-stop:
			return
		}
		reply := new(dns.Msg)
		reply.SetReply(req)
		rr, _ := dns.NewRR("slow.test. 60 IN A 192.0.2.7")
		reply.Answer = append(reply.Answer, rr)
		_ = w.WriteMsg(reply)
	})
	addr = serveDNS(t, handler)
	// Cleanups run last first: the delayed answers end before the server.
	t.Cleanup(func() { close(stop) })
	return addr, first
}

// TestDNSCheckTimeout: the check's timeout bounds a DNS query, not the DNS
// library's own 2-second default; a query that runs out of time says so.
func TestDNSCheckTimeout(t *testing.T) {
	t.Run("a slow answer within the timeout passes", func(t *testing.T) {
		server, _ := slowDNSServer(t, 2500*time.Millisecond)
		s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "slow-dns", Type: typeDNS, Timeout: 10 * time.Second,
			DNS: &DNSCheckConfig{Server: server, Name: "slow.test", Expect: []string{"192.0.2.7"}}}))
		assert.Equal(t, int64(1), successValue(t, s.waitMetrics(t)), s.logs.AllLogs())
	})

	t.Run("no answer times out", func(t *testing.T) {
		server, _ := slowDNSServer(t, -1)
		s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "mute-dns", Type: typeDNS, Timeout: 300 * time.Millisecond,
			DNS: &DNSCheckConfig{Server: server, Name: "slow.test"}}))
		assert.Contains(t, attrStr(s.waitFailureLog(t).Attributes(), "actual"), "timed out")
	})

	t.Run("shutdown interrupts a query", func(t *testing.T) {
		server, received := slowDNSServer(t, -1)
		cfg := oneCheck(CheckConfig{Name: "mute-dns", Type: typeDNS, Timeout: time.Minute,
			DNS: &DNSCheckConfig{Server: server, Name: "slow.test"}})
		r, err := NewFactory().CreateMetrics(t.Context(), settingsForTest(), cfg, new(consumertest.MetricsSink))
		require.NoError(t, err)
		require.NoError(t, r.Start(t.Context(), componenttest.NewNopHost()))
		select { // the query is under way
		case <-received:
		case <-time.After(10 * time.Second):
			t.Fatal("the check sent no query")
		}
		start := time.Now()
		require.NoError(t, r.Shutdown(t.Context()))
		// Without the interruption Shutdown waits for the minute's timeout.
		assert.Less(t, time.Since(start), 10*time.Second)
	})
}
