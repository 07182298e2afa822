package server

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// imapLogin connects in cleartext (loopback may log in without TLS).
func imapLogin(t *testing.T, addr, user string, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, testPassword).Wait(); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return c
}

func fetchBodies(t *testing.T, c *imapclient.Client) [][]byte {
	t.Helper()
	section := &imap.FetchItemBodySection{Peek: true}
	var all imap.SeqSet
	all.AddRange(1, 0) // 1:*
	msgs, err := c.Fetch(all, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		out = append(out, m.FindBodySection(section))
	}
	return out
}

// TestSMTPToIMAPByteIdentical sends over SMTP and reads back over IMAP the
// exact bytes that were sent, after the trace headers the server adds.
func TestSMTPToIMAPByteIdentical(t *testing.T) {
	e := startEnv(t, nil)
	body := "From: Sender <sender@remote.test>\r\nTo: alice@example.test\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbonjour caf\xc3\xa9\r\n" +
		"--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--b1--\r\n"
	sendMail(t, e.addr("mx"), "sender@remote.test", []string{"alice@example.test"}, body)
	e.waitMessages("alice@example.test", "INBOX", 1)

	c := imapLogin(t, e.addr("imap"), "alice@example.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	got := fetchBodies(t, c)
	if len(got) != 1 {
		t.Fatalf("fetched %d messages, want 1", len(got))
	}
	if !bytes.HasSuffix(got[0], []byte(body)) || !bytes.HasPrefix(got[0], []byte("Return-Path: <sender@remote.test>\r\n")) {
		t.Fatalf("IMAP body differs from what was sent:\n%q", got[0])
	}
}

// TestIdleWakesOnDelivery: a client in IDLE hears of an SMTP delivery
// within a second.
func TestIdleWakesOnDelivery(t *testing.T) {
	e := startEnv(t, nil)
	exists := make(chan uint32, 4)
	c := imapLogin(t, e.addr("imap"), "bob@example.test", &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					exists <- *d.NumMessages
				}
			},
		},
	})
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sendMail(t, e.addr("mx"), "x@remote.test", []string{"bob@example.test"}, "Subject: wake up\r\n\r\nnow\r\n")
	sent := time.Now()
	select {
	case n := <-exists:
		if n != 1 {
			t.Fatalf("EXISTS %d, want 1", n)
		}
		t.Logf("IDLE woke %v after the 250 (%v after start)", time.Since(sent), time.Since(start))
		if d := time.Since(sent); d > time.Second {
			t.Fatalf("IDLE woke %v after delivery, want under 1s", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no EXISTS within 5s of delivery")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestPythonClients uses Python's smtplib and imaplib: an implementation
// independent of the Go libraries the server is built on.
func TestPythonClients(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is required in CI")
		}
		t.Skip("python3 not installed")
	}
	e := startEnv(t, nil)
	script, _ := filepath.Abs("testdata/clients.py")
	cmd := exec.Command(py, script, e.addr("mx"), e.addr("imap"), "carol@example.test", testPassword)
	out, err := cmd.CombinedOutput()
	t.Logf("python:\n%s", out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatal("python client script did not pass")
	}
}
