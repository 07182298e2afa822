package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/dkim"
)

var domainDNS = command{
	name: "domain dns", usage: "NAME [--hostname HOST]", minArgs: 1, maxArgs: 1,
	doc: "print the DNS records to publish for a domain, in zone-file form",
	flags: func(f *flagSet) {
		f.fs.String("hostname", "", "the mail server's host name (default: mail.NAME)")
	},
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		name, err := directory.NormalizeDomain(f.arg(0))
		if err != nil {
			return invalid(err)
		}
		host := "mail." + name
		if h := f.string("hostname"); h != "" {
			if host, err = directory.NormalizeDomain(h); err != nil {
				return invalid(err)
			}
		}
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		keys, err := d.DKIMKeys(ctx, name)
		if err != nil {
			if errors.Is(err, directory.ErrNotFound) {
				return explain(err, "domain %s does not exist; add it with: rookery domain add %s", name, name)
			}
			return err
		}
		return writeZone(c.stdout, name, host, keys)
	},
}

// writeZone prints the records that make domain work with mail host host:
// delivery, sender authentication and client autoconfiguration. All DKIM
// keys are listed, so an old key stays published while mail it signed may
// still be checked.
func writeZone(w io.Writer, domain, host string, keys []directory.DKIMKey) error {
	var dkimLines []string
	for _, k := range keys {
		name, value, err := dkim.DNSRecord(k)
		if err != nil {
			return err
		}
		dkimLines = append(dkimLines, fmt.Sprintf("%s. IN TXT %s", name, quoteTXT(value)))
	}
	if len(dkimLines) == 0 {
		dkimLines = append(dkimLines, "; none: the domain has no DKIM keys, so its mail goes out unsigned")
	}
	D, H := domain+".", host+"."
	lines := []string{
		fmt.Sprintf("; DNS records for %s with mail host %s", domain, host),
		"; Mail exchanger (RFC 5321 §5.1); SPF (RFC 7208): only the MX host sends.",
		fmt.Sprintf("%s IN MX 10 %s", D, H),
		fmt.Sprintf("%s IN TXT %s", D, quoteTXT("v=spf1 mx -all")),
		"; DKIM public keys (RFC 6376 §3.6.2, RFC 8463 §4.2)",
	}
	lines = append(lines, dkimLines...)
	lines = append(lines,
		"; DMARC policy (RFC 7489 §6.3); reports go to postmaster",
		fmt.Sprintf("_dmarc.%s IN TXT %s", D, quoteTXT("v=DMARC1; p=quarantine; rua=mailto:postmaster@"+domain)),
		"; Client autoconfiguration: SRV (RFC 6186), implicit TLS first (RFC 8314 §5.1)",
		fmt.Sprintf("_submissions._tcp.%s IN SRV 0 1 465 %s", D, H),
		fmt.Sprintf("_submission._tcp.%s IN SRV 10 1 587 %s", D, H),
		fmt.Sprintf("_imaps._tcp.%s IN SRV 0 1 993 %s", D, H),
		fmt.Sprintf("_imap._tcp.%s IN SRV 10 1 143 %s", D, H),
		// RFC 6186 §3.4: a higher priority than IMAP says IMAP is preferred.
		fmt.Sprintf("_pop3s._tcp.%s IN SRV 20 1 995 %s", D, H),
		"; Thunderbird autoconfig and Outlook autodiscover look up these names",
		fmt.Sprintf("autoconfig.%s IN CNAME %s", D, H),
		fmt.Sprintf("autodiscover.%s IN CNAME %s", D, H),
	)
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

// quoteTXT renders a TXT value as zone-file character-strings: each at most
// 255 bytes (RFC 1035 §3.3.14), quoted with '"' and '\' escaped (§5.1). A
// resolver joins the strings of one record back into the value (RFC 6376
// §3.6.2.2).
func quoteTXT(value string) string {
	var parts []string
	for len(value) > 0 {
		n := min(len(value), 255)
		chunk := value[:n]
		value = value[n:]
		chunk = strings.ReplaceAll(chunk, `\`, `\\`)
		parts = append(parts, `"`+strings.ReplaceAll(chunk, `"`, `\"`)+`"`)
	}
	if len(parts) == 0 {
		return `""`
	}
	return strings.Join(parts, " ")
}
