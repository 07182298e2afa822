package imap

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// notifyLogin opens a raw session logged in as user.
func notifyLogin(t *testing.T, env *testEnv, user string) *tconn {
	t.Helper()
	c := dialRaw(t, env.addr)
	c.login(user)
	return c
}

// expectQuiet checks that nothing arrives for a moment, then that a NOOP
// gets only its tagged reply.
func (c *tconn) expectQuiet(tag string) {
	c.t.Helper()
	time.Sleep(100 * time.Millisecond)
	c.cmd(tag+" NOOP", tag+` OK .*`)
}

func TestNotifyCapability(t *testing.T) {
	env := startServer(t)
	c := notifyLogin(t, env, "alice")
	c.cmd("C CAPABILITY", `\* CAPABILITY .* NOTIFY( .*)?`, `C OK .*`)
}

// TestNotifySelectedNewMail: with SELECTED in the set, a delivery to the
// selected mailbox is reported at once, with the requested fetch
// attributes, without the client sending NOOP or IDLE.
func TestNotifySelectedNewMail(t *testing.T) {
	env := startServer(t)
	c := notifyLogin(t, env, "alice")
	c.send("S SELECT INBOX\r\n")
	c.readUntilTagged("S")
	c.cmd("N NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange))", `N OK NOTIFY completed`)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	c.expect(`\* 1 EXISTS`, `\* 1 RECENT`, `\* 1 FETCH \(UID 1 FLAGS \(.*\)\)`)
	// Another session's flag change and expunge arrive the same way.
	ctx := context.Background()
	mb, _ := env.store.Mailbox(ctx, "alice", "INBOX")
	if _, err := env.store.SetFlags(ctx, "alice", mb.ID, []uint32{1}, 0, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	c.expect(`\* 1 FETCH \(FLAGS \(\\Deleted \\Recent\)\)`)
	if _, err := env.store.Expunge(ctx, "alice", mb.ID, nil); err != nil {
		t.Fatal(err)
	}
	c.expect(`\* 1 EXPUNGE`)
	c.expectQuiet("Q")
}

// TestNotifySelectedDelayed: SELECTED-DELAYED holds EXPUNGE back until a
// command that may report it (RFC 5465 §6.1).
func TestNotifySelectedDelayed(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg, `\Deleted`)
	c := notifyLogin(t, env, "alice")
	c.send("S SELECT INBOX\r\n")
	c.readUntilTagged("S")
	c.cmd("N NOTIFY SET (selected-delayed (MessageNew MessageExpunge))", `N OK NOTIFY completed`)
	ctx := context.Background()
	mb, _ := env.store.Mailbox(ctx, "alice", "INBOX")
	if _, err := env.store.Expunge(ctx, "alice", mb.ID, nil); err != nil {
		t.Fatal(err)
	}
	env.appendMessage(t, "alice", "INBOX", testMsg)
	c.expect(`\* 2 EXISTS`, `\* \d RECENT`)
	c.cmd("F FETCH 1:* UID", `\* 1 FETCH \(UID 1\)`, `\* 2 FETCH \(UID 2\)`, `F OK .*`)
	c.cmd("Q NOOP", `\* 1 EXPUNGE`, `Q OK .*`)
}

