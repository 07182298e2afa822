package pgdir

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/directory"
)

// Resolve expands address to the accounts and forwards that receive it;
// the rules are directory.Expand's. All lookups run in one read-only
// REPEATABLE READ transaction, so a concurrent admin change is seen
// entirely or not at all. A database failure is returned as is, never as
// ErrNotFound, so the MX answers 4xx.
func (d *Dir) Resolve(ctx context.Context, address string) (directory.Resolution, error) {
	var out directory.Resolution
	err := d.read(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = directory.Expand(ctx, txLookup{tx}, address, d.policy)
		return err
	})
	return out, err
}

// txLookup is directory.Lookup over one transaction.
type txLookup struct{ tx pgx.Tx }

func (l txLookup) LookupAccount(ctx context.Context, addr string) (directory.Account, bool, error) {
	return lookupAccount(ctx, l.tx, addr)
}

func (l txLookup) LookupAlias(ctx context.Context, addr string) ([]string, bool, error) {
	rows, err := l.tx.Query(ctx, `SELECT target FROM aliases WHERE address = $1 ORDER BY target`, addr)
	if err != nil {
		return nil, false, err
	}
	targets, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, false, err
	}
	return targets, len(targets) > 0, nil
}

func (l txLookup) IsLocalDomain(ctx context.Context, domain string) (bool, error) {
	return domainExists(ctx, l.tx, domain)
}
