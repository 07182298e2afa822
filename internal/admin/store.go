package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rookery-mail/rookery/internal/directory"
)

// The store commands edit the directory's mailstore registry and the
// placement rules that choose a new account's store (issue #10). They
// never move an account: placement is decided once, at "user add".

var storeAdd = command{
	name: "store add", usage: "NAME", minArgs: 1, maxArgs: 1,
	doc: "register a configured [[mailstores]] entry for placement, accepting new accounts",
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		name := f.arg(0)
		if err := directory.CheckStoreName(name); err != nil {
			return invalid(err)
		}
		if err := c.requireConfigured(name); err != nil {
			return err
		}
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		if err := d.AddStore(ctx, name); err != nil {
			if errors.Is(err, directory.ErrExists) {
				return explain(err, "mailstore %s is already registered", name)
			}
			return err
		}
		c.println("added mailstore", name)
		return nil
	},
}

var storeList = command{
	name: "store list", maxArgs: 0,
	doc: "list registered mailstores, one per line: NAME accepting|closed ACCOUNTS",
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		stores, err := d.Stores(ctx)
		if err != nil {
			return err
		}
		for _, s := range stores {
			c.println(s.Name, acceptance(s.AcceptsNewUsers), s.Accounts)
		}
		return nil
	},
}

var storeSet = command{
	name: "store set", usage: "NAME --accepting=true|false", minArgs: 1, maxArgs: 1,
	doc: "open or close a mailstore to new accounts placed by load (rules and --mailstore still place there)",
	flags: func(f *flagSet) {
		f.fs.String("accepting", "", "`true` or false: whether new accounts without a rule may be placed here")
	},
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		name := f.arg(0)
		if f.string("accepting") == "" {
			return explain(directory.ErrInvalid, "store set needs --accepting=true or --accepting=false")
		}
		accepting, err := strconv.ParseBool(f.string("accepting"))
		if err != nil {
			return explain(directory.ErrInvalid, "--accepting must be true or false, got %q", f.string("accepting"))
		}
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		if err := d.SetStoreAccepting(ctx, name, accepting); err != nil {
			return storeErr(err, name)
		}
		c.println("mailstore", name, acceptance(accepting))
		return nil
	},
}

var storeRuleAdd = command{
	name: "store rule add", usage: "[--domain DOMAIN] [--pattern REGEXP] STORE", minArgs: 1, maxArgs: 1,
	doc: "place new accounts that match on STORE; rules are tried in ID order, before the least-loaded store",
	flags: func(f *flagSet) {
		f.fs.String("domain", "", "match addresses of this `DOMAIN` only (default: any)")
		f.fs.String("pattern", "", "match local parts by this Go `REGEXP`, e.g. '^[a-k]' (default: any)")
	},
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		rule, err := directory.NormalizeRule(directory.PlacementRule{
			Domain: f.string("domain"), Pattern: f.string("pattern"), Store: f.arg(0)})
		if err != nil {
			return invalid(err)
		}
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		added, err := d.AddPlacementRule(ctx, rule)
		if err != nil {
			return storeErr(err, rule.Store)
		}
		c.println("added placement rule", ruleLine(added))
		return nil
	},
}

var storeRuleList = command{
	name: "store rule list", maxArgs: 0,
	doc: "list placement rules in the order they are tried: ID STORE DOMAIN PATTERN (* for any)",
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		rules, err := d.PlacementRules(ctx)
		if err != nil {
			return err
		}
		for _, r := range rules {
			c.println(ruleLine(r))
		}
		return nil
	},
}

var storeRuleDelete = command{
	name: "store rule delete", usage: "ID", minArgs: 1, maxArgs: 1,
	doc: "delete a placement rule (accounts it placed stay where they are)",
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		id, err := strconv.ParseInt(f.arg(0), 10, 64)
		if err != nil {
			return explain(directory.ErrInvalid, "invalid rule ID %q: see rookery store rule list", f.arg(0))
		}
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		if err := d.DeletePlacementRule(ctx, id); err != nil {
			if errors.Is(err, directory.ErrNotFound) {
				return explain(err, "placement rule %d does not exist; see rookery store rule list", id)
			}
			return err
		}
		c.println("deleted placement rule", id)
		return nil
	},
}

// requireConfigured refuses a mailstore that the config does not list:
// no node with this config could serve an account placed there.
func (c *cli) requireConfigured(store string) error {
	known := c.env.Mailstores
	if known == nil || slices.Contains(known(), store) {
		return nil
	}
	return explain(directory.ErrInvalid, "mailstore %q is not configured (configured: %s); add a [[mailstores]] entry first",
		store, strings.Join(known(), ", "))
}

func storeErr(err error, name string) error {
	switch {
	case errors.Is(err, directory.ErrNotFound):
		return explain(err, "mailstore %s is not registered; add it with: rookery store add %s", name, name)
	case errors.Is(err, directory.ErrInvalid):
		return invalid(err)
	}
	return err
}

func acceptance(accepting bool) string {
	if accepting {
		return "accepting"
	}
	return "closed"
}

// ruleLine is a rule as "store rule list" prints it; the pattern comes
// last, since it may hold spaces.
func ruleLine(r directory.PlacementRule) string {
	return fmt.Sprintf("%d %s %s %s", r.ID, r.Store, or(r.Domain, "*"), or(r.Pattern, "*"))
}

func or(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}
