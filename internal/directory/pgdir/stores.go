package pgdir

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/directory"
)

// EnsureStore registers a mailstore unless it is registered already.
func (d *Dir) EnsureStore(ctx context.Context, name string) error {
	if err := directory.CheckStoreName(name); err != nil {
		return err
	}
	if err := ensureStore(ctx, d.pool, name); err != nil {
		return fmt.Errorf("register mailstore %s: %w", name, err)
	}
	return nil
}

// AddStore registers a mailstore; ErrExists if it is registered.
func (d *Dir) AddStore(ctx context.Context, name string) error {
	if err := directory.CheckStoreName(name); err != nil {
		return err
	}
	tag, err := d.pool.Exec(ctx, `INSERT INTO mailstores (name) VALUES ($1) ON CONFLICT DO NOTHING`, name)
	if err != nil {
		return fmt.Errorf("add mailstore %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("mailstore %s: %w", name, directory.ErrExists)
	}
	return nil
}

// SetStoreAccepting opens or closes a store to least-loaded placement.
func (d *Dir) SetStoreAccepting(ctx context.Context, name string, accepting bool) error {
	tag, err := d.pool.Exec(ctx, `UPDATE mailstores SET accepts_new_users = $1 WHERE name = $2`, accepting, name)
	if err != nil {
		return fmt.Errorf("set mailstore %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("mailstore %s: %w", name, directory.ErrNotFound)
	}
	return nil
}

// Stores lists the registry by name, with account counts.
func (d *Dir) Stores(ctx context.Context) ([]directory.Store, error) {
	out, err := txSource{d.pool}.Stores(ctx)
	if err != nil {
		return nil, fmt.Errorf("list mailstores: %w", err)
	}
	return out, nil
}

// AddPlacementRule appends a rule on a registered store. The foreign key
// holds the store: a rule can never name one that is not registered.
func (d *Dir) AddPlacementRule(ctx context.Context, rule directory.PlacementRule) (directory.PlacementRule, error) {
	r, err := directory.NormalizeRule(rule)
	if err != nil {
		return directory.PlacementRule{}, err
	}
	err = d.pool.QueryRow(ctx, `INSERT INTO placement_rules (domain, pattern, mailstore) VALUES ($1, $2, $3) RETURNING id`,
		r.Domain, r.Pattern, r.Store).Scan(&r.ID)
	if isForeignKey(err, "placement_rules_mailstore_fk") {
		return directory.PlacementRule{}, fmt.Errorf("add placement rule: mailstore %s: %w", r.Store, directory.ErrNotFound)
	}
	if err != nil {
		return directory.PlacementRule{}, fmt.Errorf("add placement rule: %w", err)
	}
	return r, nil
}

// PlacementRules lists the rules by ID.
func (d *Dir) PlacementRules(ctx context.Context) ([]directory.PlacementRule, error) {
	out, err := txSource{d.pool}.PlacementRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("list placement rules: %w", err)
	}
	return out, nil
}

// DeletePlacementRule removes a rule.
func (d *Dir) DeletePlacementRule(ctx context.Context, id int64) error {
	tag, err := d.pool.Exec(ctx, `DELETE FROM placement_rules WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete placement rule %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("placement rule %d: %w", id, directory.ErrNotFound)
	}
	return nil
}

func ensureStore(ctx context.Context, q querier, name string) error {
	_, err := q.Exec(ctx, `INSERT INTO mailstores (name) VALUES ($1) ON CONFLICT DO NOTHING`, name)
	return err
}

// txSource is the directory.PlacementSource of the pool or a transaction.
type txSource struct{ q querier }

func (s txSource) Stores(ctx context.Context) ([]directory.Store, error) {
	rows, err := s.q.Query(ctx, `SELECT m.name, m.accepts_new_users, count(a.id)
		FROM mailstores m LEFT JOIN accounts a ON a.mailstore = m.name
		GROUP BY m.name ORDER BY m.name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.Store, error) {
		var st directory.Store
		return st, r.Scan(&st.Name, &st.AcceptsNewUsers, &st.Accounts)
	})
}

func (s txSource) PlacementRules(ctx context.Context) ([]directory.PlacementRule, error) {
	rows, err := s.q.Query(ctx, `SELECT id, domain, pattern, mailstore FROM placement_rules ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.PlacementRule, error) {
		var p directory.PlacementRule
		return p, r.Scan(&p.ID, &p.Domain, &p.Pattern, &p.Store)
	})
}
