package admin

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/queue/sqlitequeue"
)

var queueT0 = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

// queueEnv returns an Env over a fresh queue file holding two messages:
// q1 (two recipients, one failed, one deferred) and q2; the clock reads
// 2h30m after q1 arrived.
func queueEnv(t *testing.T) Env {
	t.Helper()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "queue.db")
	q, err := sqlitequeue.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	body := "From: alice@remote.test\r\nSubject: hi\r\n\r\nhello\r\n"
	for _, m := range []*queue.Message{
		{ID: "q1", From: "alice@remote.test", Received: queueT0, Body: []byte(body), RequireTLS: true,
			Recipients: []queue.Recipient{{Address: "bob@local.test", Orig: "info@local.test"}, {Address: "gone@local.test", Orig: "gone@local.test"}}},
		{ID: "q2", From: "", Received: queueT0.Add(time.Hour), Body: []byte("Subject: bounce\r\n\r\nx\r\n"),
			Recipients: []queue.Recipient{{Address: "carol@remote.test", Orig: "carol@remote.test", Remote: true}}},
	} {
		if err := q.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	err = q.Complete(ctx, []queue.Result{
		{MessageID: "q1", Recipient: "bob@local.test", Status: queue.Pending, Error: "mailstore down",
			Attempted: queueT0.Add(time.Minute), NextAttempt: queueT0.Add(6 * time.Minute)},
		{MessageID: "q1", Recipient: "gone@local.test", Status: queue.Failed, Error: "5.1.1 mailbox no longer exists",
			Attempted: queueT0.Add(time.Minute)},
	})
	if err != nil {
		t.Fatal(err)
	}
	q.Close()
	return Env{
		Queue: func(ctx context.Context) (queue.Store, error) { return sqlitequeue.Open(ctx, path) },
		Now:   func() time.Time { return queueT0.Add(150 * time.Minute) },
	}
}

func TestQueueListShow(t *testing.T) {
	transcriptEnv(t, queueEnv(t), `
		$ queue list
		q1 2h30m 47 <alice@remote.test> bob@local.test(pending) gone@local.test(failed)
		q2 1h30m 22 <> carol@remote.test(pending)
		$ queue show q9
		! message q9 is not in the queue; see rookery queue list
	`)
	// queue show indents, which transcript lines cannot express.
	var stdout, stderr bytes.Buffer
	env := queueEnv(t)
	env.Stdout, env.Stderr = &stdout, &stderr
	if err := Run(t.Context(), []string{"queue", "show", "q1"}, env); err != nil {
		t.Fatal(err)
	}
	want := `id: q1
from: <alice@remote.test>
received: 2026-11-27T08:00:00Z (age 2h30m)
size: 47
held: no
requiretls: yes
delay warning sent: no
recipient: bob@local.test
  original: info@local.test
  remote: no
  status: pending
  attempts: 1
  last attempt: 2026-11-27T08:01:00Z
  next attempt: 2026-11-27T08:06:00Z
  last error: mailstore down
recipient: gone@local.test
  remote: no
  status: failed
  attempts: 1
  last attempt: 2026-11-27T08:01:00Z
  last error: 5.1.1 mailbox no longer exists
headers:
  From: alice@remote.test
  Subject: hi
`
	if stdout.String() != want {
		t.Errorf("queue show q1:\n%s\nwant\n%s", stdout.String(), want)
	}
}

func TestQueueHoldReleaseRetryDelete(t *testing.T) {
	env := queueEnv(t)
	transcriptEnv(t, env, `
		$ queue hold q2
		held q2
		$ queue list
		q1 2h30m 47 <alice@remote.test> bob@local.test(pending) gone@local.test(failed)
		q2 1h30m 22 <> carol@remote.test(pending) HELD
		$ queue release q2
		released q2
		$ queue list
		q1 2h30m 47 <alice@remote.test> bob@local.test(pending) gone@local.test(failed)
		q2 1h30m 22 <> carol@remote.test(pending)
		$ queue retry q1
		retrying q1
		$ queue delete q1
		deleted q1
		$ queue list
		q2 1h30m 22 <> carol@remote.test(pending)
		$ queue delete q1
		! message q1 is not in the queue
		$ queue hold q1
		! message q1 is not in the queue
		$ queue release q1
		! message q1 is not in the queue
		$ queue retry q1
		! message q1 is not in the queue
	`)
}

// TestQueueRetryMakesDue: after retry the deferred recipient is due at the
// wall clock's now, though its retry time was far ahead.
func TestQueueRetryMakesDue(t *testing.T) {
	env := queueEnv(t)
	ctx := t.Context()
	q, _ := env.Queue(ctx)
	q.Complete(ctx, []queue.Result{{MessageID: "q1", Recipient: "bob@local.test", Status: queue.Pending, NextAttempt: time.Now().Add(24 * time.Hour)}})
	q.Close()
	transcriptEnv(t, env, `
		$ queue retry q1
		retrying q1
	`)
	q, _ = env.Queue(ctx)
	defer q.Close()
	due, err := q.Due(ctx, queue.ClaimRequest{Now: time.Now().Add(time.Second), Limit: 10, Local: true, Remote: true})
	if err != nil || len(due) != 2 {
		t.Fatalf("Due after retry = %d messages, %v; want q1 and q2", len(due), err)
	}
}

func TestQueueUsage(t *testing.T) {
	env := Env{Queue: func(context.Context) (queue.Store, error) {
		return nil, errors.New("usage errors must not open the queue")
	}}
	transcriptEnv(t, env, `
		$ queue
		!usage queue: missing subcommand
		$ queue show
		!usage queue show: wrong number of arguments
		$ queue list extra
		!usage queue list: wrong number of arguments
		$ queue delete a b
		!usage queue delete: wrong number of arguments
		$ queue frob
		!usage unknown command "queue frob"
	`)
}

// TestQueueShowClaim: queue show names the node delivering a recipient
// and until when its claim holds.
func TestQueueShowClaim(t *testing.T) {
	env := queueEnv(t)
	q, err := env.Queue(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	now := env.Now()
	due, err := q.Due(t.Context(), queue.ClaimRequest{Owner: "node-b", Now: now, TTL: 10 * time.Minute, Limit: 10, Remote: true})
	q.Close()
	if err != nil || len(due) != 1 {
		t.Fatalf("claim: %v, %v", due, err)
	}
	var stdout, stderr bytes.Buffer
	env.Stdout, env.Stderr = &stdout, &stderr
	if err := Run(t.Context(), []string{"queue", "show", "q2"}, env); err != nil {
		t.Fatal(err)
	}
	if want := "  claimed by: node-b until 2026-11-27T10:40:00Z\n"; !bytes.Contains(stdout.Bytes(), []byte(want)) {
		t.Fatalf("queue show q2:\n%s\nwant a line %q", stdout.String(), want)
	}
}
