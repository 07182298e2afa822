package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

const (
	bigMailbox = 10000 // messages in the IMAP benchmarks' INBOX
	// commonWord is in the text of every other message, rareWord in one
	// of every 1000; neither is part of bigVocabulary.
	commonWord = "budget"
	rareWord   = "xylophone"
)

// bigVocabulary is what the seeded bodies are made of, so the full-text
// index sees varied text rather than one repeated line.
var bigVocabulary = strings.Fields(`the of and to in is that for it as was with on at by this
	from are be or have an they which one you were her all she there would their we him been has
	when who will more no if out so said what up its about into than them can only other new some
	could time these two may then do first any my now such like our over man me even most made after
	also did many before must through back years where much your way well down should because each
	just those people how too little state good very make world still own see men work long get here
	between both life being under never day same another know while last might us great old year off
	come since against go came right used take three meeting report quarter invoice shipment review`)

// benchIMAP10k seeds a 10,000-message INBOX through the store (not SMTP),
// waits until the full-text index holds all of it, then times one IMAP
// client's commands, one per sub-benchmark. Each command runs once
// untimed first and its answer is checked.
func benchIMAP10k(b *testing.B, e *testEnv) {
	const user = "carol@example.test"
	ctx := context.Background()
	st := e.storeOf(user)
	start := time.Now()
	seedBigMailbox(b, st, user)
	seeded := time.Since(start)
	ix, ok := st.(interface{ IndexPending(context.Context) error })
	if !ok {
		b.Fatalf("mailstore %T has no IndexPending", st)
	}
	if err := ix.IndexPending(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d messages in %s, indexed after %s more", bigMailbox, seeded.Round(time.Millisecond),
		(time.Since(start) - seeded).Round(time.Millisecond))
	c, err := imapclient.DialInsecure(e.addr("imap"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, testPassword).Wait(); err != nil {
		b.Fatal(err)
	}
	if sel, err := c.Select("INBOX", nil).Wait(); err != nil || sel.NumMessages != bigMailbox {
		b.Fatalf("SELECT INBOX: %+v, %v; want %d messages", sel, err, bigMailbox)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	ops := []struct {
		name string
		want int // messages FETCH returns, UIDs SEARCH returns
		run  func() (int, error)
	}{
		{"FetchFlagsEnvelope", bigMailbox, func() (int, error) {
			var all imap.UIDSet
			all.AddRange(1, 0) // 1:*
			msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, Envelope: true}).Collect()
			return len(msgs), err
		}},
		{"Fetch100Bodies", 100, func() (int, error) {
			var set imap.UIDSet
			for _, n := range rng.Perm(bigMailbox)[:100] {
				set.AddNum(imap.UID(n + 1))
			}
			msgs, err := c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
			for _, m := range msgs {
				if len(m.BodySection) != 1 || len(m.BodySection[0].Bytes) < 1000 {
					return 0, fmt.Errorf("UID %d: no full body", m.UID)
				}
			}
			return len(msgs), err
		}},
		{"SearchTextCommon", bigMailbox / 2, func() (int, error) {
			res, err := c.UIDSearch(&imap.SearchCriteria{Text: []string{commonWord}}, nil).Wait()
			if err != nil {
				return 0, err
			}
			return len(res.AllUIDs()), nil
		}},
		{"SearchBodyRare", bigMailbox / 1000, func() (int, error) {
			res, err := c.UIDSearch(&imap.SearchCriteria{Body: []string{rareWord}}, nil).Wait()
			if err != nil {
				return 0, err
			}
			return len(res.AllUIDs()), nil
		}},
	}
	for _, op := range ops {
		if n, err := op.run(); err != nil || n != op.want {
			b.Fatalf("%s: %d results, %v; want %d", op.name, n, err, op.want)
		}
		b.Run(op.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := op.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// seedBigMailbox delivers bigMailbox messages to user's INBOX in batches,
// as the queue's delivery does.
func seedBigMailbox(b *testing.B, st mailstore.Store, user string) {
	b.Helper()
	ctx := context.Background()
	if err := st.EnsureAccount(ctx, user); err != nil {
		b.Fatal(err)
	}
	const batch = 200
	for i := 0; i < bigMailbox; i += batch {
		ds := make([]mailstore.Delivery, batch)
		for j := range ds {
			ds[j] = mailstore.Delivery{User: user, Message: mailstore.NewMessage{Body: strings.NewReader(bigMessage(i + j))}}
		}
		res, err := st.Deliver(ctx, ds)
		if err != nil {
			b.Fatalf("seed %s: %v", user, err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatalf("seed %s: %v", user, r.Err)
			}
		}
	}
}

// bigMessage is message i of the seeded INBOX: about 2.2 KB of plain text
// from bigVocabulary, with commonWord when i is even and rareWord when
// i%1000 == 7.
func bigMessage(i int) string {
	rng := rand.New(rand.NewPCG(uint64(i), 7))
	var body strings.Builder
	for line := range 40 {
		for w := range 10 {
			if w > 0 {
				body.WriteByte(' ')
			}
			switch {
			case line == 20 && w == 5 && i%2 == 0:
				body.WriteString(commonWord)
			case line == 30 && w == 3 && i%1000 == 7:
				body.WriteString(rareWord)
			default:
				body.WriteString(bigVocabulary[rng.IntN(len(bigVocabulary))])
			}
		}
		body.WriteString("\r\n")
	}
	return fmt.Sprintf("From: Sender %d <sender%d@remote.test>\r\nTo: <carol@example.test>\r\nSubject: weekly note %d\r\n"+
		"Message-ID: <%d.seed@remote.test>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\n%s", i%50, i%50, i, i, body.String())
}
