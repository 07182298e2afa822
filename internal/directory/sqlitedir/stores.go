package sqlitedir

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rookery-mail/rookery/internal/directory"
)

// EnsureStore registers a mailstore unless it is registered already.
func (d *DB) EnsureStore(ctx context.Context, name string) error {
	if err := directory.CheckStoreName(name); err != nil {
		return err
	}
	if err := ensureStore(ctx, d.db, name); err != nil {
		return fmt.Errorf("register mailstore %s: %w", name, err)
	}
	return nil
}

// AddStore registers a mailstore; ErrExists if it is registered.
func (d *DB) AddStore(ctx context.Context, name string) error {
	if err := directory.CheckStoreName(name); err != nil {
		return err
	}
	res, err := d.db.ExecContext(ctx, "INSERT INTO mailstores (name) VALUES (?) ON CONFLICT DO NOTHING", name)
	if err != nil {
		return fmt.Errorf("add mailstore %s: %w", name, err)
	}
	return onlyOne(res, fmt.Sprintf("mailstore %s", name), directory.ErrExists)
}

// SetStoreAccepting opens or closes a store to least-loaded placement.
func (d *DB) SetStoreAccepting(ctx context.Context, name string, accepting bool) error {
	res, err := d.db.ExecContext(ctx, "UPDATE mailstores SET accepts_new_users = ? WHERE name = ?", accepting, name)
	if err != nil {
		return fmt.Errorf("set mailstore %s: %w", name, err)
	}
	return onlyOne(res, fmt.Sprintf("mailstore %s", name), directory.ErrNotFound)
}

// Stores lists the registry by name, with account counts.
func (d *DB) Stores(ctx context.Context) ([]directory.Store, error) {
	out, err := txSource{d.db}.Stores(ctx)
	if err != nil {
		return nil, fmt.Errorf("list mailstores: %w", err)
	}
	return out, nil
}

// AddPlacementRule appends a rule on a registered store.
func (d *DB) AddPlacementRule(ctx context.Context, rule directory.PlacementRule) (directory.PlacementRule, error) {
	r, err := directory.NormalizeRule(rule)
	if err != nil {
		return directory.PlacementRule{}, err
	}
	err = d.write(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM mailstores WHERE name = ?", r.Store).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("mailstore %s: %w", r.Store, directory.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "INSERT INTO placement_rules (domain, pattern, mailstore) VALUES (?, ?, ?) RETURNING id",
			r.Domain, r.Pattern, r.Store).Scan(&r.ID)
	})
	if err != nil {
		return directory.PlacementRule{}, fmt.Errorf("add placement rule: %w", err)
	}
	return r, nil
}

// PlacementRules lists the rules by ID.
func (d *DB) PlacementRules(ctx context.Context) ([]directory.PlacementRule, error) {
	out, err := txSource{d.db}.PlacementRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("list placement rules: %w", err)
	}
	return out, nil
}

// DeletePlacementRule removes a rule.
func (d *DB) DeletePlacementRule(ctx context.Context, id int64) error {
	res, err := d.db.ExecContext(ctx, "DELETE FROM placement_rules WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete placement rule %d: %w", id, err)
	}
	return onlyOne(res, fmt.Sprintf("placement rule %d", id), directory.ErrNotFound)
}

// execer is what *sql.DB and *sql.Tx have in common for writes.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func ensureStore(ctx context.Context, q execer, name string) error {
	_, err := q.ExecContext(ctx, "INSERT INTO mailstores (name) VALUES (?) ON CONFLICT DO NOTHING", name)
	return err
}

// onlyOne turns a statement that changed no row into what's error.
func onlyOne(res sql.Result, what string, none error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, none)
	}
	return nil
}

// txSource is the directory.PlacementSource of a handle or a transaction.
type txSource struct{ q querier }

func (s txSource) Stores(ctx context.Context) ([]directory.Store, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT m.name, m.accepts_new_users, count(a.id)
		FROM mailstores m LEFT JOIN accounts a ON a.mailstore = m.name
		GROUP BY m.name ORDER BY m.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []directory.Store
	for rows.Next() {
		var st directory.Store
		if err := rows.Scan(&st.Name, &st.AcceptsNewUsers, &st.Accounts); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

func (s txSource) PlacementRules(ctx context.Context) ([]directory.PlacementRule, error) {
	rows, err := s.q.QueryContext(ctx, "SELECT id, domain, pattern, mailstore FROM placement_rules ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []directory.PlacementRule
	for rows.Next() {
		var r directory.PlacementRule
		if err := rows.Scan(&r.ID, &r.Domain, &r.Pattern, &r.Store); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
