package admin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

var userAdd = command{
	name: "user add", usage: "ADDRESS [--password-stdin] [--mailstore NAME]", minArgs: 1, maxArgs: 1,
	doc: "create an account; without --password-stdin a password is generated and printed once",
	flags: func(f *flagSet) {
		f.fs.Bool("password-stdin", false, "read the password from the first line of standard input")
		f.fs.String("mailstore", "", "the mailstore to hold the account's mail (default: by placement rule, else the least-loaded store; see rookery store)")
	},
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		addr, err := directory.NormalizeAddress(f.arg(0))
		if err != nil {
			return invalid(err)
		}
		store := f.string("mailstore")
		if store != "" {
			if err := c.requireConfigured(store); err != nil {
				return err
			}
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
		acct, err := d.AddAccount(ctx, addr, password, store)
		if err != nil {
			switch {
			case errors.Is(err, directory.ErrExists):
				return explain(err, "account %s already exists", addr)
			case errors.Is(err, directory.ErrNoStore):
				return explain(err, "no rule places %s and no mailstore accepts new accounts; see rookery store list, or give --mailstore", addr)
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

var userQuota = command{
	name: "user quota", usage: "ADDRESS [STORAGE [MESSAGES]]", minArgs: 1, maxArgs: 3,
	doc: "show an account's quota and usage, or set its limits (sizes like 500M or 2G; 0 = unlimited)",
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		addr, err := directory.NormalizeAddress(f.arg(0))
		if err != nil {
			return invalid(err)
		}
		var storage, messages int64
		if f.arg(1) != "" {
			if storage, err = parseSize(f.arg(1)); err != nil {
				return invalid(err)
			}
		}
		if f.arg(2) != "" {
			if messages, err = strconv.ParseInt(f.arg(2), 10, 64); err != nil || messages < 0 {
				return invalid(fmt.Errorf("invalid message count %q", f.arg(2)))
			}
		}
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		acct, err := d.Account(ctx, addr)
		if err != nil {
			return accountErr(err, addr)
		}
		store, err := c.openStore(ctx, acct.Mailstore)
		if err != nil {
			return err
		}
		// The store creates accounts on first delivery; a limit may come first.
		if err := store.EnsureAccount(ctx, acct.Address); err != nil {
			return err
		}
		if f.arg(1) != "" {
			if err := store.SetQuota(ctx, acct.Address, storage, messages); err != nil {
				return err
			}
		}
		q, err := store.Quota(ctx, acct.Address)
		if err != nil {
			return err
		}
		c.println(acct.Address, "storage", usage(q.StorageUsed, q.StorageLimit), "messages", usage(q.MessagesUsed, q.MessageLimit))
		return nil
	},
}

// usage renders "used/limit", the limit 0 as "unlimited".
func usage(used, limit int64) string {
	l := "unlimited"
	if limit > 0 {
		l = strconv.FormatInt(limit, 10)
	}
	return strconv.FormatInt(used, 10) + "/" + l
}

// parseSize reads a byte count with an optional binary suffix K, M, G or
// T (1024-based, as Dovecot's quota settings).
func parseSize(s string) (int64, error) {
	num, mult := s, int64(1)
	if n := len(s); n > 0 {
		if i := strings.IndexByte("KMGT", s[n-1]&^0x20); i >= 0 {
			num, mult = s[:n-1], int64(1)<<(10*(i+1))
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v < 0 || v > math.MaxInt64/mult {
		return 0, fmt.Errorf("invalid size %q: want a number of bytes with an optional K, M, G or T", s)
	}
	return v * mult, nil
}

// openStore returns the named mailstore, opening it on first use.
func (c *cli) openStore(ctx context.Context, name string) (mailstore.Store, error) {
	if s, ok := c.stores[name]; ok {
		return s, nil
	}
	if c.env.Mailstore == nil {
		return nil, errors.New("open mailstore: no mailstore configured")
	}
	s, err := c.env.Mailstore(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("open mailstore %s: %w", name, err)
	}
	if c.stores == nil {
		c.stores = map[string]mailstore.Store{}
	}
	c.stores[name] = s
	return s, nil
}