// TestNotifyStatusOtherMailbox: SET STATUS sends each watched mailbox's
// STATUS; a delivery to another mailbox then gives a new STATUS.
func TestNotifyStatusOtherMailbox(t *testing.T) {
	env := startServer(t)
	if err := env.store.EnsureAccount(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.store.CreateMailbox(context.Background(), "alice", "Lists/go", ""); err != nil {
		t.Fatal(err)
	}
	c := notifyLogin(t, env, "alice")
	c.send("S SELECT INBOX\r\n")
	c.readUntilTagged("S")
	c.cmd("N NOTIFY SET STATUS (selected (MessageNew MessageExpunge)) (subtree Lists (MessageNew MessageExpunge))",
		`\* STATUS "Lists" \(MESSAGES 0 UIDNEXT 1 UIDVALIDITY \d+ UNSEEN 0\)`,
		`\* STATUS "Lists/go" \(MESSAGES 0 UIDNEXT 1 UIDVALIDITY \d+ UNSEEN 0\)`,
		`N OK NOTIFY completed`)
	env.appendMessage(t, "alice", "Lists/go", testMsg)
	c.expect(`\* STATUS "Lists/go" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)`)
	// A mailbox outside the filters, and a flag change nobody asked for, say nothing.
	env.appendMessage(t, "alice", "Sent", testMsg)
	ctx := context.Background()
	mb, _ := env.store.Mailbox(ctx, "alice", "Lists/go")
	if _, err := env.store.SetFlags(ctx, "alice", mb.ID, []uint32{1}, 0, []string{`\Seen`}); err != nil {
		t.Fatal(err)
	}
	c.expectQuiet("Q")
}

// TestNotifyFlagChangeOtherMailbox: FlagChange on a mailbox other than the
// selected one is a STATUS too (its UNSEEN changes).
func TestNotifyFlagChangeOtherMailbox(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	c := notifyLogin(t, env, "alice")
	c.cmd("N NOTIFY SET (inboxes (MessageNew MessageExpunge FlagChange))", `N OK NOTIFY completed`)
	ctx := context.Background()
	mb, _ := env.store.Mailbox(ctx, "alice", "INBOX")
	if _, err := env.store.SetFlags(ctx, "alice", mb.ID, []uint32{1}, 0, []string{`\Seen`}); err != nil {
		t.Fatal(err)
	}
	c.expect(`\* STATUS "INBOX" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 0\)`)
}

// TestNotifyNone: NOTIFY NONE ends the notifications.
func TestNotifyNone(t *testing.T) {
	env := startServer(t)
	c := notifyLogin(t, env, "alice")
	c.cmd("N NOTIFY SET (personal (MessageNew MessageExpunge MailboxName))", `N OK NOTIFY completed`)
	c.cmd("M NOTIFY NONE", `M OK NOTIFY completed`)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	if _, err := env.store.CreateMailbox(context.Background(), "alice", "Quiet", ""); err != nil {
		t.Fatal(err)
	}
	c.expectQuiet("Q")
	c.cmd("X NOTIFY NONE extra", `X BAD .*`)
}

// TestNotifyBadEvent: events Rookery does not report are NO [BADEVENT]
// listing the supported ones; combinations RFC 5465 forbids are BAD.
func TestNotifyBadEvent(t *testing.T) {
	env := startServer(t)
	c := notifyLogin(t, env, "alice")
	const badEvent = `NO \[BADEVENT \(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange\)\] .*`
	c.cmd("A NOTIFY SET (personal (MessageNew MessageExpunge AnnotationChange))", "A "+badEvent)
	c.cmd("B NOTIFY SET (personal (MailboxMetadataChange))", "B "+badEvent)
	c.cmd("C NOTIFY SET (personal (ServerMetadataChange))", "C "+badEvent)
	c.cmd("D NOTIFY SET (personal (SomeFutureEvent))", "D "+badEvent)
	for _, bad := range []string{
		"NOTIFY",
		"NOTIFY SET",
		"NOTIFY SET STATUS",
		"NOTIFY RESET",
		"NOTIFY SET (personal (MessageNew))",
		"NOTIFY SET (personal (MessageExpunge))",
		"NOTIFY SET (selected (FlagChange))",
		"NOTIFY SET (selected (MailboxName))",
		"NOTIFY SET (selected NONE) (selected-delayed NONE)",
		"NOTIFY SET (personal (MessageNew (UID) MessageExpunge))",
		"NOTIFY SET (selected (MessageNew (BODY[]) MessageExpunge))",
		"NOTIFY SET (everything (MessageNew MessageExpunge))",
		"NOTIFY SET (subtree (MessageNew MessageExpunge))",
		"NOTIFY SET (mailboxes () (MailboxName))",
		"NOTIFY SET (personal ())",
		"NOTIFY SET (personal (MailboxName)",
	} {
		c.cmd("E "+bad, `E BAD .*`)
	}
	// Still working after all that, and NONE for an event list is fine.
	c.cmd("F NOTIFY SET (selected NONE) (mailboxes (INBOX Sent) (MailboxName))", `F OK NOTIFY completed`)
}

// TestNotifyMailboxName: another session's CREATE, RENAME, SUBSCRIBE and
// DELETE arrive as LIST responses (RFC 5465 §5.4, §5.5).
func TestNotifyMailboxName(t *testing.T) {
	env := startServer(t)
	a := notifyLogin(t, env, "alice")
	a.cmd("N NOTIFY SET (personal (MailboxName SubscriptionChange))", `N OK NOTIFY completed`)
	b := notifyLogin(t, env, "alice")
	b.cmd("B1 CREATE Projects", `B1 OK .*`)
	a.expect(`\* LIST \(\) "/" "Projects"`)
	b.cmd("B2 RENAME Projects Archive2", `B2 OK .*`)
	a.expect(`\* LIST \(\) "/" "Archive2" \("OLDNAME" \("Projects"\)\)`)
	b.cmd("B3 SUBSCRIBE Archive2", `B3 OK .*`)
	a.expect(`\* LIST \(\\Subscribed\) "/" "Archive2"`)
	b.cmd("B4 UNSUBSCRIBE Archive2", `B4 OK .*`)
	a.expect(`\* LIST \(\) "/" "Archive2"`)
	b.cmd("B5 SUBSCRIBE Archive2", `B5 OK .*`)
	a.expect(`\* LIST \(\\Subscribed\) "/" "Archive2"`)
	b.cmd("B4 DELETE Archive2", `B4 OK .*`)
	a.expect(`\* LIST \(\\NonExistent\) "/" "Archive2"`)
	a.expectQuiet("Q")
}

// TestNotifySubscribedFilter: SUBSCRIBED follows subscriptions as they change.
func TestNotifySubscribedFilter(t *testing.T) {
	env := startServer(t)
	c := notifyLogin(t, env, "alice")
	c.cmd("C CREATE Feeds", `C OK .*`)
	c.cmd("N NOTIFY SET (subscribed (MessageNew MessageExpunge))", `N OK NOTIFY completed`)
	env.appendMessage(t, "alice", "Feeds", testMsg)
	c.expectQuiet("Q1")
	c.cmd("S SUBSCRIBE Feeds", `S OK .*`)
	env.appendMessage(t, "alice", "Feeds", testMsg)
	// Newly watched, Feeds gets a STATUS (MESSAGES 1 or already 2), then
	// one for the new message unless both were seen in one look.
	for {
		line := c.readLine()
		if strings.HasPrefix(line, `* STATUS "Feeds" (MESSAGES 2 UIDNEXT 3 `) {
			break
		}
		if !strings.HasPrefix(line, `* STATUS "Feeds" (MESSAGES 1 UIDNEXT 2 `) {
			t.Fatalf("got %q", line)
		}
	}
}

// TestNotifyDuringIdle: NOTIFY events for other mailboxes arrive in IDLE too.
func TestNotifyDuringIdle(t *testing.T) {
	env := startServer(t)
	c := notifyLogin(t, env, "alice")
	c.cmd("N NOTIFY SET (mailboxes Sent (MessageNew MessageExpunge))", `N OK NOTIFY completed`)
	c.cmd("I IDLE", `\+ idling`)
	env.appendMessage(t, "alice", "Sent", testMsg)
	c.expect(`\* STATUS "Sent" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)`)
	c.cmd("DONE", `I OK IDLE terminated`)
}

// TestNotifyLogoutAndPipelining: commands sent while notifications are
// pending are still read whole and answered in order.
func TestNotifyLogoutAndPipelining(t *testing.T) {
	env := startServer(t)
	c := notifyLogin(t, env, "alice")
	c.cmd("N NOTIFY SET (personal (MessageNew MessageExpunge))", `N OK NOTIFY completed`)
	c.send("A NOOP\r\nB NOOP\r\n")
	lines := c.readUntilTagged("B")
	if !strings.HasPrefix(lines[len(lines)-2], "A OK") {
		t.Fatalf("pipelined replies: %q", lines)
	}
	c.cmd("Z LOGOUT", `\* BYE .*`, `Z OK .*`)
}

func TestParseNotify(t *testing.T) {
	decode := func(s string) (string, error) { return normalizeInbox(s), nil }
	spec, err := parseNotify(&parser{b: []byte(` SET STATUS (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (From)]) MessageExpunge FlagChange)) (subtree (Lists "a b") (MessageNew MessageExpunge)) (inbox-less-is-fine-not NONE)`)}, decode)
	if err == nil {
		t.Fatalf("unknown filter accepted: %+v", spec)
	}
	spec, err = parseNotify(&parser{b: []byte(` set status (SELECTED (MessageNew (UID BODY.PEEK[HEADER.FIELDS (From)]) MessageExpunge FlagChange)) (subtree (Lists "a b") (MessageNew MessageExpunge)) (inboxes NONE) (mailboxes inbox (MailboxName SubscriptionChange))`)}, decode)
	if err != nil {
		t.Fatal(err)
	}
	if !spec.status || spec.selected == nil || spec.selected.events != evMessage || len(spec.fetch) != 2 || len(spec.others) != 3 {
		t.Fatalf("spec = %+v", spec)
	}
	if g := spec.others[0]; g.filter != filterSubtree || strings.Join(g.names, ",") != "Lists,a b" {
		t.Errorf("subtree group = %+v", g)
	}
	if g := spec.others[2]; g.names[0] != "INBOX" || g.events != evMailboxName|evSubscriptionChange {
		t.Errorf("mailboxes group = %+v", g)
	}
	if spec, err := parseNotify(&parser{b: []byte(" NONE")}, decode); spec != nil || err != nil {
		t.Errorf("NONE: %v %v", spec, err)
	}
}

func FuzzParseNotify(f *testing.F) {
	for _, s := range []string{
		" NONE",
		" SET STATUS (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange)) (personal (MailboxName))",
		" SET (subtree (a \"b c\" {1}\r\nx) (MessageNew MessageExpunge)) (mailboxes INBOX NONE)",
		" SET (selected-delayed (AnnotationChange)) (subscribed (SubscriptionChange ServerMetadataChange))",
	} {
		f.Add(s)
	}
	decode := func(s string) (string, error) { return s, nil }
	f.Fuzz(func(t *testing.T, in string) {
		spec, err := parseNotify(&parser{b: []byte(in)}, decode)
		if err == nil && spec != nil && len(spec.others) == 0 && spec.selected == nil {
			t.Fatalf("%q: a SET without groups", in)
		}
	})
}

// TestNotifySelectedDeleted: the selected mailbox deleted by another
// session ends this one with BYE at once, not at its next command.
func TestNotifySelectedDeleted(t *testing.T) {
	env := startServer(t)
	c := notifyLogin(t, env, "alice")
	c.cmd("C CREATE Work", `C OK .*`)
	c.send("S SELECT Work\r\n")
	c.readUntilTagged("S")
	c.cmd("N NOTIFY SET (selected (MessageNew MessageExpunge))", `N OK NOTIFY completed`)
	if err := env.store.DeleteMailbox(context.Background(), "alice", "Work"); err != nil {
		t.Fatal(err)
	}
	c.expect(`\* BYE \[UNAVAILABLE\] Selected mailbox was deleted`)
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := c.br.ReadString('\n'); err == nil {
		t.Fatalf("connection still open, got %q", line)
	}
}

// TestNotifyAutologout: waiting for notifications does not keep an idle
// session past IdleTimeout.
func TestNotifyAutologout(t *testing.T) {
	env := startServer(t, func(o *Options) { o.IdleTimeout = 300 * time.Millisecond })
	c := notifyLogin(t, env, "alice")
	c.cmd("N NOTIFY SET (personal (MessageNew MessageExpunge))", `N OK NOTIFY completed`)
	c.expect(`\* BYE Autologout; idle for too long`)
}

// TestPythonNotify: Python's imaplib, a client sharing no code with ours,
// hears of another session's APPEND and CREATE without sending a command.
func TestPythonNotify(t *testing.T) {
	runPython(t, startServer(t), "notify_client.py", "alice", "alicepw")
}

// brokenMailboxes is a store whose Mailboxes fails while broken is set.
type brokenMailboxes struct {
	mailstore.Store
	broken *atomic.Bool
}

func (b brokenMailboxes) Mailboxes(ctx context.Context, user string) ([]mailstore.MailboxInfo, error) {
	if b.broken.Load() {
		return nil, errors.New("store unavailable")
	}
	return b.Store.Mailboxes(ctx, user)
}

// TestNotifyOverflow: when the session cannot find out what changed, it
// says [NOTIFICATIONOVERFLOW] and stops NOTIFY (RFC 5465 §5.8), rather
// than going quiet or repeating the failure.
func TestNotifyOverflow(t *testing.T) {
	env := startServer(t)
	broken := &atomic.Bool{}
	env.srv.opts.Backend.(*testBackend).store = brokenMailboxes{env.store, broken}
	c := notifyLogin(t, env, "alice")
	c.cmd("N NOTIFY SET (personal (MessageNew MessageExpunge))", `N OK NOTIFY completed`)
	broken.Store(true)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	c.expect(`\* OK \[NOTIFICATIONOVERFLOW\] .*`)
	broken.Store(false)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	c.expectQuiet("Q")
}
