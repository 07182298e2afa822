package pgdir

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/directory"
)

// AddDomain adds a local domain; ErrExists if it is already there.
func (d *Dir) AddDomain(ctx context.Context, name string) error {
	n, err := directory.NormalizeDomain(name)
	if err != nil {
		return err
	}
	tag, err := d.pool.Exec(ctx, `INSERT INTO domains (name) VALUES ($1) ON CONFLICT DO NOTHING`, n)
	if err != nil {
		return fmt.Errorf("add domain %s: %w", n, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("domain %s: %w", n, directory.ErrExists)
	}
	return nil
}

// DeleteDomain removes a domain that has no accounts or aliases left, so a
// typo cannot delete a domain's users; remove them first. Its DKIM keys go
// with it. The domain's row is locked first: an account or alias being
// added concurrently either committed before (and is counted) or waits on
// the lock and then fails its foreign key (ErrNotFound for its domain).
func (d *Dir) DeleteDomain(ctx context.Context, name string) error {
	n, err := directory.NormalizeDomain(name)
	if err != nil {
		return err
	}
	return d.write(ctx, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM domains WHERE name = $1 FOR UPDATE`, n).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("domain %s: %w", n, directory.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("delete domain %s: %w", n, err)
		}
		var accounts, aliases int
		err = tx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM accounts WHERE domain = $1),
			(SELECT count(DISTINCT address) FROM aliases WHERE domain = $1)`, n).Scan(&accounts, &aliases)
		if err != nil {
			return fmt.Errorf("delete domain %s: %w", n, err)
		}
		if accounts > 0 || aliases > 0 {
			return fmt.Errorf("domain %s still has %d accounts and %d aliases: %w", n, accounts, aliases, directory.ErrExists)
		}
		// The DKIM keys go by ON DELETE CASCADE.
		if _, err := tx.Exec(ctx, `DELETE FROM domains WHERE name = $1`, n); err != nil {
			return fmt.Errorf("delete domain %s: %w", n, err)
		}
		return nil
	})
}

// Domains lists the local domains by name.
func (d *Dir) Domains(ctx context.Context) ([]directory.Domain, error) {
	rows, err := d.pool.Query(ctx, `SELECT name FROM domains ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.Domain, error) {
		var dom directory.Domain
		return dom, r.Scan(&dom.Name)
	})
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	return out, nil
}

// IsLocalDomain reports whether name is a local domain. A syntactically
// invalid name is simply not local; a database failure is an error, never
// false, so the MX answers 4xx rather than rejecting mail.
func (d *Dir) IsLocalDomain(ctx context.Context, name string) (bool, error) {
	n, err := directory.NormalizeDomain(name)
	if err != nil {
		return false, nil
	}
	ok, err := domainExists(ctx, d.pool, n)
	if err != nil {
		return false, fmt.Errorf("domain %s: %w", n, err)
	}
	return ok, nil
}

func domainExists(ctx context.Context, q querier, name string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM domains WHERE name = $1)`, name).Scan(&ok)
	return ok, err
}

// requireDomain returns ErrNotFound, with a message naming the domain, when
// domain is not local.
func requireDomain(ctx context.Context, q querier, domain string) error {
	ok, err := domainExists(ctx, q, domain)
	if err != nil {
		return err
	}
	if !ok {
		return errNoDomain(domain)
	}
	return nil
}

func errNoDomain(domain string) error {
	return fmt.Errorf("domain %s does not exist: %w", domain, directory.ErrNotFound)
}
