package cluster

import (
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// load sends mail to one account through HAProxy (or the first MX node)
// and reads its INBOX at read, until stopped; it records which messages
// got a 250 and when reads succeeded.
type load struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	accepted []string
	refused  int
	reads    []time.Time // successful INBOX reads
	readErrs int
}

func startLoad(c *cluster, u account, prefix string, read where) *load {
	mx := c.withRole("mx")[0].addrs["mx"]
	if p := c.procs["haproxy"]; p != nil {
		mx = p.addrs["mx"]
	}
	l := &load{stop: make(chan struct{})}
	l.wg.Add(2)
	go func() {
		defer l.wg.Done()
		for i := 0; ; i++ {
			select {
			case <-l.stop:
				return
			default:
			}
			tok := fmt.Sprintf("%s-%d", prefix, i)
			err := send(mx, "load@elsewhere.test", u.addr, tok)
			l.mu.Lock()
			if err == nil {
				l.accepted = append(l.accepted, tok)
			} else {
				l.refused++
			}
			l.mu.Unlock()
			if err != nil {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	go func() {
		defer l.wg.Done()
		for {
			select {
			case <-l.stop:
				return
			default:
			}
			_, err := readMailbox(read(), u)
			l.mu.Lock()
			if err == nil {
				l.reads = append(l.reads, time.Now())
			} else {
				l.readErrs++
			}
			l.mu.Unlock()
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return l
}

func (l *load) finish() {
	close(l.stop)
	l.wg.Wait()
}

// firstReadAfter is the first successful INBOX read after t (zero: none).
func (l *load) firstReadAfter(t time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.reads {
		if r.After(t) {
			return r
		}
	}
	return time.Time{}
}

// testKillServingNode: kill -9 the node serving a store under SMTP and IMAP
// load; after the lease expires another mailstore node serves the store,
// every message that got a 250 is there exactly once, and what clients
// knew (UIDVALIDITY, UIDs, MODSEQs) is unchanged. IMAP clients log in
// through a front end, which finds the new serving node.
func testKillServingNode(t *testing.T, c *cluster) {
	u := c.users[0]
	fe := c.frontEnds()[0]
	read := at(fe.addrs["imap"])
	victim, before := c.serving(t, u.store, 2*leaseTTL)
	// A flag change gives the existing messages distinct MODSEQs to keep.
	s, _, err := dialIMAP(read())
	if err != nil {
		t.Fatal(err)
	}
	s.login(t, u)
	s.cmd("SELECT INBOX")
	if out, err := s.cmd(`STORE 1 +FLAGS (\Flagged)`); err != nil || !strings.Contains(out, "T OK") {
		t.Fatalf("STORE: %v %q", err, out)
	}
	s.close()
	known, err := readMailbox(read(), u)
	if err != nil {
		t.Fatal(err)
	}

	l := startLoad(c, u, "kill", read)
	time.Sleep(2 * time.Second)
	killed := time.Now()
	victim.signal(t, syscall.SIGKILL)
	t.Logf("killed %s, serving %s (epoch %d)", victim.name, u.store, before.epoch)
	var after lease
	eventually(t, 4*leaseTTL, u.store+" is not served by another node after "+victim.name+" died", func() bool {
		after = c.lease(t, u.store)
		return after.valid && after.holder != "" && after.holder != victim.name
	})
	takeover := time.Since(killed)
	eventually(t, 4*leaseTTL, "no IMAP login through "+fe.name+" succeeded after the takeover", func() bool {
		return !l.firstReadAfter(killed.Add(takeover)).IsZero()
	})
	time.Sleep(2 * time.Second)
	l.finish()
	firstLogin := l.firstReadAfter(killed.Add(takeover)).Sub(killed)
	t.Logf("%s taken over by %s (epoch %d) %s after kill -9; first IMAP login after it: %s; %d messages accepted, %d refused, %d INBOX reads failed",
		u.store, after.holder, after.epoch, takeover.Round(time.Millisecond), firstLogin.Round(time.Millisecond), len(l.accepted), l.refused, l.readErrs)
	if after.epoch <= before.epoch {
		t.Errorf("epoch %d after the takeover, was %d", after.epoch, before.epoch)
	}
	if len(l.accepted) == 0 {
		t.Fatal("no message got a 250 during the load")
	}
	now := waitTokens(t, read, u, 60*time.Second, l.accepted...)
	for _, tok := range l.accepted {
		if n := len(now.msgs[tok]); n != 1 {
			t.Errorf("%s is in the INBOX %d times", tok, n)
		}
	}
	if now.uidValidity != known.uidValidity {
		t.Errorf("UIDVALIDITY %d after the failover, was %d", now.uidValidity, known.uidValidity)
	}
	for tok, ids := range known.msgs {
		if fmt.Sprint(now.msgs[tok]) != fmt.Sprint(ids) {
			t.Errorf("%s: UID/MODSEQ %v after the failover, was %v", tok, now.msgs[tok], ids)
		}
	}
}

// testKillMXWithQueuedMail: an MX node that accepted mail and is
// delivering it dies; another node delivers it once its claim expires.
// The store's node is paused meanwhile, so the delivery is in flight (the
// MX waits for the LMTP greeting) when the MX node is killed.
func testKillMXWithQueuedMail(t *testing.T, c *cluster) {
	u := c.users[2]
	mxs := c.withRole("mx")
	victim := mxs[0]
	back, _ := c.serving(t, u.store, 4*leaseTTL)
	back.signal(t, syscall.SIGSTOP)
	stopped := true
	defer func() {
		if stopped {
			back.signal(t, syscall.SIGCONT)
		}
	}()
	var toks []string
	for i := range 3 {
		tok := fmt.Sprintf("mxkill-%d", i)
		if err := send(victim.addrs["mx"], "sender@elsewhere.test", u.addr, tok); err != nil {
			t.Fatalf("SMTP through %s: %v", victim.name, err)
		}
		toks = append(toks, tok)
	}
	time.Sleep(500 * time.Millisecond) // its runner claims the mail and connects
	victim.signal(t, syscall.SIGKILL)
	back.signal(t, syscall.SIGCONT)
	stopped = false
	killed := time.Now()
	now := waitTokens(t, at(c.frontEnds()[0].addrs["imap"]), u, claimTTL+30*time.Second, toks...)
	t.Logf("mail accepted by %s delivered %s after it was killed", victim.name, time.Since(killed).Round(time.Millisecond))
	for _, tok := range toks {
		if n := len(now.msgs[tok]); n != 1 {
			t.Errorf("%s is in the INBOX %d times", tok, n)
		}
	}
}
