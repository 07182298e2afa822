package interop

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestMuttReadsOverIMAPAndPOP3: mutt logs in over STARTTLS (refusing
// plain text, trusting only the node's self-signed certificate) and pipes
// a message delivered over SMTP to a file, once from the IMAP INBOX and
// once from the POP3 maildrop; both copies are the stored message.
func TestMuttReadsOverIMAPAndPOP3(t *testing.T) {
	mutt := requireTool(t, "mutt")
	script := requireTool(t, "script") // mutt is a curses program: give it a pty
	n := startNode(t, nodeConfig{hostname: "mx.example.test", domain: "example.test", user: "alice"})
	msg := "From: Carol <carol@remote.test>\r\nTo: alice@example.test\r\nSubject: read me with mutt\r\n" +
		"Message-ID: <mutt1@remote.test>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\n" +
		"Hello Alice,\r\n.a line starting with a dot\r\nbye\r\n"
	c, err := smtp.Dial(n.srv.Addr("mx").String())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("carol@remote.test", []string{n.user}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	stored := strings.ReplaceAll(string(n.messages(t, 1)[0]), "\r\n", "\n") // mutt stores LF line ends
	if !strings.HasSuffix(stored, strings.ReplaceAll(msg, "\r\n", "\n")) {
		t.Fatalf("stored message does not end with the sent one:\n%s", stored)
	}

	dir := t.TempDir()
	certFile := filepath.Join(dir, "certificates")
	c, err = smtp.DialStartTLS(n.srv.Addr("mx").String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Noop(); err != nil { // completes the handshake
		t.Fatal(err)
	}
	st, _ := c.TLSConnectionState()
	c.Quit()
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: st.PeerCertificates[0].Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	empty := filepath.Join(dir, "empty.mbox")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ scheme, listener string }{{"imap", "imap"}, {"pop", "pop3"}} {
		proto := f.scheme
		out := filepath.Join(dir, proto+".eml")
		// mutt starts on an empty local mbox and opens the server folder
		// with <change-folder>, so the pushed keys run in order once it is
		// open (pushed at startup, keys race with opening a pop:// folder).
		rc := fmt.Sprintf(`set %[1]s_user = "%[2]s"
set %[1]s_pass = "%[3]s"
set ssl_starttls = yes
set ssl_force_tls = yes
set ssl_verify_host = no
set certificate_file = "%[5]s"
set folder = "%[7]s"
set header_cache = ""
set message_cachedir = ""
set pop_delete = no
set pipe_decode = no
set wait_key = no
set quit = yes
set delete = no
push "<change-folder>%[1]s://%[4]s/<enter><pipe-message>cat > %[6]s<enter><quit>"
`, proto, n.user, nodePassword, n.srv.Addr(f.listener), certFile, out, dir)
		rcPath := filepath.Join(dir, proto+".muttrc")
		if err := os.WriteFile(rcPath, []byte(rc), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, script, "-q", "-e", "-c", fmt.Sprintf("%s -n -F '%s' -f '%s'", mutt, rcPath, empty), "/dev/null")
		cmd.Env = append(os.Environ(), "TERM=vt100", "HOME="+dir, "COLUMNS=80", "LINES=24")
		screen, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("%s: mutt: %v\n%q", proto, err, screen)
		}
		if !strings.Contains(string(screen), "SSL/TLS connection using") {
			t.Fatalf("%s: mutt did not report a TLS connection:\n%q", proto, screen)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("%s: mutt wrote nothing: %v\n%q", proto, err, screen)
		}
		if string(got) != stored {
			t.Fatalf("%s: mutt read\n%q\nwant the stored message\n%q", proto, got, stored)
		}
	}
}
