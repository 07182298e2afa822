// Package quickstart prepares a single-node demo system in a directory: a
// config on unprivileged ports, a self-signed certificate, the domain
// example.test and two users with generated passwords. Run again on the
// same directory, it reuses what is there.
package quickstart

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/dkim"
	"github.com/rookery-mail/rookery/internal/engine"
	"github.com/rookery-mail/rookery/internal/server"
)

// Domain and Users are the demo data.
const Domain = "example.test"

var Users = []string{"alice@" + Domain, "bob@" + Domain}

// Ports are the base ports of each listener; --port-offset adds to all.
var Ports = map[string]int{
	"mx": 2525, "submission": 2587, "submissions": 2465, "lmtp": 2424, "imap": 1143,
	"imaps": 1993, "pop3": 1110, "pop3s": 1995, "http": 8080,
}

// implemented lists the listeners whose roles exist so far; the others
// join the generated config when their roles are built.
var implemented = []string{"mx", "submission", "submissions", "lmtp", "imap", "imaps", "pop3", "pop3s", "http"}

// Options choose where and how the demo runs.
type Options struct {
	Dir string
	// Bind (an IP address; "" is 127.0.0.1) and PortOffset (nil is 0)
	// place a new directory's listeners. On an existing directory the
	// config keeps its addresses unless one of them is given, which then
	// rewrites the host or the ports of every listener.
	Bind       string
	PortOffset *int
}

// Credential is one demo user's login.
type Credential struct{ User, Password string }

// Result is a prepared system.
type Result struct {
	ConfigPath  string
	Config      *config.Config
	Credentials []Credential
}

// Prepare creates or reuses the demo system in opts.Dir.
func Prepare(ctx context.Context, opts Options) (*Result, error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	if err := checkListen(opts.Bind, opts.PortOffset); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "rookery.toml")
	switch _, err := os.Stat(cfgPath); {
	case errors.Is(err, os.ErrNotExist):
		bind, offset := cmp.Or(opts.Bind, "127.0.0.1"), 0
		if opts.PortOffset != nil {
			offset = *opts.PortOffset
		}
		if err := writeConfig(cfgPath, dir, bind, offset); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case opts.Bind != "" || opts.PortOffset != nil:
		if err := relisten(cfgPath, opts.Bind, opts.PortOffset); err != nil {
			return nil, err
		}
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, err
	}
	cert, key := cfg.Path(cfg.TLS.Cert), cfg.Path(cfg.TLS.Key)
	if _, err := os.Stat(cert); errors.Is(err, os.ErrNotExist) {
		if err := server.WriteSelfSigned(cert, key, cfg.Hostname, "localhost"); err != nil {
			return nil, fmt.Errorf("self-signed certificate: %w", err)
		}
	}
	d, err := engine.Directory(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if err := ensureDomain(ctx, d); err != nil {
		return nil, err
	}
	creds, err := ensureUsers(ctx, d, filepath.Join(dir, "credentials.txt"))
	if err != nil {
		return nil, err
	}
	return &Result{ConfigPath: cfgPath, Config: cfg, Credentials: creds}, nil
}

func writeConfig(path, dir, bind string, offset int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Rookery quickstart node. Reference: README.md\nhostname = \"mail.%s\"\ndata_dir = %q\n", Domain, dir)
	fmt.Fprintf(&b, "# receives postmaster@ and abuse@ of every domain without its own\npostmaster = %q\n\n[listen]\n", Users[0])
	for _, k := range implemented {
		fmt.Fprintf(&b, "%s = %q\n", k, net.JoinHostPort(bind, strconv.Itoa(Ports[k]+offset)))
	}
	b.WriteString("\n[tls]\ncert = \"tls/cert.pem\"\nkey = \"tls/key.pem\"\n")
	if err := os.MkdirAll(filepath.Join(dir, "tls"), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// ensureDomain adds the demo domain with DKIM keys, as `rookery domain
// add` does, so the demo signs its mail; a domain from an older demo
// directory that has no keys gets them.
func ensureDomain(ctx context.Context, dir directory.Directory) error {
	keys, err := dir.DKIMKeys(ctx, Domain)
	switch {
	case errors.Is(err, directory.ErrNotFound):
		_, err = dkim.AddDomain(ctx, dir, Domain, time.Now())
	case err == nil && len(keys) == 0:
		_, err = dkim.AddMissingKeys(ctx, dir, Domain, time.Now())
	}
	return err
}

// ensureUsers creates the demo users once, recording their passwords in
// credsPath (mode 0600); later runs read them back.
func ensureUsers(ctx context.Context, dir directory.Directory, credsPath string) ([]Credential, error) {
	if creds, err := readCredentials(credsPath); err == nil {
		return creds, nil
	}
	var creds []Credential
	for _, u := range Users {
		pw := directory.GeneratePassword()
		_, err := dir.AddAccount(ctx, u, pw, "")
		if errors.Is(err, directory.ErrExists) {
			err = dir.SetPassword(ctx, u, pw)
		}
		if err != nil {
			return nil, err
		}
		creds = append(creds, Credential{u, pw})
	}
	var b strings.Builder
	for _, c := range creds {
		fmt.Fprintf(&b, "%s %s\n", c.User, c.Password)
	}
	if err := os.WriteFile(credsPath, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	return creds, nil
}

func readCredentials(path string) ([]Credential, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var creds []Credential
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if u, p, ok := strings.Cut(sc.Text(), " "); ok {
			creds = append(creds, Credential{u, p})
		}
	}
	if len(creds) == 0 {
		return nil, errors.New("no credentials")
	}
	return creds, sc.Err()
}

// Print writes the connection details a newcomer needs.
func (r *Result) Print(w io.Writer) {
	l := r.Config.Listen
	fmt.Fprintf(w, "\nRookery quickstart: data in %s (config %s)\n\n", r.Config.DataDir, r.ConfigPath)
	fmt.Fprintf(w, "  SMTP (MX)    %s   no auth; mail for @%s\n", l.MX, Domain)
	fmt.Fprintf(w, "  submission   %s   STARTTLS + AUTH PLAIN/LOGIN (self-signed certificate)\n", l.Submission)
	fmt.Fprintf(w, "  submissions  %s   implicit TLS + AUTH\n", l.Submissions)
	fmt.Fprintf(w, "  LMTP         %s   for front ends and other MTAs\n", l.LMTP)
	fmt.Fprintf(w, "  IMAP         %s   STARTTLS (self-signed certificate)\n", l.IMAP)
	fmt.Fprintf(w, "  IMAPS        %s\n", l.IMAPS)
	fmt.Fprintf(w, "  POP3         %s   STLS (self-signed certificate)\n", l.POP3)
	fmt.Fprintf(w, "  POP3S        %s\n", l.POP3S)
	fmt.Fprintf(w, "  metrics      http://%s/metrics   health: http://%s/healthz\n\n", l.HTTP, l.HTTP)
	for _, c := range r.Credentials {
		fmt.Fprintf(w, "  user %-22s password %s\n", c.User, c.Password)
	}
	fmt.Fprintf(w, "\n  (passwords are also in %s)\n", filepath.Join(r.Config.DataDir, "credentials.txt"))
	fmt.Fprintf(w, "  try: swaks --server %s --to %s --from you@elsewhere.test\n\n", l.MX, Users[0])
}
