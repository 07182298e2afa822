package imap

import (
	"context"
	"io"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// blobCounter counts the message bodies the server reads, to tell an
// indexed SEARCH from a scan, and the headers it asks the cache for.
type blobCounter struct {
	mailstore.Store
	opened  atomic.Int64
	headers atomic.Int64
}

func (b *blobCounter) Headers(ctx context.Context, user string, mailboxID int64, uids []uint32) (map[uint32][]byte, error) {
	b.headers.Add(int64(len(uids)))
	return b.Store.Headers(ctx, user, mailboxID, uids)
}

func (b *blobCounter) OpenBlob(ctx context.Context, id string) (io.ReadCloser, error) {
	b.opened.Add(1)
	return b.Store.OpenBlob(ctx, id)
}

// TestTranscriptSearchIndex runs BODY and TEXT searches, alone and under
// NOT and OR, right after APPEND (the background indexer may not have
// caught up) and after the index is drained: the answers are the same, and once indexed a search
// of a needle of three or more characters reads no message body (SORT
// takes headers from the header cache), while a shorter needle is scanned.
// Header FETCHes answer the same from the cache as from the blobs.
func TestTranscriptSearchIndex(t *testing.T) {
	var counter *blobCounter
	env := startServer(t, func(o *Options) {
		tb := o.Backend.(*testBackend)
		counter = &blobCounter{Store: tb.store}
		o.Backend = &testBackend{users: tb.users, store: counter}
	})
	for _, body := range []string{
		"Subject: Lunch\r\n\r\nPineapple pizza, anyone?\r\n",
		"Subject: Pineapple farm\r\n\r\nvisit on Friday\r\n",
		"Subject: Re: Lunch\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			"R3LDvMOfZSwgbm8gcGluZWFwcGxlIGZvciBtZQo=\r\n", // "Grüße, no pineapple for me\n"
		"Subject: Other\r\n\r\npizza only\r\n",
	} {
		env.appendMessage(t, "alice", "INBOX", body)
	}
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	transcript := func() {
		t.Helper()
		c.cmd(`a UID SEARCH BODY PINEAPPLE`, `\* SEARCH 1 3`, `a OK UID SEARCH completed`)
		c.cmd(`b UID SEARCH TEXT pineapple`, `\* SEARCH 1 2 3`, `b OK UID SEARCH completed`)
		c.cmd(`c UID SEARCH NOT BODY pineapple`, `\* SEARCH 2 4`, `c OK UID SEARCH completed`)
		c.cmd(`d UID SEARCH OR BODY friday TEXT "re: lunch"`, `\* SEARCH 2 3`, `d OK UID SEARCH completed`)
		c.cmd(`e UID SEARCH BODY pizza NOT TEXT pineapple`, `\* SEARCH 4`, `e OK UID SEARCH completed`)
		c.cmd(`f UID SEARCH CHARSET UTF-8 BODY "GRÜSSE"`, `\* SEARCH`, `f OK UID SEARCH completed`)
		c.cmd(`g UID SEARCH CHARSET UTF-8 BODY "GRÜẞE"`, `\* SEARCH 3`, `g OK UID SEARCH completed`)
		c.cmd(`h UID SEARCH 2:* BODY pizza`, `\* SEARCH 4`, `h OK UID SEARCH completed`)
		c.cmd(`i UID SORT (SUBJECT) UTF-8 BODY pizza`, `\* SORT 1 4`, `i OK UID SORT completed`)
	}
	transcript()
	const headerFetch = "k FETCH 1:* (ENVELOPE BODY.PEEK[HEADER.FIELDS (SUBJECT)] RFC822.HEADER)"
	c.send(headerFetch + "\r\n")
	fromBlobs := c.readUntilTagged("k")
	if err := env.store.(interface{ IndexPending(context.Context) error }).IndexPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	counter.opened.Store(0)
	transcript()
	c.send(headerFetch + "\r\n")
	if fromCache := c.readUntilTagged("k"); !slices.Equal(fromCache, fromBlobs) {
		t.Errorf("header FETCH from the cache:\n%q\nfrom the blobs:\n%q", fromCache, fromBlobs)
	}
	// Once indexed nothing reads a body: SORT takes its two matches' headers,
	// and the header FETCH its answers, from the store's header cache.
	if n := counter.opened.Load(); n != 0 {
		t.Errorf("indexed searches read %d message bodies, want 0", n)
	}
	counter.opened.Store(0)
	c.cmd(`j UID SEARCH BODY pi`, `\* SEARCH 1 3 4`, `j OK UID SEARCH completed`)
	if n := counter.opened.Load(); n != 4 {
		t.Errorf("a two-character BODY search read %d message bodies, want a scan of 4", n)
	}
}

// TestSortDateFromStore: SORT (DATE) orders by the sent date the store
// keeps once it has indexed the messages, reading no header; before that
// it reads the headers, with the same answer. A message without a valid
// Date sorts by its internal date (RFC 5256 §2.2).
func TestSortDateFromStore(t *testing.T) {
	var counter *blobCounter
	env := startServer(t, func(o *Options) {
		tb := o.Backend.(*testBackend)
		counter = &blobCounter{Store: tb.store}
		o.Backend = &testBackend{users: tb.users, store: counter}
	})
	for _, body := range []string{
		"Date: Wed, 03 Jan 2024 10:00:00 +0000\r\nSubject: c\r\n\r\nx\r\n",
		"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\nSubject: a\r\n\r\nx\r\n",
		"Subject: no date, arrives now\r\n\r\nx\r\n",
		"Date: Tue, 02 Jan 2024 12:00:00 +0200\r\nSubject: b\r\n\r\nx\r\n",
	} {
		env.appendMessage(t, "alice", "INBOX", body)
	}
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	c.cmd("a UID SORT (DATE) UTF-8 ALL", `\* SORT 2 4 1 3`, `a OK UID SORT completed`)
	if err := env.store.(interface{ IndexPending(context.Context) error }).IndexPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.send("s SELECT INBOX\r\n") // a fresh message list, with the sent dates
	c.readUntilTagged("s")
	counter.opened.Store(0)
	counter.headers.Store(0)
	c.cmd("c UID SORT (REVERSE DATE) UTF-8 ALL", `\* SORT 3 1 4 2`, `c OK UID SORT completed`)
	if n, h := counter.opened.Load(), counter.headers.Load(); n != 0 || h != 0 {
		t.Errorf("SORT (DATE) after indexing read %d message bodies and %d cached headers, want none", n, h)
	}
}
