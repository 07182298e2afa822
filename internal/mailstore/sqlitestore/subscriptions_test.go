package sqlitestore

import (
	"context"
	"slices"
	"testing"
)

// TestMigrationSubscriptions: migration 5 moves the subscribed flags of a
// store written before it into the subscriptions table.
func TestMigrationSubscriptions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := testStore(t, dir)
	appendBodies(t, s) // creates alice
	for _, q := range []string{`ALTER TABLE mailboxes ADD COLUMN subscribed INTEGER NOT NULL DEFAULT 0`,
		`UPDATE mailboxes SET subscribed = (name IN ('INBOX', 'Sent'))`, `DROP TABLE subscriptions`, `DROP INDEX mailboxes_object_id`, `ALTER TABLE mailboxes DROP COLUMN object_id`,
		`PRAGMA user_version = 4`} {
		if _, err := s.wdb.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s, _ = testStore(t, dir)
	got, err := s.Subscriptions(ctx, "alice")
	if err != nil || !slices.Equal(got, []string{"INBOX", "Sent"}) {
		t.Fatalf("Subscriptions after migration = %q, %v; want [INBOX Sent]", got, err)
	}
	if mb, err := s.Mailbox(ctx, "alice", "Sent"); err != nil || !mb.Subscribed {
		t.Fatalf("Sent after migration = %+v, %v; want subscribed", mb, err)
	}
}
