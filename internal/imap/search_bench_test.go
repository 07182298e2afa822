package imap

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"mime/quotedprintable"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

var searchBenchMessages = flag.Int("search-bench-messages", 100000, "mailbox size of BenchmarkSearchLargeMailbox")

// Words of the generated mailbox. rareWord is in rareEvery-th messages
// only; commonWord in about a third of them.
const (
	rareWord   = "zanzibarite"
	rareEvery  = 20000
	commonWord = "meeting"
)

var benchWords = strings.Fields(`the of and to in is you that it he was for on are as with his they at be this
have from or one had by word but not what all were we when your can said there use an each which she do how their
if will up other about out many then them these so some her would make like him into time has look two more write
go see number no way could people my than first water been call who oil its now find long down day did get come made
may part project budget review quarter report customer invoice schedule deadline team release server update please
thanks regards attached draft proposal contract shipping order payment account question answer issue ticket`)

// benchMessage returns the i-th message of the generated mailbox: 2-5 KB,
// one in four multipart/alternative with an HTML copy, one in ten
// quoted-printable, words drawn from benchWords and made-up names.
func benchMessage(rng *rand.Rand, i int) string {
	word := func() string {
		if rng.IntN(8) == 0 { // made-up names keep trigrams varied
			const syl = "ka lo mi ne ru sa ti vo ze bar dun fel gor hin jas"
			s := strings.Fields(syl)
			return s[rng.IntN(len(s))] + s[rng.IntN(len(s))] + s[rng.IntN(len(s))]
		}
		return benchWords[rng.IntN(len(benchWords))]
	}
	sentence := func() string {
		n := 6 + rng.IntN(12)
		w := make([]string, n)
		for j := range w {
			w[j] = word()
		}
		if rng.IntN(3) == 0 {
			w[rng.IntN(n)] = commonWord
		}
		s := strings.Join(w, " ")
		return strings.ToUpper(s[:1]) + s[1:] + "."
	}
	var text strings.Builder
	size := 2000 + rng.IntN(3000)
	for text.Len() < size {
		for k := 0; k < 4; k++ {
			text.WriteString(sentence() + " ")
		}
		text.WriteString("\r\n\r\n")
	}
	body := text.String()
	if i%rareEvery == rareEvery/3 {
		body = strings.Replace(body, " ", " "+rareWord+" ", 1)
	}
	date := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(5*365*24)) * time.Hour)
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s <%s@example.org>\r\nTo: alice@example.org\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d@example.org>\r\nMIME-Version: 1.0\r\n",
		word(), word(), sentence(), date.Format(time.RFC1123Z), i)
	switch {
	case i%4 == 0:
		html := "<html><body><p>" + strings.ReplaceAll(body, "\r\n\r\n", "</p>\r\n<p>") + "</p></body></html>\r\n"
		fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=\"b%d\"\r\n\r\n--b%d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n--b%d\r\nContent-Type: text/html; charset=utf-8\r\n\r\n%s\r\n--b%d--\r\n",
			i, i, body, i, html, i)
	case i%10 == 1:
		var qp strings.Builder
		w := quotedprintable.NewWriter(&qp)
		w.Write([]byte(body))
		w.Close()
		fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n%s", qp.String())
	default:
		fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\n\r\n%s", body)
	}
	return b.String()
}

