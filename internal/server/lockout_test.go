package server

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/rookery-mail/rookery/internal/authlimit/authlimittest"
	"github.com/rookery-mail/rookery/internal/config"
)

// imapLoginFrom logs in over IMAP from the local address from (on Linux
// all of 127.0.0.0/8 is loopback) and returns the server's answer.
func imapLoginFrom(addr, from, user, pass string) error {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return fmt.Errorf("dial from %s: %w", from, err)
	}
	c := imapclient.New(conn, nil)
	defer c.Close()
	return c.Login(user, pass).Wait()
}

// wantAuthFailed checks that err is the answer to a wrong password.
func wantAuthFailed(t *testing.T, what string, err error) {
	t.Helper()
	var ie *imap.Error
	if !errors.As(err, &ie) || ie.Code != imap.ResponseCodeAuthenticationFailed || ie.Text != "Authentication failed" {
		t.Errorf("%s: %v, want NO [AUTHENTICATIONFAILED] Authentication failed", what, err)
	}
}

// guessFrom sends n wrong passwords for user at once, one connection each,
// from each of the addresses.
func guessFrom(t *testing.T, addr, user string, n int, from ...string) {
	t.Helper()
	var wg sync.WaitGroup
	for _, f := range from {
		for range n {
			wg.Go(func() { wantAuthFailed(t, "guess from "+f, imapLoginFrom(addr, f, user, "wrong")) })
		}
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// TestGuessingDoesNotLockOutTheOwner: an attacker guessing alice's
// password over IMAP, from one address and then from many, slows himself
// down; alice still logs in from a new address, and once the account-wide
// ceiling is spent, from the addresses she used before.
func TestGuessingDoesNotLockOutTheOwner(t *testing.T) {
	clk := authlimittest.NewFrozen() // waits count, time stands still
	e := startEnvWith(t, func(c *config.Config) { c.Auth.FailuresPerAccount = 12 }, withAuthClock(clk))
	addr := e.addr("imap")
	const alice = "alice@example.test"
	if err := imapLoginFrom(addr, "127.0.0.3", alice, testPassword); err != nil {
		t.Fatalf("alice from 127.0.0.3: %v", err)
	}

	// Ten guesses at once from 127.0.0.2: five are checked at once, four
	// wait their turn (1 to 15 s), the tenth is further off and denied.
	guessFrom(t, addr, alice, 10, "127.0.0.2")
	if got, want := clk.Slept(), (1+3+7+15+15)*time.Second; got != want {
		t.Fatalf("the guesses were held %v in all, want %v", got, want)
	}
	// Now even the right password from there is answered as a wrong one...
	wantAuthFailed(t, "right password from the attacker's address", imapLoginFrom(addr, "127.0.0.2", alice, testPassword))
	// ...but alice logs in from a new address and from her usual one.
	for _, from := range []string{"127.0.0.1", "127.0.0.3"} {
		if err := imapLoginFrom(addr, from, alice, testPassword); err != nil {
			t.Fatalf("alice from %s after the guessing: %v", from, err)
		}
	}

	// Guesses from eight more addresses spend the rest of alice's
	// account-wide budget (12, of which the first attacker used 9)...
	var botnet []string
	for i := 10; i < 18; i++ {
		botnet = append(botnet, fmt.Sprintf("127.0.0.%d", i))
	}
	guessFrom(t, addr, alice, 1, botnet...)
	// ...so a new address is turned away even with the right password...
	wantAuthFailed(t, "alice from a new address past the account ceiling", imapLoginFrom(addr, "127.0.0.99", alice, testPassword))
	// ...while the addresses alice logged in from pass.
	for _, from := range []string{"127.0.0.1", "127.0.0.3"} {
		if err := imapLoginFrom(addr, from, alice, testPassword); err != nil {
			t.Fatalf("alice from known address %s past the account ceiling: %v", from, err)
		}
	}
	// Other accounts are untouched.
	if err := imapLoginFrom(addr, "127.0.0.99", "bob@example.test", testPassword); err != nil {
		t.Fatalf("bob: %v", err)
	}
}

// pop3LoginFrom logs in with USER/PASS from the local address from and
// returns the server's answer to PASS.
func pop3LoginFrom(addr, from, user, pass string) (string, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("dial from %s: %w", from, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	var line string
	for _, cmd := range []string{"", "USER " + user, "PASS " + pass} {
		if cmd != "" {
			fmt.Fprintf(conn, "%s\r\n", cmd)
		}
		if line, err = br.ReadString('\n'); err != nil {
			return "", err
		}
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// TestPOP3DeniedLoginLooksLikeWrongPassword: POP3 shares the throttling,
// and a denied attempt gets the same answer as a wrong password.
func TestPOP3DeniedLoginLooksLikeWrongPassword(t *testing.T) {
	clk := authlimittest.NewFrozen()
	e := startEnvWith(t, func(c *config.Config) {
		withPOP3(c)
		c.Auth.FailuresPerAccountAddress = 1
	}, withAuthClock(clk))
	addr := e.addr("pop3")
	const wrong = "-ERR [AUTH] Authentication failed."
	// One check at once, four in turn (1 to 15 s later), the sixth denied.
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if got, err := pop3LoginFrom(addr, "127.0.0.2", "carol@example.test", "wrong"); got != wrong {
				t.Errorf("guess: %q, %v; want %q", got, err, wrong)
			}
		})
	}
	wg.Wait()
	if got, want := clk.Slept(), (1+3+7+15+15)*time.Second; got != want {
		t.Fatalf("held %v in all, want %v", got, want)
	}
	if got, err := pop3LoginFrom(addr, "127.0.0.2", "carol@example.test", testPassword); got != wrong {
		t.Fatalf("right password from the guessing address: %q, %v; want %q", got, err, wrong)
	}
	if got, err := pop3LoginFrom(addr, "127.0.0.1", "carol@example.test", testPassword); !strings.HasPrefix(got, "+OK") {
		t.Fatalf("carol from another address: %q, %v", got, err)
	}
}
