package pgstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rookery-mail/rookery/internal/blob/fsblob"
	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/mailstore/storetest"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// schemaSeq names the schemas of one test binary; each store gets a fresh
// schema in its test's database, which is much faster than a database per
// store (CREATE DATABASE copies a template with fsync).
var schemaSeq atomic.Int64

// testEnv is one database and one blob directory; open makes handles on
// schemas in it.
type testEnv struct {
	dsn   string
	blobs string
}

func newEnv(t testing.TB) testEnv {
	return testEnv{dsn: testsvc.Postgres(t), blobs: t.TempDir()}
}

// open opens a handle on schema, closed at t's cleanup.
func (e testEnv) open(t testing.TB, schema string, maxMailboxes int) *Store {
	t.Helper()
	return e.openWith(t, schema, func(o *Options) { o.MaxMailboxes = maxMailboxes })
}

// openWith is open with options changed by set.
func (e testEnv) openWith(t testing.TB, schema string, set func(*Options)) *Store {
	t.Helper()
	blobs, err := fsblob.Open(filepath.Join(e.blobs, schema))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Name: "test", DSN: e.dsn, Schema: schema, Blobs: blobs,
		TextExtractor: imapmsg.SearchText, TextFold: imapmsg.Fold, SentDate: imapmsg.SentDate, MaxConns: 8}
	set(&opts)
	s, err := Open(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newSchema() string { return fmt.Sprintf("t%d", schemaSeq.Add(1)) }

// TestConformance runs the suite with a fresh schema per test in one
// database; every handle the suite opens is a separate Open (own pool, own
// watch hub and change listener) of that schema, as a second node would
// open it. (The watch tests also check that a handle's listener does not
// wake its watchers a second time for its own changes.)
func TestConformance(t *testing.T) {
	env := newEnv(t)
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		schema := newSchema()
		return func(t *testing.T) mailstore.Store { return env.openWith(t, schema, withHub) }
	})
}

func TestConformanceLimits(t *testing.T) {
	env := newEnv(t)
	storetest.RunLimits(t, func(t *testing.T, maxMailboxes int) mailstore.Store {
		return env.open(t, newSchema(), maxMailboxes)
	})
}

