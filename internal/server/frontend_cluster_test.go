package server

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// rawLogin connects to addr, logs in with LOGIN and returns the
// connection, its reader and the tagged OK line.
func rawLogin(t *testing.T, addr, user string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	br.ReadString('\n') // greeting
	fmt.Fprintf(c, "L LOGIN %s %q\r\n", user, testPassword)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return c, br, strings.TrimRight(line, "\r\n")
}

// untilTagged reads lines up to the one starting with tag.
func untilTagged(t *testing.T, br *bufio.Reader, tag string) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			t.Fatalf("waiting for %s: %v after %q", tag, err, b.String())
		}
		if strings.HasPrefix(line, tag+" ") {
			return b.String()
		}
	}
}

// TestClusterFrontEndProxies: a front end without stores proxies IMAP and
// POP3 logins to the mailstore node holding the user's store; the client
// sees what a direct login shows. When the store moves to another node,
// the proxied session ends and the next login reaches the new node.
func TestClusterFrontEndProxies(t *testing.T) {
	c := newClusterEnv(t)
	ms1 := c.node(t, "ms1", "mailstore", "imap", "pop3")
	ctx := context.Background()
	d := ms1.Directory()
	if err := d.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddAccount(ctx, "alice@example.test", testPassword, "s1"); err != nil {
		t.Fatal(err)
	}
	fe := c.node(t, "fe1", "imap", "pop3")
	// The front end dials back ends from the peers network of clusterEnv
	// (127.0.0.2/32), which ms1 takes PROXY headers from.
	fe.cfg.Cluster.Advertise = "127.0.0.2"
	waitFor(t, 10*time.Second, "ms1 serves s1", func() bool { return ms1.cluster.Serves("s1") })
	st := ms1.Stores()["s1"]
	if err := st.EnsureAccount(ctx, "alice@example.test"); err != nil {
		t.Fatal(err)
	}
	mb, err := st.Mailbox(ctx, "alice@example.test", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, "alice@example.test", mb.ID, mailstore.NewMessage{Body: strings.NewReader("Subject: hi\r\n\r\nproxied\r\n")}); err != nil {
		t.Fatal(err)
	}

	session := func(addr string) (string, net.Conn, *bufio.Reader) {
		conn, br, ok := rawLogin(t, addr, "alice@example.test")
		out := ok + "\n"
		fmt.Fprintf(conn, "S EXAMINE INBOX\r\nF FETCH 1 (UID FLAGS BODY.PEEK[])\r\n")
		out += untilTagged(t, br, "S") + untilTagged(t, br, "F")
		return out, conn, br
	}
	direct, _, _ := session(ms1.Addr("imap").String())
	proxied, pconn, pbr := session(fe.Addr("imap").String())
	if direct != proxied {
		t.Fatalf("proxied differs from direct\ndirect:\n%s\nproxied:\n%s", direct, proxied)
	}
	if !strings.Contains(direct, "L OK [CAPABILITY IMAP4rev1") || !strings.Contains(direct, "proxied\r\n") {
		t.Fatalf("unexpected session:\n%s", direct)
	}

	pop, err := net.Dial("tcp", fe.Addr("pop3").String())
	if err != nil {
		t.Fatal(err)
	}
	defer pop.Close()
	pop.SetDeadline(time.Now().Add(20 * time.Second))
	popr := bufio.NewReader(pop)
	fmt.Fprintf(pop, "USER alice@example.test\r\nPASS %s\r\nSTAT\r\n", testPassword)
	var got []string
	for range 4 {
		line, err := popr.ReadString('\n')
		if err != nil {
			t.Fatalf("pop3 through the front end: %v after %q", err, got)
		}
		got = append(got, strings.TrimRight(line, "\r\n"))
	}
	if got[2] != "+OK Logged in." || !strings.HasPrefix(got[3], "+OK 1 ") {
		t.Fatalf("pop3 through the front end: %q", got)
	}

	// The store moves: ms2 joins, ms1 leaves. The proxied IMAP session
	// ends with ms1; a new login through the front end reaches ms2.
	ms2 := c.node(t, "ms2", "mailstore", "imap", "pop3")
	shutdown(t, ms1)
	pconn.SetDeadline(time.Now().Add(20 * time.Second))
	for {
		if _, err := pbr.ReadString('\n'); err != nil {
			break // closed, after ms1's BYE
		}
	}
	waitFor(t, 10*time.Second, "ms2 serves s1", func() bool { return ms2.cluster.Serves("s1") })
	waitFor(t, 10*time.Second, "a login through the front end reaches ms2", func() bool {
		conn, br, ok := rawLogin(t, fe.Addr("imap").String(), "alice@example.test")
		if !strings.HasPrefix(ok, "L OK [CAPABILITY") {
			return false
		}
		fmt.Fprintf(conn, "F EXAMINE INBOX\r\n")
		return strings.Contains(untilTagged(t, br, "F"), "* 1 EXISTS")
	})
}
