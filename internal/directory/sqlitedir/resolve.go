package sqlitedir

import (
	"context"
	"database/sql"

	"github.com/rookery-mail/rookery/internal/directory"
)

// Resolve expands address to the accounts and forwards that receive it; the rules are
// directory.Expand's. All lookups run in one read transaction, so a
// concurrent admin change is seen entirely or not at all.
func (d *DB) Resolve(ctx context.Context, address string) (directory.Resolution, error) {
	var out directory.Resolution
	err := d.read(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = directory.Expand(ctx, txLookup{tx}, address, d.policy)
		return err
	})
	return out, err
}

// txLookup is directory.Lookup over one transaction.
type txLookup struct{ tx *sql.Tx }

func (l txLookup) LookupAccount(ctx context.Context, addr string) (directory.Account, bool, error) {
	return lookupAccount(ctx, l.tx, addr)
}

func (l txLookup) LookupAlias(ctx context.Context, addr string) ([]string, bool, error) {
	rows, err := l.tx.QueryContext(ctx, "SELECT target FROM aliases WHERE address = ? ORDER BY target", addr)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var targets []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, false, err
		}
		targets = append(targets, t)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	return targets, len(targets) > 0, nil
}

func (l txLookup) IsLocalDomain(ctx context.Context, domain string) (bool, error) {
	return domainExists(ctx, l.tx, domain)
}
