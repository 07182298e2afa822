package sqlitestore

import (
	"context"
	"strings"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// TestMigrationRecent: mail stored before migration 4 is not \Recent
// afterwards; mail that arrives later is.
func TestMigrationRecent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := testStore(t, dir)
	inbox := appendBodies(t, s, "Subject: a\r\n\r\nolder\r\n", "Subject: b\r\n\r\nolder\r\n")
	// Back to schema version 3, as a store written by the previous release.
	for _, q := range []string{`ALTER TABLE mailboxes ADD COLUMN subscribed INTEGER NOT NULL DEFAULT 0`, `DROP TABLE subscriptions`,
		`ALTER TABLE mailboxes DROP COLUMN recent_uid`, `DROP INDEX mailboxes_object_id`, `ALTER TABLE mailboxes DROP COLUMN object_id`,
		`PRAGMA user_version = 3`} {
		if _, err := s.wdb.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s, _ = testStore(t, dir)
	st, err := s.Status(ctx, "alice", inbox)
	if err != nil || st.Recent != 0 {
		t.Fatalf("Status after migration = %+v, %v; want Recent 0", st, err)
	}
	if _, err := s.Append(ctx, "alice", inbox, mailstore.NewMessage{Body: strings.NewReader("Subject: c\r\n\r\nnew\r\n")}); err != nil {
		t.Fatal(err)
	}
	if from, err := s.ClaimRecent(ctx, "alice", inbox, 4); err != nil || from != 3 {
		t.Fatalf("ClaimRecent after migration = %d, %v; want 3", from, err)
	}
}
