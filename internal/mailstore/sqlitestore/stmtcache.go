package sqlitestore

import (
	"context"
	"database/sql"
)

// stmtCache holds statements prepared at Open for the hot queries. The
// pure-Go SQLite parses every statement anew otherwise, which cost more
// than running the small queries of Changes (measured). It is filled
// before any transaction exists and read-only afterwards: preparing later
// would need a second connection while a transaction holds one, which
// deadlocks the one-connection write pool.
type stmtCache map[string]*sql.Stmt

func newStmtCache(ctx context.Context, db *sql.DB, queries []string) (stmtCache, error) {
	c := stmtCache{}
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			c.close()
			return nil, err
		}
		c[q] = st
	}
	return c, nil
}

func (c stmtCache) close() {
	for _, st := range c {
		st.Close()
	}
}

// cachedTx is a transaction that runs cached statements for the hot
// queries (database/sql re-prepares a statement on the transaction's
// connection at most once) and plain queries otherwise.
type cachedTx struct {
	*sql.Tx
	cache stmtCache
}

func (t cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st, ok := t.cache[query]; ok {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := t.cache[query]; ok {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := t.cache[query]; ok {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

// readTx starts a read transaction: one consistent snapshot in WAL mode.
func (s *Store) readTx(ctx context.Context) (cachedTx, error) {
	tx, err := s.rdb.BeginTx(ctx, nil)
	if err != nil {
		return cachedTx{}, err
	}
	return cachedTx{tx, s.rcache}, nil
}
