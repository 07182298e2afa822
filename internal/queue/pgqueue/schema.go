package pgqueue

// migrations are applied in order; migrations[i] brings the schema to
// version i+1. Times are Unix nanoseconds, as in sqlitequeue, so they
// round-trip exactly. Deleting a message records its body as garbage in
// the same transaction (the trigger), so a body whose deletion failed or
// was cut short by a crash is found again by Sweep.
var migrations = []string{
	`
CREATE TABLE messages (
	id          text PRIMARY KEY,
	mail_from   text NOT NULL,
	received    bigint NOT NULL,
	size        bigint NOT NULL,
	smtputf8    boolean NOT NULL,
	require_tls boolean NOT NULL,
	held        boolean NOT NULL DEFAULT false,
	warned      boolean NOT NULL DEFAULT false
);
CREATE INDEX messages_received ON messages (received, id);
CREATE TABLE recipients (
	message_id   text NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	ord          integer NOT NULL,
	address      text NOT NULL,
	orig         text NOT NULL,
	remote       boolean NOT NULL,
	status       text NOT NULL,
	attempts     integer NOT NULL DEFAULT 0,
	next_attempt bigint NOT NULL,
	last_error   text NOT NULL DEFAULT '',
	last_attempt bigint NOT NULL DEFAULT 0,
	claim_owner  text NOT NULL DEFAULT '',
	claim_until  bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (message_id, address)
);
CREATE INDEX recipients_due ON recipients (next_attempt) WHERE status = 'pending';
CREATE TABLE garbage (
	id    text PRIMARY KEY,
	since timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION message_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO garbage (id) SELECT id FROM old_rows ON CONFLICT DO NOTHING;
	RETURN NULL;
END $$;
CREATE TRIGGER messages_deleted AFTER DELETE ON messages
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION message_deleted();
`,
}
