package main

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestCrashDuringIMAPAppendExpunge kills the server with SIGKILL while
// clients APPEND and EXPUNGE. After a restart: every APPEND answered OK is
// present exactly once, unless its EXPUNGE was answered OK (then absent),
// and the store passes its integrity check.
func TestCrashDuringIMAPAppendExpunge(t *testing.T) {
	n := newNode(t)
	n.cli("", "domain", "add", "example.test")
	n.cli("pw-alice-123\n", "user", "add", "alice@example.test", "--password-stdin")
	p := n.serve()
	addr := p.addr("imap")

	var (
		mu       sync.Mutex
		appended = map[string]imap.UID{}
		expunged = map[string]bool{}
		inflight = map[string]bool{} // expunge sent, reply unknown
		count    atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	login := func() *imapclient.Client {
		c, err := imapclient.DialInsecure(addr, nil)
		if err != nil {
			return nil
		}
		if err := c.Login("alice@example.test", "pw-alice-123").Wait(); err != nil {
			c.Close()
			return nil
		}
		return c
	}
	body := strings.Repeat("imap crash body\r\n", 300)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := login()
			if c == nil {
				return
			}
			defer c.Close()
			for i := 0; !stop.Load(); i++ {
				tok := fmt.Sprintf("a%d-%d", w, i)
				msg := fmt.Sprintf("Subject: %s\r\nX-Token: %s\r\n\r\n%s", tok, tok, body)
				cmd := c.Append("INBOX", int64(len(msg)), nil)
				cmd.Write([]byte(msg))
				cmd.Close()
				data, err := cmd.Wait()
				if err != nil {
					return
				}
				mu.Lock()
				appended[tok] = data.UID
				mu.Unlock()
				count.Add(1)
			}
		}()
	}
	wg.Add(1)
	go func() { // the expunger: deletes every third appended message
		defer wg.Done()
		c := login()
		if c == nil {
			return
		}
		defer c.Close()
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			return
		}
		done := map[string]bool{}
		for !stop.Load() {
			var tok string
			var uid imap.UID
			mu.Lock()
			for k, u := range appended {
				if !done[k] && u%3 == 0 {
					tok, uid = k, u
					break
				}
			}
			if tok != "" {
				inflight[tok] = true
			}
			mu.Unlock()
			if tok == "" {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			done[tok] = true
			// NOOP first, so this session sees messages other sessions appended.
			if err := c.Noop().Wait(); err != nil {
				return
			}
			set := imap.UIDSetNum(uid)
			if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
				return
			}
			exp := c.UIDExpunge(set)
			gone := exp.Next() != 0
			for exp.Next() != 0 {
			}
			if err := exp.Close(); err != nil {
				return
			}
			mu.Lock()
			if !gone {
				mu.Unlock()
				t.Errorf("UID EXPUNGE %d (%s) answered OK without expunging it", uid, tok)
				continue
			}
			expunged[tok] = true
			delete(inflight, tok)
			mu.Unlock()
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for count.Load() < 200 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	p.kill(t)
	stop.Store(true)
	wg.Wait()
	t.Logf("%d appends and %d expunges answered OK before SIGKILL", len(appended), len(expunged))
	if len(appended) == 0 || len(expunged) == 0 {
		t.Fatal("the load did not get going before the kill")
	}

	n.serve().stop(t)
	st := n.openStore()
	defer st.Close()
	got := inboxTokens(t, st, "alice@example.test")
	for tok := range appended {
		switch {
		case expunged[tok] && got[tok] != 0:
			t.Errorf("%s: expunge answered OK but the message is back", tok)
		case inflight[tok] && got[tok] > 1, !expunged[tok] && !inflight[tok] && got[tok] != 1:
			t.Errorf("%s: appended with OK, present %d times", tok, got[tok])
		}
	}
	if out := n.cli("", "check"); !strings.Contains(out, "ok") {
		t.Fatalf("integrity check: %s", out)
	}
}
