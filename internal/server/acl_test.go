package server

import (
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/rookery-mail/rookery/internal/config"
)

// TestIMAPACLDefaultDomain: a bare SETACL identifier is completed with the
// default domain, as a login is, so it names the real account; that
// account then finds the mailbox under "Other Users/<owner>/".
func TestIMAPACLDefaultDomain(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.DefaultDomain = "example.test" })
	alice := imapLogin(t, e.addr("imap"), "alice", nil)
	if err := alice.Create("Team", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := alice.SetACL("Team", "Bob", imap.RightModificationReplace, imap.RightSet("lr")).Wait(); err != nil {
		t.Fatal(err)
	}
	acl, err := alice.GetACL("Team").Wait()
	if err != nil {
		t.Fatal(err)
	}
	if got := acl.Rights["bob@example.test"]; string(got) != "lr" || len(acl.Rights) != 2 {
		t.Fatalf("GETACL = %v, want alice@example.test (owner) and bob@example.test lr", acl.Rights)
	}

	bob := imapLogin(t, e.addr("imap"), "bob", nil)
	ns, err := bob.Namespace().Wait()
	if err != nil || len(ns.Other) != 1 || ns.Other[0].Prefix != "Other Users/" {
		t.Fatalf("NAMESPACE = %+v, %v", ns, err)
	}
	const team = "Other Users/alice@example.test/Team"
	my, err := bob.MyRights(team).Wait()
	if err != nil || string(my.Rights) != "lr" || my.Mailbox != team {
		t.Fatalf("MYRIGHTS = %+v, %v", my, err)
	}
	sel, err := bob.Select(team, nil).Wait()
	if err != nil || len(sel.PermanentFlags) != 0 {
		t.Fatalf("SELECT %s = %+v, %v; want read-only (no PERMANENTFLAGS)", team, sel, err)
	}
	if err := bob.Delete(team).Wait(); err == nil {
		t.Fatal("DELETE without the x right succeeded")
	}
}
