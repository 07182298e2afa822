package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rookery-mail/rookery/internal/testsvc"
)

// TestExamplePostgresS3 runs examples/postgres-s3/start.sh as a newcomer
// would: the node it starts takes mail over SMTP and shows it over IMAP
// and POP3, stop.sh stops it, and start.sh again finds the mail there.
func TestExamplePostgresS3(t *testing.T) {
	testsvc.Postgres(t) // skips (fails under CI) without PostgreSQL
	testsvc.S3(t)       // and without versitygw
	// Not t.TempDir: the cluster runs as "postgres" under root, and needs
	// to reach its directory.
	parent, err := os.MkdirTemp("", "rookery-example-")
	if err != nil || os.Chmod(parent, 0o755) != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	dir := filepath.Join(parent, "demo")
	offset := freeOffset(t)
	run := func(script string, args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join("..", "..", "examples", "postgres-s3", script), args...)
		cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":"+filepath.Join(os.Getenv("HOME"), ".cache", "rookery-ci", "bin"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		return string(out)
	}
	out := run("start.sh", dir, fmt.Sprint(offset))
	t.Cleanup(func() { exec.Command(filepath.Join("..", "..", "examples", "postgres-s3", "stop.sh"), dir).Run() })
	if !strings.Contains(out, "Rookery is running on PostgreSQL") {
		t.Fatalf("start.sh printed no connection details:\n%s", out)
	}
	creds, err := os.ReadFile(filepath.Join(dir, "credentials.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var user, pass string
	fmt.Sscan(string(creds), &user, &pass)
	mx := fmt.Sprintf("127.0.0.1:%d", 2525+offset)
	msg := "Subject: example\r\nX-Token: example-1\r\n\r\nhello\r\n"
	c, err := smtp.Dial(mx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("me@elsewhere.test", []string{user}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	imapAddr := fmt.Sprintf("127.0.0.1:%d", 1143+offset)
	waitIMAPToken(t, imapAddr, user, pass, "example-1")
	// POP3 with Python's poplib, a client independent of the server's libraries.
	pop := exec.Command("python3", "-c", `import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1])); p.user(sys.argv[2]); p.pass_(sys.argv[3])
print("count", p.stat()[0]); print(b"\n".join(p.retr(1)[1]).decode()); p.quit()`, fmt.Sprint(1110+offset), user, pass)
	if out, err := pop.CombinedOutput(); err != nil || !strings.Contains(string(out), "count 1") || !strings.Contains(string(out), "X-Token: example-1") {
		t.Fatalf("POP3: %v\n%s", err, out)
	}
	run("stop.sh", dir)
	run("start.sh", dir, fmt.Sprint(offset))
	if got := imapTokens(t, imapAddr, user, pass); got["example-1"] != 1 {
		t.Fatalf("after stop.sh and start.sh: tokens %v", got)
	}
}

// waitIMAPToken waits until the token's message is in user's INBOX.
func waitIMAPToken(t *testing.T, addr, user, pass, token string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); imapTokens(t, addr, user, pass)[token] == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached %s's INBOX", token, user)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeOffset picks a port offset under which the example's listeners and
// servers find their ports free.
func freeOffset(t *testing.T) int {
	for range 50 {
		offset := 10000 + rand.IntN(14000) // every port below the ephemeral range (32768-)
		free := true
		for _, base := range []int{2525, 2587, 2424, 1143, 1110, 8080, 5432, 7070} {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+offset))
			if err != nil {
				free = false
				break
			}
			l.Close()
		}
		if free {
			return offset
		}
	}
	t.Fatal("no free port offset")
	return 0
}
