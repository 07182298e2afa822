package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// migrations[i] brings the schema from version i to i+1 (rows of
// schema_migrations). Append only; never edit a released step. "{{trgm}}"
// stands for the schema of the pg_trgm extension, which is shared by every
// store in the database.
//
// Times of messages are unix nanoseconds (bigint), as in sqlitestore, so
// internal dates round-trip exactly; names are COLLATE "C" so ORDER BY and
// the child-name ranges of RENAME compare bytes.
var migrations = []string{
	// 1: the whole schema of sqlitestore's migrations 1–8, with two
	// differences: blob_refs counts the messages per blob (its row lock
	// serializes a blob's last reference going away against a new one,
	// which a NOT EXISTS test cannot do under READ COMMITTED), and
	// messages.account_id is denormalized so the usage trigger finds the
	// account when a mailbox's messages are deleted by cascade.
	`
CREATE TABLE store_meta (
	key   text PRIMARY KEY,
	value bigint NOT NULL
);

CREATE TABLE accounts (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name           text COLLATE "C" NOT NULL UNIQUE,
	quota_storage  bigint NOT NULL DEFAULT 0,
	quota_messages bigint NOT NULL DEFAULT 0,
	used_storage   bigint NOT NULL DEFAULT 0,
	used_messages  bigint NOT NULL DEFAULT 0
);

-- name is normalized (INBOX upper case), unique per account; object_id is
-- the MAILBOXID (RFC 8474); messages from recent_uid up are \Recent to the
-- next session that claims them.
CREATE TABLE mailboxes (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id    bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	object_id     text NOT NULL UNIQUE,
	name          text COLLATE "C" NOT NULL,
	special_use   text NOT NULL DEFAULT '',
	uidvalidity   bigint NOT NULL,
	uidnext       bigint NOT NULL DEFAULT 1,
	highestmodseq bigint NOT NULL DEFAULT 1,
	recent_uid    bigint NOT NULL DEFAULT 1,
	UNIQUE (account_id, name)
);

-- Apart from mailboxes: a subscription outlives DELETE (RFC 3501 §6.3.6).
CREATE TABLE subscriptions (
	account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name       text COLLATE "C" NOT NULL,
	PRIMARY KEY (account_id, name)
);

-- flags: normalized, sorted, space separated; seen and deleted duplicate
-- two of them for STATUS and EXPUNGE. sent is the RFC 5256 sent date,
-- NULL until the blob is indexed.
CREATE TABLE messages (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id   bigint NOT NULL,
	mailbox_id   bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
	uid          bigint NOT NULL,
	modseq       bigint NOT NULL,
	flags        text NOT NULL DEFAULT '',
	seen         boolean NOT NULL,
	deleted      boolean NOT NULL,
	internaldate bigint NOT NULL,
	savedate     bigint NOT NULL,
	sent         bigint,
	size         bigint NOT NULL,
	blob_id      text NOT NULL,
	delivery_id  text,
	CONSTRAINT messages_uid UNIQUE (mailbox_id, uid),
	CONSTRAINT messages_delivery_id UNIQUE (delivery_id)
);
CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);
-- (blob_id, mailbox_id): SearchText joins index hits to one mailbox's
-- messages with one probe per hit.
CREATE INDEX messages_blob ON messages (blob_id, mailbox_id);

-- Expunged UIDs, so Changes can report them (RFC 7162 QRESYNC VANISHED).
CREATE TABLE expunged (
	mailbox_id bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
	uid        bigint NOT NULL,
	modseq     bigint NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
);
CREATE INDEX expunged_modseq ON expunged (mailbox_id, modseq);

-- identifier is an account name or "anyone"; rights sorted RFC 4314 letters.
CREATE TABLE acl (
	mailbox_id bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
	identifier text COLLATE "C" NOT NULL,
	rights     text NOT NULL,
	PRIMARY KEY (mailbox_id, identifier)
);
CREATE INDEX acl_identifier ON acl (identifier);

CREATE TABLE urlauth_keys (
	mailbox_id bigint PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
	key        bytea NOT NULL
);

-- refs counts the messages using the blob; orphaned_at is when it fell to
-- zero, the start of CollectGarbage's grace period (gc.go).
CREATE TABLE blob_refs (
	blob_id     text PRIMARY KEY,
	refs        bigint NOT NULL CHECK (refs >= 0),
	orphaned_at timestamptz
);
CREATE INDEX blob_refs_orphaned ON blob_refs (orphaned_at) WHERE refs = 0;

-- The full-text index and header cache (fts.go), one row per blob: hdr and
-- body are the extractor's text already case-folded, matched with LIKE
-- '%needle%', which the trigram GIN indexes answer exactly (the index
-- narrows, the heap recheck decides), so index and scan agree.
CREATE TABLE fts_docs (
	blob_id text PRIMARY KEY,
	header  bytea NOT NULL DEFAULT '',
	sent    bigint,
	hdr     text NOT NULL,
	body    text NOT NULL
);
CREATE INDEX fts_docs_hdr ON fts_docs USING gin (hdr {{trgm}}.gin_trgm_ops);
CREATE INDEX fts_docs_body ON fts_docs USING gin (body {{trgm}}.gin_trgm_ops);
-- Blobs referenced by a message but not indexed (a store opened without an
-- extractor, or a race with CollectGarbage); IndexPending drains it.
CREATE TABLE fts_pending (blob_id text PRIMARY KEY);

-- Usage (RFC 9208) and blob references follow every insert and delete of
-- a message, cascades included. Move is an UPDATE and changes neither.
CREATE FUNCTION messages_inserted() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
	UPDATE accounts SET used_storage = used_storage + NEW.size, used_messages = used_messages + 1
	WHERE id = NEW.account_id;
	INSERT INTO blob_refs (blob_id, refs) VALUES (NEW.blob_id, 1)
	ON CONFLICT (blob_id) DO UPDATE SET refs = blob_refs.refs + 1, orphaned_at = NULL;
	RETURN NULL;
END $$;
CREATE TRIGGER messages_inserted AFTER INSERT ON messages
FOR EACH ROW EXECUTE FUNCTION messages_inserted();

CREATE FUNCTION messages_deleted() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
	UPDATE accounts SET used_storage = used_storage - OLD.size, used_messages = used_messages - 1
	WHERE id = OLD.account_id;
	UPDATE blob_refs SET refs = refs - 1,
		orphaned_at = CASE WHEN refs = 1 THEN clock_timestamp() END
	WHERE blob_id = OLD.blob_id;
	RETURN NULL;
END $$;
CREATE TRIGGER messages_deleted AFTER DELETE ON messages
FOR EACH ROW EXECUTE FUNCTION messages_deleted();
`,
}

