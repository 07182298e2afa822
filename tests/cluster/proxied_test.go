package cluster

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// imapTranscript is a session a client could run; its responses after the
// greeting must not differ between a front end and the back end.
var imapTranscript = []string{
	"CAPABILITY",
	"LOGIN %s %s",
	"CAPABILITY",
	"NAMESPACE",
	`LIST "" "*"`,
	"STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)",
	"SELECT INBOX (CONDSTORE)",
	"FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE MODSEQ BODY.PEEK[] BODYSTRUCTURE ENVELOPE)",
	"UID SEARCH ALL",
	"NOOP",
	"LOGOUT",
}

func runTranscript(t *testing.T, addr string, u account) string {
	t.Helper()
	c, _, err := dialIMAP(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	var b strings.Builder
	for _, cmd := range imapTranscript {
		if strings.HasPrefix(cmd, "LOGIN") {
			cmd = fmt.Sprintf(cmd, u.addr, u.pass)
		}
		out, err := c.cmd(cmd)
		fmt.Fprintf(&b, "C: %s\r\n%s", cmd, out)
		if err != nil {
			t.Fatalf("%s at %s: %v\n%s", cmd, addr, err, b.String())
		}
	}
	return b.String()
}

// pythonIMAP and pythonPOP3 are independent clients (Python's imaplib and
// poplib); they print what a mail program would see.
const pythonIMAP = `import imaplib, sys
m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
print(m.login(sys.argv[3], sys.argv[4])); print(m.capabilities)
print(m.list()); print(m.select("INBOX"))
print(m.fetch("1:*", "(UID FLAGS RFC822.SIZE BODY.PEEK[])")); print(m.search(None, "ALL")); print(m.logout())`

const pythonPOP3 = `import poplib, sys
p = poplib.POP3(sys.argv[1], int(sys.argv[2]))
print(p.capa()); print(p.user(sys.argv[3])); print(p.pass_(sys.argv[4])); print(p.stat()); print(p.list()); print(p.uidl())
n = p.stat()[0]
for i in range(1, n + 1): print(p.retr(i))
print(p.quit())`

func python(t *testing.T, script, addr string, u account) string {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command("python3", "-c", script, host, port, u.addr, u.pass)
	done := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer done.Stop()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 against %s: %v\n%s", addr, err, out)
	}
	return string(out)
}

// testProxiedLooksDirect: IMAP and POP3 through either front end (and
// HAProxy) reach the user's store and answer exactly as a session at the
// back end serving it, for a raw IMAP transcript, Python's imaplib and
// poplib, and mutt over STARTTLS.
func testProxiedLooksDirect(t *testing.T, c *cluster) {
	u := c.users[0]
	back, _ := c.serving(t, u.store, 2*leaseTTL)
	fronts := c.frontEnds()
	if p := c.procs["haproxy"]; p != nil {
		fronts = append(fronts, p)
	}
	// A first round at the back end changes what reading changes (\Recent
	// claimed, \Seen set by mutt and POP3); the second is the reference.
	var direct, pyIMAP, pyPOP string
	for range 2 {
		direct = runTranscript(t, back.addrs["imap"], u)
		pyIMAP = python(t, pythonIMAP, back.addrs["imap"], u)
		pyPOP = python(t, pythonPOP3, back.addrs["pop3"], u)
		muttRead(t, c, "imap", back.addrs["imap"], u)
		muttRead(t, c, "pop", back.addrs["pop3"], u)
	}
	if !strings.Contains(direct, "X-Token: deliver-") {
		t.Fatalf("the direct transcript shows no delivered mail:\n%s", direct)
	}
	for _, fe := range fronts {
		if got := runTranscript(t, fe.addrs["imap"], u); got != direct {
			t.Errorf("IMAP through %s differs from %s directly:\n%s", fe.name, back.name, diff(direct, got))
		}
		if got := python(t, pythonIMAP, fe.addrs["imap"], u); got != pyIMAP {
			t.Errorf("imaplib through %s differs from %s directly:\n%s", fe.name, back.name, diff(pyIMAP, got))
		}
		if got := python(t, pythonPOP3, fe.addrs["pop3"], u); got != pyPOP {
			t.Errorf("poplib through %s differs from %s directly:\n%s", fe.name, back.name, diff(pyPOP, got))
		}
	}
	for _, proto := range []struct{ mutt, listener string }{{"imap", "imap"}, {"pop", "pop3"}} {
		direct, ok := muttRead(t, c, proto.mutt, back.addrs[proto.listener], u)
		if !ok {
			t.Log("mutt is not installed: skipped its part")
			break
		}
		for _, fe := range fronts {
			if got, _ := muttRead(t, c, proto.mutt, fe.addrs[proto.listener], u); got != direct {
				t.Errorf("mutt over %s through %s differs from %s directly:\n%s", proto.listener, fe.name, back.name, diff(direct, got))
			}
		}
	}
}

// diff shows the first differing lines of two transcripts.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n  direct:  %.300q\n  proxied: %.300q", i+1, a, b)
		}
	}
	return "(equal)"
}
