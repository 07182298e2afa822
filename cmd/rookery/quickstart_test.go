package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
)

// TestQuickstart runs the README's first command as a newcomer would (with
// a port offset to stay clear of other tests), sends a message to alice,
// reads it back with her printed password, stops with SIGTERM, and checks
// that a second run reuses the directory and passwords.
func TestQuickstart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// Below Linux's ephemeral range (32768+), where listeners on :0 and
	// client sockets of tests running alongside could take a port first.
	offset := 20000 + rand.IntN(4000)
	first := quickstartOnce(t, dir, offset)
	pw := first["alice@example.test"]
	if pw == "" {
		t.Fatalf("no password printed for alice: %v", first)
	}
	creds, err := os.ReadFile(filepath.Join(dir, "credentials.txt"))
	if err != nil || !strings.Contains(string(creds), pw) {
		t.Fatalf("credentials.txt: %q, %v", creds, err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "credentials.txt")); st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials.txt mode %v, want 0600", st.Mode().Perm())
	}
	second := quickstartOnce(t, dir, offset)
	if second["alice@example.test"] != pw {
		t.Fatal("a second run did not reuse the existing data dir")
	}
}

// quickstartOnce starts quickstart, exercises SMTP and IMAP, stops it and
// returns the printed user → password map.
func quickstartOnce(t *testing.T, dir string, offset int) map[string]string {
	t.Helper()
	cmd := exec.Command(binary, "quickstart", "--dir", dir, "--port-offset", fmt.Sprint(offset))
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	users := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 4 && f[0] == "user" && f[2] == "password" {
			users[f[1]] = f[3]
		}
		if strings.HasPrefix(strings.TrimSpace(sc.Text()), "try:") {
			break
		}
	}
	mx := fmt.Sprintf("127.0.0.1:%d", 2525+offset)
	imapAddr := fmt.Sprintf("127.0.0.1:%d", 1143+offset)
	var c *smtp.Client
	var err error
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err = smtp.Dial(mx); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("quickstart MX not reachable: %v", err)
	}
	token := fmt.Sprint(time.Now().UnixNano())
	if err := c.SendMail("me@elsewhere.test", []string{"alice@example.test"}, strings.NewReader("Subject: "+token+"\r\n\r\nhi\r\n")); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	ic, err := imapclient.DialInsecure(imapAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Login("alice@example.test", users["alice@example.test"]).Wait(); err != nil {
		t.Fatalf("login with the printed password: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		sel, err := ic.Select("INBOX", nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if sel.NumMessages > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("message not delivered")
		}
	}
	ic.Logout().Wait()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("quickstart did not exit cleanly on SIGTERM: %v", err)
	}
	return users
}