// extSchema holds pg_trgm when Open creates it (an existing installation
// elsewhere is used where it is).
const extSchema = "rookery_ext"

// prepareTrgm is pgstore's pgschema.Prepare: migrations name pg_trgm's
// schema as {{trgm}}.
func prepareTrgm(ctx context.Context, tx pgx.Tx) (func(string) string, error) {
	trgm, err := ensureTrgm(ctx, tx)
	if err != nil {
		return nil, err
	}
	return func(q string) string { return strings.ReplaceAll(q, "{{trgm}}", trgm) }, nil
}

// ensureTrgm returns the schema of the pg_trgm extension (quoted as an
// identifier), creating it in extSchema if the database has none: not in a
// store's schema, whose DROP would take the extension and every other
// store's trigram indexes with it. An existing installation is used where
// it is, so a role without CREATE on the database can run on a database
// prepared by its administrator.
func ensureTrgm(ctx context.Context, tx pgx.Tx) (string, error) {
	const find = `SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'`
	var trgm string
	err := tx.QueryRow(ctx, find).Scan(&trgm)
	if err == nil {
		return trgm, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("find pg_trgm: %w", err)
	}
	for _, q := range []string{
		`CREATE SCHEMA IF NOT EXISTS ` + extSchema,
		`CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA ` + extSchema,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return "", fmt.Errorf("create pg_trgm: %w", err)
		}
	}
	if err := tx.QueryRow(ctx, find).Scan(&trgm); err != nil {
		return "", fmt.Errorf("find pg_trgm: %w", err)
	}
	return trgm, nil
}
