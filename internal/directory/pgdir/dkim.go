package pgdir

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/directory"
)

// AddDKIMKey stores a DKIM signing key of an existing domain. Created is
// kept to the microsecond (timestamptz).
func (d *Dir) AddDKIMKey(ctx context.Context, key directory.DKIMKey) error {
	k, err := directory.NormalizeDKIMKey(key)
	if err != nil {
		return err
	}
	tag, err := d.pool.Exec(ctx,
		`INSERT INTO dkim_keys (domain, selector, algorithm, private_key, created)
		SELECT name, $2, $3, $4, $5 FROM domains WHERE name = $1
		ON CONFLICT DO NOTHING`,
		k.Domain, k.Selector, k.Algorithm, k.PrivateKeyPEM, k.Created)
	if isForeignKey(err, "dkim_keys_domain_fk") { // the domain was deleted meanwhile
		return fmt.Errorf("add DKIM key %s: %w", k.Selector, errNoDomain(k.Domain))
	}
	if err != nil {
		return fmt.Errorf("add DKIM key %s of %s: %w", k.Selector, k.Domain, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// Nothing inserted: either the domain is missing or the selector taken.
	if err := requireDomain(ctx, d.pool, k.Domain); err != nil {
		return fmt.Errorf("add DKIM key %s: %w", k.Selector, err)
	}
	return fmt.Errorf("DKIM key %s of %s: %w", k.Selector, k.Domain, directory.ErrExists)
}

// DKIMKeys lists a local domain's DKIM keys, newest first.
func (d *Dir) DKIMKeys(ctx context.Context, domain string) ([]directory.DKIMKey, error) {
	n, err := directory.NormalizeDomain(domain)
	if err != nil {
		return nil, err
	}
	var out []directory.DKIMKey
	err = d.read(ctx, func(tx pgx.Tx) error {
		if err := requireDomain(ctx, tx, n); err != nil {
			return err
		}
		rows, err := tx.Query(ctx,
			`SELECT selector, algorithm, private_key, created FROM dkim_keys
			WHERE domain = $1 ORDER BY created DESC, selector`, n)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.DKIMKey, error) {
			k := directory.DKIMKey{Domain: n}
			err := r.Scan(&k.Selector, &k.Algorithm, &k.PrivateKeyPEM, &k.Created)
			k.Created = k.Created.UTC()
			return k, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list DKIM keys of %s: %w", n, err)
	}
	return out, nil
}
