package imap

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// TestUserIPSessionLimit: one user from one address gets at most
// MaxUserIPSessions sessions; a logout frees a slot.
func TestUserIPSessionLimit(t *testing.T) {
	env := startServer(t, func(o *Options) { o.MaxUserIPSessions = 2 })
	a := dialRaw(t, env.addr)
	a.login("alice")
	b := dialRaw(t, env.addr)
	b.login("alice")
	c := dialRaw(t, env.addr)
	c.cmd("c1 LOGIN alice alicepw", `c1 NO \[LIMIT\] .*`)
	a.cmd("a9 LOGOUT", `\* BYE .*`, `a9 OK .*`)
	c.cmd("c2 NOOP", `c2 OK .*`)
	for deadline := 0; deadline < 200; deadline++ { // the logout is counted when the session ends
		env.srv.userMu.Lock()
		n := env.srv.userSessions["alice|127.0.0.1"]
		env.srv.userMu.Unlock()
		if n < 2 {
			break
		}
		c.cmd("c3 NOOP", `c3 OK .*`)
	}
	c.cmd("c4 LOGIN alice alicepw", `c4 OK .*`)
}

// TestPerIPConnectionLimit: past MaxSessionsPerIP the server says BYE.
func TestPerIPConnectionLimit(t *testing.T) {
	env := startServer(t, func(o *Options) { o.MaxSessionsPerIP = 1 })
	dialRaw(t, env.addr)
	c, err := net.Dial("tcp", env.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	if !strings.HasPrefix(line, "* BYE [UNAVAILABLE] Too many connections") {
		t.Fatalf("second connection got %q", line)
	}
}
