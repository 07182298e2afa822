package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"
)

// dial connects to addr from the local address from (empty: any), with a
// deadline for the whole conversation.
func dial(addr, from string, d time.Duration) (net.Conn, error) {
	dl := net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		dl.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	conn, err := dl.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(d))
	return conn, nil
}

// send submits one message carrying token in an X-Token header over SMTP;
// a nil error is a 250 after DATA.
func send(addr, from, to, token string) error {
	conn, err := dial(addr, "", 20*time.Second)
	if err != nil {
		return err
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	msg := fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nX-Token: %s\r\n\r\nbody of %s\r\n", from, to, token, token, token)
	if err := c.SendMail(from, []string{to}, strings.NewReader(msg)); err != nil {
		return err
	}
	return c.Quit()
}

// smtpCode is the reply code of an SMTP error, 0 if err is not one.
func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// rawIMAP is a line-level IMAP client: what it sends and receives is the
// protocol itself, so two servers' transcripts compare byte for byte.
type rawIMAP struct {
	conn net.Conn
	r    *bufio.Reader
	n    int
}

func dialIMAP(addr string) (*rawIMAP, string, error) {
	conn, err := dial(addr, "", 30*time.Second)
	if err != nil {
		return nil, "", err
	}
	c := &rawIMAP{conn: conn, r: bufio.NewReader(conn)}
	greeting, err := c.line()
	if err != nil {
		conn.Close()
		return nil, "", err
	}
	return c, greeting, nil
}

// line reads one response line with its literals.
func (c *rawIMAP) line() (string, error) {
	var b strings.Builder
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			return b.String(), err
		}
		b.WriteString(l)
		m := literalRE.FindStringSubmatch(l)
		if m == nil {
			return b.String(), nil
		}
		n, _ := strconv.Atoi(m[1])
		lit := make([]byte, n)
		if _, err := io.ReadFull(c.r, lit); err != nil {
			return b.String(), err
		}
		b.Write(lit)
	}
}

var literalRE = regexp.MustCompile(`\{(\d+)\}\r\n$`)

// cmd sends one command and returns every line up to and including its
// tagged reply; the tag is replaced by "T" so transcripts compare.
func (c *rawIMAP) cmd(command string) (string, error) {
	c.n++
	tag := fmt.Sprintf("x%d", c.n)
	if _, err := fmt.Fprintf(c.conn, "%s %s\r\n", tag, command); err != nil {
		return "", err
	}
	var out strings.Builder
	for {
		l, err := c.line()
		if err != nil {
			return out.String(), err
		}
		if strings.HasPrefix(l, tag+" ") {
			out.WriteString("T" + l[len(tag):])
			return out.String(), nil
		}
		out.WriteString(l)
	}
}

func (c *rawIMAP) close() { c.conn.Close() }

// login logs in with LOGIN and fails the test unless it is OK.
func (c *rawIMAP) login(t testing.TB, u account) string {
	t.Helper()
	out, err := c.cmd(fmt.Sprintf("LOGIN %s %s", u.addr, u.pass))
	if err != nil || !strings.Contains(out, "T OK") {
		t.Fatalf("LOGIN %s: %v\n%s", u.addr, err, out)
	}
	return out
}

// mailbox is what a client knows of a mailbox: its UIDVALIDITY and, per
// token, the UID and MODSEQ of each message carrying it.
type mailbox struct {
	uidValidity uint32
	exists      int
	msgs        map[string][]msgID
}

type msgID struct{ uid, modseq uint64 }

var (
	uidValidityRE = regexp.MustCompile(`UIDVALIDITY (\d+)`)
	existsRE      = regexp.MustCompile(`\* (\d+) EXISTS`)
	fetchRE       = regexp.MustCompile(`(?s)\* \d+ FETCH \((.*?)\)\r\n`)
	uidRE         = regexp.MustCompile(`UID (\d+)`)
	modseqRE      = regexp.MustCompile(`MODSEQ \((\d+)\)`)
	tokenRE       = regexp.MustCompile(`X-Token: (\S+)`)
)

