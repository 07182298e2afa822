package sqlitequeue

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// schemaV1 is the first schema. Databases created by early builds carry
// user_version 1 but lack recipients.remote, so the step to version 2 adds
// missing columns by inspecting the table instead of trusting the version.
const schemaV1 = `
CREATE TABLE IF NOT EXISTS messages (
	id        TEXT PRIMARY KEY,
	mail_from TEXT NOT NULL,
	received  INTEGER NOT NULL,
	size      INTEGER NOT NULL,
	smtputf8  INTEGER NOT NULL,
	body      BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS recipients (
	message_id   TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	address      TEXT NOT NULL,
	orig         TEXT NOT NULL,
	remote       INTEGER NOT NULL DEFAULT 0,
	status       TEXT NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt INTEGER NOT NULL,
	last_error   TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (message_id, address)
);
CREATE INDEX IF NOT EXISTS recipients_due ON recipients(status, next_attempt);
`

// schemaVersion is the PRAGMA user_version this code writes.
const schemaVersion = 4

// addedColumns are the columns versions 2 and 3 guarantee, added by ALTER
// TABLE when missing (SQLite allows ADD COLUMN with a constant default).
// Version 3 added messages.require_tls (RFC 8689 REQUIRETLS), version 4
// the claims of runners sharing the queue (queue.ClaimRequest).
var addedColumns = []struct{ table, column, def string }{
	{"recipients", "remote", "INTEGER NOT NULL DEFAULT 0"},
	{"recipients", "last_attempt", "INTEGER NOT NULL DEFAULT 0"},
	{"messages", "held", "INTEGER NOT NULL DEFAULT 0"},
	{"messages", "warned", "INTEGER NOT NULL DEFAULT 0"},
	{"messages", "require_tls", "INTEGER NOT NULL DEFAULT 0"},
	{"recipients", "claim_owner", "TEXT NOT NULL DEFAULT ''"},
	{"recipients", "claim_until", "INTEGER NOT NULL DEFAULT 0"},
}

// migrate brings the database to schemaVersion in one transaction, so a
// crash mid-way leaves the old version intact. A database newer than this
// code is refused rather than misread.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	if version > schemaVersion {
		return fmt.Errorf("queue schema version %d is newer than this program's %d", version, schemaVersion)
	}
	if version == schemaVersion {
		return nil
	}
	if _, err := tx.ExecContext(ctx, schemaV1); err != nil {
		return err
	}
	for _, c := range addedColumns {
		if err := addColumn(ctx, tx, c.table, c.column, c.def); err != nil {
			return err
		}
	}
	// Failures recorded before version 2 have no last_attempt; start their
	// retention now rather than purging them at the first Purge.
	if _, err := tx.ExecContext(ctx, `UPDATE recipients SET last_attempt = ? WHERE last_attempt = 0 AND status != 'pending'`,
		time.Now().UnixNano()); err != nil {
		return err
	}
	// Purge and Stats group recipients by message.
	if _, err := tx.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS recipients_message ON recipients(message_id, status)`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

// addColumn adds table.column unless it exists.
func addColumn(ctx context.Context, tx *sql.Tx, table, column, def string) error {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		if name == column {
			return nil
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	_, err = tx.ExecContext(ctx, fmt.Sprintf(`ALTER TABLE %s ADD COLUMN %s %s`, table, column, def))
	return err
}
