package imap

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// failAppendStore fails the failOn-th Append (1-based) after the others
// succeeded, to check that MULTIAPPEND rolls back.
type failAppendStore struct {
	mailstore.Store
	failOn int32
	n      atomic.Int32
}

func (f *failAppendStore) Append(ctx context.Context, user string, mailboxID int64, msg mailstore.NewMessage) (uint32, error) {
	if f.n.Add(1) == f.failOn {
		return 0, errors.New("disk full")
	}
	return f.Store.Append(ctx, user, mailboxID, msg)
}

// lit renders s as a non-synchronizing literal (RFC 7888) with its content.
func lit(s string) string { return fmt.Sprintf("{%d+}\r\n%s", len(s), s) }

func TestTranscriptMultiAppend(t *testing.T) {
	env := startServer(t)
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("a0 CAPABILITY", `\* CAPABILITY .* MULTIAPPEND.*`, `a0 OK .*`)
	// Three messages, the first two with synchronizing literals.
	c.send(fmt.Sprintf("a1 APPEND INBOX (\\Seen) {%d}\r\n", len(testMsg)))
	c.expect(`\+ Ready for literal data`)
	c.send(fmt.Sprintf("%s (\\Flagged) \"02-Jan-2023 15:04:05 +0000\" {%d}\r\n", testMsg, len(testMsg)))
	c.expect(`\+ Ready for literal data`)
	c.cmd(fmt.Sprintf("%s {%d+}\r\n%s", testMsg, len(testMsg), testMsg), `a1 OK \[APPENDUID \d+ 1:3\] APPEND completed`)
	c.cmd("a2 APPEND INBOX "+lit(testMsg), `a2 OK \[APPENDUID \d+ 4\] APPEND completed`)
	c.cmd("a3 EXAMINE INBOX", `\* FLAGS .*`, `\* OK \[PERMANENTFLAGS .*`, `\* 4 EXISTS`, `(?s).*`)
	c.readUntilTagged("a3")
	c.cmd("a4 FETCH 1:3 (FLAGS INTERNALDATE)",
		`\* 1 FETCH \(FLAGS \(\\Seen \\Recent\) INTERNALDATE ".*"\)`,
		`\* 2 FETCH \(FLAGS \(\\Flagged \\Recent\) INTERNALDATE "02-Jan-2023 15:04:05 \+0000"\)`,
		`\* 3 FETCH \(FLAGS \(\\Recent\) INTERNALDATE ".*"\)`, `a4 OK FETCH completed`)
	c.cmd("a5 UNSELECT", `a5 OK .*`)

	// All or nothing: a bad or empty later message stores none.
	c.cmd("b1 APPEND INBOX {3+}\r\nabc (\\Bogus) {3+}\r\nabc", `b1 BAD .*`)
	c.cmd("b2 APPEND INBOX {3+}\r\nabc {0+}\r\n", `b2 NO \[CANNOT\] .*`)
	c.cmd("b3 APPEND INBOX {3+}\r\nabc garbage", `b3 BAD .*`)
	c.cmd("b4 APPEND Nope {3+}\r\nabc {3+}\r\nabc", `b4 NO \[TRYCREATE\] .*`)
	c.cmd("b5 STATUS INBOX (MESSAGES)", `\* STATUS "INBOX" \(MESSAGES 4\)`, `b5 OK .*`)
}

func TestMultiAppendRollback(t *testing.T) {
	env := startServer(t, func(o *Options) {
		tb := o.Backend.(*testBackend)
		tb.store = &failAppendStore{Store: tb.store, failOn: 3}
	})
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("a1 APPEND INBOX "+lit(testMsg)+" "+lit(testMsg)+" "+lit(testMsg), `a1 NO \[SERVERBUG\] .*`)
	c.cmd("a2 STATUS INBOX (MESSAGES UIDNEXT)", `\* STATUS "INBOX" \(MESSAGES 0 UIDNEXT 3\)`, `a2 OK .*`)
	c.cmd("a3 APPEND INBOX "+lit(testMsg), `a3 OK \[APPENDUID \d+ 3\] APPEND completed`)
}
