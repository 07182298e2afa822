package sqlitedir

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/rookery-mail/rookery/internal/directory"
)

// createdLayout is fixed-width (nanoseconds always written), so the text
// column sorts in time order.
const createdLayout = "2006-01-02T15:04:05.000000000Z"

// AddDKIMKey stores a DKIM signing key of an existing domain.
func (d *DB) AddDKIMKey(ctx context.Context, key directory.DKIMKey) error {
	k, err := directory.NormalizeDKIMKey(key)
	if err != nil {
		return err
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		if err := requireDomain(ctx, tx, k.Domain); err != nil {
			return fmt.Errorf("add DKIM key %s: %w", k.Selector, err)
		}
		res, err := tx.ExecContext(ctx,
			`INSERT INTO dkim_keys (domain, selector, algorithm, private_key, created)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			k.Domain, k.Selector, k.Algorithm, k.PrivateKeyPEM, k.Created.Format(createdLayout))
		if err != nil {
			return fmt.Errorf("add DKIM key %s of %s: %w", k.Selector, k.Domain, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("add DKIM key %s of %s: %w", k.Selector, k.Domain, err)
		} else if n == 0 {
			return fmt.Errorf("DKIM key %s of %s: %w", k.Selector, k.Domain, directory.ErrExists)
		}
		return nil
	})
}

// DKIMKeys lists a local domain's DKIM keys, newest first.
func (d *DB) DKIMKeys(ctx context.Context, domain string) ([]directory.DKIMKey, error) {
	n, err := directory.NormalizeDomain(domain)
	if err != nil {
		return nil, err
	}
	var out []directory.DKIMKey
	err = d.read(ctx, func(tx *sql.Tx) error {
		if err := requireDomain(ctx, tx, n); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx,
			`SELECT selector, algorithm, private_key, created FROM dkim_keys
			WHERE domain = ? ORDER BY created DESC, selector`, n)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k := directory.DKIMKey{Domain: n}
			var created string
			if err := rows.Scan(&k.Selector, &k.Algorithm, &k.PrivateKeyPEM, &created); err != nil {
				return err
			}
			if k.Created, err = time.Parse(createdLayout, created); err != nil {
				return fmt.Errorf("key %s: created: %w", k.Selector, err)
			}
			out = append(out, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list DKIM keys of %s: %w", n, err)
	}
	return out, nil
}
