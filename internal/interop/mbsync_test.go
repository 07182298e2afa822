package interop

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// requireTool fails in CI and skips elsewhere when a Debian tool is missing.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI", name)
	}
	t.Skipf("%s not installed", name)
	return ""
}

// maildirFiles lists the message files of a Maildir folder, flags included.
func maildirFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"cur", "new"} {
		es, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, e := range es {
			out = append(out, sub+"/"+e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// TestMbsyncTwoWay: mbsync (isync) pulls a mailbox into a Maildir, pushes a
// new message and a flag back, and a further sync changes nothing.
func TestMbsyncTwoWay(t *testing.T) {
	mbsync := requireTool(t, "mbsync")
	n := startNode(t, nodeConfig{hostname: "mx.example.test", domain: "example.test", user: "alice"})
	for i := 0; i < 5; i++ {
		c, err := smtp.Dial(n.srv.Addr("mx").String())
		if err != nil {
			t.Fatal(err)
		}
		msg := fmt.Sprintf("From: x@remote.test\r\nTo: alice@example.test\r\nSubject: sync %d\r\nMessage-ID: <sync%d@remote.test>\r\n\r\nbody %d\r\n", i, i, i)
		if err := c.SendMail("x@remote.test", []string{n.user}, strings.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
		c.Quit()
	}
	n.messages(t, 5)

	dir := t.TempDir()
	local := filepath.Join(dir, "mail")
	os.MkdirAll(local, 0o700)
	imapAddr := n.srv.Addr("imap").String()
	port := imapAddr[strings.LastIndexByte(imapAddr, ':')+1:]
	rc := fmt.Sprintf(`IMAPAccount rookery
Host 127.0.0.1
Port %s
User %s
Pass %s
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account rookery

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
`, port, n.user, nodePassword, local, local)
	rcPath := filepath.Join(dir, "mbsyncrc")
	os.WriteFile(rcPath, []byte(rc), 0o600)
	sync := func() string {
		t.Helper()
		out, err := exec.Command(mbsync, "-c", rcPath, "-a").CombinedOutput()
		if err != nil {
			t.Fatalf("mbsync: %v\n%s", err, out)
		}
		return string(out)
	}

	sync()
	inbox := filepath.Join(local, "INBOX")
	if got := maildirFiles(t, inbox); len(got) != 5 {
		t.Fatalf("after the first sync the local INBOX has %v, want 5 messages", got)
	}
	for _, f := range []string{"Sent", "Drafts", "Trash", "Junk", "Archive"} {
		if _, err := os.Stat(filepath.Join(local, f)); err != nil {
			t.Errorf("folder %s not synced: %v", f, err)
		}
	}

	// Locally: flag one message and add a new one.
	files := maildirFiles(t, inbox)
	old := filepath.Join(inbox, files[0])
	flagged := old
	if i := strings.Index(old, ":2,"); i >= 0 {
		flagged = old[:i] + ":2,F" + strings.TrimLeft(old[i+3:], "F")
	} else {
		flagged = old + ":2,F"
	}
	if strings.HasPrefix(files[0], "new/") {
		flagged = strings.Replace(flagged, "/new/", "/cur/", 1)
	}
	if err := os.Rename(old, flagged); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(inbox, "new", "1700000000.local.host"), []byte("From: alice@example.test\r\nSubject: written locally\r\n\r\nhi\r\n"), 0o600)
	sync()

	st := n.srv.Stores()[config.DefaultMailstore]
	ctx := context.Background()
	mb, err := st.Mailbox(ctx, n.user, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := st.Messages(ctx, n.user, mb.ID)
	if len(msgs) != 6 {
		t.Fatalf("server INBOX has %d messages after the push, want 6", len(msgs))
	}
	nflagged := 0
	for _, m := range msgs {
		for _, f := range m.Flags {
			if f == `\Flagged` {
				nflagged++
			}
		}
	}
	if nflagged != 1 {
		t.Fatalf("%d flagged messages on the server, want 1", nflagged)
	}

	// A further sync is a no-op on both sides.
	before := maildirFiles(t, inbox)
	status := func() mailstore.Status {
		s, err := st.Status(ctx, n.user, mb.ID)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	sBefore := status()
	sync()
	if after := maildirFiles(t, inbox); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Fatalf("second sync changed the Maildir:\n%v\n%v", before, after)
	}
	if sAfter := status(); sAfter.HighestModSeq != sBefore.HighestModSeq || sAfter.Messages != sBefore.Messages {
		t.Fatalf("second sync changed the server: %+v -> %+v", sBefore, sAfter)
	}
}
