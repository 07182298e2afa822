package outbound

import (
	"context"

	"github.com/rookery-mail/rookery/internal/queue"
)

// requireTLSErr says why cn may not carry a REQUIRETLS message (RFC 8689
// §4.2.1), or nil. Checked: STARTTLS was negotiated, the certificate
// verifies (Options.TLS roots, else the system's) for the MX host name,
// and the server offers REQUIRETLS, so the requirement travels with the
// message. Not checked, as outbound has neither yet: that the MX lookup
// was DNSSEC-signed or the host is listed by an MTA-STS policy, and DANE.
//
// The codes are RFC 8689 §4.2.1's, as temporary failures (X.7.10 no
// usable TLS, X.7.30 no REQUIRETLS): the host may be fixed before the
// queue's MaxAge, when the runner fails the recipient and the DSN reports
// 5.7.10 or 5.7.30 (queue/bounce.go).
func requireTLSErr(cn *conn) *deliveryError {
	switch {
	case cn.tls == "":
		return tempErr("4.7.10", "REQUIRETLS: host %s[%s] offered no working STARTTLS; not sent in plaintext", cn.host, cn.ip)
	case !cn.verified:
		return tempErr("4.7.10", "REQUIRETLS: the certificate of host %s[%s] does not verify for that name", cn.host, cn.ip)
	}
	if ok, _ := cn.c.Extension("REQUIRETLS"); !ok {
		return tempErr("4.7.30", "REQUIRETLS: host %s[%s] does not offer REQUIRETLS", cn.host, cn.ip)
	}
	return nil
}

// sendRequireTLS delivers j, a REQUIRETLS message that cn cannot carry,
// over another MX host of rt that can: RFC 8689 §4.2.1 asks to try each
// MX host in turn, while cn stays for the domain's ordinary mail. With
// none, every recipient gets cn's reason, that of the preferred host.
func (c *Client) sendRequireTLS(ctx context.Context, rt *route, cn *conn, j job) []queue.Result {
	de := requireTLSErr(cn)
	alt := c.secureConn(ctx, rt, cn.host)
	if alt == nil {
		c.logTx(j, rt.domain, cn, de, 0)
		return jobResults(j, de)
	}
	res, broken := c.send(ctx, alt, rt.domain, j)
	alt.close(!broken)
	return res
}

// secureConn opens a session to the first MX host of rt other than skip
// that passes requireTLSErr, or returns nil. It is a session beyond the
// per-domain limit, closed after its one message.
func (c *Client) secureConn(ctx context.Context, rt *route, skip string) *conn {
	for _, host := range rt.hosts {
		if host == skip {
			continue
		}
		ips, err := c.opts.Resolver.LookupIP(ctx, host)
		if err != nil {
			continue
		}
		for _, ip := range ips {
			cn, err := c.dial(ctx, host, ip, true)
			if err != nil {
				c.log.Info("outbound REQUIRETLS connect failed", "domain", rt.domain, "host", host, "ip", ip.String(), "err", err)
				continue
			}
			if de := requireTLSErr(cn); de != nil {
				c.log.Info("outbound REQUIRETLS host refused", "domain", rt.domain, "err", de.text)
				cn.close(true)
				continue
			}
			return cn
		}
	}
	return nil
}
