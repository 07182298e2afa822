package pgdir

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/directory"
)

// AddAlias adds targets to the alias address (a local address or a
// catch-all "@domain" of an existing domain), creating it. Targets may be
// local accounts, other aliases or external addresses; they are not
// required to exist yet. A pair that already exists fails the whole call
// with ErrExists, so the caller learns of the duplicate.
func (d *Dir) AddAlias(ctx context.Context, address string, targets []string) error {
	addr, err := directory.NormalizeAliasAddress(address)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		return fmt.Errorf("alias %s: no targets: %w", addr, directory.ErrInvalid)
	}
	norm := make([]string, 0, len(targets))
	for _, t := range targets {
		n, err := directory.NormalizeAddress(t)
		if err != nil {
			return fmt.Errorf("alias %s: target: %w", addr, err)
		}
		if n == addr {
			return fmt.Errorf("alias %s: points to itself: %w", addr, directory.ErrInvalid)
		}
		norm = append(norm, n)
	}
	domain := directory.AddressDomain(addr)
	return d.write(ctx, "add alias "+addr, func(tx pgx.Tx) error {
		if err := requireDomain(ctx, tx, domain); err != nil {
			return fmt.Errorf("add alias %s: %w", addr, err)
		}
		for _, t := range norm {
			tag, err := tx.Exec(ctx, `INSERT INTO aliases (address, domain, target) VALUES ($1, $2, $3)
				ON CONFLICT DO NOTHING`, addr, domain, t)
			if err != nil {
				return fmt.Errorf("add alias %s -> %s: %w", addr, t, err)
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("alias %s -> %s: %w", addr, t, directory.ErrExists)
			}
		}
		return nil
	})
}

// DeleteAlias removes one target of an alias, or the whole alias when
// target is ""; ErrNotFound if nothing matched.
func (d *Dir) DeleteAlias(ctx context.Context, address, target string) error {
	addr, err := directory.NormalizeAliasAddress(address)
	if err != nil {
		return err
	}
	query, args, what := `DELETE FROM aliases WHERE address = $1`, []any{addr}, "alias "+addr
	if target != "" {
		t, err := directory.NormalizeAddress(target)
		if err != nil {
			return fmt.Errorf("alias %s: target: %w", addr, err)
		}
		query, args, what = query+` AND target = $2`, append(args, t), what+" -> "+t
	}
	tag, err := d.pool.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("delete %s: %w", what, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, directory.ErrNotFound)
	}
	return nil
}

// Aliases lists aliases by address, targets sorted, of one domain
// (ErrNotFound if it is not local) or of all when domain is "".
func (d *Dir) Aliases(ctx context.Context, domain string) ([]directory.Alias, error) {
	var out []directory.Alias
	err := d.read(ctx, func(tx pgx.Tx) error {
		query, args := `SELECT address, array_agg(target ORDER BY target) FROM aliases
			GROUP BY address ORDER BY address`, []any{}
		if domain != "" {
			n, err := directory.NormalizeDomain(domain)
			if err != nil {
				return err
			}
			if err := requireDomain(ctx, tx, n); err != nil {
				return err
			}
			query, args = `SELECT address, array_agg(target ORDER BY target) FROM aliases
				WHERE domain = $1 GROUP BY address ORDER BY address`, []any{n}
		}
		rows, _ := tx.Query(ctx, query, args...)
		var err error
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.Alias, error) {
			var a directory.Alias
			return a, r.Scan(&a.Address, &a.Targets)
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list aliases: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
