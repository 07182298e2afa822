package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestMailboxObjectIDMigration: mailboxes made before MAILBOXIDs were
// stored keep the id IMAP derived from row id and UIDVALIDITY, so clients
// that cached them see no change.
func TestMailboxObjectIDMigration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := testStore(t, dir)
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateMailbox(ctx, "alice", "Work", ""); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Back to the schema before the column, then the migration alone.
	mig := -1
	for i, m := range migrations {
		if strings.Contains(m, "ADD COLUMN object_id") {
			mig = i
		}
	}
	if mig < 0 {
		t.Fatal("no object_id migration")
	}
	raw, err := sql.Open("sqlite", filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP INDEX mailboxes_object_id`, `ALTER TABLE mailboxes DROP COLUMN object_id`, migrations[mig]} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			raw.Close()
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	s2, _ := testStore(t, dir)
	boxes, err := s2.Mailboxes(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(boxes) < 2 {
		t.Fatalf("mailboxes %+v", boxes)
	}
	for _, mb := range boxes {
		if want := fmt.Sprintf("F%d-%d", mb.ID, mb.UIDValidity); mb.ObjectID != want {
			t.Errorf("%s: MAILBOXID %q after migration, want %q as before", mb.Name, mb.ObjectID, want)
		}
	}
	if nb, err := s2.CreateMailbox(ctx, "alice", "New", ""); err != nil || strings.HasPrefix(nb.ObjectID, fmt.Sprintf("F%d-", nb.ID)) {
		t.Errorf("new mailbox: MAILBOXID %q (%v); want a random one", nb.ObjectID, err)
	}
}
