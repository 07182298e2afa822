package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/dkim"
)

var domainAdd = command{
	name: "domain add", usage: "NAME", minArgs: 1, maxArgs: 1,
	doc: "add a domain to receive mail for, with new DKIM signing keys",
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		name, err := directory.NormalizeDomain(f.arg(0))
		if err != nil {
			return invalid(err)
		}
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		keys, err := dkim.AddDomain(ctx, d, name, c.now())
		if errors.Is(err, directory.ErrExists) {
			return explain(err, "domain %s already exists", name)
		} else if err != nil {
			return err
		}
		c.println("added domain", name)
		// The notes go to stderr: stdout stays the one result line that
		// scripts read; the admin sees both on a terminal.
		for _, k := range keys {
			fmt.Fprintln(c.stderr, "added DKIM key", k.Selector, k.Algorithm)
		}
		fmt.Fprintf(c.stderr, "publish the DNS records printed by: rookery domain dns %s\n", name)
		if c.env.Postmaster != nil && c.env.Postmaster() == "" {
			// RFC 5321 §4.5.1; DSNs and the DMARC record point there.
			fmt.Fprintf(c.stderr, "warning: no postmaster configured, so mail to postmaster@%s and abuse@%s is refused; set postmaster = \"admin@%s\" in the config (an account)\n", name, name, name)
		}
		return nil
	},
}

var domainDKIM = command{
	name: "domain dkim", usage: "NAME", minArgs: 1, maxArgs: 1,
	doc: "generate DKIM keys for a domain added before rookery made them",
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		name, err := directory.NormalizeDomain(f.arg(0))
		if err != nil {
			return invalid(err)
		}
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		keys, err := dkim.AddMissingKeys(ctx, d, name, c.now())
		switch {
		case errors.Is(err, directory.ErrNotFound):
			return explain(err, "domain %s does not exist; add it with: rookery domain add %s", name, name)
		case errors.Is(err, directory.ErrExists):
			return explain(err, "domain %s already has DKIM keys; see rookery domain dns %s", name, name)
		case err != nil:
			return err
		}
		for _, k := range keys {
			c.println("added DKIM key", k.Selector, k.Algorithm)
		}
		fmt.Fprintf(c.stderr, "publish the DNS records printed by: rookery domain dns %s\n", name)
		if c.env.Postmaster != nil && c.env.Postmaster() == "" {
			// RFC 5321 §4.5.1; DSNs and the DMARC record point there.
			fmt.Fprintf(c.stderr, "warning: no postmaster configured, so mail to postmaster@%s and abuse@%s is refused; set postmaster = \"admin@%s\" in the config (an account)\n", name, name, name)
		}
		return nil
	},
}

// now is Env.Now, which dates new DKIM keys and their selectors.
func (c *cli) now() time.Time {
	if c.env.Now != nil {
		return c.env.Now()
	}
	return time.Now()
}

var domainList = command{
	name: "domain list", usage: "", minArgs: 0, maxArgs: 0,
	doc: "list the domains, one per line",
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		ds, err := d.Domains(ctx)
		if err != nil {
			return err
		}
		for _, dom := range ds {
			c.println(dom.Name)
		}
		return nil
	},
}

var domainDel = command{
	name: "domain del", usage: "NAME", minArgs: 1, maxArgs: 1,
	doc: "delete a domain that has no accounts or aliases left, with its DKIM keys",
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		name, err := directory.NormalizeDomain(f.arg(0))
		if err != nil {
			return invalid(err)
		}
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		if err := d.DeleteDomain(ctx, name); err != nil {
			switch {
			case errors.Is(err, directory.ErrNotFound):
				return explain(err, "domain %s does not exist", name)
			case errors.Is(err, directory.ErrExists):
				return explain(err, "domain %s still has accounts or aliases; see rookery user list %s and rookery alias list %s", name, name, name)
			}
			return err
		}
		c.println("deleted domain", name)
		return nil
	},
}

// requireDomain gives the admin the command that fixes a missing domain,
// before an add fails with a bare "not found".
func requireDomain(ctx context.Context, d directory.Directory, domain string) error {
	ok, err := d.IsLocalDomain(ctx, domain)
	if err != nil {
		return err
	}
	if !ok {
		return explain(directory.ErrNotFound, "domain %s does not exist; add it with: rookery domain add %s", domain, domain)
	}
	return nil
}

// cliError is an error whose message is written for the admin, still
// matching the directory's sentinel errors with errors.Is.
type cliError struct {
	msg string
	err error
}

func (e *cliError) Error() string { return e.msg }
func (e *cliError) Unwrap() error { return e.err }

func explain(err error, format string, a ...any) error {
	return &cliError{msg: fmt.Sprintf(format, a...), err: err}
}

// invalid rephrases a validation error without the "directory: invalid
// value" tail the sentinel adds, which says nothing to an admin.
func invalid(err error) error {
	return &cliError{msg: "invalid " + errorText(err), err: err}
}
