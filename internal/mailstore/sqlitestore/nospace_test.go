package sqlitestore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/blob"
	"github.com/rookery-mail/rookery/internal/blob/fsblob"
	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// fullBlobs is a blob store on a full disk.
type fullBlobs struct{ blob.Store }

func (fullBlobs) Put(context.Context, io.Reader) (string, int64, error) {
	return "", 0, &fs.PathError{Op: "write", Path: "blobs/tmp-1", Err: syscall.ENOSPC}
}

// TestDiskFullIsErrNoSpace: a full disk, whether the blob store's write
// fails with ENOSPC or SQLite's with SQLITE_FULL, reaches callers as
// mailstore.ErrNoSpace, for APPEND and for delivery.
func TestDiskFullIsErrNoSpace(t *testing.T) {
	ctx := context.Background()
	s, blobs := testStore(t, t.TempDir())
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	inbox, err := s.Mailbox(ctx, "alice", mailstore.Inbox)
	if err != nil {
		t.Fatal(err)
	}

	s.blobs = fullBlobs{blobs}
	_, err = s.Append(ctx, "alice", inbox.ID, mailstore.NewMessage{Body: strings.NewReader("Subject: x\r\n\r\nx\r\n")})
	if !errors.Is(err, mailstore.ErrNoSpace) {
		t.Errorf("append with blob ENOSPC: %v, want ErrNoSpace", err)
	}
	res, err := s.Deliver(ctx, []mailstore.Delivery{{User: "alice", Message: mailstore.NewMessage{Body: strings.NewReader("x")}}})
	if err != nil || !errors.Is(res[0].Err, mailstore.ErrNoSpace) {
		t.Errorf("deliver with blob ENOSPC: %v, %v, want ErrNoSpace", err, res[0].Err)
	}
	s.blobs = blobs

	// SQLITE_FULL: cap the database at its current size.
	var pages int
	if err := s.wdb.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wdb.ExecContext(ctx, `PRAGMA max_page_count = `+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		_, err = s.CreateMailbox(ctx, "alice", "box"+strconv.Itoa(i)+strings.Repeat("x", 200), "")
		if err != nil {
			break
		}
	}
	if !errors.Is(err, mailstore.ErrNoSpace) {
		t.Errorf("write into a full database: %v, want ErrNoSpace", err)
	}
}

// TestIndexerPausesBelowReserve: while Options.Pause reports low disk
// space the background indexer leaves new mail queued (deliveries keep
// the space; SEARCH still finds it by reading it directly), and indexes
// it once the pause has ended, at the next commit or poll.
func TestIndexerPausesBelowReserve(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	blobs, err := fsblob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	var low atomic.Bool
	low.Store(true)
	s, err := Open(ctx, Options{Name: "test", Path: filepath.Join(dir, "meta.db"), Blobs: blobs,
		TextExtractor: imapmsg.SearchText, TextFold: imapmsg.Fold, SentDate: imapmsg.SentDate, Pause: low.Load})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	inbox, err := s.Mailbox(ctx, "alice", mailstore.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "alice", inbox.ID, mailstore.NewMessage{Body: strings.NewReader("Subject: x\r\n\r\nneedle here\r\n")}); err != nil {
		t.Fatal(err)
	}
	queued := func() int {
		var n int
		if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM fts_pending`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	time.Sleep(3 * indexQuiet)
	if n := queued(); n != 1 {
		t.Fatalf("indexed while paused: %d queued, want 1", n)
	}
	if uids, err := s.SearchText(ctx, "alice", inbox.ID, mailstore.TextBody, "needle"); err != nil || len(uids) != 1 {
		t.Fatalf("search while paused: %v, %v", uids, err)
	}
	low.Store(false)
	if _, err := s.Append(ctx, "alice", inbox.ID, mailstore.NewMessage{Body: strings.NewReader("Subject: y\r\n\r\nmore\r\n")}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); queued() != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not indexed after the pause ended")
		}
	}
}
