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
		out, err = directory.Expand(ctx, txLookup{tx: tx, aliases: map[string][]string{}}, address, d.policy)
		return err
	})
	return out, err
}

// txLookup is directory.Lookup over one transaction. Expand asks for an
// address's account and then its alias; one query answers both and the
// alias targets wait in aliases for the second call, saving a round trip
// per address (valid because every lookup reads the same snapshot).
type txLookup struct {
	tx      pgx.Tx
	aliases map[string][]string
}

func (l txLookup) LookupAccount(ctx context.Context, addr string) (directory.Account, bool, error) {
	var mailstore *string
	var targets []string
	err := l.tx.QueryRow(ctx, `SELECT
		(SELECT mailstore FROM accounts WHERE address = $1),
		array(SELECT target FROM aliases WHERE address = $1 ORDER BY target)`, addr).Scan(&mailstore, &targets)
	if err != nil {
		return directory.Account{}, false, err
	}
	l.aliases[addr] = targets
	if mailstore == nil {
		return directory.Account{}, false, nil
	}
	return directory.Account{Address: addr, Mailstore: *mailstore}, true, nil
}

func (l txLookup) LookupAlias(ctx context.Context, addr string) ([]string, bool, error) {
	targets, ok := l.aliases[addr]
	if !ok {
		rows, err := l.tx.Query(ctx, `SELECT target FROM aliases WHERE address = $1 ORDER BY target`, addr)
		if err != nil {
			return nil, false, err
		}
		if targets, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return nil, false, err
		}
	}
	return targets, len(targets) > 0, nil
}

func (l txLookup) IsLocalDomain(ctx context.Context, domain string) (bool, error) {
	return domainExists(ctx, l.tx, domain)
}
