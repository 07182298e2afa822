package outbound

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
)

// route is the ordered list of hosts to try for one recipient domain.
type route struct {
	domain string
	hosts  []string
	// implicit is set when the domain has no MX records and the domain
	// itself is the only host (RFC 5321 §5.1 "implicit MX").
	implicit bool
}

// resolveRoute looks up domain's MX records. Errors are *deliveryError:
// permanent for a domain that does not exist or refuses mail (null MX),
// temporary when DNS could not answer.
func (c *Client) resolveRoute(ctx context.Context, domain string) (*route, error) {
	mxs, err := c.opts.Resolver.LookupMX(ctx, domain)
	switch {
	case errors.Is(err, ErrNotFound) || (err == nil && len(mxs) == 0):
		// RFC 5321 §5.1: no MX records, so the domain is its own host. Its
		// address lookup (in connect) decides whether it exists at all.
		return &route{domain: domain, hosts: []string{domain}, implicit: true}, nil
	case err != nil:
		return nil, tempErr("4.4.3", "MX lookup for %s: %v", domain, err)
	}
	// RFC 7505 §3: a single MX with host "." means the domain accepts no mail.
	if len(mxs) == 1 && (mxs[0].Host == "." || mxs[0].Host == "") {
		return nil, permErr(556, "5.1.10", "domain %s does not accept mail (null MX, RFC 7505)", domain)
	}
	// RFC 5321 §5.1: lowest preference first; equal preferences in random
	// order to spread load.
	rand.Shuffle(len(mxs), func(i, j int) { mxs[i], mxs[j] = mxs[j], mxs[i] })
	slices.SortStableFunc(mxs, func(a, b *net.MX) int { return cmp.Compare(a.Pref, b.Pref) })
	r := &route{domain: domain}
	for _, mx := range mxs {
		host := strings.ToLower(strings.TrimSuffix(mx.Host, "."))
		// RFC 5321 §5.1: if this host is itself an MX of the domain, only
		// hosts with a strictly lower preference may be used, else mail loops.
		if c.opts.Hostname != "" && strings.EqualFold(host, c.opts.Hostname) {
			if len(r.hosts) == 0 {
				return nil, permErr(554, "5.4.6", "mail for %s loops back to myself", domain)
			}
			break
		}
		if host != "" && host != "." && !slices.Contains(r.hosts, host) {
			r.hosts = append(r.hosts, host)
		}
	}
	if len(r.hosts) == 0 {
		return nil, tempErr("4.4.3", "no usable MX host for %s", domain)
	}
	return r, nil
}
