package sqlitestore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rookery-mail/rookery/internal/blob"
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
