package imap

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/mailstore/sqlitestore"
)

// TestCreateTooDeep: a CREATE of a name 20,000 levels deep (issue #8) is
// refused with [LIMIT] at once and creates none of its parents; so are
// names one level too deep or with a level too long.
func TestCreateTooDeep(t *testing.T) {
	env := startServer(t)
	c := dialRaw(t, env.addr)
	c.login("alice")

	name := "dd" + strings.Repeat("/x", 20000)
	start := time.Now()
	c.send(fmt.Sprintf("C1 CREATE {%d}\r\n", len(name)))
	c.expect(`\+ .*`)
	c.cmd(name, `C1 NO \[LIMIT\] Mailbox name is longer than 1024 bytes`)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing the name took %v", d)
	}
	c.cmd("C2 CREATE ee"+strings.Repeat("/x", mailstore.MaxNameLevels), `C2 NO \[LIMIT\] Mailbox name is deeper than 64 levels`)
	c.cmd("C3 CREATE ff/"+strings.Repeat("y", 256), `C3 NO \[LIMIT\] Mailbox name has a level longer than 255 bytes`)
	c.cmd("C4 CREATE gg"+strings.Repeat("/x", mailstore.MaxNameLevels-1), `C4 OK .*`)
	c.cmd(`C5 RENAME gg hh/gg`, `C5 NO \[LIMIT\] Mailbox name is deeper than 64 levels`)
	c.cmd(`L1 LIST "" "dd*"`, `L1 OK .*`)
	c.cmd(`L2 LIST "" "ee*"`, `L2 OK .*`)
	c.cmd(`L3 LIST "" "hh*"`, `L3 OK .*`)
}

// TestCreateBeyondMaxMailboxes: an account at its mailbox cap gets
// [LIMIT] for CREATE, and room again after a DELETE.
func TestCreateBeyondMaxMailboxes(t *testing.T) {
	capN := len(mailstore.DefaultMailboxes) + 2
	env := startServerStore(t, func(o *sqlitestore.Options) { o.MaxMailboxes = capN })
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("C1 CREATE a", `C1 OK .*`)
	c.cmd("C2 CREATE b/c", `C2 NO \[LIMIT\] Account already has the maximum of 8 mailboxes`)
	c.cmd(`L1 LIST "" "b"`, `L1 OK .*`)
	c.cmd("C3 CREATE b", `C3 OK .*`)
	c.cmd("C4 CREATE c", `C4 NO \[LIMIT\] Account already has the maximum of 8 mailboxes`)
	c.cmd("D1 DELETE a", `D1 OK .*`)
	c.cmd("C5 CREATE c", `C5 OK .*`)
}
