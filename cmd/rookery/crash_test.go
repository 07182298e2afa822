package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

var tokenRE = regexp.MustCompile(`X-Token: (\S+)`)

// inboxTokens returns how often each X-Token appears in user's INBOX.
func inboxTokens(t *testing.T, st mailstore.Store, user string) map[string]int {
	t.Helper()
	ctx := context.Background()
	got := map[string]int{}
	mb, err := st.Mailbox(ctx, user, "INBOX")
	if err != nil {
		return got
	}
	msgs, err := st.Messages(ctx, user, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		rc, err := st.OpenBlob(ctx, m.BlobID)
		if err != nil {
			t.Fatalf("uid %d: %v", m.UID, err)
		}
		buf := make([]byte, 4096)
		n, _ := rc.Read(buf)
		rc.Close()
		if mm := tokenRE.FindSubmatch(buf[:n]); mm != nil {
			got[string(mm[1])]++
		}
	}
	return got
}

// TestCrashDuringSMTPLoad kills the server with SIGKILL under load; after a
// restart every message that got 250 must be in the mailbox exactly once.
func TestCrashDuringSMTPLoad(t *testing.T) { crashDuringSMTPLoad(t, newNode(t)) }

// crashDuringSMTPLoad is TestCrashDuringSMTPLoad on any node's engines.
func crashDuringSMTPLoad(t *testing.T, n *node) {
	n.cli("", "domain", "add", "example.test")
	n.cli("pw-alice-123\n", "user", "add", "alice@example.test", "--password-stdin")
	p := n.serve()
	l := startLoad(p.addr("mx"), "", 20)
	// Kill once a good number of messages went through.
	l.waitAccepted(300, 30*time.Second)
	p.kill(t)
	accepted, sent := l.stop()
	t.Logf("%d messages accepted with 250 of %d attempted before SIGKILL", len(accepted), sent)

	p = n.serve()
	st := n.openStore()
	defer st.Close()
	waitTokens(t, st, "alice@example.test", accepted, 60*time.Second)
	p.stop(t)
	wantOnce(t, inboxTokens(t, st, "alice@example.test"))
	if out := n.cli("", "check"); !strings.Contains(out, "ok") {
		t.Fatalf("integrity check: %s", out)
	}
}

// load is SMTP traffic to alice@example.test, each message carrying a
// unique X-Token; it records which tokens got a 250.
type load struct {
	mu       sync.Mutex
	accepted []string
	refused  int      // 4xx/5xx replies and broken connections
	rejected []string // the 5xx replies among them: a permanent refusal the sender would bounce
	sent     atomic.Int64
	halt     atomic.Bool
	wg       sync.WaitGroup
}

// startLoad runs workers sending to addr until stop; tokens start with
// name, so loads running together do not share tokens. A refused message
// (4xx, 5xx or a broken connection) is counted and not retried: only a 250
// obliges the server.
func startLoad(addr, name string, workers int) *load {
	l := &load{}
	body := strings.Repeat("crash test body line\r\n", 400) // ~9 KB
	for w := 0; w < workers; w++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; !l.halt.Load(); i++ {
				tok := fmt.Sprintf("%sw%d-%d", name, w, i)
				msg := fmt.Sprintf("Subject: crash %s\r\nX-Token: %s\r\n\r\n%s", tok, tok, body)
				l.sent.Add(1)
				c, err := smtp.Dial(addr)
				if err == nil {
					err = c.SendMail("load@remote.test", []string{"alice@example.test"}, strings.NewReader(msg))
					c.Close()
				}
				l.mu.Lock()
				if err == nil {
					l.accepted = append(l.accepted, tok)
				} else {
					l.refused++
					var se *smtp.SMTPError
					if errors.As(err, &se) && se.Code >= 500 {
						l.rejected = append(l.rejected, se.Error())
					}
				}
				l.mu.Unlock()
				if err != nil {
					time.Sleep(50 * time.Millisecond) // the server is down or refusing: do not spin
				}
			}
		}()
	}
	return l
}

// waitAccepted waits until n messages got a 250 or d passed.
func (l *load) waitAccepted(n int, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		k := len(l.accepted)
		l.mu.Unlock()
		if k >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// counts returns how many messages got a 250 and how many were refused so far.
func (l *load) counts() (accepted, refused int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.accepted), l.refused
}

// stop ends the load and returns the accepted tokens and the attempts made.
func (l *load) stop() ([]string, int64) {
	l.halt.Store(true)
	l.wg.Wait()
	return l.accepted, l.sent.Load()
}

// waitTokens waits until every accepted token is in user's INBOX.
func waitTokens(t *testing.T, st mailstore.Store, user string, accepted []string, d time.Duration) {
	t.Helper()
	if missing := tokensMissing(t, st, user, accepted, d); missing > 0 {
		t.Fatalf("%d of %d accepted messages missing after %v", missing, len(accepted), d)
	}
}

// tokensMissing waits up to d for every accepted token to be in user's
// INBOX and returns how many are still missing.
func tokensMissing(t *testing.T, st mailstore.Store, user string, accepted []string, d time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		got := inboxTokens(t, st, user)
		missing := 0
		for _, tok := range accepted {
			if got[tok] == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			return missing
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// wantOnce fails for every token stored more than once.
func wantOnce(t *testing.T, got map[string]int) {
	t.Helper()
	for tok, c := range got {
		if c != 1 {
			t.Errorf("token %s stored %d times", tok, c)
		}
	}
}
