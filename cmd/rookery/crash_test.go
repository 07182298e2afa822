package main

import (
	"context"
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
func TestCrashDuringSMTPLoad(t *testing.T) {
	n := newNode(t)
	n.cli("", "domain", "add", "example.test")
	n.cli("pw-alice-123\n", "user", "add", "alice@example.test", "--password-stdin")
	p := n.serve()
	addr := p.addr("mx")

	var (
		mu       sync.Mutex
		accepted []string
		sent     atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	body := strings.Repeat("crash test body line\r\n", 400) // ~9 KB
	for w := 0; w < 20; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				tok := fmt.Sprintf("w%d-%d", w, i)
				msg := fmt.Sprintf("Subject: crash %s\r\nX-Token: %s\r\n\r\n%s", tok, tok, body)
				sent.Add(1)
				c, err := smtp.Dial(addr)
				if err == nil {
					err = c.SendMail("load@remote.test", []string{"alice@example.test"}, strings.NewReader(msg))
					c.Close()
				}
				if err != nil {
					return // the server died under us
				}
				mu.Lock()
				accepted = append(accepted, tok)
				mu.Unlock()
			}
		}()
	}
	// Kill once a good number of messages went through.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		k := len(accepted)
		mu.Unlock()
		if k >= 300 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.kill(t)
	stop.Store(true)
	wg.Wait()
	t.Logf("%d messages accepted with 250 of %d attempted before SIGKILL", len(accepted), sent.Load())

	p = n.serve()
	st := n.openStore()
	defer st.Close()
	deadline = time.Now().Add(60 * time.Second)
	for {
		got := inboxTokens(t, st, "alice@example.test")
		missing := 0
		for _, tok := range accepted {
			if got[tok] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d accepted messages missing after restart", missing, len(accepted))
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop(t)
	got := inboxTokens(t, st, "alice@example.test")
	for tok, c := range got {
		if c != 1 {
			t.Errorf("token %s stored %d times", tok, c)
		}
	}
	if out := n.cli("", "check"); !strings.Contains(out, "ok") {
		t.Fatalf("integrity check: %s", out)
	}
}