// TestTwoHandlesAppend races appends through two handles (two pools, as
// two nodes) on one mailbox: UIDs stay unique and dense, MODSEQs strictly
// increase with the UIDs, and the quota usage counts every message.
func TestTwoHandlesAppend(t *testing.T) {
	env := newEnv(t)
	schema := newSchema()
	a, b := env.open(t, schema, 0), env.open(t, schema, 0)
	ctx := t.Context()
	if err := a.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	inbox, err := b.Mailbox(ctx, "alice", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	const perWriter, writers = 25, 4
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		s := []*Store{a, b}[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				body := fmt.Sprintf("Subject: %d/%d\r\n\r\nbody\r\n", w, i)
				if _, err := s.Append(ctx, "alice", inbox.ID, mailstore.NewMessage{Body: strings.NewReader(body)}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	msgs, err := a.Messages(ctx, "alice", inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != writers*perWriter {
		t.Fatalf("%d messages, want %d", len(msgs), writers*perWriter)
	}
	for i, m := range msgs {
		if m.UID != uint32(i+1) {
			t.Fatalf("message %d has UID %d", i, m.UID)
		}
		if i > 0 && m.ModSeq <= msgs[i-1].ModSeq {
			t.Fatalf("UID %d MODSEQ %d not above UID %d's %d", m.UID, m.ModSeq, msgs[i-1].UID, msgs[i-1].ModSeq)
		}
	}
	st, err := b.Status(ctx, "alice", inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.UIDNext != uint32(len(msgs)+1) || st.HighestModSeq != msgs[len(msgs)-1].ModSeq {
		t.Errorf("UIDNEXT %d HIGHESTMODSEQ %d after %d appends, last MODSEQ %d", st.UIDNext, st.HighestModSeq, len(msgs), msgs[len(msgs)-1].ModSeq)
	}
	q, err := a.Quota(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if q.MessagesUsed != int64(len(msgs)) {
		t.Errorf("quota counts %d messages, want %d", q.MessagesUsed, len(msgs))
	}
	if problems, err := b.Check(ctx); err != nil || len(problems) > 0 {
		t.Errorf("Check: %v %v", problems, err)
	}
}

// TestReopenIdempotent: Open on an existing schema migrates nothing and
// keeps the data; concurrent Opens of a new schema agree.
func TestReopenIdempotent(t *testing.T) {
	env := newEnv(t)
	schema := newSchema()
	var wg sync.WaitGroup
	stores := make([]*Store, 3)
	for i := range stores {
		wg.Add(1)
		go func() { defer wg.Done(); stores[i] = env.open(t, schema, 0) }()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	ctx := t.Context()
	if err := stores[0].EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	mb, err := stores[1].CreateMailbox(ctx, "alice", "Work", "")
	if err != nil {
		t.Fatal(err)
	}
	again := env.open(t, schema, 0)
	got, err := again.Mailbox(ctx, "alice", "Work")
	if err != nil || got != mb {
		t.Errorf("after reopen: %+v, %v; want %+v", got, err, mb)
	}
	var versions []int
	rows, err := again.pool.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		rows.Scan(&v)
		versions = append(versions, v)
	}
	if rows.Err() != nil || len(versions) != len(migrations) {
		t.Errorf("schema_migrations %v, %v; want 1..%d once each", versions, rows.Err(), len(migrations))
	}
}

// TestStoresIsolated: two stores in one database (two schemas) share
// nothing: accounts, UIDVALIDITY counters and delivery ids are per store.
func TestStoresIsolated(t *testing.T) {
	env := newEnv(t)
	one, two := env.open(t, newSchema(), 0), env.open(t, newSchema(), 0)
	ctx := t.Context()
	if err := one.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := two.Mailbox(ctx, "alice", "INBOX"); !errors.Is(err, mailstore.ErrNoAccount) {
		t.Errorf("alice of store one seen in store two: %v", err)
	}
	if err := two.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Store{one, two} {
		res, err := s.Deliver(ctx, []mailstore.Delivery{{User: "alice", Message: mailstore.NewMessage{
			Body: strings.NewReader("Subject: x\r\n\r\nx\r\n"), DeliveryID: "same-id"}}})
		if err != nil || res[0].Err != nil || res[0].Duplicate {
			t.Errorf("deliver to %s: %+v, %v", s.schema, res, err)
		}
	}
	boxes1, _ := one.Mailboxes(ctx, "alice")
	boxes2, _ := two.Mailboxes(ctx, "alice")
	if len(boxes1) != len(boxes2) || slices.EqualFunc(boxes1, boxes2, func(a, b mailstore.MailboxInfo) bool { return a.ObjectID == b.ObjectID }) {
		t.Errorf("stores share mailboxes: %v / %v", boxes1, boxes2)
	}
}

// TestWriteRetries: write runs a transaction again after a deadlock, a
// serialization failure or a concurrent duplicate delivery, and not after
// other errors.
func TestWriteRetries(t *testing.T) {
	s := newEnv(t).open(t, newSchema(), 0)
	for _, tc := range []struct {
		err      *pgconn.PgError
		attempts int
	}{
		{&pgconn.PgError{Code: "40P01"}, 3},
		{&pgconn.PgError{Code: "40001"}, 3},
		{&pgconn.PgError{Code: "23505", ConstraintName: "messages_delivery_id"}, 3},
		{&pgconn.PgError{Code: "23505", ConstraintName: "mailboxes_account_id_name_key"}, 1},
		{&pgconn.PgError{Code: "42P01"}, 1},
	} {
		attempts := 0
		err := s.write(t.Context(), "test", func(w *writeTx) error {
			attempts++
			if attempts < 3 {
				return tc.err
			}
			return nil
		})
		if attempts != tc.attempts || (tc.attempts == 1) != (err != nil) {
			t.Errorf("%s %s: %d attempts, %v; want %d", tc.err.Code, tc.err.ConstraintName, attempts, err, tc.attempts)
		}
	}
}
