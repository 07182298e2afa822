package sqlitedir

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/rookery-mail/rookery/internal/directory"
)

// AddAlias adds targets to the alias address (a local address or a
// catch-all "@domain" of an existing domain), creating it. Targets may be
// local accounts, other aliases or external addresses; they are not
// required to exist yet. A pair that already exists fails the whole call
// with ErrExists, so the caller learns of the duplicate.
func (d *DB) AddAlias(ctx context.Context, address string, targets []string) error {
	addr, norm, err := directory.NormalizeAlias(address, targets)
	if err != nil {
		return err
	}
	domain := directory.AddressDomain(addr)
	return d.write(ctx, func(tx *sql.Tx) error {
		if err := requireDomain(ctx, tx, domain); err != nil {
			return fmt.Errorf("add alias %s: %w", addr, err)
		}
		for _, t := range norm {
			res, err := tx.ExecContext(ctx,
				"INSERT INTO aliases (address, domain, target) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
				addr, domain, t)
			if err != nil {
				return fmt.Errorf("add alias %s -> %s: %w", addr, t, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("add alias %s -> %s: %w", addr, t, err)
			} else if n == 0 {
				return fmt.Errorf("alias %s -> %s: %w", addr, t, directory.ErrExists)
			}
		}
		return nil
	})
}

// DeleteAlias removes one target of an alias, or the whole alias when
// target is ""; ErrNotFound if nothing matched.
func (d *DB) DeleteAlias(ctx context.Context, address, target string) error {
	addr, err := directory.NormalizeAliasAddress(address)
	if err != nil {
		return err
	}
	query, args, what := "DELETE FROM aliases WHERE address = ?", []any{addr}, "alias "+addr
	if target != "" {
		t, err := directory.NormalizeAddress(target)
		if err != nil {
			return fmt.Errorf("alias %s: target: %w", addr, err)
		}
		query, args, what = query+" AND target = ?", append(args, t), what+" -> "+t
	}
	res, err := d.db.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("delete %s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete %s: %w", what, err)
	} else if n == 0 {
		return fmt.Errorf("%s: %w", what, directory.ErrNotFound)
	}
	return nil
}

// Aliases lists aliases by address, targets sorted, of one domain
// (ErrNotFound if it is not local) or of all when domain is "".
func (d *DB) Aliases(ctx context.Context, domain string) ([]directory.Alias, error) {
	var out []directory.Alias
	err := d.read(ctx, func(tx *sql.Tx) error {
		query, args := "SELECT address, target FROM aliases ORDER BY address, target", []any{}
		if domain != "" {
			n, err := directory.NormalizeDomain(domain)
			if err != nil {
				return err
			}
			if err := requireDomain(ctx, tx, n); err != nil {
				return err
			}
			query, args = "SELECT address, target FROM aliases WHERE domain = ? ORDER BY address, target", []any{n}
		}
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var addr, target string
			if err := rows.Scan(&addr, &target); err != nil {
				return err
			}
			if len(out) == 0 || out[len(out)-1].Address != addr {
				out = append(out, directory.Alias{Address: addr})
			}
			last := &out[len(out)-1]
			last.Targets = append(last.Targets, target)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list aliases: %w", err)
	}
	return out, nil
}
