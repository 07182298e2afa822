package imap

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

func TestTranscriptQuota(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg) // under 1 KiB
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("a0 CAPABILITY", `\* CAPABILITY .* QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE .*`, `a0 OK .*`)

	// Without limits the account has no quota root.
	c.cmd("a1 GETQUOTAROOT INBOX", `\* QUOTAROOT "INBOX"`, `a1 OK GETQUOTAROOT completed`)
	c.cmd(`a2 GETQUOTA ""`, `a2 NO \[NONEXISTENT\] No such quota root`)

	if err := env.store.SetQuota(context.Background(), "alice", 10*1024+1000, 2); err != nil {
		t.Fatal(err)
	}
	// STORAGE in KiB: usage rounded up, the limit down.
	c.cmd("b1 GETQUOTAROOT INBOX", `\* QUOTAROOT "INBOX" ""`, `\* QUOTA "" \(STORAGE 1 10 MESSAGE 1 2\)`, `b1 OK GETQUOTAROOT completed`)
	c.cmd("b2 GETQUOTAROOT Archive", `\* QUOTAROOT "Archive" ""`, `\* QUOTA "" \(STORAGE 1 10 MESSAGE 1 2\)`, `b2 OK .*`)
	c.cmd("b3 GETQUOTAROOT Nope", `b3 NO \[NONEXISTENT\] .*`)
	c.cmd(`b4 GETQUOTA ""`, `\* QUOTA "" \(STORAGE 1 10 MESSAGE 1 2\)`, `b4 OK GETQUOTA completed`)
	c.cmd(`b5 GETQUOTA "other"`, `b5 NO \[NONEXISTENT\] .*`)
	c.cmd(`b6 SETQUOTA "" (STORAGE 100000)`, `b6 NO \[NOPERM\] .*`)
	c.cmd(`b7 SETQUOTA "" (STORAGE)`, `b7 BAD .*`)

	// The message limit: the second APPEND fills the account, the third
	// and every COPY are refused; MOVE and EXPUNGE always work.
	c.cmd("c1 APPEND INBOX "+lit(testMsg), `c1 OK \[APPENDUID \d+ 2\] APPEND completed`)
	c.cmd("c2 APPEND INBOX "+lit(testMsg), `c2 NO \[OVERQUOTA\] Quota exceeded`)
	c.cmd("c3 SELECT INBOX", `(?s).*`)
	c.readUntilTagged("c3")
	c.cmd("c4 COPY 1 Archive", `c4 NO \[OVERQUOTA\] Quota exceeded`)
	c.cmd("c5 MOVE 2 Archive", `\* OK \[COPYUID \d+ 2 1\] .*`, `\* 2 EXPUNGE`, `c5 OK .*`)
	c.cmd("c6 STORE 1 +FLAGS.SILENT (\\Deleted)", `c6 OK .*`)
	c.cmd("c6b STATUS INBOX (DELETED DELETED-STORAGE)", fmt.Sprintf(`\* STATUS "INBOX" \(DELETED 1 DELETED-STORAGE %d\)`, len(testMsg)), `c6b OK .*`)
	c.cmd("c7 EXPUNGE", `\* 1 EXPUNGE`, `c7 OK .*`)
	c.cmd(`c8 GETQUOTA ""`, `\* QUOTA "" \(STORAGE 1 10 MESSAGE 1 2\)`, `c8 OK .*`)

	// MULTIAPPEND is all or nothing: the second message is over quota.
	c.cmd("d1 APPEND INBOX "+lit(testMsg)+" "+lit(testMsg), `d1 NO \[OVERQUOTA\] Quota exceeded`)
	c.cmd("d2 STATUS INBOX (MESSAGES)", `\* STATUS "INBOX" \(MESSAGES 0\)`, `d2 OK .*`)

	// The storage limit, by a message larger than the room left.
	if err := env.store.SetQuota(context.Background(), "alice", 2048, 0); err != nil {
		t.Fatal(err)
	}
	big := testMsg + strings.Repeat("x", 2048)
	c.cmd("e1 APPEND INBOX "+lit(big), `e1 NO \[OVERQUOTA\] Quota exceeded`)
	c.cmd("e2 GETQUOTAROOT INBOX", `\* QUOTAROOT "INBOX" ""`, `\* QUOTA "" \(STORAGE 1 2\)`, `e2 OK .*`)
}

// TestPythonImaplibQuota checks GETQUOTAROOT with Python's imaplib, which
// parses QUOTAROOT and QUOTA itself.
func TestPythonImaplibQuota(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	if err := env.store.SetQuota(context.Background(), "alice", 5*1024*1024, 1000); err != nil {
		t.Fatal(err)
	}
	runPython(t, env, "imaplib_quota.py", "alice", "alicepw")
}

// TestClientQuota reads the quota and sees an over-quota APPEND fail with
// go-imap v2's client, which parses QUOTAROOT, QUOTA and OVERQUOTA itself.
func TestClientQuota(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	if err := env.store.SetQuota(context.Background(), "alice", 0, 1); err != nil {
		t.Fatal(err)
	}
	c := dialClient(t, env.addr, "alice", nil)
	got, err := c.GetQuotaRoot("INBOX").Wait()
	if err != nil {
		t.Fatal(err)
	}
	want := []imapclient.QuotaData{{Root: "", Resources: map[imap.QuotaResourceType]imapclient.QuotaResourceData{
		imap.QuotaResourceMessage: {Usage: 1, Limit: 1}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GETQUOTAROOT = %+v, want %+v", got, want)
	}
	cmd := c.Append("INBOX", int64(len(testMsg)), nil)
	cmd.Write([]byte(testMsg))
	cmd.Close()
	_, err = cmd.Wait()
	var ie *imap.Error
	if !errors.As(err, &ie) || ie.Code != imap.ResponseCodeOverQuota {
		t.Errorf("APPEND over quota: %v, want NO [OVERQUOTA]", err)
	}
}

// TestQuotaRootOfSharedMailbox: a shared mailbox is charged to its owner,
// so GETQUOTAROOT on it names the owner's root and limits, not the
// caller's; GETQUOTA answers only for the caller's own root.
func TestQuotaRootOfSharedMailbox(t *testing.T) {
	env, _, bob := sharedProjects(t, "lr")
	if err := env.store.SetQuota(context.Background(), "alice", 0, 50); err != nil {
		t.Fatal(err)
	}
	bob.cmd("q1 GETQUOTAROOT "+projects, `\* QUOTAROOT `+projects+` "Other Users/alice"`,
		`\* QUOTA "Other Users/alice" \(MESSAGE 1 50\)`, `q1 OK GETQUOTAROOT completed`)
	bob.cmd("q2 GETQUOTAROOT INBOX", `\* QUOTAROOT "INBOX"`, `q2 OK GETQUOTAROOT completed`)
	bob.cmd(`q3 GETQUOTA "Other Users/alice"`, `q3 NO \[NONEXISTENT\] .*`)
}
