package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/rookery-mail/rookery/internal/config"
)

// withPOP3 adds the POP3 listeners to startEnv's config.
func withPOP3(cfg *config.Config) {
	cfg.Listen.POP3 = "127.0.0.1:0"
	cfg.Listen.POP3S = "127.0.0.1:0"
}

// popClient is a minimal POP3 client: every command must succeed.
type popClient struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialPOP3(t *testing.T, c net.Conn, user string) *popClient {
	t.Helper()
	t.Cleanup(func() { c.Close() })
	p := &popClient{t: t, c: c, br: bufio.NewReader(c)}
	p.reply()
	p.cmd("USER " + user)
	p.cmd("PASS " + testPassword)
	return p
}

func (p *popClient) reply() string {
	p.t.Helper()
	p.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := p.br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "+OK") {
		p.t.Fatalf("POP3 reply %q, %v", line, err)
	}
	return strings.TrimRight(line, "\r\n")
}

func (p *popClient) cmd(line string) string {
	p.t.Helper()
	fmt.Fprintf(p.c, "%s\r\n", line)
	return p.reply()
}

// multi runs a command with a multi-line answer and returns its body
// un-stuffed, lines with CRLF.
func (p *popClient) multi(line string) string {
	p.t.Helper()
	p.cmd(line)
	var b strings.Builder
	for {
		l, err := p.br.ReadString('\n')
		if err != nil {
			p.t.Fatal(err)
		}
		if l == ".\r\n" {
			return b.String()
		}
		b.WriteString(strings.TrimPrefix(l, "."))
	}
}

// TestPOP3IMAPConsistency: mail delivered over SMTP is read over POP3
// byte for byte; DELE+QUIT expunges it for an IMAP session on the same
// INBOX; a message APPENDed over IMAP shows at the next POP3 login with
// the UIDL "<UIDVALIDITY>.<UID>" IMAP reported; UIDLs are stable.
func TestPOP3IMAPConsistency(t *testing.T) {
	e := startEnv(t, withPOP3)
	const user = "alice@example.test"
	sendMail(t, e.addr("mx"), "x@remote.test", []string{user}, "Subject: one\r\n\r\n.dot line\r\n")
	sendMail(t, e.addr("mx"), "x@remote.test", []string{user}, "Subject: two\r\n\r\nsecond\r\n")
	stored := e.waitMessages(user, "INBOX", 2)

	expunged := make(chan uint32, 4)
	ic := imapLogin(t, e.addr("imap"), user, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{Expunge: func(seq uint32) { expunged <- seq }},
	})
	sel, err := ic.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}

	conn, err := net.Dial("tcp", e.addr("pop3"))
	if err != nil {
		t.Fatal(err)
	}
	p := dialPOP3(t, conn, user)
	uidl1 := p.multi("UIDL")
	want := fmt.Sprintf("1 %d.%d\r\n2 %d.%d\r\n", sel.UIDValidity, stored[0].UID, sel.UIDValidity, stored[1].UID)
	if uidl1 != want {
		t.Fatalf("UIDL = %q, want %q", uidl1, want)
	}
	if got := p.multi("RETR 1"); got != string(e.body(stored[0])) {
		t.Fatalf("RETR 1 = %q, want the stored %q", got, e.body(stored[0]))
	}
	if got := p.cmd("LIST 1"); got != fmt.Sprintf("+OK 1 %d", stored[0].Size) {
		t.Fatalf("LIST 1 = %q, want size %d", got, stored[0].Size)
	}
	p.cmd("DELE 1")
	p.cmd("QUIT")

	if err := ic.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	select {
	case seq := <-expunged:
		if seq != 1 {
			t.Fatalf("IMAP EXPUNGE %d, want 1", seq)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("IMAP saw no EXPUNGE after POP3 DELE+QUIT")
	}

	msg := "Subject: from imap\r\n\r\nappended\r\n"
	ac := ic.Append("INBOX", int64(len(msg)), nil)
	ac.Write([]byte(msg))
	if err := ac.Close(); err != nil {
		t.Fatal(err)
	}
	ad, err := ac.Wait()
	if err != nil {
		t.Fatal(err)
	}

	conn, err = net.Dial("tcp", e.addr("pop3"))
	if err != nil {
		t.Fatal(err)
	}
	p = dialPOP3(t, conn, user)
	want = fmt.Sprintf("1 %d.%d\r\n2 %d.%d\r\n", sel.UIDValidity, stored[1].UID, ad.UIDValidity, ad.UID)
	if got := p.multi("UIDL"); got != want {
		t.Fatalf("second session UIDL = %q, want %q", got, want)
	}
	if got := p.multi("RETR 2"); got != msg {
		t.Fatalf("RETR of the IMAP-appended message = %q", got)
	}
	p.cmd("QUIT")
}

