package imap

import (
	"testing"
	"time"
)

func TestTranscriptSaveDate(t *testing.T) {
	env := startServer(t)
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("a0 CAPABILITY", `\* CAPABILITY .* SAVEDATE.*`, `a0 OK .*`)
	// An old internal date; the save date is now (RFC 8514).
	c.cmd(`a1 APPEND INBOX "02-Jan-2001 10:00:00 +0000" `+lit(testMsg), `a1 OK .*`)
	today := time.Now().UTC().Format("2-Jan-2006")
	c.cmd("a2 SELECT INBOX", `(?s).*`)
	c.readUntilTagged("a2")
	c.cmd("a3 FETCH 1 (INTERNALDATE SAVEDATE)",
		`\* 1 FETCH \(INTERNALDATE "02-Jan-2001 10:00:00 \+0000" SAVEDATE "`+time.Now().UTC().Format("02-Jan-2006")+` \d\d:\d\d:\d\d \+0000"\)`,
		`a3 OK FETCH completed`)

	// The SAVED* keys look at the save date, not the internal date.
	c.cmd("b1 SEARCH SAVEDON "+today, `\* SEARCH 1`, `b1 OK .*`)
	c.cmd("b2 SEARCH SAVEDSINCE "+today, `\* SEARCH 1`, `b2 OK .*`)
	c.cmd("b3 SEARCH SAVEDBEFORE "+today, `\* SEARCH`, `b3 OK .*`)
	c.cmd("b4 SEARCH SAVEDBEFORE 3-Jan-2001", `\* SEARCH`, `b4 OK .*`)
	c.cmd("b5 SEARCH BEFORE 3-Jan-2001", `\* SEARCH 1`, `b5 OK .*`)
	c.cmd("b6 SEARCH SAVEDSINCE 3-Jan-2001 SAVEDATESUPPORTED", `\* SEARCH 1`, `b6 OK .*`)
	c.cmd("b7 SEARCH SAVEDON", `b7 BAD .*`)

	// COPY gives the copy its own save date (§2), shown in the new mailbox.
	c.cmd("c1 COPY 1 Archive", `c1 OK .*`)
	c.cmd("c2 EXAMINE Archive", `(?s).*`)
	c.readUntilTagged("c2")
	c.cmd("c3 UID SEARCH SAVEDON "+today, `\* SEARCH 1`, `c3 OK .*`)
}
