package server

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/engine"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// TestNamedMailstores: a node opens every [[mailstores]] entry. An account
// placed on the second store receives mail and logs in there; one placed
// on a store this node does not open is refused clearly at login and its
// mail waits in the queue (no bounce, no silent drop).
func TestNamedMailstores(t *testing.T) {
	e := startEnv(t, func(c *config.Config) {
		c.Mailstores = append(c.Mailstores, config.MailstoreEngine{Name: "second", Engine: config.EngineSQLite,
			Blobs: "fs:mailstores/second/blobs"})
	})
	ctx := context.Background()
	d := e.srv.Directory()
	if _, err := d.AddAccount(ctx, "dave@example.test", testPassword, "second"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddAccount(ctx, "erin@example.test", testPassword, "elsewhere"); err != nil {
		t.Fatal(err)
	}
	if got := len(e.srv.Stores()); got != 2 {
		t.Fatalf("node opened %d mailstores, want 2", got)
	}

	sendMail(t, e.addr("mx"), "x@remote.test", []string{"dave@example.test", "alice@example.test"}, "Subject: two stores\r\n\r\nhi\r\n")
	e.waitMessages("dave@example.test", "INBOX", 1)
	e.waitMessages("alice@example.test", "INBOX", 1)
	if _, err := e.store().Mailbox(ctx, "dave@example.test", "INBOX"); err == nil {
		t.Fatal("dave's mailbox exists on the default store too")
	}
	c := imapLogin(t, e.addr("imap"), "dave@example.test", nil)
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 1 {
		t.Fatalf("dave's INBOX over IMAP: %+v, %v", sel, err)
	}

	// erin's store is not on this node: LOGIN says so (not "wrong password").
	ec, err := imapclient.DialInsecure(e.addr("imap"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	err = ec.Login("erin@example.test", testPassword).Wait()
	if err == nil || !strings.Contains(err.Error(), "UNAVAILABLE") {
		t.Fatalf("login to an account on an unopened store: %v, want NO [UNAVAILABLE]", err)
	}
	sendMail(t, e.addr("mx"), "x@remote.test", []string{"erin@example.test"}, "Subject: not here\r\n\r\nwait\r\n")
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := e.srv.queue.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Recipients == 1 && st.Failed == 0 {
			break // deferred, still queued
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue after delivery to an unopened store: %+v, want the recipient pending", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestUnknownMailstoreOpen: opening a mailstore the config does not list
// names the configured ones instead of creating a new empty store.
func TestUnknownMailstoreOpen(t *testing.T) {
	e := startEnv(t, nil)
	_, err := engine.Mailstore(context.Background(), e.cfg, "nope", engine.StoreOptions{})
	if !errors.Is(err, engine.ErrUnknownStore) || !strings.Contains(err.Error(), "default") {
		t.Fatalf("open unknown mailstore: %v", err)
	}
}

// TestPostgresS3Mailstore: a node whose mailstore is on PostgreSQL with
// its bodies in S3 serves the same protocol flows as the embedded one:
// SMTP in, IMAP out byte for byte, and SEARCH answered from its index.
func TestPostgresS3Mailstore(t *testing.T) {
	dsn := testsvc.Postgres(t)
	endpoint, bucket, ak, sk := testsvc.S3(t)
	e := startEnv(t, func(c *config.Config) {
		c.S3 = config.S3{Endpoint: endpoint, AccessKey: ak, SecretKey: sk, Insecure: true}
		c.Mailstores = []config.MailstoreEngine{{Name: config.DefaultMailstore, Engine: config.EnginePostgres, DSN: dsn,
			Schema: "store_default", Blobs: "s3://" + bucket + "/default"}}
	})
	body := "From: s@remote.test\r\nTo: alice@example.test\r\nSubject: scaled\r\n\r\nstored in PostgreSQL and S3\r\n"
	sendMail(t, e.addr("mx"), "s@remote.test", []string{"alice@example.test"}, body)
	e.waitMessages("alice@example.test", "INBOX", 1)
	c := imapLogin(t, e.addr("imap"), "alice@example.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	got := fetchBodies(t, c)
	if len(got) != 1 || !bytes.HasSuffix(got[0], []byte(body)) {
		t.Fatalf("IMAP bodies %q", got)
	}
	uids, err := c.UIDSearch(&imap.SearchCriteria{Body: []string{"postgresql"}}, nil).Wait()
	if err != nil || len(uids.AllUIDs()) != 1 {
		t.Fatalf("SEARCH BODY on the PostgreSQL index: %v, %v", uids, err)
	}
}
