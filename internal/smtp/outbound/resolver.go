package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Errors a Resolver wraps, so routing can tell a permanent condition from
// one worth retrying (RFC 5321 §5.1: a name that does not exist bounces; a
// lookup that could not complete is retried later).
var (
	// ErrNotFound means the name does not exist (NXDOMAIN) or has no records
	// of the asked type.
	ErrNotFound = errors.New("dns: not found")
	// ErrTemporary means the lookup failed for now (SERVFAIL, timeout,
	// network error).
	ErrTemporary = errors.New("dns: temporary failure")
)

// Resolver is the DNS seam of the outbound role. Errors wrap ErrNotFound or
// ErrTemporary.
type Resolver interface {
	// LookupMX returns domain's MX records in answer order (unsorted).
	LookupMX(ctx context.Context, domain string) ([]*net.MX, error)
	// LookupIP returns host's IPv4 and IPv6 addresses.
	LookupIP(ctx context.Context, host string) ([]net.IP, error)
	// LookupTXT returns name's TXT records, each one's strings joined.
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// NewResolver returns the system resolver when server is "", else a
// resolver that queries the DNS server at server (host:port) directly.
func NewResolver(server string) Resolver {
	if server == "" {
		return systemResolver{net.DefaultResolver}
	}
	return &dnsResolver{server: server, timeout: 5 * time.Second}
}

// systemResolver maps net.Resolver errors onto the sentinels.
type systemResolver struct{ r *net.Resolver }

func (s systemResolver) LookupMX(ctx context.Context, domain string) ([]*net.MX, error) {
	mx, err := s.r.LookupMX(ctx, domain)
	return mx, sysErr(err)
}

func (s systemResolver) LookupIP(ctx context.Context, host string) ([]net.IP, error) {
	ips, err := s.r.LookupIP(ctx, "ip", host)
	return ips, sysErr(err)
}

func (s systemResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	txt, err := s.r.LookupTXT(ctx, name)
	return txt, sysErr(err)
}

func sysErr(err error) error {
	if err == nil {
		return nil
	}
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	// Anything else, including malformed answers, may pass: retry.
	return fmt.Errorf("%w: %w", ErrTemporary, err)
}

// dnsResolver queries one server with miekg/dns: UDP first, TCP when the
// answer is truncated (RFC 7766 §5).
type dnsResolver struct {
	server  string
	timeout time.Duration
}

func (r *dnsResolver) LookupMX(ctx context.Context, domain string) ([]*net.MX, error) {
	rrs, err := r.query(ctx, domain, dns.TypeMX)
	if err != nil {
		return nil, err
	}
	var out []*net.MX
	for _, rr := range rrs {
		if mx, ok := rr.(*dns.MX); ok {
			host := mx.Mx
			if host != "." {
				host = strings.TrimSuffix(host, ".")
			}
			out = append(out, &net.MX{Host: host, Pref: mx.Preference})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no MX records for %s", ErrNotFound, domain)
	}
	return out, nil
}

// LookupIP asks for A and AAAA. One family failing temporarily is ignored
// when the other has addresses: delivery can proceed over those.
func (r *dnsResolver) LookupIP(ctx context.Context, host string) ([]net.IP, error) {
	var ips []net.IP
	var errs []error
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		rrs, err := r.query(ctx, host, t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, rr := range rrs {
			switch rr := rr.(type) {
			case *dns.A:
				ips = append(ips, rr.A)
			case *dns.AAAA:
				ips = append(ips, rr.AAAA)
			}
		}
	}
	if len(ips) > 0 {
		return ips, nil
	}
	for _, err := range errs {
		if errors.Is(err, ErrTemporary) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: no addresses for %s", ErrNotFound, host)
}

func (r *dnsResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	rrs, err := r.query(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range rrs {
		if t, ok := rr.(*dns.TXT); ok {
			// RFC 7208 §3.3, RFC 6376 §3.6.2.2: a record's strings are concatenated.
			out = append(out, strings.Join(t.Txt, ""))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no TXT records for %s", ErrNotFound, name)
	}
	return out, nil
}

// query returns the answer section for name/qtype, mapping NXDOMAIN to
// ErrNotFound and other failures to ErrTemporary.
func (r *dnsResolver) query(ctx context.Context, name string, qtype uint16) ([]dns.RR, error) {
	what := name + " " + dns.TypeToString[qtype]
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(1232, false)
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	c := &dns.Client{Net: "udp", Timeout: r.timeout}
	resp, _, err := c.ExchangeContext(ctx, m, r.server)
	if err == nil && resp.Truncated {
		c.Net = "tcp"
		resp, _, err = c.ExchangeContext(ctx, m, r.server)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrTemporary, what, err)
	}
	switch resp.Rcode {
	case dns.RcodeSuccess:
		return resp.Answer, nil
	case dns.RcodeNameError:
		return nil, fmt.Errorf("%w: %s: NXDOMAIN", ErrNotFound, what)
	default:
		return nil, fmt.Errorf("%w: %s: %s", ErrTemporary, what, dns.RcodeToString[resp.Rcode])
	}
}
