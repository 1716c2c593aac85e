package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// dnsRunner resolves a name against one server and expects records.
type dnsRunner struct {
	cfg    DNSCheckConfig
	qtype  uint16
	client *dns.Client
}

// newDNSRunner bounds a query by the check's timeout: without Timeout the
// client would give up after its own 2-second default however long the
// check's timeout.
func newDNSRunner(cfg *DNSCheckConfig, timeout time.Duration) *dnsRunner {
	return &dnsRunner{
		cfg:    *cfg,
		qtype:  dns.StringToType[cfg.recordType()],
		client: &dns.Client{Net: cfg.protocol(), Timeout: timeout},
	}
}

func (d *dnsRunner) run(ctx context.Context, r *run) *assertionFailure {
	s := r.startStep("dns.query "+d.cfg.Name, ptrace.SpanKindClient)
	s.attrs.PutStr("dns.question.name", d.cfg.Name)
	s.attrs.PutStr("dns.question.type", d.cfg.recordType())
	s.attrs.PutStr("server.address", d.cfg.Server)

	msg := new(dns.Msg)
	msg.SetQuestion(dns.Fqdn(d.cfg.Name), d.qtype)
	reply, err := d.exchange(ctx, msg)
	if err != nil {
		// The context's end closes the connection, which the error does
		// not say.
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
		return s.finish(requestFailure("a DNS reply", err))
	}
	s.attrs.PutStr("dns.response.code", dns.RcodeToString[reply.Rcode])
	s.attrs.PutInt("dns.answer.count", int64(len(reply.Answer)))
	if reply.Rcode != dns.RcodeSuccess {
		return s.finish(&assertionFailure{assertion: "rcode", expected: "NOERROR", actual: dns.RcodeToString[reply.Rcode]})
	}
	answers := answerValues(reply.Answer, d.qtype)
	if len(answers) == 0 {
		return s.finish(&assertionFailure{assertion: "answers", expected: "at least one " + d.cfg.recordType() + " record", actual: "none"})
	}
	for _, want := range d.cfg.Expect {
		if !slices.Contains(answers, normalizeDNSValue(want)) {
			return s.finish(&assertionFailure{assertion: "expect", expected: want,
				actual: truncate(strings.Join(answers, ", "))})
		}
	}
	return s.finish(nil)
}

// exchange sends the query and reads the reply. The client only takes the
// context's deadline; closing the connection when the context ends also
// lets Shutdown interrupt a query.
func (d *dnsRunner) exchange(ctx context.Context, msg *dns.Msg) (*dns.Msg, error) {
	conn, err := d.client.DialContext(ctx, d.cfg.Server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	reply, _, err := d.client.ExchangeWithConnContext(ctx, msg, conn)
	return reply, err
}

// answerValues returns the data of the answers of the asked type, without
// the owner name, TTL and class, and normalized like expectations.
func answerValues(rrs []dns.RR, qtype uint16) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype != qtype {
			continue
		}
		var v string
		switch rec := rr.(type) {
		case *dns.A:
			v = rec.A.String()
		case *dns.AAAA:
			v = rec.AAAA.String()
		case *dns.CNAME:
			v = rec.Target
		case *dns.NS:
			v = rec.Ns
		case *dns.PTR:
			v = rec.Ptr
		case *dns.MX:
			v = fmt.Sprintf("%d %s", rec.Preference, rec.Mx)
		case *dns.TXT:
			v = strings.Join(rec.Txt, "")
		default:
			// Everything after the header, e.g. "10 5 443 host." for SRV.
			v = strings.TrimPrefix(rr.String(), rr.Header().String())
		}
		out = append(out, normalizeDNSValue(v))
	}
	return out
}

// normalizeDNSValue lets expectations omit the trailing dot and ignore case
// of names.
func normalizeDNSValue(v string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(v), "."))
}

func (d *dnsRunner) close() {}
