package pgdir

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/directory"
)

// AddAccount creates an account in an existing domain, on mailstore
// (registered if new) or where directory.Place puts it. The password is
// hashed before the transaction, so the slow hash never holds a
// connection. Of concurrent adds of one address exactly one succeeds; the
// others wait for it on the unique index and get ErrExists. Concurrent
// placements may both pick the least-loaded store: a tie, not an error.
func (d *Dir) AddAccount(ctx context.Context, address, password, mailstore string) (directory.Account, error) {
	addr, hash, err := directory.HashFor(address, password)
	if err != nil {
		return directory.Account{}, err
	}
	if mailstore != "" {
		if err := directory.CheckStoreName(mailstore); err != nil {
			return directory.Account{}, err
		}
	}
	domain := directory.AddressDomain(addr)
	var placed string
	err = d.write(ctx, func(tx pgx.Tx) error {
		placed = mailstore
		if placed == "" {
			// Before placing, so an unknown domain is ErrNotFound as on
			// every engine; the foreign key still guards a concurrent delete.
			if err := requireDomain(ctx, tx, domain); err != nil {
				return fmt.Errorf("add account %s: %w", addr, err)
			}
			p, err := directory.Place(ctx, txSource{tx}, addr, d.mailstore)
			if err != nil {
				return fmt.Errorf("add account %s: %w", addr, err)
			}
			placed = p
		}
		if err := ensureStore(ctx, tx, placed); err != nil {
			return fmt.Errorf("add account %s: mailstore %s: %w", addr, placed, err)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO accounts (address, domain, password_hash, mailstore)
			VALUES ($1, $2, $3, $4) ON CONFLICT (address) DO NOTHING`, addr, domain, hash, placed)
		if isForeignKey(err, "accounts_domain_fk") {
			return fmt.Errorf("add account %s: %w", addr, errNoDomain(domain))
		}
		if err != nil {
			return fmt.Errorf("add account %s: %w", addr, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("account %s: %w", addr, directory.ErrExists)
		}
		return nil
	})
	if err != nil {
		return directory.Account{}, err
	}
	return directory.Account{Address: addr, Mailstore: placed}, nil
}

// DeleteAccount removes an account. Aliases that point to it stay (they may
// be re-pointed or the account re-created); Resolve skips them meanwhile.
func (d *Dir) DeleteAccount(ctx context.Context, address string) error {
	addr, err := directory.NormalizeAddress(address)
	if err != nil {
		return err
	}
	tag, err := d.pool.Exec(ctx, `DELETE FROM accounts WHERE address = $1`, addr)
	if err != nil {
		return fmt.Errorf("delete account %s: %w", addr, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("account %s: %w", addr, directory.ErrNotFound)
	}
	return nil
}

// SetPassword replaces an account's password hash, computed before any
// connection is taken.
func (d *Dir) SetPassword(ctx context.Context, address, password string) error {
	addr, hash, err := directory.HashFor(address, password)
	if err != nil {
		return err
	}
	tag, err := d.pool.Exec(ctx, `UPDATE accounts SET password_hash = $1 WHERE address = $2`, hash, addr)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", addr, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("account %s: %w", addr, directory.ErrNotFound)
	}
	return nil
}

// Account returns one account; ErrNotFound if there is none.
func (d *Dir) Account(ctx context.Context, address string) (directory.Account, error) {
	addr, err := directory.NormalizeAddress(address)
	if err != nil {
		return directory.Account{}, err
	}
	acct, found, err := lookupAccount(ctx, d.pool, addr)
	if err != nil {
		return directory.Account{}, fmt.Errorf("account %s: %w", addr, err)
	}
	if !found {
		return directory.Account{}, fmt.Errorf("account %s: %w", addr, directory.ErrNotFound)
	}
	return acct, nil
}

// Accounts lists accounts by address, of one domain (ErrNotFound if it is
// not local) or of all when domain is "".
func (d *Dir) Accounts(ctx context.Context, domain string) ([]directory.Account, error) {
	query, args := `SELECT address, mailstore FROM accounts ORDER BY address`, []any{}
	var n string
	if domain != "" {
		var err error
		if n, err = directory.NormalizeDomain(domain); err != nil {
			return nil, err
		}
		query, args = `SELECT address, mailstore FROM accounts WHERE domain = $1 ORDER BY address`, []any{n}
	}
	var out []directory.Account
	err := d.read(ctx, func(tx pgx.Tx) error {
		if n != "" {
			if err := requireDomain(ctx, tx, n); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.Account, error) {
			var a directory.Account
			return a, r.Scan(&a.Address, &a.Mailstore)
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}

// Authenticate checks address and password by directory.CheckPassword:
// any miss is ErrAuthFailed and costs the same argon2id work. The hash is
// fetched and the connection released before that work, so slow
// verifications never pin the pool.
func (d *Dir) Authenticate(ctx context.Context, address, password string) (directory.Account, error) {
	return directory.CheckPassword(ctx, address, password, func(ctx context.Context, addr string) (directory.Account, string, bool, error) {
		var acct directory.Account
		var hash string
		err := d.pool.QueryRow(ctx, `SELECT address, mailstore, password_hash FROM accounts WHERE address = $1`, addr).
			Scan(&acct.Address, &acct.Mailstore, &hash)
		if errors.Is(err, pgx.ErrNoRows) {
			return directory.Account{}, "", false, nil
		}
		return acct, hash, err == nil, err
	})
}

func lookupAccount(ctx context.Context, q querier, addr string) (directory.Account, bool, error) {
	var a directory.Account
	err := q.QueryRow(ctx, `SELECT address, mailstore FROM accounts WHERE address = $1`, addr).
		Scan(&a.Address, &a.Mailstore)
	if errors.Is(err, pgx.ErrNoRows) {
		return directory.Account{}, false, nil
	}
	if err != nil {
		return directory.Account{}, false, err
	}
	return a, true, nil
}
