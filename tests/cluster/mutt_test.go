package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// muttRead has mutt open u's mailbox at addr over STARTTLS (proto "imap"
// or "pop", trusting only the cluster's certificate) and pipe the first
// message to a file; it returns what mutt piped. ok is false without mutt.
func muttRead(t *testing.T, c *cluster, proto, addr string, u account) (msg string, ok bool) {
	t.Helper()
	mutt, err1 := exec.LookPath("mutt")
	script, err2 := exec.LookPath("script") // mutt is a curses program: give it a pty
	if err1 != nil || err2 != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("mutt or script is missing (.ci/run installs mutt and bsdutils)")
		}
		return "", false
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "msg.eml")
	empty := filepath.Join(dir, "empty.mbox")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// As internal/interop's mutt test: start on an empty mbox, then
	// <change-folder> so the pushed keys run once the folder is open.
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
`, proto, u.addr, u.pass, addr, filepath.Join(c.dir, "tls", "cert.pem"), out, dir)
	rcPath := filepath.Join(dir, "muttrc")
	if err := os.WriteFile(rcPath, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, "-q", "-e", "-c", fmt.Sprintf("%s -n -F '%s' -f '%s'", mutt, rcPath, empty), "/dev/null")
	cmd.Env = append(os.Environ(), "TERM=vt100", "HOME="+dir, "COLUMNS=80", "LINES=24")
	screen, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mutt %s://%s: %v\n%q", proto, addr, err, screen)
	}
	if !strings.Contains(string(screen), "SSL/TLS connection using") {
		t.Fatalf("mutt %s://%s did not report a TLS connection:\n%q", proto, addr, screen)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("mutt %s://%s wrote nothing: %v\n%q", proto, addr, err, screen)
	}
	return string(got), true
}