// BenchmarkSearchLargeMailbox builds one mailbox of -search-bench-messages
// messages through Deliver, waits for the full-text index, and measures
// commands through the real server: SEARCH BODY of a rare word, SEARCH
// TEXT of a common one, a two-character BODY search (below the trigram
// grain, so the old scan of every blob), SORT by date, and a header FETCH
// of 10,000 messages.
func BenchmarkSearchLargeMailbox(b *testing.B) {
	n := *searchBenchMessages
	env := startServer(b)
	ctx := context.Background()
	if err := env.store.EnsureAccount(ctx, "alice"); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	var bytes int64
	const batch = 1000
	for i := 0; i < n; i += batch {
		var ds []mailstore.Delivery
		for j := i; j < min(i+batch, n); j++ {
			m := benchMessage(rng, j)
			bytes += int64(len(m))
			ds = append(ds, mailstore.Delivery{User: "alice", Message: mailstore.NewMessage{
				Body: strings.NewReader(m), DeliveryID: strconv.Itoa(j)}})
		}
		res, err := env.store.Deliver(ctx, ds)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	delivered := time.Since(start)
	if err := env.store.(interface{ IndexPending(context.Context) error }).IndexPending(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d messages (%.1f KB average): delivered in %v, fully indexed %v later",
		n, float64(bytes)/float64(n)/1024, delivered.Round(time.Millisecond), (time.Since(start) - delivered).Round(time.Millisecond))
	logIndexSize(b, filepath.Join(env.dir, "mail.db"), n)

	c := dialRaw(b, env.addr)
	c.login("alice")
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	run := func(name, command string, check func(lines []string) error) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				lines := slowRoundTrip(b, c, command)
				if !strings.HasPrefix(lines[len(lines)-1], "bt OK") {
					b.Fatalf("%s: %s", command, lines[len(lines)-1])
				}
				if err := check(lines); err != nil {
					b.Fatalf("%s: %v", command, err)
				}
			}
		})
	}
	// numbers returns the count of numbers in the untagged reply named resp.
	numbers := func(lines []string, resp string, lo, hi int) error {
		for _, l := range lines {
			if rest, ok := strings.CutPrefix(l, "* "+resp); ok {
				if got := len(strings.Fields(rest)); got < lo || got > hi {
					return fmt.Errorf("%d results, want %d to %d", got, lo, hi)
				}
				return nil
			}
		}
		return fmt.Errorf("no %s response", resp)
	}
	rare := (n + rareEvery - 1 - rareEvery/3) / rareEvery
	run("SearchBodyRare", "UID SEARCH BODY "+rareWord, func(l []string) error { return numbers(l, "SEARCH", rare, rare) })
	run("SearchTextCommon", "UID SEARCH TEXT "+commonWord, func(l []string) error { return numbers(l, "SEARCH", n/2, n) })
	run("SearchBodyScan", "UID SEARCH BODY zq", func(l []string) error { return numbers(l, "SEARCH", 0, n) })
	run("SortDate", "UID SORT (DATE) UTF-8 ALL", func(l []string) error { return numbers(l, "SORT", n, n) })
	fetch := min(n, 10000)
	run("FetchHeaders10k", fmt.Sprintf("UID FETCH 1:%d (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])", fetch), func(l []string) error {
		got := 0
		for _, line := range l {
			if strings.HasPrefix(line, "* ") && strings.Contains(line, " FETCH (") {
				got++
			}
		}
		if got != fetch {
			return fmt.Errorf("%d FETCH responses, want %d", got, fetch)
		}
		return nil
	})
}

// logIndexSize reports the pages of the full-text tables (dbstat).
func logIndexSize(b *testing.B, path string, n int) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var index, total int64
	err = db.QueryRow(`SELECT coalesce(sum(pgsize) FILTER (WHERE name LIKE 'fts%'), 0), sum(pgsize) FROM dbstat`).Scan(&index, &total)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("full-text index %.1f MB (%d bytes/message); whole database %.1f MB", float64(index)/1e6, index/int64(n), float64(total)/1e6)
}

// slowRoundTrip sends command tagged "bt" and reads up to its tagged
// reply, allowing more than readLine's 10 s: a scan of every blob of a
// large mailbox takes minutes.
func slowRoundTrip(b *testing.B, c *tconn, command string) []string {
	c.send("bt " + command + "\r\n")
	c.c.SetReadDeadline(time.Now().Add(30 * time.Minute))
	var lines []string
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			b.Fatalf("%s: read: %v", command, err)
		}
		line = strings.TrimRight(line, "\r\n")
		lines = append(lines, line)
		if strings.HasPrefix(line, "bt ") {
			return lines
		}
	}
}
