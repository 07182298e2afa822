package admin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/rookery-mail/rookery/internal/directory"
)

var userAdd = command{
	name: "user add", usage: "ADDRESS [--password-stdin] [--mailstore NAME]", minArgs: 1, maxArgs: 1,
	doc: "create an account; without --password-stdin a password is generated and printed once",
	flags: func(f *flagSet) {
		f.fs.Bool("password-stdin", false, "read the password from the first line of standard input")
		f.fs.String("mailstore", "", "the mailstore to hold the account's mail (default: the configured default)")
	},
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		addr, err := directory.NormalizeAddress(f.arg(0))
		if err != nil {
			return invalid(err)
		}
		password, generated, err := c.password(f)
		if err != nil {
			return err
		}
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		if err := requireDomain(ctx, d, directory.AddressDomain(addr)); err != nil {
			return err
		}
		acct, err := d.AddAccount(ctx, addr, password, f.string("mailstore"))
		if err != nil {
			if errors.Is(err, directory.ErrExists) {
				return explain(err, "account %s already exists", addr)
			}
			return err
		}
		if generated {
			fmt.Fprintf(c.stdout, "created %s password: %s\n", acct.Address, password)
		} else {
			c.println("created", acct.Address)
		}
		return nil
	},
}

var userDel = command{
	name: "user del", usage: "ADDRESS", minArgs: 1, maxArgs: 1,
	doc: "delete an account (its stored mail is not touched)",
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		addr, err := directory.NormalizeAddress(f.arg(0))
		if err != nil {
			return invalid(err)
		}
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		if err := d.DeleteAccount(ctx, addr); err != nil {
			return accountErr(err, addr)
		}
		c.println("deleted", addr)
		return nil
	},
}

var userList = command{
	name: "user list", usage: "[DOMAIN]", minArgs: 0, maxArgs: 1,
	doc: "list accounts, one per line: address and mailstore",
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		domain, err := optionalDomain(f.arg(0))
		if err != nil {
			return err
		}
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		if domain != "" {
			if err := requireDomain(ctx, d, domain); err != nil {
				return err
			}
		}
		accts, err := d.Accounts(ctx, domain)
		if err != nil {
			return err
		}
		for _, a := range accts {
			c.println(a.Address, a.Mailstore)
		}
		return nil
	},
}

var userPasswd = command{
	name: "user passwd", usage: "ADDRESS [--password-stdin]", minArgs: 1, maxArgs: 1,
	doc: "set an account's password; without --password-stdin a password is generated and printed once",
	flags: func(f *flagSet) {
		f.fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	},
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		addr, err := directory.NormalizeAddress(f.arg(0))
		if err != nil {
			return invalid(err)
		}
		password, generated, err := c.password(f)
		if err != nil {
			return err
		}
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		if err := d.SetPassword(ctx, addr, password); err != nil {
			return accountErr(err, addr)
		}
		if generated {
			fmt.Fprintf(c.stdout, "updated %s password: %s\n", addr, password)
		} else {
			c.println("updated", addr)
		}
		return nil
	},
}

func accountErr(err error, addr string) error {
	if errors.Is(err, directory.ErrNotFound) {
		return explain(err, "account %s does not exist", addr)
	}
	return err
}

// password returns the password from stdin with --password-stdin, else a
// generated one (generated is then true, and the caller prints it once).
func (c *cli) password(f *flagSet) (password string, generated bool, err error) {
	if !f.bool("password-stdin") {
		return directory.GeneratePassword(), true, nil
	}
	p, err := readLine(c.stdin)
	if err != nil {
		return "", false, fmt.Errorf("read password from stdin: %w", err)
	}
	if p == "" {
		return "", false, errors.New("empty password on stdin")
	}
	return p, false, nil
}

// readLine reads one line, without its CR/LF ending. Only the line ending is
// removed: spaces are part of the password.
func readLine(r io.Reader) (string, error) {
	if r == nil {
		return "", nil
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// optionalDomain normalizes a DOMAIN argument that may be absent.
func optionalDomain(arg string) (string, error) {
	if arg == "" {
		return "", nil
	}
	d, err := directory.NormalizeDomain(arg)
	if err != nil {
		return "", invalid(err)
	}
	return d, nil
}
