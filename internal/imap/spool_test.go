package imap

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/blob/fsblob"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/mailstore/sqlitestore"
)

// startServerNoIndex is startServer over a store without the full-text
// indexer, whose reading of whole messages would blur a memory bound.
func startServerNoIndex(t *testing.T, tweak ...func(*Options)) *testEnv {
	t.Helper()
	dir := t.TempDir()
	blobs, err := fsblob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlitestore.Open(context.Background(), sqlitestore.Options{
		Name: "noindex", Path: filepath.Join(dir, "mail.db"), Blobs: blobs, Hub: mailstore.NewHub(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tweak = append([]func(*Options){func(o *Options) {
		o.Backend = &testBackend{users: map[string]string{"alice": "alicepw", "bob": "bobpw"}, store: store}
	}}, tweak...)
	env := startServer(t, tweak...)
	env.store = store
	return env
}

// bigMessage writes a message of n bytes, different for each seed, to w
// in small pieces and returns its SHA-256, so the test client itself holds
// no large buffer.
func bigMessage(w io.Writer, seed, n int) ([32]byte, error) {
	h := sha256.New()
	mw := io.MultiWriter(w, h)
	head := fmt.Sprintf("Subject: big %d\r\n\r\n", seed)
	if _, err := io.WriteString(mw, head); err != nil {
		return [32]byte{}, err
	}
	line := make([]byte, 0, 80)
	for left, i := n-len(head), 0; left > 0; i++ {
		line = fmt.Appendf(line[:0], "%d line %d %s\r\n", seed, i, strings.Repeat("x", 40))
		line = line[:min(len(line), left)]
		if _, err := mw.Write(line); err != nil {
			return [32]byte{}, err
		}
		left -= len(line)
	}
	return [32]byte(h.Sum(nil)), nil
}

// TestAppendLargeLiteralsSpooled: concurrent APPENDs of 20–45 MB go to
// temporary files, not memory: the server's heap grows by a small
// fraction of what is in flight, every message is stored intact, and the
// spool directory is left empty (the files are unlinked at once).
func TestAppendLargeLiteralsSpooled(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 135 MB")
	}
	spool := t.TempDir()
	env := startServerNoIndex(t, func(o *Options) { o.SpoolDir = spool })
	sizes := []int{20 << 20, 30 << 20, 40 << 20, 45 << 20}
	total := 0
	for _, n := range sizes {
		total += n
	}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()

	sums := make([][32]byte, len(sizes))
	var wg sync.WaitGroup
	errs := make(chan error, len(sizes))
	for i, n := range sizes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sum, err := appendStreamed(env.addr, i, n)
			sums[i] = sum
			errs <- err
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	growth := int64(peak.Load()) - int64(base)
	t.Logf("heap in use grew by %d MiB for %d MiB of literals", growth>>20, total>>20)
	if growth > int64(total/8) {
		t.Errorf("heap grew by %d MiB while appending %d MiB: literals are held in memory", growth>>20, total>>20)
	}

	_, msgs := inboxOf(t, env, "alice")
	if len(msgs) != len(sizes) {
		t.Fatalf("%d messages stored, want %d", len(msgs), len(sizes))
	}
	stored := map[[32]byte]bool{}
	for _, m := range msgs {
		rc, err := env.store.OpenBlob(context.Background(), m.BlobID)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		_, err = io.Copy(h, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		stored[[32]byte(h.Sum(nil))] = true
	}
	for i, sum := range sums {
		if !stored[sum] {
			t.Errorf("message %d (%d bytes) not stored intact", i, sizes[i])
		}
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("spool directory not empty: %v", left)
	}
	if used := env.srv.spoolBudget.inUse(); used != 0 {
		t.Errorf("spool budget leaked: %d bytes held", used)
	}
}

// appendStreamed logs in as alice and APPENDs a generated message of n
// bytes with a synchronizing literal, returning its SHA-256.
func appendStreamed(addr string, seed, n int) ([32]byte, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return [32]byte{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	br := bufio.NewReader(c)
	expect := func(prefix string) error {
		line, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, prefix) {
			return fmt.Errorf("message %d: got %q (%v), want %q...", seed, line, err, prefix)
		}
		return nil
	}
	if err := expect("* OK"); err != nil {
		return [32]byte{}, err
	}
	fmt.Fprintf(c, "a LOGIN alice alicepw\r\nb APPEND INBOX {%d}\r\n", n)
	if err := expect("a OK"); err != nil {
		return [32]byte{}, err
	}
	if err := expect("+ "); err != nil {
		return [32]byte{}, err
	}
	bw := bufio.NewWriterSize(c, 32<<10)
	sum, err := bigMessage(bw, seed, n)
	if err == nil {
		_, err = bw.WriteString("\r\n")
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return [32]byte{}, err
	}
	return sum, expect("b OK [APPENDUID ")
}

// TestAppendSpoolBudget: when the server-wide budget for spooled literals
// is spent, an APPEND of a large literal gets NO [LIMIT] — before the
// continuation for a synchronizing literal, after skipping a
// non-synchronizing one — and the session stays in step; small literals,
// which stay in memory, are not affected.
func TestAppendSpoolBudget(t *testing.T) {
	env := startServer(t, func(o *Options) { o.SpoolDir = t.TempDir() })
	env.srv.spoolBudget.limit = 3 << 20
	big := strings.Repeat("x", 2<<20)

	stalled := dialRaw(t, env.addr)
	stalled.login("bob")
	stalled.cmd("s1 APPEND INBOX {2500000}", `\+ .*`)
	stalled.send(big) // holds 2 MiB of the 3 MiB budget
	for deadline := time.Now().Add(10 * time.Second); env.srv.spoolBudget.inUse() < int64(len(big)); {
		if time.Now().After(deadline) {
			t.Fatalf("server holds %d bytes of the stalled literal", env.srv.spoolBudget.inUse())
		}
		time.Sleep(5 * time.Millisecond)
	}

	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd(fmt.Sprintf("a1 APPEND INBOX {%d}", len(big)), `a1 NO \[LIMIT\] Server busy, try again later`)
	c.cmd(fmt.Sprintf("a2 APPEND INBOX {%d+}\r\n%s", len(big), big), `a2 NO \[LIMIT\] Server busy, try again later`)
	c.cmd("a3 APPEND INBOX {12+}\r\nSubject: x\r\n", `a3 OK \[APPENDUID \d+ 1\] APPEND completed`)

	stalled.send(strings.Repeat("y", 2500000-len(big)) + "\r\n")
	stalled.expect(`s1 OK \[APPENDUID \d+ 1\] APPEND completed`)
	c.cmd(fmt.Sprintf("a4 APPEND INBOX {%d}", len(big)), `\+ .*`)
	c.send(big + "\r\n")
	c.expect(`a4 OK \[APPENDUID \d+ 2\] APPEND completed`)
	if used := env.srv.spoolBudget.inUse(); used != 0 {
		t.Errorf("spool budget leaked: %d bytes held", used)
	}
}

// fullStore is a store on a full disk: every write fails with ErrNoSpace.
type fullStore struct{ mailstore.Store }

func (fullStore) Append(context.Context, string, int64, mailstore.NewMessage) (uint32, error) {
	return 0, fmt.Errorf("append: store body: %w", mailstore.ErrNoSpace)
}

func (fullStore) CreateMailbox(context.Context, string, string, string) (mailstore.MailboxInfo, error) {
	return mailstore.MailboxInfo{}, fmt.Errorf("create mailbox: %w", mailstore.ErrNoSpace)
}

// TestAppendDiskFullIsOverquota: a write that fails because the disk is
// full gets NO [OVERQUOTA] (RFC 5530; Dovecot answers the same), not
// [SERVERBUG]: the client may retry later, the session goes on.
func TestAppendDiskFullIsOverquota(t *testing.T) {
	env := startServer(t, func(o *Options) {
		b := o.Backend.(*testBackend)
		o.Backend = &testBackend{users: b.users, store: fullStore{b.store}}
	})
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("a1 APPEND INBOX {12+}\r\nSubject: x\r\n", `a1 NO \[OVERQUOTA\] Not enough disk space`)
	c.cmd("a2 CREATE Archive", `a2 NO \[OVERQUOTA\] Not enough disk space`)
	c.cmd("a3 NOOP", `a3 OK NOOP completed`)
}

// TestMultiAppendSpooled: a MULTIAPPEND mixing spooled and in-memory
// literals, synchronizing and not, stores each message intact and in
// order; a large literal where a string is expected is refused.
func TestMultiAppendSpooled(t *testing.T) {
	env := startServer(t, func(o *Options) { o.SpoolDir = t.TempDir() })
	c := dialRaw(t, env.addr)
	c.login("alice")
	big1 := "Subject: one\r\n\r\n" + strings.Repeat("a", 3<<20)
	small := "Subject: two\r\n\r\nb\r\n"
	big2 := "Subject: three\r\n\r\n" + strings.Repeat("c", 2<<20)
	c.cmd(fmt.Sprintf("m1 APPEND INBOX (\\Seen) {%d+}\r\n%s {%d+}\r\n%s UTF8 (~{%d}", len(big1), big1, len(small), small, len(big2)), `\+ .*`)
	c.cmd(big2+")", `m1 OK \[APPENDUID \d+ 1:3\] APPEND completed`)
	_, msgs := inboxOf(t, env, "alice")
	want := []string{big1, small, big2}
	if len(msgs) != len(want) {
		t.Fatalf("%d messages stored, want %d", len(msgs), len(want))
	}
	for i, m := range msgs {
		rc, err := env.store.OpenBlob(context.Background(), m.BlobID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(got) != want[i] {
			t.Errorf("message %d: %d bytes stored, want %d", i+1, len(got), len(want[i]))
		}
	}
	name := strings.Repeat("n", 2<<20)
	c.cmd(fmt.Sprintf("m2 APPEND {%d+}\r\n%s {%d+}\r\n%s", len(name), name, len(small), small), `m2 BAD .*`)
	c.cmd("m3 NOOP", `m3 OK NOOP completed`)
}

func inboxOf(t *testing.T, env *testEnv, user string) (mailstore.MailboxInfo, []mailstore.Message) {
	t.Helper()
	ctx := context.Background()
	mb, err := env.store.Mailbox(ctx, user, mailstore.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := env.store.Messages(ctx, user, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	return mb, msgs
}
