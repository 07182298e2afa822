package pgstore

import (
	"strings"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// TestCheckFindsViolations breaks one invariant at a time behind the
// store's back and expects Check to name it.
func TestCheckFindsViolations(t *testing.T) {
	env := newEnv(t)
	s := env.open(t, newSchema(), 0)
	ctx := t.Context()
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	inbox, err := s.Mailbox(ctx, "alice", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"Subject: a\r\n\r\na\r\n", "Subject: b\r\n\r\nb\r\n"} {
		if _, err := s.Append(ctx, "alice", inbox.ID, mailstore.NewMessage{Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	wantHealthy(t, s)
	msgs, err := s.Messages(ctx, "alice", inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ break_, repair, want string }{
		{`UPDATE mailboxes SET uidnext = 2 WHERE name = 'INBOX'`, `UPDATE mailboxes SET uidnext = 3 WHERE name = 'INBOX'`, ">= UIDNEXT"},
		{`UPDATE messages SET modseq = modseq + 100 WHERE uid = 1`, `UPDATE messages SET modseq = modseq - 100 WHERE uid = 1`, "> HIGHESTMODSEQ"},
		{`UPDATE messages SET seen = true WHERE uid = 1`, `UPDATE messages SET seen = false WHERE uid = 1`, "seen/deleted"},
		{`UPDATE blob_refs SET refs = refs + 1`, `UPDATE blob_refs SET refs = refs - 1`, "references"},
		{`UPDATE accounts SET used_messages = 7`, `UPDATE accounts SET used_messages = 2`, "usage"},
		{`DELETE FROM fts_docs WHERE blob_id = '` + msgs[0].BlobID + `'`, ``, "neither indexed nor queued"},
	} {
		if _, err := s.pool.Exec(ctx, tc.break_); err != nil {
			t.Fatal(err)
		}
		problems, err := s.Check(ctx)
		if err != nil || len(problems) == 0 || !strings.Contains(strings.Join(problems, "\n"), tc.want) {
			t.Errorf("after %s: Check = %q, %v; want %q", tc.break_, problems, err, tc.want)
		}
		if tc.repair != "" {
			if _, err := s.pool.Exec(ctx, tc.repair); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Queued again, the blob gets its index entry back from IndexPending.
	if _, err := s.pool.Exec(ctx, `INSERT INTO fts_pending VALUES ($1)`, msgs[0].BlobID); err != nil {
		t.Fatal(err)
	}
	if err := s.IndexPending(ctx); err != nil {
		t.Fatal(err)
	}
	wantHealthy(t, s)
	if err := s.blobs.Delete(ctx, msgs[1].BlobID); err != nil {
		t.Fatal(err)
	}
	if problems, _ := s.Check(ctx); !strings.Contains(strings.Join(problems, "\n"), "is missing") {
		t.Errorf("after deleting a body: Check = %q", problems)
	}
}
