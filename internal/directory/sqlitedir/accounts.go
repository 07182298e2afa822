package sqlitedir

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rookery-mail/rookery/internal/directory"
)

// AddAccount creates an account in an existing domain, on mailstore
// (registered if new) or where directory.Place puts it. The password is
// hashed before the write transaction, so the slow hash never holds the
// lock; the transaction serializes placement with other writers.
func (d *DB) AddAccount(ctx context.Context, address, password, mailstore string) (directory.Account, error) {
	addr, hash, err := directory.HashFor(address, password)
	if err != nil {
		return directory.Account{}, err
	}
	if mailstore != "" {
		if err := directory.CheckStoreName(mailstore); err != nil {
			return directory.Account{}, err
		}
	}
	acct := directory.Account{Address: addr, Mailstore: mailstore}
	domain := directory.AddressDomain(addr)
	err = d.write(ctx, func(tx *sql.Tx) error {
		if err := requireDomain(ctx, tx, domain); err != nil {
			return fmt.Errorf("add account %s: %w", addr, err)
		}
		if _, found, err := lookupAccount(ctx, tx, addr); err != nil {
			return fmt.Errorf("add account %s: %w", addr, err)
		} else if found {
			return fmt.Errorf("account %s: %w", addr, directory.ErrExists)
		}
		if mailstore == "" {
			placed, err := directory.Place(ctx, txSource{tx}, addr, d.mailstore)
			if err != nil {
				return fmt.Errorf("add account %s: %w", addr, err)
			}
			acct.Mailstore = placed
		}
		if err := ensureStore(ctx, tx, acct.Mailstore); err != nil {
			return fmt.Errorf("add account %s: mailstore %s: %w", addr, acct.Mailstore, err)
		}
		_, err := tx.ExecContext(ctx,
			"INSERT INTO accounts (address, domain, password_hash, mailstore) VALUES (?, ?, ?, ?)",
			addr, domain, hash, acct.Mailstore)
		if err != nil {
			return fmt.Errorf("add account %s: %w", addr, err)
		}
		return nil
	})
	if err != nil {
		return directory.Account{}, err
	}
	return acct, nil
}

// DeleteAccount removes an account. Aliases that point to it stay (they may
// be re-pointed or the account re-created); Resolve skips them meanwhile.
func (d *DB) DeleteAccount(ctx context.Context, address string) error {
	addr, err := directory.NormalizeAddress(address)
	if err != nil {
		return err
	}
	res, err := d.db.ExecContext(ctx, "DELETE FROM accounts WHERE address = ?", addr)
	if err != nil {
		return fmt.Errorf("delete account %s: %w", addr, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete account %s: %w", addr, err)
	} else if n == 0 {
		return fmt.Errorf("account %s: %w", addr, directory.ErrNotFound)
	}
	return nil
}

// SetPassword replaces an account's password hash.
func (d *DB) SetPassword(ctx context.Context, address, password string) error {
	addr, hash, err := directory.HashFor(address, password)
	if err != nil {
		return err
	}
	res, err := d.db.ExecContext(ctx, "UPDATE accounts SET password_hash = ? WHERE address = ?", hash, addr)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", addr, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("set password of %s: %w", addr, err)
	} else if n == 0 {
		return fmt.Errorf("account %s: %w", addr, directory.ErrNotFound)
	}
	return nil
}

// Account returns one account; ErrNotFound if there is none.
func (d *DB) Account(ctx context.Context, address string) (directory.Account, error) {
	addr, err := directory.NormalizeAddress(address)
	if err != nil {
		return directory.Account{}, err
	}
	acct, found, err := lookupAccount(ctx, d.db, addr)
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
func (d *DB) Accounts(ctx context.Context, domain string) ([]directory.Account, error) {
	var out []directory.Account
	err := d.read(ctx, func(tx *sql.Tx) error {
		query, args := "SELECT address, mailstore FROM accounts ORDER BY address", []any{}
		if domain != "" {
			n, err := directory.NormalizeDomain(domain)
			if err != nil {
				return err
			}
			if err := requireDomain(ctx, tx, n); err != nil {
				return err
			}
			query, args = "SELECT address, mailstore FROM accounts WHERE domain = ? ORDER BY address", []any{n}
		}
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a directory.Account
			if err := rows.Scan(&a.Address, &a.Mailstore); err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}

// Authenticate checks address and password by directory.CheckPassword:
// any miss is ErrAuthFailed and costs the same argon2id work.
func (d *DB) Authenticate(ctx context.Context, address, password string) (directory.Account, error) {
	return directory.CheckPassword(ctx, address, password, func(ctx context.Context, addr string) (directory.Account, string, bool, error) {
		var acct directory.Account
		var hash string
		err := d.db.QueryRowContext(ctx, "SELECT address, mailstore, password_hash FROM accounts WHERE address = ?", addr).
			Scan(&acct.Address, &acct.Mailstore, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return directory.Account{}, "", false, nil
		}
		return acct, hash, err == nil, err
	})
}

func lookupAccount(ctx context.Context, q querier, addr string) (directory.Account, bool, error) {
	a := directory.Account{}
	err := q.QueryRowContext(ctx, "SELECT address, mailstore FROM accounts WHERE address = ?", addr).
		Scan(&a.Address, &a.Mailstore)
	if errors.Is(err, sql.ErrNoRows) {
		return directory.Account{}, false, nil
	}
	if err != nil {
		return directory.Account{}, false, err
	}
	return a, true, nil
}
