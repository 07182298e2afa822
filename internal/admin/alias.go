package admin

import (
	"context"
	"errors"

	"github.com/rookery-mail/rookery/internal/directory"
)

var aliasAdd = command{
	name: "alias add", usage: "ADDRESS TARGET [TARGET...]", minArgs: 2, maxArgs: -1,
	doc: "forward ADDRESS (or @DOMAIN, the catch-all) to the targets",
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		addr, err := directory.NormalizeAliasAddress(f.arg(0))
		if err != nil {
			return invalid(err)
		}
		targets := make([]string, 0, len(f.args)-1)
		for _, t := range f.args[1:] {
			n, err := directory.NormalizeAddress(t)
			if err != nil {
				return invalid(err)
			}
			targets = append(targets, n)
		}
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		if err := requireDomain(ctx, d, directory.AddressDomain(addr)); err != nil {
			return err
		}
		if err := d.AddAlias(ctx, addr, targets); err != nil {
			switch {
			case errors.Is(err, directory.ErrExists):
				return explain(err, "%s already exists; nothing added", errorText(err))
			case errors.Is(err, directory.ErrInvalid):
				return invalid(err)
			}
			return err
		}
		for _, t := range targets {
			c.println("added alias", addr, "->", t)
		}
		return nil
	},
}

var aliasDel = command{
	name: "alias del", usage: "ADDRESS [TARGET]", minArgs: 1, maxArgs: 2,
	doc: "remove one target of an alias, or the whole alias",
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		addr, err := directory.NormalizeAliasAddress(f.arg(0))
		if err != nil {
			return invalid(err)
		}
		target := f.arg(1)
		if target != "" {
			if target, err = directory.NormalizeAddress(target); err != nil {
				return invalid(err)
			}
		}
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		if err := d.DeleteAlias(ctx, addr, target); err != nil {
			if errors.Is(err, directory.ErrNotFound) {
				if target != "" {
					return explain(err, "alias %s has no target %s", addr, target)
				}
				return explain(err, "alias %s does not exist", addr)
			}
			return err
		}
		if target != "" {
			c.println("deleted alias", addr, "->", target)
		} else {
			c.println("deleted alias", addr)
		}
		return nil
	},
}

var aliasList = command{
	name: "alias list", usage: "[DOMAIN]", minArgs: 0, maxArgs: 1,
	doc: "list aliases, one line per target: ADDRESS -> TARGET",
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
		aliases, err := d.Aliases(ctx, domain)
		if err != nil {
			return err
		}
		for _, a := range aliases {
			for _, t := range a.Targets {
				c.println(a.Address, "->", t)
			}
		}
		return nil
	},
}

// errorText is err's message without the sentinel's "directory: ..." tail.
func errorText(err error) string {
	msg := err.Error()
	for _, s := range []error{directory.ErrExists, directory.ErrNotFound, directory.ErrInvalid} {
		if suffix := ": " + s.Error(); len(msg) > len(suffix) && msg[len(msg)-len(suffix):] == suffix {
			return msg[:len(msg)-len(suffix)]
		}
	}
	return msg
}
