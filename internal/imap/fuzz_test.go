package imap

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// FuzzParseCommand feeds arbitrary client bytes through the real reader,
// parser and command handlers of a logged-in session with INBOX selected.
// The store is a tiny in-memory fake: this target is about the parser,
// not storage. Properties: no panic, no unbounded allocation, and every
// command gets exactly one tagged or untagged reply before the input ends.
func FuzzParseCommand(f *testing.F) {
	seeds := []string{
		"a FETCH 1:* (FLAGS UID BODY.PEEK[HEADER.FIELDS (Subject From)]<0.10>)\r\n",
		"a UID FETCH 1,2:* (ENVELOPE BODYSTRUCTURE BODY RFC822.SIZE INTERNALDATE)\r\n",
		"a FETCH 1 (BODY[1.2.MIME] BODY[2.TEXT] BODY[] RFC822 RFC822.HEADER RFC822.TEXT)\r\n",
		"a SEARCH CHARSET UTF-8 OR (FROM \"x\" SINCE 1-Jan-2020) NOT HEADER X-Y {3}\r\nabc\r\n",
		"a UID SEARCH 1:3 UID 2,* LARGER 10 SMALLER 5 SENTON \"2-Jan-2023\" TEXT hello BODY x KEYWORD $A\r\n",
		"a STORE 1:2 +FLAGS.SILENT (\\Seen $Label)\r\na UID STORE 3 -FLAGS \\Deleted\r\n",
		"a APPEND INBOX (\\Seen) \" 2-Jan-2023 15:04:05 +0100\" {5+}\r\nhello\r\n",
		"a APPEND INBOX UTF8 (~{5+}\r\nhello)\r\n",
		"a LIST \"\" *\r\na LIST Work/ %\r\na LSUB \"\" \"&AOQ-*\"\r\n",
		"a STATUS INBOX (MESSAGES UIDNEXT SIZE)\r\na ID (\"name\" \"x\" \"version\" NIL)\r\n",
		"a COPY 1:* Trash\r\na UID MOVE 1 Archive\r\na EXPUNGE\r\na UID EXPUNGE 1:2\r\n",
		"a IDLE\r\nDONE\r\na NOOP\r\na CLOSE\r\na UNSELECT\r\n",
		"a AUTHENTICATE PLAIN\r\nAGFsaWNlAGFsaWNlcHc=\r\n",
		"a LOGIN {5}\r\nalice {7}\r\nalicepw\r\n",
		"a ENABLE UTF8=ACCEPT\r\na CREATE \"Entwürfe/x\"\r\na RENAME a b\r\na DELETE x\r\n",
		"\x00\xff garbage {999999999999}\r\n",
		"a SETACL INBOX bob +lrc\r\na GETACL INBOX\r\na LISTRIGHTS INBOX anyone\r\na DELETEACL INBOX bob\r\n" +
			"a MYRIGHTS \"Other Users/bob/x\"\r\na SELECT \"Other Users/bob/INBOX\"\r\na CREATE \"Other Users/bob/x/y\"\r\n",
		"a GETQUOTAROOT INBOX\r\na GETQUOTA \"\"\r\na SETQUOTA \"\" (STORAGE 512 MESSAGE 9)\r\na STATUS INBOX (MAILBOXID DELETED-STORAGE)\r\n" +
			"a FETCH 1:* (EMAILID THREADID SAVEDATE)\r\na SEARCH EMAILID Mx THREADID T1 SAVEDON 1-Jan-2024 SAVEDATESUPPORTED\r\n",
		"a FETCH 4294967295:1 FLAGS\r\n",
		"a SEARCH RETURN (SAVE MIN MAX COUNT) OR $ 2 UID $\r\na FETCH $ (BINARY.PEEK[1]<0.3> BINARY.SIZE[] BINARY[2.1])\r\n",
		"a LIST (SUBSCRIBED RECURSIVEMATCH SPECIAL-USE) \"\" (\"%\" INBOX) RETURN (CHILDREN STATUS (MESSAGES SIZE))\r\n",
		"a SEARCH NEW OR OLD RECENT\r\na STATUS INBOX (RECENT)\r\na LSUB \"\" G%\r\na UNSUBSCRIBE Gone/Child\r\na SELECT &Jjo\r\n",
		"a ENABLE IMAP4rev2\r\na SELECT INBOX\r\na SEARCH UNSEEN\r\na STATUS Entwürfe (DELETED)\r\n",
		"a ENABLE QRESYNC\r\na SELECT INBOX (QRESYNC (1 2 1:* (1:3 1,3,5)))\r\na UID FETCH 1:* (FLAGS MODSEQ) (CHANGEDSINCE 1 VANISHED)\r\n" +
			"a STORE 1 (UNCHANGEDSINCE 3) +FLAGS.SILENT (\\Seen)\r\na SEARCH MODSEQ \"/flags/\\\\draft\" all 2\r\na STATUS INBOX (HIGHESTMODSEQ)\r\n",
		"a SEARCH RETURN (UPDATE PARTIAL -1:-5) FROM x\r\na SORT RETURN (UPDATE PARTIAL 1:2) (DISPLAYFROM) UTF-8 ALL\r\n" +
			"a STORE 1 +FLAGS (\\Seen)\r\na CANCELUPDATE \"a\"\r\na UID FETCH 1:* (UID) (PARTIAL 1:3)\r\n",
		"a APPEND INBOX CATENATE (TEXT {3+}\r\nx\r\n URL \"/INBOX/;UID=1/;SECTION=1.MIME/;PARTIAL=0.9\")\r\n" +
			"a REPLACE 1 Drafts {3+}\r\nx\r\n\r\na UID REPLACE 1 INBOX CATENATE (URL \"imap://alice@localhost/INBOX/;UID=1\")\r\n",
		"a NOTIFY SET STATUS (selected (MessageNew (UID BODY.PEEK[HEADER]) MessageExpunge)) (personal (MessageNew MessageExpunge MailboxName))\r\n" +
			"a NOOP\r\na NOTIFY SET (subtree (INBOX x) (MessageNew MessageExpunge FlagChange)) (subscribed (SubscriptionChange))\r\na NOTIFY NONE\r\n",
		"a GENURLAUTH \"imap://alice@localhost/INBOX/;UID=1;EXPIRE=2030-01-01T00:00:00Z;URLAUTH=user+alice\" INTERNAL\r\n" +
			"a URLFETCH \"imap://alice@localhost/INBOX/;UID=1/;SECTION=1;URLAUTH=authuser:internal:00ff\" x\r\na RESETKEY INBOX INTERNAL\r\na RESETKEY\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		srv := NewServer(Options{Backend: fuzzBackend{}, MaxLineLength: 4096, MaxLiteralSize: 1 << 16})
		srv.authDelay = func(context.Context, int) {}
		var out bytes.Buffer
		in := io.MultiReader(strings.NewReader("L LOGIN alice alicepw\r\nS SELECT INBOX\r\n"), bytes.NewReader(data))
		s := newSession(srv, &pipeConn{r: in, w: &out})
		s.ctx = context.Background()
		s.run()
		if out.Len() == 0 {
			t.Fatal("no output")
		}
	})
}

