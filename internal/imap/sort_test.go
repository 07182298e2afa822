package imap

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// appendAt stores a message for alice in INBOX with the given internal
// date, so ARRIVAL and the DATE fallback are deterministic.
func (e *testEnv) appendAt(t testing.TB, internal string, body string, flags ...string) {
	t.Helper()
	ctx := context.Background()
	if err := e.store.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	mb, err := e.store.Mailbox(ctx, "alice", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	d, err := time.Parse(time.RFC3339, internal)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Append(ctx, "alice", mb.ID, mailstore.NewMessage{Body: strings.NewReader(body), Flags: flags, InternalDate: d}); err != nil {
		t.Fatal(err)
	}
}

// sortMsgs are crafted for SORT: encoded words, list tags, forward
// markers, a missing and an unparsable Date, and only one Cc.
var sortMsgs = []struct{ internal, body string }{
	{"2023-01-01T00:00:00Z", "From: gone@example.org\r\nSubject: expunged\r\n\r\nx\r\n"},
	{"2023-01-10T00:00:00Z", "From: Zed <zed@example.org>\r\nTo: bob@example.org\r\nSubject: Re: Hello\r\n" +
		"Date: Tue, 03 Jan 2023 10:00:00 +0000\r\n\r\nshort\r\n"},
	{"2023-01-09T00:00:00Z", "From: =?utf-8?q?=C3=84nne?= <anne@example.org>\r\nTo: Carl <carl@example.org>\r\n" +
		"Subject: =?utf-8?q?[list]_Fwd:_apples?=\r\nDate: Sun, 01 Jan 2023 10:00:00 +0000\r\n\r\nlonger body with apples\r\n"},
	{"2023-01-02T12:00:00Z", "From: \"Mike\" <MIKE@example.org>\r\nSubject: hello (fwd)\r\n\r\nno date here, so the internal date counts\r\n"},
	{"2023-01-05T00:00:00Z", "From: bob@example.org\r\nCc: carol@example.org\r\nSubject: Bananas\r\nDate: garbage\r\n\r\nb\r\n"},
}

func TestTranscriptSort(t *testing.T) {
	env := startServer(t)
	for i, m := range sortMsgs {
		var flags []string
		if i == 1 || i == 3 {
			flags = []string{`\Seen`}
		}
		env.appendAt(t, m.internal, m.body, flags...)
	}
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("a1 CAPABILITY", `\* CAPABILITY .* SORT SORT=DISPLAY ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES.*`, `a1 OK .*`)
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	// Expunge the first message so that UIDs are sequence numbers + 1.
	c.cmd("x1 STORE 1 +FLAGS.SILENT (\\Deleted)", `x1 OK .*`)
	c.cmd("x2 EXPUNGE", `\* 1 EXPUNGE`, `x2 OK .*`)

	// Base subjects: Hello, apples, hello, Bananas.
	c.cmd("b1 SORT (SUBJECT) UTF-8 ALL", `\* SORT 2 4 1 3`, `b1 OK SORT completed`)
	c.cmd("b2 UID SORT (SUBJECT) UTF-8 ALL", `\* SORT 3 5 2 4`, `b2 OK UID SORT completed`)
	// First mailboxes: zed, anne, MIKE, bob (case-insensitive).
	c.cmd("b3 SORT (FROM) US-ASCII ALL", `\* SORT 2 4 3 1`, `b3 OK SORT completed`)
	c.cmd("b4 sort (reverse from) utf-8 all", `\* SORT 1 3 4 2`, `b4 OK SORT completed`)
	// Sent dates: Jan 3, Jan 1, none (internal Jan 2), garbage (internal Jan 5).
	c.cmd("b5 SORT (DATE) UTF-8 ALL", `\* SORT 2 3 1 4`, `b5 OK SORT completed`)
	c.cmd("b6 SORT (ARRIVAL) UTF-8 ALL", `\* SORT 3 4 2 1`, `b6 OK SORT completed`)
	// No Cc sorts as "" before carol; the tie goes to SUBJECT, then seq.
	c.cmd("b7 SORT (CC SUBJECT) UTF-8 ALL", `\* SORT 2 1 3 4`, `b7 OK SORT completed`)
	c.cmd("b8 SORT (TO REVERSE ARRIVAL) UTF-8 ALL", `\* SORT 4 3 1 2`, `b8 OK SORT completed`)
	c.cmd("b9 SORT (SUBJECT) UTF-8 SEEN", `\* SORT 1 3`, `b9 OK SORT completed`)
	c.cmd("b10 SORT (DATE) UTF-8 OR BODY apples FROM zed", `\* SORT 2 1`, `b10 OK SORT completed`)
	c.cmd("b11 SORT (SUBJECT) UTF-8 DELETED", `\* SORT`, `b11 OK SORT completed`)

	sizes := make([]int, 4)
	for i := range sizes {
		sizes[i] = i + 1
	}
	slices.SortStableFunc(sizes, func(a, b int) int { return len(sortMsgs[b].body) - len(sortMsgs[a].body) })
	c.cmd("b12 SORT (REVERSE SIZE) UTF-8 ALL", fmt.Sprintf(`\* SORT %d %d %d %d`, sizes[0], sizes[1], sizes[2], sizes[3]), `b12 OK SORT completed`)

	// ESORT (RFC 5267 §3): ESEARCH with MIN/MAX/ALL in sort order.
	c.cmd("r1 SORT RETURN (MIN MAX COUNT) (SUBJECT) UTF-8 ALL", `\* ESEARCH \(TAG "r1"\) MIN 2 MAX 3 COUNT 4`, `r1 OK SORT completed`)
	c.cmd("r2 UID SORT RETURN () (SUBJECT) UTF-8 ALL", `\* ESEARCH \(TAG "r2"\) UID ALL 3,5,2,4`, `r2 OK UID SORT completed`)
	c.cmd("r3 SORT RETURN (ALL) (ARRIVAL) UTF-8 ALL", `\* ESEARCH \(TAG "r3"\) ALL 3:4,2,1`, `r3 OK SORT completed`)
	c.cmd("r4 SORT RETURN (SAVE) (REVERSE SUBJECT) UTF-8 SEEN", `r4 OK SORT completed`)
	c.cmd("r5 FETCH $ (UID)", `\* 1 FETCH \(UID 2\)`, `\* 3 FETCH \(UID 4\)`, `r5 OK FETCH completed`)
	c.cmd("r6 SORT RETURN (COUNT) (SUBJECT) UTF-8 DELETED", `\* ESEARCH \(TAG "r6"\) COUNT 0`, `r6 OK SORT completed`)
	c.cmd("r7 SORT RETURN (BOGUS) (SUBJECT) UTF-8 ALL", `r7 BAD .*`)

	// RFC 7162 §3.1.5: MODSEQ in the criteria enables CONDSTORE and adds
	// the highest mod-sequence of the result.
	c.cmd("m1 SORT (SUBJECT) UTF-8 MODSEQ 1",
		`\* OK \[HIGHESTMODSEQ \d+\] .*`, `\* SORT 2 4 1 3 \(MODSEQ \d+\)`, `m1 OK SORT completed`)
	c.cmd("m2 SORT (SUBJECT) UTF-8 MODSEQ 1000000", `\* SORT`, `m2 OK SORT completed`)

	c.cmd("e1 SORT (FOO) UTF-8 ALL", `e1 BAD .*`)
	c.cmd("e2 SORT (SUBJECT) KOI8-R ALL", `e2 NO \[BADCHARSET \(UTF-8 US-ASCII\)\] .*`)
	c.cmd("e3 SORT (REVERSE) UTF-8 ALL", `e3 BAD .*`)
	c.cmd("e4 SORT () UTF-8 ALL", `e4 BAD .*`)
	c.cmd("e5 SORT (SUBJECT) UTF-8 RETURN (ALL) ALL", `e5 BAD .*`)
	c.cmd("e6 SORT (SUBJECT) UTF-8", `e6 BAD .*`)
	c.cmd("e7 SORT (SUBJECT)", `e7 BAD .*`)
	c.cmd("u1 UNSELECT", `u1 OK .*`)
	c.cmd("e8 SORT (SUBJECT) UTF-8 ALL", `e8 BAD Command not allowed in this state`)
}
