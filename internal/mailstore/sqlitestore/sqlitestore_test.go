package sqlitestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/blob/fsblob"
	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/mailstore/storetest"
)

// testStore opens a store in dir (creating it), closed at cleanup.
func testStore(t testing.TB, dir string) (*Store, *fsblob.Store) {
	t.Helper()
	blobs, err := fsblob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), Options{Name: "test", Path: filepath.Join(dir, "meta.db"), Blobs: blobs,
		TextExtractor: imapmsg.SearchText, TextFold: imapmsg.Fold, SentDate: imapmsg.SentDate})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, blobs
}

// TestConformance gives the suite a fresh directory per test; every handle
// it opens is a separate Open of the same database file and blob directory
// (own connections, own watch hub), as a second process would see it.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		dir := t.TempDir()
		return func(t *testing.T) mailstore.Store {
			s, _ := testStore(t, dir)
			return s
		}
	})
}

func TestConformanceLimits(t *testing.T) {
	storetest.RunLimits(t, func(t *testing.T, maxMailboxes int) mailstore.Store {
		dir := t.TempDir()
		blobs, err := fsblob.Open(filepath.Join(dir, "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(t.Context(), Options{Name: "test", Path: filepath.Join(dir, "meta.db"), Blobs: blobs,
			MaxMailboxes: maxMailboxes})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := testStore(t, dir)
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	work, err := s.CreateMailbox(ctx, "alice", "Work/Projects", "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.Append(ctx, "alice", work.ID, mailstore.NewMessage{
			Body: strings.NewReader(fmt.Sprintf("message %d\r\n", i)), Flags: []string{`\Seen`, "Key"}}); err != nil {
			t.Fatal(err)
		}
	}
	beforeBoxes, _ := s.Mailboxes(ctx, "alice")
	beforeMsgs, _ := s.Messages(ctx, "alice", work.ID)
	beforeKey, err := s.URLAuthKey(ctx, "alice", work.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, _ := testStore(t, dir)
	afterBoxes, err := s2.Mailboxes(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(beforeBoxes, afterBoxes) {
		t.Errorf("mailboxes changed across reopen:\n%+v\n%+v", beforeBoxes, afterBoxes)
	}
	if key, err := s2.URLAuthKey(ctx, "alice", work.ID); err != nil || !bytes.Equal(key, beforeKey) {
		t.Errorf("URLAUTH key changed across reopen (%v): old URLs would stop working", err)
	}
	afterMsgs, _ := s2.Messages(ctx, "alice", work.ID)
	if len(afterMsgs) != len(beforeMsgs) {
		t.Fatalf("messages %d → %d", len(beforeMsgs), len(afterMsgs))
	}
	for i := range beforeMsgs {
		b, a := beforeMsgs[i], afterMsgs[i]
		if b.UID != a.UID || b.ModSeq != a.ModSeq || !slices.Equal(b.Flags, a.Flags) || !b.InternalDate.Equal(a.InternalDate) ||
			b.BlobID != a.BlobID || b.Size != a.Size {
			t.Errorf("message changed across reopen: %+v → %+v", b, a)
		}
	}
	uid, err := s2.Append(ctx, "alice", work.ID, mailstore.NewMessage{Body: strings.NewReader("x")})
	if err != nil || uid != 4 {
		t.Errorf("append after reopen: UID %d, %v; want 4", uid, err)
	}
	// A new mailbox after reopen still gets a fresh UIDVALIDITY.
	nb, err := s2.CreateMailbox(ctx, "alice", "New", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, mb := range afterBoxes {
		if mb.UIDValidity == nb.UIDValidity {
			t.Errorf("new mailbox reuses UIDVALIDITY %d of %q", nb.UIDValidity, mb.Name)
		}
	}
	if problems, err := s2.Check(ctx); err != nil || len(problems) != 0 {
		t.Errorf("Check: %v %v", problems, err)
	}
}

func TestSchemaVersion(t *testing.T) {
	s, _ := testStore(t, t.TempDir())
	var v int
	if err := s.rdb.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != len(migrations) {
		t.Errorf("user_version = %d, want %d", v, len(migrations))
	}
	var mode string
	if err := s.rdb.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v", mode, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	s, _ := testStore(t, dir)
	if _, err := s.wdb.Exec(`PRAGMA user_version = 999`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	blobs, _ := fsblob.Open(filepath.Join(dir, "blobs"))
	if _, err := Open(context.Background(), Options{Path: filepath.Join(dir, "meta.db"), Blobs: blobs}); err == nil {
		t.Error("opened a database with a newer schema")
	}
}

// TestConcurrentWriters runs 20 writers of mixed operations at once; none
// may see "database is locked".
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	s, _ := testStore(t, t.TempDir())
	for i := range 4 {
		if err := s.EnsureAccount(ctx, fmt.Sprint("u", i)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for w := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprint("u", w%4)
			inbox, err := s.Mailbox(ctx, user, "INBOX")
			if err != nil {
				errs <- err
				return
			}
			for i := range 10 {
				res, err := s.Deliver(ctx, []mailstore.Delivery{{User: user, Message: mailstore.NewMessage{
					Body: strings.NewReader(fmt.Sprintf("w%d m%d", w, i)), DeliveryID: fmt.Sprintf("%d/%d", w, i)}}})
				if err == nil && res[0].Err != nil {
					err = res[0].Err
				}
				if err == nil {
					_, err = s.SetFlags(ctx, user, inbox.ID, []uint32{res[0].UID}, mailstore.FlagsAdd, []string{`\Seen`})
				}
				if err == nil && i%3 == 0 {
					_, err = s.CreateMailbox(ctx, user, fmt.Sprintf("w%d/m%d", w, i), "")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if problems, err := s.Check(ctx); err != nil || len(problems) != 0 {
		t.Errorf("Check: %v %v", problems, err)
	}
}

// TestSecondHandle opens the same database twice, as the admin CLI would
// next to the server, and writes through both.
func TestSecondHandle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, _ := testStore(t, dir)
	b, _ := testStore(t, dir)
	if err := a.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	inbox, err := b.Mailbox(ctx, "alice", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, s := range []*Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				if _, err := s.Append(ctx, "alice", inbox.ID, mailstore.NewMessage{Body: strings.NewReader(fmt.Sprint(i))}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st, _ := a.Status(ctx, "alice", inbox.ID); st.Messages != 40 || st.UIDNext != 41 {
		t.Errorf("status = %+v", st)
	}
}

func TestCheckFindsViolations(t *testing.T) {
	ctx := context.Background()
	s, blobs := testStore(t, t.TempDir())
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	inbox, _ := s.Mailbox(ctx, "alice", "INBOX")
	if _, err := s.Append(ctx, "alice", inbox.ID, mailstore.NewMessage{Body: strings.NewReader("a")}); err != nil {
		t.Fatal(err)
	}
	msgs, _ := s.Messages(ctx, "alice", inbox.ID)
	if err := blobs.Delete(ctx, msgs[0].BlobID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wdb.Exec(`UPDATE mailboxes SET uidnext = 1, highestmodseq = 0, object_id = '' WHERE id = ?`, inbox.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wdb.Exec(`UPDATE accounts SET used_storage = 7`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wdb.Exec(`DELETE FROM fts_pending; DELETE FROM fts_docs`); err != nil {
		t.Fatal(err)
	}
	problems, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(problems, "\n")
	for _, want := range []string{"missing", "UIDNEXT", "HIGHESTMODSEQ", "account alice usage 7 bytes 1 messages, stored 1 bytes 1 messages",
		"is neither indexed nor queued", "has no MAILBOXID"} {
		if !strings.Contains(joined, want) {
			t.Errorf("Check did not report %q:\n%s", want, joined)
		}
	}
}

func TestSweep(t *testing.T) {
	ctx := context.Background()
	s, blobs := testStore(t, t.TempDir())
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	inbox, _ := s.Mailbox(ctx, "alice", "INBOX")
	for _, body := range []string{"keep", "drop"} {
		if _, err := s.Append(ctx, "alice", inbox.ID, mailstore.NewMessage{Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, _ := s.Messages(ctx, "alice", inbox.ID)
	keep, drop := msgs[0].BlobID, msgs[1].BlobID
	if _, err := s.SetFlags(ctx, "alice", inbox.ID, []uint32{2}, mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expunge(ctx, "alice", inbox.ID, nil); err != nil {
		t.Fatal(err)
	}
	// As if a crash had left the blob unlisted (see CollectGarbage).
	if _, err := s.wdb.ExecContext(ctx, `DELETE FROM blob_orphans`); err != nil {
		t.Fatal(err)
	}
	// Fresh blobs are protected by the grace period.
	if n, err := s.Sweep(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("Sweep with fresh blobs = %d, %v", n, err)
	}
	old := time.Now().Add(-2 * time.Hour)
	for _, id := range []string{keep, drop} {
		p := filepath.Join(blobs.Dir(), id[:2], id[2:4], id)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Sweep(ctx, time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	if _, err := blobs.Open(ctx, drop); err == nil {
		t.Error("unreferenced blob survived")
	}
	rc, err := blobs.Open(ctx, keep)
	if err != nil {
		t.Fatalf("referenced blob deleted: %v", err)
	}
	rc.Close()
}

func TestContextCanceled(t *testing.T) {
	s, _ := testStore(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.EnsureAccount(ctx, "alice"); !errors.Is(err, context.Canceled) {
		t.Errorf("EnsureAccount with canceled context: %v", err)
	}
}
