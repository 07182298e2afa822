package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// indexDrainer is implemented by engines whose index lags behind commits;
// the suite drains it to compare answers before and after indexing.
type indexDrainer interface {
	IndexPending(ctx context.Context) error
}

// Messages for the SearchText tests: each exercises one way text reaches a
// body (plain, base64, quoted-printable, HTML, attachment, header only).
var ftsMessages = []string{
	"From: a@example.org\r\nSubject: Greetings\r\n\r\nThe quick brown Fox jumps; he said \"hi\" twice.\r\n",
	"From: a@example.org\r\nSubject: Gruss\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nR3LDvMOfZSBhdXMgS8O2bG4K\r\n", // "Grüße aus Köln\n"
	"From: a@example.org\r\nSubject: Menu\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 cr=C3=A8me br=\r\nul=C3=A9e\r\n",
	"From: a@example.org\r\nSubject: Map\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/html\r\n\r\n<p>Hidden <b>Treasure</b> island</p>\r\n--b--\r\n",
	"From: a@example.org\r\nSubject: Binary\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\n\r\nneedlebinary\r\n--b--\r\n",
	"From: a@example.org\r\nSubject: Quarterly report\r\n\r\nnumbers inside\r\n",
}

// ftsQuery is a SearchText call and the UIDs (ascending) it must return,
// with messages 1..6 in INBOX being ftsMessages in order.
type ftsQuery struct {
	field  mailstore.TextField
	needle string
	want   []uint32
}

var ftsQueries = []ftsQuery{
	{mailstore.TextBody, "QUICK BROWN fox", []uint32{1}},
	{mailstore.TextBody, `said "HI"`, []uint32{1}},
	{mailstore.TextBody, "grüẞe aus KÖLN", []uint32{2}}, // ẞ and ß are one case orbit
	{mailstore.TextBody, "CAFÉ CRÈME BRULÉE", []uint32{3}},
	{mailstore.TextBody, "hidden <B>treasure", []uint32{4}},
	{mailstore.TextBody, "needlebinary", nil}, // not a text part
	{mailstore.TextBody, "quarterly", nil},    // header only
	{mailstore.TextAll, "quarterly", []uint32{6}},
	{mailstore.TextAll, "subject: greet", []uint32{1}},
	{mailstore.TextAll, "a@example.org", []uint32{1, 2, 3, 4, 5, 6}},
	{mailstore.TextBody, "a@example.org", nil},
	{mailstore.TextAll, "nowhere at all", nil},
}

// searchText runs q and reports whether the store answered (not
// ErrNoIndex); an answer must be exact.
func (h *harness) searchText(user string, mailboxID int64, q ftsQuery) bool {
	h.t.Helper()
	got, err := h.s.SearchText(h.ctx, user, mailboxID, q.field, q.needle)
	if errors.Is(err, mailstore.ErrNoIndex) {
		return false
	}
	if err != nil {
		h.t.Fatalf("SearchText(%d, %q): %v", q.field, q.needle, err)
	}
	if !slices.Equal(got, q.want) {
		h.t.Errorf("SearchText(%d, %q) = %v, want %v", q.field, q.needle, got, q.want)
	}
	return true
}

// wantAnswers checks queries that an engine must answer: every needle of
// at least three characters without line breaks.
func (h *harness) wantAnswers(user string, mailboxID int64, qs []ftsQuery) {
	h.t.Helper()
	for _, q := range qs {
		if !h.searchText(user, mailboxID, q) {
			h.t.Errorf("SearchText(%d, %q): ErrNoIndex, want an answer", q.field, q.needle)
		}
	}
}

func (h *harness) drainIndex() {
	h.t.Helper()
	if d, ok := h.s.(indexDrainer); ok {
		if err := d.IndexPending(h.ctx); err != nil {
			h.t.Fatalf("IndexPending: %v", err)
		}
	}
}

// testSearchText checks decoding and case folding, and that answers are
// the same before and after the engine's index caught up.
func testSearchText(t *testing.T, h *harness) {
	h.account("alice")
	h.account("bob")
	inbox := h.box("alice", "INBOX")
	for i, m := range ftsMessages {
		if i%2 == 0 {
			h.deliver(delivery("alice", "", m, ""))
		} else {
			h.append("alice", inbox.ID, m)
		}
	}
	// bob's copy of message 1 shares its blob but is not alice's.
	h.deliver(delivery("bob", "", ftsMessages[0], ""))
	h.wantAnswers("alice", inbox.ID, ftsQueries)
	h.drainIndex()
	h.wantAnswers("alice", inbox.ID, ftsQueries)
	h.wantAnswers("bob", h.box("bob", "INBOX").ID, []ftsQuery{{mailstore.TextBody, "quick brown", []uint32{1}}})

	// Two characters are below a trigram index's grain: either answer
	// exactly or leave it to the caller.
	h.searchText("alice", inbox.ID, ftsQuery{mailstore.TextBody, "öL", []uint32{2}})

	if _, err := h.s.SearchText(h.ctx, "bob", inbox.ID, mailstore.TextAll, "quick"); !errors.Is(err, mailstore.ErrNoMailbox) {
		t.Errorf("SearchText in another account's mailbox: %v, want ErrNoMailbox", err)
	}
}

// testSearchTextChanges checks that copies are found in their mailbox and
// expunged messages are not, whether or not the index caught up.
func testSearchTextChanges(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	archive := h.box("alice", "Archive")
	h.append("alice", inbox.ID, ftsMessages[0])
	h.append("alice", inbox.ID, ftsMessages[3])
	h.drainIndex()
	h.append("alice", inbox.ID, ftsMessages[0]+"P.S. one more line\r\n")
	quick := ftsQuery{mailstore.TextBody, "quick brown", []uint32{1, 3}}
	h.wantAnswers("alice", inbox.ID, []ftsQuery{quick})

	if _, _, err := h.s.Copy(h.ctx, "alice", inbox.ID, []uint32{1, 2}, archive.ID); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	h.wantAnswers("alice", archive.ID, []ftsQuery{
		{mailstore.TextBody, "quick brown", []uint32{1}},
		{mailstore.TextBody, "treasure", []uint32{2}},
	})

	if _, err := h.s.SetFlags(h.ctx, "alice", inbox.ID, []uint32{1}, mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		t.Fatalf("SetFlags: %v", err)
	}
	if _, err := h.s.Expunge(h.ctx, "alice", inbox.ID, nil); err != nil {
		t.Fatalf("Expunge: %v", err)
	}
	quick.want = []uint32{3}
	h.wantAnswers("alice", inbox.ID, []ftsQuery{quick})
	h.drainIndex()
	h.wantAnswers("alice", inbox.ID, []ftsQuery{quick})
	// The archived copy shares the expunged message's blob and stays found.
	h.wantAnswers("alice", archive.ID, []ftsQuery{{mailstore.TextBody, "quick brown", []uint32{1}}})
}