type fuzzBackend struct{}

func (fuzzBackend) Login(ctx context.Context, user, pass string, remote net.Addr) (Login, error) {
	if user != "alice" || pass != "alicepw" {
		return Login{}, ErrAuthFailed
	}
	return Login{User: "alice", Store: newFakeStore()}, nil
}

// pipeConn is a net.Conn over a reader and a writer, from loopback
// unless remote is set.
type pipeConn struct {
	r      io.Reader
	w      io.Writer
	remote net.Addr
}

func (c *pipeConn) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c *pipeConn) Write(b []byte) (int, error) { return c.w.Write(b) }
func (c *pipeConn) Close() error                { return nil }
func (c *pipeConn) LocalAddr() net.Addr         { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 143} }
func (c *pipeConn) RemoteAddr() net.Addr {
	if c.remote != nil {
		return c.remote
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (c *pipeConn) SetDeadline(time.Time) error      { return nil }
func (c *pipeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *pipeConn) SetWriteDeadline(time.Time) error { return nil }

// fakeStore is a fixed three-message INBOX for the parser fuzz target;
// writes succeed without changing anything.
type fakeStore struct{ msgs []mailstore.Message }

const fakeBody = "From: A <a@example.org>\r\nSubject: hi\r\nDate: Mon, 02 Jan 2023 15:04:05 +0000\r\n" +
	"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n"

func newFakeStore() *fakeStore {
	d := time.Date(2023, 1, 2, 15, 4, 5, 0, time.UTC)
	return &fakeStore{msgs: []mailstore.Message{
		{UID: 1, ModSeq: 1, Flags: []string{`\Seen`}, InternalDate: d, Size: int64(len(fakeBody)), BlobID: "b"},
		{UID: 2, ModSeq: 2, Flags: []string{}, InternalDate: d, Size: int64(len(fakeBody)), BlobID: "b"},
		{UID: 5, ModSeq: 3, Flags: []string{`$X`, `\Deleted`}, InternalDate: d, Size: int64(len(fakeBody)), BlobID: "b"},
	}}
}

var fakeInbox = mailstore.MailboxInfo{ID: 1, ObjectID: "Finbox", Name: "INBOX", Subscribed: true, UIDValidity: 7, UIDNext: 6, HighestModSeq: 3}

func (f *fakeStore) Name() string                                              { return "fake" }
func (f *fakeStore) EnsureAccount(context.Context, string) error               { return nil }
func (f *fakeStore) DeleteAccount(context.Context, string) error               { return nil }
func (f *fakeStore) Check(context.Context) ([]string, error)                   { return nil, nil }
func (f *fakeStore) Close() error                                              { return nil }
func (f *fakeStore) CollectGarbage(context.Context, time.Time) (int, error)    { return 0, nil }
func (f *fakeStore) Watch(string, int64) (<-chan struct{}, func())             { return nil, func() {} }
func (f *fakeStore) SetSubscribed(context.Context, string, string, bool) error { return nil }
func (f *fakeStore) Subscriptions(context.Context, string) ([]string, error) {
	return []string{"INBOX", "Gone/Child"}, nil
}
func (f *fakeStore) Mailboxes(context.Context, string) ([]mailstore.MailboxInfo, error) {
	return []mailstore.MailboxInfo{fakeInbox, {ID: 2, ObjectID: "Fwork", Name: "Work/Projects", SpecialUse: `\Archive`}}, nil
}
func (f *fakeStore) Mailbox(_ context.Context, _ string, name string) (mailstore.MailboxInfo, error) {
	if name == "INBOX" {
		return fakeInbox, nil
	}
	return mailstore.MailboxInfo{}, mailstore.ErrNoMailbox
}
func (f *fakeStore) Status(context.Context, string, int64) (mailstore.Status, error) {
	return mailstore.Status{MailboxInfo: fakeInbox, Messages: 3}, nil
}
func (f *fakeStore) CreateMailbox(context.Context, string, string, string) (mailstore.MailboxInfo, error) {
	return mailstore.MailboxInfo{}, mailstore.ErrMailboxExists
}
func (f *fakeStore) DeleteMailbox(context.Context, string, string) error {
	return mailstore.ErrNoMailbox
}
func (f *fakeStore) RenameMailbox(context.Context, string, string, string) error {
	return mailstore.ErrNoMailbox
}
func (f *fakeStore) Messages(context.Context, string, int64) ([]mailstore.Message, error) {
	return append([]mailstore.Message(nil), f.msgs...), nil
}
func (f *fakeStore) Changes(context.Context, string, int64, uint64) (mailstore.Changes, error) {
	return mailstore.Changes{HighestModSeq: 3, UIDNext: 6}, nil
}
func (f *fakeStore) OpenBlob(context.Context, string) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(fakeBody)), nil
}
func (f *fakeStore) Append(context.Context, string, int64, mailstore.NewMessage) (uint32, error) {
	return 6, nil
}
func (f *fakeStore) Deliver(context.Context, []mailstore.Delivery) ([]mailstore.DeliveryResult, error) {
	return nil, nil
}
func (f *fakeStore) SetFlags(_ context.Context, _ string, _ int64, uids []uint32, _ mailstore.FlagOp, _ []string) ([]mailstore.Message, error) {
	return nil, nil
}
func (f *fakeStore) SetFlagsIf(context.Context, string, int64, mailstore.ConditionalFlags) ([]mailstore.Message, []uint32, error) {
	return nil, nil, nil
}
func (f *fakeStore) Copy(_ context.Context, _ string, _ int64, uids []uint32, _ int64) ([]uint32, []uint32, error) {
	return uids, uids, nil
}
func (f *fakeStore) Move(_ context.Context, _ string, _ int64, uids []uint32, _ int64) ([]uint32, []uint32, error) {
	return nil, nil, mailstore.ErrNoMailbox
}
func (f *fakeStore) Expunge(context.Context, string, int64, []uint32) ([]uint32, error) {
	return nil, nil
}
func (f *fakeStore) SetQuota(context.Context, string, int64, int64) error { return nil }
func (f *fakeStore) Quota(context.Context, string) (mailstore.Quota, error) {
	return mailstore.Quota{StorageLimit: 1 << 20, StorageUsed: 3 * int64(len(fakeBody)), MessagesUsed: 3}, nil
}
func (f *fakeStore) SetACL(context.Context, string, string, string, string) error { return nil }
func (f *fakeStore) ACL(context.Context, string, int64) ([]mailstore.ACLEntry, error) {
	return nil, nil
}
func (f *fakeStore) SharedWith(context.Context, string) ([]mailstore.SharedMailbox, error) {
	return nil, nil
}
func (f *fakeStore) SearchText(context.Context, string, int64, mailstore.TextField, string) ([]uint32, error) {
	return nil, mailstore.ErrNoIndex
}
func (f *fakeStore) Headers(context.Context, string, int64, []uint32) (map[uint32][]byte, error) {
	return map[uint32][]byte{}, nil
}
func (f *fakeStore) ClaimRecent(context.Context, string, int64, uint32) (uint32, error) {
	return 1, nil
}
func (f *fakeStore) URLAuthKey(context.Context, string, int64) ([]byte, error) {
	return make([]byte, 32), nil
}
func (f *fakeStore) ResetURLAuthKeys(context.Context, string, int64) error { return nil }