// TestPOP3SImplicitTLS: listen.pop3s is POP3 inside TLS from the first byte.
func TestPOP3SImplicitTLS(t *testing.T) {
	e := startEnv(t, withPOP3)
	conn, err := tls.Dial("tcp", e.addr("pop3s"), &tls.Config{InsecureSkipVerify: true}) // the test certificate is self-signed
	if err != nil {
		t.Fatal(err)
	}
	p := dialPOP3(t, conn, "bob@example.test")
	if got := p.cmd("STAT"); got != "+OK 0 0" {
		t.Fatalf("STAT = %q", got)
	}
	p.cmd("QUIT")
}

// TestPOP3Fetchmail runs fetchmail, a widely deployed POP3 client, against
// the real server. It skips without fetchmail, except in CI.
func TestPOP3Fetchmail(t *testing.T) {
	fetchmail, err := exec.LookPath("fetchmail")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("fetchmail is required in CI (.ci/run installs it)")
		}
		t.Skip("fetchmail not installed")
	}
	e := startEnv(t, withPOP3)
	const user = "carol@example.test"
	subjects := []string{"first", "second", "third"}
	for _, s := range subjects {
		sendMail(t, e.addr("mx"), "x@remote.test", []string{user}, "Subject: fetch "+s+"\r\n\r\nbody "+s+"\r\n.dot\r\n")
	}
	e.waitMessages(user, "INBOX", len(subjects))

	dir := t.TempDir()
	out := filepath.Join(dir, "mbox")
	_, port, _ := net.SplitHostPort(e.addr("pop3"))
	// sslproto '' keeps fetchmail from trying STLS against the self-signed
	// certificate; plaintext login is allowed from loopback.
	rc := fmt.Sprintf("set no bouncemail\npoll 127.0.0.1 protocol pop3 port %s\n"+
		"  user %q password %q\n  keep fetchall sslproto '' mda \"cat >> %s\"\n", port, user, testPassword, out)
	rcPath := filepath.Join(dir, "fetchmailrc")
	if err := os.WriteFile(rcPath, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, fetchmail, "-f", rcPath, "--nosyslog", "-N", "-v", "--pidfile", filepath.Join(dir, "pid"))
	cmd.Env = append(os.Environ(), "HOME="+dir, "FETCHMAILHOME="+dir)
	logs, err := cmd.CombinedOutput()
	t.Logf("fetchmail:\n%s", logs)
	if err != nil {
		t.Fatalf("fetchmail: %v", err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subjects {
		if !strings.Contains(string(got), "Subject: fetch "+s+"\r\n") && !strings.Contains(string(got), "Subject: fetch "+s+"\n") {
			t.Errorf("message %q not delivered by fetchmail:\n%s", s, got)
		}
	}
	if n := strings.Count(string(got), "\n.dot"); n != len(subjects) {
		t.Errorf("%d un-stuffed dot lines, want %d", n, len(subjects))
	}
	e.waitMessages(user, "INBOX", len(subjects)) // keep: nothing deleted
}

// TestPOP3RetrMarksSeenAtQuit: as in Dovecot, a message retrieved over POP3
// and left on the server is \Seen for IMAP afterwards.
func TestPOP3RetrMarksSeenAtQuit(t *testing.T) {
	e := startEnv(t, withPOP3)
	sendMail(t, e.addr("mx"), "x@remote.test", []string{"alice@example.test"}, "Subject: read me\r\n\r\nhi\r\n")
	e.waitMessages("alice@example.test", "INBOX", 1)
	c, err := net.Dial("tcp", e.addr("pop3"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	line := func() string { l, _ := br.ReadString('\n'); return l }
	line()
	for _, cmd := range []string{"USER alice@example.test", "PASS " + testPassword} {
		fmt.Fprintf(c, "%s\r\n", cmd)
		if l := line(); !strings.HasPrefix(l, "+OK") {
			t.Fatalf("%s: %q", cmd, l)
		}
	}
	fmt.Fprintf(c, "RETR 1\r\n")
	for l := line(); l != ".\r\n"; l = line() {
		if l == "" {
			t.Fatal("RETR cut short")
		}
	}
	fmt.Fprintf(c, "QUIT\r\n")
	line()
	msgs := e.waitMessages("alice@example.test", "INBOX", 1)
	if !slices.Contains(msgs[0].Flags, `\Seen`) {
		t.Fatalf("flags after RETR+QUIT: %v, want \\Seen", msgs[0].Flags)
	}
}
