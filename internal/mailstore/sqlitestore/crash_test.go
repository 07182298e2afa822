package sqlitestore

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

const crashDirEnv = "ROOKERY_SQLITESTORE_CRASH_DIR"

// TestCrashChild is the process TestCrashKeepsAcknowledged kills: it
// delivers from four goroutines and prints "ack ID" after each Deliver
// returns, i.e. after the store said the message is durable.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process for TestCrashKeepsAcknowledged")
	}
	ctx := context.Background()
	s, _ := testStore(t, dir)
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("g%d-%d", g, i)
				res, err := s.Deliver(ctx, []mailstore.Delivery{{User: "alice", Message: mailstore.NewMessage{
					Body: strings.NewReader("Subject: " + id + "\r\n\r\nbody\r\n"), DeliveryID: id}}})
				if err != nil || res[0].Err != nil {
					fmt.Fprintln(os.Stderr, "deliver:", err, res)
					return
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ack %s\n", id)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestCrashKeepsAcknowledged kills a delivering process with SIGKILL and
// checks that every acknowledged delivery is stored exactly once and the
// store's invariants hold.
func TestCrashKeepsAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acks := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
				acks <- id
			}
		}
		close(acks)
	}()
	var acked []string
	deadline := time.After(60 * time.Second)
	for len(acked) < 60 {
		select {
		case id, ok := <-acks:
			if !ok {
				t.Fatalf("child exited after %d acks", len(acked))
			}
			acked = append(acked, id)
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("only %d acks before the deadline", len(acked))
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	go func() {
		for range acks { // drain lines printed before the kill
		}
	}()
	cmd.Wait()

	ctx := context.Background()
	s, _ := testStore(t, dir)
	inbox, err := s.Mailbox(ctx, "alice", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := s.Messages(ctx, "alice", inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) < len(acked) {
		t.Errorf("%d messages stored, %d acknowledged", len(msgs), len(acked))
	}
	var ds []mailstore.Delivery
	for _, id := range acked {
		ds = append(ds, mailstore.Delivery{User: "alice", Message: mailstore.NewMessage{
			Body: strings.NewReader("retry"), DeliveryID: id}})
	}
	res, err := s.Deliver(ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !r.Duplicate {
			t.Errorf("acknowledged delivery %s lost after crash: %+v", acked[i], r)
		}
	}
	if problems, err := s.Check(ctx); err != nil || len(problems) != 0 {
		t.Errorf("Check after crash: %v %v", problems, err)
	}
	for _, m := range msgs {
		rc, err := s.OpenBlob(ctx, m.BlobID)
		if err != nil {
			t.Errorf("UID %d: %v", m.UID, err)
			continue
		}
		rc.Close()
	}
}
