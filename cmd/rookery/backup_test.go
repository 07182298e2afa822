package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
)

// TestBackupWhileRunningRestores backs a node up while mail is being
// delivered to it, restores the backup into a fresh data dir and starts a
// node there: every message accepted before the backup began must be
// readable over IMAP exactly once, and the restored mailstore must pass
// its integrity check.
func TestBackupWhileRunningRestores(t *testing.T) {
	n := newNode(t)
	n.cli("", "domain", "add", "example.test")
	n.cli("pw-alice-123\n", "user", "add", "alice@example.test", "--password-stdin")
	p := n.serve()
	send := func(tok string) error {
		c, err := smtp.Dial(p.addr("mx"))
		if err != nil {
			return err
		}
		defer c.Close()
		msg := fmt.Sprintf("Subject: %s\r\nX-Token: %s\r\n\r\n%s", tok, tok, strings.Repeat("backup body\r\n", 200))
		return c.SendMail("load@remote.test", []string{"alice@example.test"}, strings.NewReader(msg))
	}
	var (
		mu       sync.Mutex
		accepted []string // in the order of their 250
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	for i := range 30 {
		tok := fmt.Sprintf("pre-%d", i)
		if err := send(tok); err != nil {
			t.Fatal(err)
		}
		accepted = append(accepted, tok)
	}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				tok := fmt.Sprintf("w%d-%d", w, i)
				if send(tok) == nil {
					mu.Lock()
					accepted = append(accepted, tok)
					mu.Unlock()
				}
			}
		}()
	}
	// Deliveries under way when the backup starts, and during it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		k := len(accepted)
		mu.Unlock()
		if k >= 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("concurrent deliveries did not get through")
		}
	}
	mu.Lock()
	required := append([]string(nil), accepted...)
	mu.Unlock()
	dest := filepath.Join(t.TempDir(), "backup")
	n.cli("", "backup", dest)
	stop.Store(true)
	wg.Wait()
	p.stop(t)

	fresh := newNode(t)
	fresh.cli("", "restore", dest)
	p2 := fresh.serve()
	if out, err := exec.Command(binary, "restore", dest, "--config", fresh.cfgPath).CombinedOutput(); err == nil {
		t.Fatalf("restore into a running node's data dir succeeded:\n%s", out)
	}
	got := map[string]int{}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		got = imapTokens(t, p2.addr("imap"), "alice@example.test", "pw-alice-123")
		missing := 0
		for _, tok := range required {
			if got[tok] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages accepted before the backup are missing after restore", missing, len(required))
		}
	}
	for tok, c := range got {
		if c > 1 {
			t.Errorf("%s restored %d times", tok, c)
		}
	}
	p2.stop(t)
	if out := fresh.cli("", "check"); !strings.Contains(out, "ok") {
		t.Fatalf("check after restore: %s", out)
	}
	t.Logf("%d messages required, %d restored", len(required), len(got))
}

// imapTokens logs in over IMAP and counts the X-Token headers in INBOX.
func imapTokens(t *testing.T, addr, user, pass string) map[string]int {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	if sel.NumMessages == 0 {
		return got
	}
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"X-Token"}, Peek: true}
	var all imap.SeqSet
	all.AddRange(1, sel.NumMessages)
	msgs, err := c.Fetch(all, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		for _, b := range m.BodySection {
			if mm := tokenRE.FindSubmatch(b.Bytes); mm != nil {
				got[string(mm[1])]++
			}
		}
	}
	return got
}
