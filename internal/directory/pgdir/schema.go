package pgdir

// migrations[i] brings the schema from version i to i+1 (rows of
// schema_migrations). Append only; never edit a released step.
//
// Names are COLLATE "C" so ORDER BY compares bytes, as SQLite does, and
// listings come out in the same order on both engines.
var migrations = []string{
	// 1: sqlitedir's migrations 1–2, plus what the cluster needs (issue
	// #10): every mailstore an account may name is a row of mailstores,
	// which later carries placement (accepts_new_users), and an account's
	// location_version grows with each move, so a router can tell a stale
	// location from the current one.
	`
CREATE TABLE domains (
	name    text COLLATE "C" PRIMARY KEY,
	created timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE mailstores (
	name              text COLLATE "C" PRIMARY KEY,
	accepts_new_users boolean NOT NULL DEFAULT true,
	created           timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE accounts (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	address          text COLLATE "C" NOT NULL UNIQUE,
	domain           text COLLATE "C" NOT NULL,
	password_hash    text NOT NULL,
	mailstore        text COLLATE "C" NOT NULL,
	location_version bigint NOT NULL DEFAULT 1,
	created          timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT accounts_domain_fk FOREIGN KEY (domain) REFERENCES domains(name),
	CONSTRAINT accounts_mailstore_fk FOREIGN KEY (mailstore) REFERENCES mailstores(name)
);
CREATE INDEX accounts_domain ON accounts(domain);
CREATE INDEX accounts_mailstore ON accounts(mailstore);
CREATE TABLE aliases (
	address text COLLATE "C" NOT NULL, -- "local@domain" or the catch-all "@domain"
	domain  text COLLATE "C" NOT NULL,
	target  text COLLATE "C" NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (address, target),
	CONSTRAINT aliases_domain_fk FOREIGN KEY (domain) REFERENCES domains(name)
);
CREATE INDEX aliases_domain ON aliases(domain);
CREATE TABLE dkim_keys (
	domain      text COLLATE "C" NOT NULL,
	selector    text COLLATE "C" NOT NULL,
	algorithm   text NOT NULL CHECK (algorithm IN ('rsa-sha256', 'ed25519-sha256')),
	private_key text NOT NULL,
	created     timestamptz NOT NULL,
	PRIMARY KEY (domain, selector),
	CONSTRAINT dkim_keys_domain_fk FOREIGN KEY (domain) REFERENCES domains(name) ON DELETE CASCADE
);
`,
	// 2: the rest of what issue #10's placement needs in the schema. The
	// trigger makes location_version count every change of an account's
	// mailstore, whoever writes it (a move, an admin's UPDATE), so a
	// router's cached location can never look current after a move.
	// placement_rules is read by nothing yet: the first rule by position
	// whose domain equals a new account's domain, or whose pattern (a
	// regular expression on the canonical address, e.g. '^[a-k]') matches,
	// names its mailstore.
	`
CREATE FUNCTION accounts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.location_version := OLD.location_version + 1;
	RETURN NEW;
END $$;
CREATE TRIGGER accounts_moved BEFORE UPDATE OF mailstore ON accounts
FOR EACH ROW WHEN (NEW.mailstore IS DISTINCT FROM OLD.mailstore)
EXECUTE FUNCTION accounts_moved();

CREATE TABLE placement_rules (
	position  integer PRIMARY KEY,
	domain    text COLLATE "C" REFERENCES domains(name) ON DELETE CASCADE,
	pattern   text,
	mailstore text COLLATE "C" NOT NULL REFERENCES mailstores(name),
	CHECK ((domain IS NULL) <> (pattern IS NULL))
);
`,
	// 3: placement_rules as directory.PlacementRule has it, replacing
	// version 2's, which nothing ever read or wrote: a rule may name a
	// domain and a pattern (on the local part) together, either or neither
	// ('' matches any), and its domain need not be local yet. Rules are
	// tried in id order; an identity never reuses a deleted rule's place.
	`
DROP TABLE placement_rules;
CREATE TABLE placement_rules (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	domain    text COLLATE "C" NOT NULL DEFAULT '',
	pattern   text NOT NULL DEFAULT '',
	mailstore text COLLATE "C" NOT NULL,
	CONSTRAINT placement_rules_mailstore_fk FOREIGN KEY (mailstore) REFERENCES mailstores(name)
);
`,
}
