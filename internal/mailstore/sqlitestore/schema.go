package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] brings the schema from user_version i to i+1. Append only;
// never edit a released step.
var migrations = []string{
	// 1: initial schema.
	`
CREATE TABLE store_meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT;

CREATE TABLE accounts (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
) STRICT;

-- name is normalized (INBOX upper case), unique per account.
CREATE TABLE mailboxes (
	id            INTEGER PRIMARY KEY,
	account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name          TEXT NOT NULL,
	special_use   TEXT NOT NULL DEFAULT '',
	subscribed    INTEGER NOT NULL DEFAULT 0,
	uidvalidity   INTEGER NOT NULL,
	uidnext       INTEGER NOT NULL DEFAULT 1,
	highestmodseq INTEGER NOT NULL DEFAULT 1,
	UNIQUE (account_id, name)
) STRICT;

-- flags: normalized, sorted, space separated (flags are atoms, RFC 3501
-- §9 flag-keyword, so they contain no space). seen and deleted duplicate
-- two flags so STATUS and EXPUNGE need no string matching.
CREATE TABLE messages (
	id           INTEGER PRIMARY KEY,
	mailbox_id   INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
	uid          INTEGER NOT NULL,
	modseq       INTEGER NOT NULL,
	flags        TEXT NOT NULL DEFAULT '',
	seen         INTEGER NOT NULL DEFAULT 0,
	deleted      INTEGER NOT NULL DEFAULT 0,
	internaldate INTEGER NOT NULL, -- unix nanoseconds
	savedate     INTEGER NOT NULL, -- unix nanoseconds (RFC 8514)
	size         INTEGER NOT NULL,
	blob_id      TEXT NOT NULL,
	delivery_id  TEXT UNIQUE,
	UNIQUE (mailbox_id, uid)
) STRICT;
CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);
CREATE INDEX messages_blob ON messages (blob_id);

-- Expunged UIDs, so Changes can report them (RFC 7162 QRESYNC VANISHED).
CREATE TABLE expunged (
	mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
	uid        INTEGER NOT NULL,
	modseq     INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
) STRICT, WITHOUT ROWID;
CREATE INDEX expunged_modseq ON expunged (mailbox_id, modseq);
`,
	// 2: quotas (RFC 9208) and ACLs (RFC 4314). Usage is kept by triggers so
	// every write path (deliver, append, copy, expunge, delete) counts.
	`
ALTER TABLE accounts ADD COLUMN quota_storage  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN quota_messages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN used_storage   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN used_messages  INTEGER NOT NULL DEFAULT 0;
UPDATE accounts SET
	used_storage  = (SELECT coalesce(sum(m.size), 0) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = accounts.id),
	used_messages = (SELECT count(*) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = accounts.id);
CREATE TRIGGER messages_usage_insert AFTER INSERT ON messages BEGIN
	UPDATE accounts SET used_storage = used_storage + NEW.size, used_messages = used_messages + 1
	WHERE id = (SELECT account_id FROM mailboxes WHERE id = NEW.mailbox_id);
END;
CREATE TRIGGER messages_usage_delete AFTER DELETE ON messages BEGIN
	UPDATE accounts SET used_storage = used_storage - OLD.size, used_messages = used_messages - 1
	WHERE id = (SELECT account_id FROM mailboxes WHERE id = OLD.mailbox_id);
END;
-- The ON DELETE CASCADE from mailboxes runs after the mailbox row is gone,
-- when messages_usage_delete can no longer find the account; deleting the
-- messages first keeps the usage exact. (From DELETE of an account the
-- account row is already gone: nothing left to count.)
CREATE TRIGGER mailboxes_delete_messages BEFORE DELETE ON mailboxes BEGIN
	DELETE FROM messages WHERE mailbox_id = OLD.id;
END;

-- identifier is an account name or "anyone"; rights sorted RFC 4314 letters.
CREATE TABLE acl (
	mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
	identifier TEXT NOT NULL,
	rights     TEXT NOT NULL,
	PRIMARY KEY (mailbox_id, identifier)
) STRICT, WITHOUT ROWID;
CREATE INDEX acl_identifier ON acl (identifier);
`,
	// 3: full-text index for SEARCH BODY/TEXT (see fts.go). Blobs are
	// content-addressed and shared by copies, so each blob is indexed once,
	// under fts_docs.id. fts holds text already folded by the extractor,
	// hence case_sensitive; trigrams answer substring queries. A trigger
	// queues every newly referenced blob, so deliver, append and copy need
	// no code of their own and cost one lookup more per message.
	`
-- header caches the blob's top-level header section (headers.go), which
-- SORT and THREAD read instead of the whole blob; empty when not cached.
-- sent is its Date header (unix nanoseconds), NULL when there is no valid
-- one; messages.sent is that or the internal date (RFC 5256 sent date),
-- NULL until the blob is indexed, so SORT (DATE) needs no header at all.
CREATE TABLE fts_docs (
	id      INTEGER PRIMARY KEY,
	blob_id TEXT NOT NULL UNIQUE,
	header  BLOB NOT NULL DEFAULT x'',
	sent    INTEGER
) STRICT;
ALTER TABLE messages ADD COLUMN sent INTEGER;
CREATE TRIGGER messages_sent AFTER INSERT ON messages
WHEN EXISTS (SELECT 1 FROM fts_docs WHERE blob_id = NEW.blob_id) BEGIN
	UPDATE messages SET sent = coalesce((SELECT sent FROM fts_docs WHERE blob_id = NEW.blob_id), NEW.internaldate)
	WHERE id = NEW.id;
END;
CREATE VIRTUAL TABLE fts USING fts5(hdr, body, content='', contentless_delete=1, tokenize='trigram case_sensitive 1');
CREATE TABLE fts_pending (blob_id TEXT PRIMARY KEY) STRICT, WITHOUT ROWID;
INSERT INTO fts_pending (blob_id) SELECT DISTINCT blob_id FROM messages;
CREATE TRIGGER messages_fts_pending AFTER INSERT ON messages
WHEN NOT EXISTS (SELECT 1 FROM fts_docs WHERE blob_id = NEW.blob_id) BEGIN
	INSERT OR IGNORE INTO fts_pending (blob_id) VALUES (NEW.blob_id);
END;
`,
	// 4: IMAP4rev1 \Recent (recent.go): messages from recent_uid up are
	// recent to the next session that claims them. Mail that is already
	// stored is not recent.
	`
ALTER TABLE mailboxes ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 1;
UPDATE mailboxes SET recent_uid = uidnext;
`,
	// 5: subscriptions apart from mailboxes, so one outlives DELETE
	// (RFC 3501 §6.3.6) and can name a mailbox that does not exist.
	`
CREATE TABLE subscriptions (
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	PRIMARY KEY (account_id, name)
) STRICT, WITHOUT ROWID;
INSERT INTO subscriptions (account_id, name) SELECT account_id, name FROM mailboxes WHERE subscribed = 1;
ALTER TABLE mailboxes DROP COLUMN subscribed;
`,
	// 6: mailbox access keys of IMAP URLAUTH (urlauth.go), one per
	// mailbox (a mailbox has one owner); they go with the mailbox. IF NOT
	// EXISTS: tests that rewind user_version replay it.
	`
CREATE TABLE IF NOT EXISTS urlauth_keys (
	mailbox_id INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
	key        BLOB NOT NULL
) STRICT;
`,
	// 7: the MAILBOXID (RFC 8474) as its own value, so it no longer
	// depends on the row id and survives a move between stores. Existing
	// mailboxes keep the id IMAP derived from row id and UIDVALIDITY until
	// now, so clients see no change; new ones get a random id.
	`
ALTER TABLE mailboxes ADD COLUMN object_id TEXT NOT NULL DEFAULT '';
UPDATE mailboxes SET object_id = 'F' || id || '-' || uidvalidity;
CREATE UNIQUE INDEX mailboxes_object_id ON mailboxes(object_id);
`,
	// 8: blobs whose last message went away, with the time (unix
	// nanoseconds), for CollectGarbage (gc.go). Triggers keep it on every
	// path: expunge, move, mailbox and account delete drop references;
	// deliver, append and copy add them back. Blobs already unreferenced
	// before this migration are left to Sweep.
	`
CREATE TABLE IF NOT EXISTS blob_orphans (
	blob_id     TEXT PRIMARY KEY,
	orphaned_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blob_orphans_time ON blob_orphans (orphaned_at);
CREATE TRIGGER IF NOT EXISTS messages_blob_orphan AFTER DELETE ON messages
WHEN NOT EXISTS (SELECT 1 FROM messages WHERE blob_id = OLD.blob_id) BEGIN
	INSERT OR REPLACE INTO blob_orphans (blob_id, orphaned_at)
	VALUES (OLD.blob_id, CAST(unixepoch('subsec') * 1000000000 AS INTEGER));
END;
CREATE TRIGGER IF NOT EXISTS messages_blob_adopt AFTER INSERT ON messages BEGIN
	DELETE FROM blob_orphans WHERE blob_id = NEW.blob_id;
END;
`,
}

// migrate applies the missing migrations in one write transaction.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("migrate: read user_version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("migrate: database schema version %d is newer than this program (%d)", version, len(migrations))
	}
	if version == len(migrations) {
		return nil
	}
	for v := version; v < len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
	// PRAGMA takes no parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations))); err != nil {
		return fmt.Errorf("migrate: set user_version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
