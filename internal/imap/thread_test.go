package imap

import (
	"fmt"
	"strings"
	"testing"
)

// threadMsg builds a message with the given header lines.
func threadMsg(headers ...string) string {
	return strings.Join(headers, "\r\n") + "\r\n\r\nbody\r\n"
}

// threadMsgs exercise REFERENCES: a missing parent in the middle of a
// References chain (<b@x>), two replies to a message that never arrived
// (<zz@x>), a reply stored before its parent (6 before 7), a message with
// no Message-ID, and a duplicate Message-ID (9 reuses <a@x>).
var threadMsgs = []string{
	threadMsg("Message-ID: <a@x>", "Subject: Plans", "Date: Sun, 01 Jan 2023 10:00:00 +0000"),
	threadMsg("Message-ID: <c@x>", "References: <a@x>\r\n <b@x>", "Subject: Re: Plans", "Date: Sun, 01 Jan 2023 12:00:00 +0000"),
	threadMsg("Message-ID: <b2@x>", "In-Reply-To: <zz@x> (sent by someone)", "Subject: Re: Lunch", "Date: Mon, 02 Jan 2023 00:00:00 +0000"),
	threadMsg("Message-ID: <d@x>", "References: <a@x>", "Subject: RE: [team] Plans", "Date: Sun, 01 Jan 2023 11:00:00 +0000"),
	threadMsg("Message-ID: <e@x>", "References: <zz@x>", "Subject: Re: Lunch", "Date: Mon, 02 Jan 2023 01:00:00 +0000"),
	threadMsg("Message-ID: <h@x>", "References: <g@x>", "Subject: Re: Dinner", "Date: Tue, 03 Jan 2023 12:00:00 +0000"),
	threadMsg("Message-ID: <g@x>", "Subject: Dinner", "Date: Tue, 03 Jan 2023 10:00:00 +0000"),
	threadMsg("Subject: Lunch", "Date: Mon, 02 Jan 2023 00:30:00 +0000"),
	threadMsg("Message-ID: <a@x>", "Subject: =?utf-8?q?Plans?=", "Date: Wed, 04 Jan 2023 00:00:00 +0000"),
}

func TestTranscriptThread(t *testing.T) {
	env := startServer(t)
	for _, m := range threadMsgs {
		env.appendMessage(t, "alice", "INBOX", m)
	}
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	// 2 hangs off 1 through the pruned dummy <b@x>; 3, 5 and the unrelated
	// "Lunch" 8 share a dummy root; 9 joins 1 under a dummy by subject.
	c.cmd("t1 THREAD REFERENCES UTF-8 ALL",
		`\* THREAD \(\(1 \(4\)\(2\)\)\(9\)\)\(\(3\)\(8\)\(5\)\)\(7 6\)`, `t1 OK THREAD completed`)
	c.cmd("t2 THREAD ORDEREDSUBJECT UTF-8 ALL",
		`\* THREAD \(1 \(4\)\(2\)\(9\)\)\(3 \(8\)\(5\)\)\(7 6\)`, `t2 OK THREAD completed`)
	c.cmd("t3 UID THREAD REFERENCES US-ASCII SUBJECT dinner", `\* THREAD \(7 6\)`, `t3 OK UID THREAD completed`)
	c.cmd("t4 THREAD REFERENCES UTF-8 DELETED", `\* THREAD`, `t4 OK THREAD completed`)
	// Without 1, the duplicate 9 is the only <a@x> and adopts its replies.
	c.cmd("t5 THREAD REFERENCES UTF-8 NOT SUBJECT Lunch NOT 1",
		`\* THREAD \(7 6\)\(9 \(4\)\(2\)\)`, `t5 OK THREAD completed`)
	c.cmd("e1 THREAD FOO UTF-8 ALL", `e1 BAD .*`)
	c.cmd("e2 THREAD REFERENCES KOI8-R ALL", `e2 NO \[BADCHARSET .*`)
	c.cmd("e3 THREAD REFERENCES", `e3 BAD .*`)
}

// TestThreadReferencesLoops feeds reference cycles and self-references;
// the algorithm must terminate and place every message exactly once.
func TestThreadReferencesLoops(t *testing.T) {
	raw := []string{
		threadMsg("Message-ID: <a@x>", "References: <b@x>", "Subject: loop"),
		threadMsg("Message-ID: <b@x>", "References: <a@x>", "Subject: loop"),
		threadMsg("Message-ID: <s@x>", "References: <s@x> <s@x>", "Subject: self"),
		threadMsg("Message-ID: <t@x>", "References: <u@x> <v@x> <u@x>", "Subject: re: self"),
	}
	env := startServer(t)
	for _, m := range raw {
		env.appendMessage(t, "alice", "INBOX", m)
	}
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	c.send("t1 THREAD REFERENCES UTF-8 ALL\r\n")
	lines := c.readUntilTagged("t1")
	if len(lines) != 2 || lines[1] != "t1 OK THREAD completed" {
		t.Fatalf("got %q", lines)
	}
	for i := 1; i <= len(raw); i++ {
		if n := strings.Count(" "+strings.NewReplacer("(", " ", ")", " ").Replace(lines[0])+" ", fmt.Sprintf(" %d ", i)); n != 1 {
			t.Errorf("message %d appears %d times in %q", i, n, lines[0])
		}
	}
}

func TestMsgIDs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<a@x> <b@y>", "a@x b@y"},
		{"<a@x>(comment)<b@y>", "a@x b@y"},
		{"\"Bob\" <bob@x>'s message <m@x>", "bob@x m@x"},
		{"<noat> <@x> <x@> <ok@x>", "ok@x"},
		{"<broken <fine@x>", "fine@x"},
		{"", ""},
	} {
		if got := strings.Join(msgIDs(tc.in), " "); got != tc.want {
			t.Errorf("msgIDs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
