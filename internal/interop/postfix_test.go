// Package interop runs Rookery against real peer software from Debian
// (Postfix); the tests need those programs and fail in CI without them.
package interop

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// postfix is a throwaway Postfix instance bound to 127.0.0.1.
type postfix struct {
	t    *testing.T
	dir  string
	smtp string // its SMTP listener
}

// requirePostfix fails in CI and skips elsewhere when Postfix is missing.
func requirePostfix(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("postfix"); err == nil && os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("postfix (Debian package) and root are required in CI")
	}
	t.Skip("postfix not installed or not root")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startPostfix writes a main.cf with the given extra settings and starts
// Postfix; it is stopped when the test ends.
func startPostfix(t *testing.T, extra string) *postfix {
	t.Helper()
	requirePostfix(t)
	dir, err := os.MkdirTemp("/tmp", "rookery-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"etc", "spool", "data", "log", "mail"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.Chmod(dir, 0o755)
	exec.Command("chown", "postfix", filepath.Join(dir, "data")).Run()
	exec.Command("chown", "nobody", filepath.Join(dir, "mail")).Run()
	p := &postfix{t: t, dir: dir, smtp: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	mainCF := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/spool
data_directory = %[1]s/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = %[1]s/log/maillog
maillog_file_prefixes = %[1]s
myhostname = peer.localdomain
mydomain = localdomain
myorigin = $myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relayhost =
default_transport = error:interop instance does not relay
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtputf8_enable = yes
biff = no
smtp_tls_security_level = may
smtp_host_lookup = native
disable_dns_lookups = yes
%[2]s
`, dir, strings.ReplaceAll(extra, "MAILDIR", filepath.Join(dir, "mail")))
	masterCF := p.smtp + " inet n - n - - smtpd\n" + `pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
virtual unix - n n - - virtual
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
`
	os.WriteFile(filepath.Join(dir, "etc", "main.cf"), []byte(mainCF), 0o644)
	os.WriteFile(filepath.Join(dir, "etc", "master.cf"), []byte(masterCF), 0o644)
	if out, err := exec.Command("postfix", "-c", filepath.Join(dir, "etc"), "start").CombinedOutput(); err != nil {
		t.Fatalf("postfix start: %v\n%s\n%s", err, out, p.log())
	}
	t.Cleanup(func() {
		exec.Command("postfix", "-c", filepath.Join(dir, "etc"), "stop").Run()
		if t.Failed() {
			t.Logf("postfix log:\n%s", p.log())
		}
		os.RemoveAll(dir)
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if c, err := net.Dial("tcp", p.smtp); err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("postfix not listening on %s:\n%s", p.smtp, p.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *postfix) log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "log", "maillog"))
	return string(b)
}

// waitLog waits until Postfix's log contains s.
func (p *postfix) waitLog(s string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.log(), s) {
		if time.Now().After(deadline) {
			p.t.Fatalf("postfix log never showed %q:\n%s", s, p.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
