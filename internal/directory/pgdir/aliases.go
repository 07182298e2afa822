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
	addr, norm, err := directory.NormalizeAlias(address, targets)
	if err != nil {
		return err
	}
	domain := directory.AddressDomain(addr)
	return d.write(ctx, func(tx pgx.Tx) error {
		for _, t := range norm {
			tag, err := tx.Exec(ctx,
				`INSERT INTO aliases (address, domain, target) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
				addr, domain, t)
			if isForeignKey(err, "aliases_domain_fk") {
				return fmt.Errorf("add alias %s: %w", addr, errNoDomain(domain))
			}
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
	query, args := `SELECT address, target FROM aliases ORDER BY address, target`, []any{}
	var n string
	if domain != "" {
		var err error
		if n, err = directory.NormalizeDomain(domain); err != nil {
			return nil, err
		}
		query, args = `SELECT address, target FROM aliases WHERE domain = $1 ORDER BY address, target`, []any{n}
	}
	var out []directory.Alias
	err := d.read(ctx, func(tx pgx.Tx) error {
		out = nil
		if n != "" {
			if err := requireDomain(ctx, tx, n); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		var addr, target string
		_, err = pgx.ForEachRow(rows, []any{&addr, &target}, func() error {
			if len(out) == 0 || out[len(out)-1].Address != addr {
				out = append(out, directory.Alias{Address: addr})
			}
			last := &out[len(out)-1]
			last.Targets = append(last.Targets, target)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list aliases: %w", err)
	}
	return out, nil
}
