package sqlitedir

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/rookery-mail/rookery/internal/directory"
)

// AddDomain adds a local domain; ErrExists if it is already there.
func (d *DB) AddDomain(ctx context.Context, name string) error {
	n, err := directory.NormalizeDomain(name)
	if err != nil {
		return err
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		ok, err := domainExists(ctx, tx, n)
		if err != nil {
			return fmt.Errorf("add domain %s: %w", n, err)
		}
		if ok {
			return fmt.Errorf("domain %s: %w", n, directory.ErrExists)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO domains (name) VALUES (?)", n); err != nil {
			return fmt.Errorf("add domain %s: %w", n, err)
		}
		return nil
	})
}

// DeleteDomain removes a domain that has no accounts or aliases left, so a
// typo cannot delete a domain's users; remove them first. Its DKIM keys go
// with it.
func (d *DB) DeleteDomain(ctx context.Context, name string) error {
	n, err := directory.NormalizeDomain(name)
	if err != nil {
		return err
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		var accounts, aliases int
		err := tx.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM accounts WHERE domain = ?),
			(SELECT count(DISTINCT address) FROM aliases WHERE domain = ?)`, n, n).Scan(&accounts, &aliases)
		if err != nil {
			return fmt.Errorf("delete domain %s: %w", n, err)
		}
		if accounts > 0 || aliases > 0 {
			return fmt.Errorf("domain %s still has %d accounts and %d aliases: %w", n, accounts, aliases, directory.ErrExists)
		}
		// Explicit rather than only ON DELETE CASCADE, so the rule holds
		// whatever the foreign_keys pragma of the handle.
		if _, err := tx.ExecContext(ctx, "DELETE FROM dkim_keys WHERE domain = ?", n); err != nil {
			return fmt.Errorf("delete domain %s: DKIM keys: %w", n, err)
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM domains WHERE name = ?", n)
		if err != nil {
			return fmt.Errorf("delete domain %s: %w", n, err)
		}
		if k, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete domain %s: %w", n, err)
		} else if k == 0 {
			return fmt.Errorf("domain %s: %w", n, directory.ErrNotFound)
		}
		return nil
	})
}

// Domains lists the local domains by name.
func (d *DB) Domains(ctx context.Context) ([]directory.Domain, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT name FROM domains ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	defer rows.Close()
	var out []directory.Domain
	for rows.Next() {
		var dom directory.Domain
		if err := rows.Scan(&dom.Name); err != nil {
			return nil, fmt.Errorf("list domains: %w", err)
		}
		out = append(out, dom)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	return out, nil
}

// IsLocalDomain reports whether name is a local domain. A syntactically
// invalid name is simply not local.
func (d *DB) IsLocalDomain(ctx context.Context, name string) (bool, error) {
	n, err := directory.NormalizeDomain(name)
	if err != nil {
		return false, nil
	}
	return domainExists(ctx, d.db, n)
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func domainExists(ctx context.Context, q querier, name string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM domains WHERE name = ?", name).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return err == nil, err
}

// requireDomain returns ErrNotFound, with a message naming the domain, when
// domain is not local.
func requireDomain(ctx context.Context, q querier, domain string) error {
	ok, err := domainExists(ctx, q, domain)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("domain %s does not exist: %w", domain, directory.ErrNotFound)
	}
	return nil
}
