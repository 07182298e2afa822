package sqlitestore

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// blobBytes is the disk space the blob files take.
func blobBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		n += fi.Size()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func expungeAll(t *testing.T, s *Store, mailboxID int64) {
	t.Helper()
	ctx := context.Background()
	msgs, err := s.Messages(ctx, "alice", mailboxID)
	if err != nil {
		t.Fatal(err)
	}
	var uids []uint32
	for _, m := range msgs {
		uids = append(uids, m.UID)
	}
	if _, err := s.SetFlags(ctx, "alice", mailboxID, uids, mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expunge(ctx, "alice", mailboxID, nil); err != nil {
		t.Fatal(err)
	}
}

// TestExpungeFreesBlobSpace: expunged mail's disk space comes back once
// the collector runs after the grace period, and not before.
func TestExpungeFreesBlobSpace(t *testing.T) {
	ctx := context.Background()
	s, blobs := testStore(t, t.TempDir())
	empty := blobBytes(t, blobs.Dir())
	big := "Subject: big\r\n\r\n" + strings.Repeat("x", 1<<20) + "\r\n"
	inbox := appendBodies(t, s, big, big+"second")
	if used := blobBytes(t, blobs.Dir()) - empty; used < 2<<20 {
		t.Fatalf("two 1 MiB messages take %d bytes", used)
	}
	expungeAll(t, s, inbox)
	if n := count(t, s, `SELECT count(*) FROM blob_orphans`); n != 2 {
		t.Fatalf("%d orphan candidates after expunge, want 2", n)
	}
	if n, err := s.CollectGarbage(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("CollectGarbage within grace = %d, %v", n, err)
	}
	if n, err := s.CollectGarbage(ctx, time.Now().Add(time.Second)); err != nil || n != 2 {
		t.Fatalf("CollectGarbage after grace = %d, %v; want 2", n, err)
	}
	if got := blobBytes(t, blobs.Dir()); got != empty {
		t.Errorf("blob files take %d bytes after collection, want %d", got, empty)
	}
	if n := count(t, s, `SELECT count(*) FROM blob_orphans`); n != 0 {
		t.Errorf("%d orphan candidates left", n)
	}
}

// TestRedeliveryDuringGraceKeepsBlob: a delivery writes its body before
// its transaction, so the collector can claim a candidate between a
// de-duplicating Put and the commit. The guarded delete keeps the blob
// and puts it back on the list; the delivery's commit takes it off.
func TestRedeliveryDuringGraceKeepsBlob(t *testing.T) {
	ctx := context.Background()
	s, blobs := testStore(t, t.TempDir())
	body := "Subject: again\r\n\r\nsame bytes\r\n"
	inbox := appendBodies(t, s, body)
	expungeAll(t, s, inbox)
	time.Sleep(10 * time.Millisecond)
	cutoff := time.Now() // the orphan is older than this
	time.Sleep(10 * time.Millisecond)

	// The redelivery's Put, before its transaction.
	id, _, err := blobs.Put(ctx, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.CollectGarbage(ctx, cutoff); err != nil || n != 0 {
		t.Fatalf("CollectGarbage during the redelivery = %d, %v; want 0", n, err)
	}
	if n := count(t, s, `SELECT count(*) FROM blob_orphans WHERE blob_id = ?`, id); n != 1 {
		t.Fatalf("kept blob is not a candidate again (%d rows)", n)
	}
	// The redelivery commits (its Put de-duplicates again).
	res, err := s.Deliver(ctx, []mailstore.Delivery{{User: "alice", Message: mailstore.NewMessage{Body: strings.NewReader(body)}}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("Deliver = %v, %v", res, err)
	}
	if n, err := s.CollectGarbage(ctx, time.Now().Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("CollectGarbage after the redelivery = %d, %v; want 0", n, err)
	}
	rc, err := s.OpenBlob(ctx, id)
	if err != nil {
		t.Fatalf("redelivered body lost: %v", err)
	}
	rc.Close()
	if problems, err := s.Check(ctx); err != nil || len(problems) != 0 {
		t.Errorf("Check = %v, %v", problems, err)
	}
}

// TestCollectGarbageBatches: a backlog larger than one batch is collected
// in one call.
func TestCollectGarbageBatches(t *testing.T) {
	ctx := context.Background()
	s, blobs := testStore(t, t.TempDir())
	for i := range mailstore.GCBatch + 1 {
		id, _, err := blobs.Put(ctx, strings.NewReader(fmt.Sprint("body ", i)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.wdb.ExecContext(ctx, `INSERT INTO blob_orphans (blob_id, orphaned_at) VALUES (?, ?)`, id, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.CollectGarbage(ctx, time.Now().Add(time.Second)); err != nil || n != mailstore.GCBatch+1 {
		t.Fatalf("CollectGarbage = %d, %v; want %d", n, err, mailstore.GCBatch+1)
	}
	if n := count(t, s, `SELECT count(*) FROM blob_orphans`); n != 0 {
		t.Errorf("%d candidates left", n)
	}
}

// TestCollectGarbageForgetsMissingBlobs: a candidate whose blob is already
// gone (a Sweep took it) leaves the list instead of coming back forever.
func TestCollectGarbageForgetsMissingBlobs(t *testing.T) {
	ctx := context.Background()
	s, _ := testStore(t, t.TempDir())
	for i := range mailstore.GCBatch {
		if _, err := s.wdb.ExecContext(ctx, `INSERT INTO blob_orphans (blob_id, orphaned_at) VALUES (?, ?)`,
			fmt.Sprintf("%064x", i), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if n, err := s.CollectGarbage(cctx, time.Now().Add(time.Second)); err != nil || n != 0 {
		t.Fatalf("CollectGarbage = %d, %v; want 0", n, err)
	}
	if n := count(t, s, `SELECT count(*) FROM blob_orphans`); n != 0 {
		t.Errorf("%d candidates of missing blobs left", n)
	}
}

// TestSweepLeavesCandidatesTheirGrace: a body written long ago and
// expunged just now is CollectGarbage's, after the grace; Sweep, which
// goes by the write time, leaves it.
func TestSweepLeavesCandidatesTheirGrace(t *testing.T) {
	ctx := context.Background()
	s, blobs := testStore(t, t.TempDir())
	inbox := appendBodies(t, s, "Subject: old\r\n\r\nwritten long ago\r\n")
	msgs, _ := s.Messages(ctx, "alice", inbox)
	id := msgs[0].BlobID
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(filepath.Join(blobs.Dir(), id[:2], id[2:4], id), old, old); err != nil {
		t.Fatal(err)
	}
	expungeAll(t, s, inbox)
	if n, err := s.Sweep(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("Sweep of a fresh candidate = %d, %v; want 0", n, err)
	}
	if n, err := s.CollectGarbage(ctx, time.Now().Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("CollectGarbage = %d, %v; want 1", n, err)
	}
}

// TestCheckReportsReferencedCandidate: Check notices a garbage candidate
// that a message uses (the triggers should never leave one).
func TestCheckReportsReferencedCandidate(t *testing.T) {
	ctx := context.Background()
	s, _ := testStore(t, t.TempDir())
	inbox := appendBodies(t, s, "Subject: used\r\n\r\nstill here\r\n")
	msgs, _ := s.Messages(ctx, "alice", inbox)
	if _, err := s.wdb.ExecContext(ctx, `INSERT INTO blob_orphans (blob_id, orphaned_at) VALUES (?, 0)`, msgs[0].BlobID); err != nil {
		t.Fatal(err)
	}
	problems, err := s.Check(ctx)
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0], "garbage candidate") {
		t.Errorf("Check = %q, %v; want the referenced candidate reported", problems, err)
	}
}
