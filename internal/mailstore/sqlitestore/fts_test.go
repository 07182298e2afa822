package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/blob/fsblob"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// count runs a counting query on the read pool.
func count(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.rdb.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// appendBodies appends bodies to alice's INBOX and returns its id.
func appendBodies(t *testing.T, s *Store, bodies ...string) int64 {
	t.Helper()
	ctx := context.Background()
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	inbox, err := s.Mailbox(ctx, "alice", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bodies {
		if _, err := s.Append(ctx, "alice", inbox.ID, mailstore.NewMessage{Body: strings.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
	}
	return inbox.ID
}

// TestSearchTextPendingThenIndexed stops the indexer so that the first
// answers come from extraction of queued blobs and the second from FTS5.
func TestSearchTextPendingThenIndexed(t *testing.T) {
	ctx := context.Background()
	s, _ := testStore(t, t.TempDir())
	s.stopIndexer()
	inbox := appendBodies(t, s,
		"Subject: one\r\n\r\nAlpha Beta\r\n",
		"Subject: two\r\n\r\nbeta gamma\r\n",
		"Subject: alpha\r\n\r\ndelta\r\n",
		"Subject: one\r\n\r\nAlpha Beta\r\n", // same blob as the first
	)
	if n := count(t, s, `SELECT count(*) FROM fts_pending`); n != 3 {
		t.Fatalf("%d blobs queued, want 3", n)
	}
	queries := []struct {
		field  mailstore.TextField
		needle string
		want   []uint32
	}{
		{mailstore.TextBody, "BETA", []uint32{1, 2, 4}},
		{mailstore.TextBody, "alpha", []uint32{1, 4}},
		{mailstore.TextAll, "alpha", []uint32{1, 3, 4}},
		{mailstore.TextAll, "subject: one", []uint32{1, 4}},
		{mailstore.TextBody, "a beta", []uint32{1, 4}},
	}
	check := func(phase string) {
		for _, q := range queries {
			got, err := s.SearchText(ctx, "alice", inbox, q.field, q.needle)
			if err != nil || !slices.Equal(got, q.want) {
				t.Errorf("%s: SearchText(%d, %q) = %v, %v; want %v", phase, q.field, q.needle, got, err, q.want)
			}
		}
	}
	check("pending")
	if err := s.IndexPending(ctx); err != nil {
		t.Fatal(err)
	}
	if q, d := count(t, s, `SELECT count(*) FROM fts_pending`), count(t, s, `SELECT count(*) FROM fts_docs`); q != 0 || d != 3 {
		t.Fatalf("after IndexPending: %d queued, %d documents; want 0, 3", q, d)
	}
	check("indexed")
}

// TestSearchTextNoIndex: needles the trigram index cannot answer, and a
// store opened without an extractor, leave the search to the caller.
func TestSearchTextNoIndex(t *testing.T) {
	ctx := context.Background()
	s, _ := testStore(t, t.TempDir())
	inbox := appendBodies(t, s, "Subject: x\r\n\r\nab\r\ncd\r\n")
	for _, needle := range []string{"", "ab", "äb", "b\r\nc"} {
		if _, err := s.SearchText(ctx, "alice", inbox, mailstore.TextBody, needle); !errors.Is(err, mailstore.ErrNoIndex) {
			t.Errorf("SearchText(%q): %v, want ErrNoIndex", needle, err)
		}
	}

	dir := t.TempDir()
	blobs, err := fsblob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Open(ctx, Options{Path: filepath.Join(dir, "meta.db"), Blobs: blobs})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	inbox = appendBodies(t, plain, "Subject: x\r\n\r\nlong enough\r\n")
	if _, err := plain.SearchText(ctx, "alice", inbox, mailstore.TextBody, "long enough"); !errors.Is(err, mailstore.ErrNoIndex) {
		t.Errorf("without an extractor: %v, want ErrNoIndex", err)
	}
}

// TestIndexerCatchesUp: the background indexer drains the queue after
// commits without anyone calling IndexPending.
func TestIndexerCatchesUp(t *testing.T) {
	s, _ := testStore(t, t.TempDir())
	appendBodies(t, s, "Subject: a\r\n\r\none\r\n", "Subject: b\r\n\r\ntwo\r\n")
	deadline := time.Now().Add(10 * time.Second)
	for count(t, s, `SELECT count(*) FROM fts_docs`) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("indexer did not index 2 blobs in 10s; %d queued", count(t, s, `SELECT count(*) FROM fts_pending`))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSweepForgetsText: a collected blob leaves the index; a
// blob still referenced keeps its entry.
func TestSweepForgetsText(t *testing.T) {
	ctx := context.Background()
	s, blobs := testStore(t, t.TempDir())
	inbox := appendBodies(t, s, "Subject: keep\r\n\r\nkept text\r\n", "Subject: drop\r\n\r\ndropped text\r\n")
	if err := s.IndexPending(ctx); err != nil {
		t.Fatal(err)
	}
	msgs, _ := s.Messages(ctx, "alice", inbox)
	if _, err := s.SetFlags(ctx, "alice", inbox, []uint32{2}, mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expunge(ctx, "alice", inbox, nil); err != nil {
		t.Fatal(err)
	}
	// As if a crash had left the blob unlisted (see CollectGarbage).
	if _, err := s.wdb.ExecContext(ctx, `DELETE FROM blob_orphans`); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	for _, m := range msgs {
		id := m.BlobID
		if err := os.Chtimes(filepath.Join(blobs.Dir(), id[:2], id[2:4], id), old, old); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.Sweep(ctx, time.Hour); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	if n := count(t, s, `SELECT count(*) FROM fts_docs WHERE blob_id = ?`, msgs[1].BlobID); n != 0 {
		t.Error("collected blob still indexed")
	}
	if n := count(t, s, `SELECT count(*) FROM fts WHERE fts MATCH '"DROPPED"'`); n != 0 {
		t.Error("collected blob's text still in fts")
	}
	got, err := s.SearchText(ctx, "alice", inbox, mailstore.TextBody, "kept")
	if err != nil || !slices.Equal(got, []uint32{1}) {
		t.Errorf("SearchText(kept) after collection = %v, %v", got, err)
	}
}

// TestMigrationQueuesExistingMail: a store from before migration 3 gets its
// messages queued and indexed on open.
func TestMigrationQueuesExistingMail(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := testStore(t, dir)
	inbox := appendBodies(t, s, "Subject: a\r\n\r\nolder mail\r\n", "Subject: b\r\n\r\nother older mail\r\n")
	// Back to schema version 2, as a store written by the previous release.
	for _, q := range []string{`ALTER TABLE mailboxes ADD COLUMN subscribed INTEGER NOT NULL DEFAULT 0`, `DROP TABLE subscriptions`,
		`ALTER TABLE mailboxes DROP COLUMN recent_uid`, `DROP TRIGGER messages_fts_pending`, `DROP TRIGGER messages_sent`, `DROP TABLE fts`,
		`DROP TABLE fts_docs`, `DROP TABLE fts_pending`, `ALTER TABLE messages DROP COLUMN sent`, `DROP INDEX mailboxes_object_id`, `ALTER TABLE mailboxes DROP COLUMN object_id`,
		`PRAGMA user_version = 2`} {
		if _, err := s.wdb.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s, _ = testStore(t, dir)
	if err := s.IndexPending(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT count(*) FROM fts_docs`); n != 2 {
		t.Errorf("%d documents after migration, want 2", n)
	}
	got, err := s.SearchText(ctx, "alice", inbox, mailstore.TextBody, "older mail")
	if err != nil || !slices.Equal(got, []uint32{1, 2}) {
		t.Errorf("SearchText after migration = %v, %v; want [1 2]", got, err)
	}
}

// TestSentDate: once a blob is indexed its messages carry the RFC 5256
// sent date, the Date header or else the internal date, and a later copy
// of the same content gets it at insert (trigger); before, it is zero.
func TestSentDate(t *testing.T) {
	ctx := context.Background()
	s, _ := testStore(t, t.TempDir())
	s.stopIndexer() // so that "before indexing" is observable
	inbox := appendBodies(t, s,
		"Date: Tue, 03 Mar 2020 10:00:00 +0100\r\nSubject: dated\r\n\r\nx\r\n",
		"Date: not a date\r\nSubject: bad date\r\n\r\nx\r\n",
		"Subject: undated\r\n\r\nx\r\n")
	msgs, err := s.Messages(ctx, "alice", inbox)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if !m.Sent.IsZero() {
			t.Errorf("UID %d: sent %v before indexing, want zero", m.UID, m.Sent)
		}
	}
	if err := s.IndexPending(ctx); err != nil {
		t.Fatal(err)
	}
	archive, err := s.Mailbox(ctx, "alice", "Archive")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Copy(ctx, "alice", inbox, []uint32{1}, archive.ID); err != nil {
		t.Fatal(err)
	}
	msgs, _ = s.Messages(ctx, "alice", inbox)
	copied, _ := s.Messages(ctx, "alice", archive.ID)
	dated := time.Date(2020, 3, 3, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		m    mailstore.Message
		want time.Time
	}{{msgs[0], dated}, {msgs[1], msgs[1].InternalDate}, {msgs[2], msgs[2].InternalDate}, {copied[0], dated}} {
		if !c.m.Sent.Equal(c.want) {
			t.Errorf("UID %d: sent %v, want %v", c.m.UID, c.m.Sent, c.want)
		}
	}
}

// BenchmarkIndexPending measures the background indexer's work: 500
// queued messages of about 5 KB of prose, indexed per op.
func BenchmarkIndexPending(b *testing.B) {
	const n = 500
	words := strings.Fields("the quick brown fox jumps over a lazy dog while meeting notes report budget " +
		"quarterly review schedule project deadline customer invoice shipment holiday weather")
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		s, _ := testStore(b, b.TempDir())
		s.stopIndexer()
		if err := s.EnsureAccount(ctx, "alice"); err != nil {
			b.Fatal(err)
		}
		inbox, _ := s.Mailbox(ctx, "alice", "INBOX")
		var ds []mailstore.Delivery
		for i := range n {
			var body strings.Builder
			fmt.Fprintf(&body, "Subject: message %d\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\n", i)
			for j := 0; body.Len() < 5000; j++ {
				body.WriteString(words[(i*7+j*13)%len(words)])
				body.WriteString(" ")
				if j%12 == 11 {
					body.WriteString("\r\n")
				}
			}
			ds = append(ds, mailstore.Delivery{User: "alice", Mailbox: inbox.Name, Message: mailstore.NewMessage{Body: strings.NewReader(body.String())}})
		}
		if _, err := s.Deliver(ctx, ds); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := s.IndexPending(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
}
