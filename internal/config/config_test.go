package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rookery.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMinimalConfigGetsDefaults(t *testing.T) {
	c, err := Load(write(t, "hostname = \"mx.example.test\"\ndata_dir = \"data\"\n[listen]\nmx = \"127.0.0.1:2525\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(c.DataDir) || c.SMTP.MaxMessageSize != 50<<20 || c.IMAP.IdleTimeout.Minutes() != 30 {
		t.Fatalf("defaults not applied: %+v", c)
	}
	if a := c.Auth; a.FailuresPerAccountAddress != 5 || a.FailuresPerAddress != 60 || a.FailuresPerAccount != 100 {
		t.Fatalf("auth defaults not applied: %+v", a)
	}
	if c.Mailstore.MaxMailboxes != 10000 {
		t.Errorf("mailstore.max_mailboxes = %d, want 10000", c.Mailstore.MaxMailboxes)
	}
	if m := c.Mailstore; m.GCInterval.Duration != time.Hour || m.GCGrace.Duration != time.Hour || m.GCSweepInterval.Duration != 168*time.Hour {
		t.Errorf("mailstore gc_interval, gc_grace, gc_sweep_interval = %s, %s, %s; want 1h, 1h, 168h", m.GCInterval, m.GCGrace, m.GCSweepInterval)
	}
	if !c.HasRole("mx") || !c.HasRole("imap") {
		t.Fatalf("all roles expected by default, got %v", c.Roles)
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"hostname = \"h\"\ndata_dir = \"d\"\nbogus = 1\n", "unknown key(s): bogus"},
		{"hostname = \"h\"\ndata_dir = \"d\"\n[smtp]\nmax_size = 1\n", "smtp.max_size"},
		{"hostname = \"h\"\ndata_dir = \"d\"\n[listen]\nimap = \"nope\"\n", "listen.imap: expected host:port"},
		{"hostname = \"h\"\ndata_dir = \"d\"\n[imap]\nidle_timeout = \"soon\"\n", "expected a duration"},
		{"hostname = \"h\"\ndata_dir = \"d\"\nroles = [\"mx\", \"dns\"]\n", "unknown role \"dns\""},
		{"hostname = \"h\"\n", "data_dir: required"},
		{"hostname = \"h\"\ndata_dir = \"d\"\n[smtp]\nmax_message_size = \"big\"\n", "max_message_size"},
		{"hostname = \"h\"\ndata_dir = \"d\"\n[log]\nlevel = \"loud\"\n", "log.level"},
		{"hostname = \"h\"\ndata_dir = \"d\"\n[auth]\nfailures_per_account = -1\n", "auth.failures_per_account: expected failed logins an hour"},
		{"hostname = \"h\"\ndata_dir = \"d\"\n[mailstore]\nmax_mailboxes = -1\n", "mailstore.max_mailboxes: expected at least 1"},
		{"hostname = \"h\"\ndata_dir = \"d\"\n[mailstore]\ngc_grace = \"10s\"\n", "mailstore.gc_grace: expected at least 1m"},
		{"hostname = \"h\"\ndata_dir = \"d\"\n[mailstore]\ngc_interval = \"-1h\"\n", "mailstore.gc_interval: expected a positive duration"},
		{"hostname = \"h\"\ndata_dir = \"d\"\n[mailstore]\ngc_interval = \"2h\"\ngc_sweep_interval = \"1h\"\n", "mailstore.gc_sweep_interval: expected at least gc_interval"},
		{"hostname = \"h\"\ndata_dir = \"d\"\npostmaster = \"admin\"\n", "postmaster: expected an account's address"},
	} {
		_, err := Load(write(t, tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config %q: error %v, want it to mention %q", tc.body, err, tc.want)
		}
	}
}