// readMailbox logs in to addr as u and reads INBOX.
func readMailbox(addr string, u account) (mailbox, error) {
	c, _, err := dialIMAP(addr)
	if err != nil {
		return mailbox{}, err
	}
	defer c.close()
	if out, err := c.cmd(fmt.Sprintf("LOGIN %s %s", u.addr, u.pass)); err != nil || !strings.Contains(out, "T OK") {
		return mailbox{}, fmt.Errorf("LOGIN %s at %s: %v %q", u.addr, addr, err, out)
	}
	sel, err := c.cmd("SELECT INBOX (CONDSTORE)")
	if err != nil || !strings.Contains(sel, "T OK") {
		return mailbox{}, fmt.Errorf("SELECT at %s: %v %q", addr, err, sel)
	}
	mb := mailbox{msgs: map[string][]msgID{}}
	if m := uidValidityRE.FindStringSubmatch(sel); m != nil {
		v, _ := strconv.ParseUint(m[1], 10, 32)
		mb.uidValidity = uint32(v)
	}
	if m := existsRE.FindStringSubmatch(sel); m != nil {
		mb.exists, _ = strconv.Atoi(m[1])
	}
	if mb.exists == 0 {
		return mb, nil
	}
	out, err := c.cmd("UID FETCH 1:* (UID MODSEQ BODY.PEEK[HEADER.FIELDS (X-Token)])")
	if err != nil || !strings.Contains(out, "T OK") {
		return mailbox{}, fmt.Errorf("FETCH at %s: %v %q", addr, err, out)
	}
	for _, f := range fetchRE.FindAllStringSubmatch(out, -1) {
		var id msgID
		if m := uidRE.FindStringSubmatch(f[1]); m != nil {
			id.uid, _ = strconv.ParseUint(m[1], 10, 64)
		}
		if m := modseqRE.FindStringSubmatch(f[1]); m != nil {
			id.modseq, _ = strconv.ParseUint(m[1], 10, 64)
		}
		if m := tokenRE.FindStringSubmatch(f[1]); m != nil {
			mb.msgs[m[1]] = append(mb.msgs[m[1]], id)
		}
	}
	c.cmd("LOGOUT")
	return mb, nil
}

// where names the IMAP listener to read a mailbox at, again for every
// attempt: a fixed address (at) or the node serving a store right now.
type where func() string

func at(addr string) where { return func() string { return addr } }

// waitTokens waits until u's INBOX, read at addr, holds every token; it
// returns the mailbox then. Login failures count as not yet (a store
// changing nodes).
func waitTokens(t testing.TB, addr where, u account, d time.Duration, tokens ...string) mailbox {
	t.Helper()
	var mb mailbox
	var err error
	missing := tokens
	for deadline := time.Now().Add(d); ; time.Sleep(200 * time.Millisecond) {
		if mb, err = readMailbox(addr(), u); err == nil {
			missing = missing[:0:0]
			for _, tok := range tokens {
				if len(mb.msgs[tok]) == 0 {
					missing = append(missing, tok)
				}
			}
			if len(missing) == 0 {
				return mb
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %s's INBOX at %s lacks %d of %d tokens (%v; last error %v)", d, u.addr, addr(), len(missing), len(tokens), head(missing), err)
		}
	}
}

func head(s []string) []string { return s[:min(len(s), 5)] }

// storedMessages counts the messages of account in the store's tables
// (the postgres engine's schema store_NAME).
func (c *cluster) storedMessages(t testing.TB, store, account string) int {
	t.Helper()
	var n int
	c.query(t, func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM store_%s.messages m JOIN store_%[1]s.accounts a ON a.id = m.account_id
			WHERE a.name = $1`, store), account).Scan(&n)
	})
	return n
}

// query runs f on a connection to the cluster's PostgreSQL.
func (c *cluster) query(t testing.TB, f func(context.Context, *pgx.Conn) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.dsn())
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if err := f(ctx, conn); err != nil {
		t.Fatal(err)
	}
}

func (c *cluster) dsn() string {
	return "postgres://postgres@" + c.procs["postgres"].addrs["postgres"] + "/postgres?sslmode=disable"
}
