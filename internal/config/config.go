// Package config loads Rookery's TOML configuration. Decoding is strict:
// an unknown key or a bad value is an error naming the key and what is
// expected. Defaults live in one place (applyDefaults).
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// Config is the whole configuration of a node.
type Config struct {
	// Hostname is this node's name in SMTP greetings and Received headers.
	Hostname string `toml:"hostname"`
	// DataDir holds the directory, mailstores, queue and certificates.
	DataDir string `toml:"data_dir"`
	// Node is this node's name in a cluster; default: hostname.
	Node string `toml:"node"`
	// Roles this node runs; empty means all of them.
	Roles []string `toml:"roles"`
	// DefaultDomain completes a login name without "@domain" (Dovecot's
	// auth_default_realm), for clients configured with bare user names.
	DefaultDomain string `toml:"default_domain"`
	// Postmaster is the account (an administrator's) that receives
	// postmaster@ and abuse@ of every local domain without its own, and
	// RCPT TO:<Postmaster> (RFC 5321 §4.5.1). Empty: nobody does.
	Postmaster string `toml:"postmaster"`

	Listen     Listen     `toml:"listen"`
	TLS        TLS        `toml:"tls"`
	SMTP       SMTP       `toml:"smtp"`
	Submission Submission `toml:"submission"`
	LMTP       LMTP       `toml:"lmtp"`
	Outbound   Outbound   `toml:"outbound"`
	Queue      Queue      `toml:"queue"`
	IMAP       IMAP       `toml:"imap"`
	POP3       POP3       `toml:"pop3"`
	Auth       Auth       `toml:"auth"`
	Mailstore  Mailstore  `toml:"mailstore"`
	// Engines: where the directory, each mailstore and the queue keep
	// their data (engines.go); by default all embedded under data_dir.
	Directory  Directory         `toml:"directory"`
	Mailstores []MailstoreEngine `toml:"mailstores"`
	Postgres   Postgres          `toml:"postgres"`
	S3         S3                `toml:"s3"`
	Storage    Storage           `toml:"storage"`
	Cluster    Cluster           `toml:"cluster"`
	Log        Log               `toml:"log"`
}

// Listen has one address per listener; an empty address disables it.
type Listen struct {
	MX          string `toml:"mx"`
	Submission  string `toml:"submission"`
	Submissions string `toml:"submissions"`
	LMTP        string `toml:"lmtp"`
	IMAP        string `toml:"imap"`
	IMAPS       string `toml:"imaps"`
	POP3        string `toml:"pop3"`
	POP3S       string `toml:"pop3s"`
	HTTP        string `toml:"http"`
	// ProxyFrom lists the load balancers' networks: a connection from one
	// of them, on any listener, must start with a PROXY protocol header
	// (HAProxy v1 or v2), whose client address is then the connection's
	// for logs, per-IP limits and the login throttle. Others connect
	// directly and cannot claim an address.
	ProxyFrom []netip.Prefix `toml:"proxy_from"`
}

// TLS names the certificate served by every TLS listener and STARTTLS.
type TLS struct {
	Cert string `toml:"cert"` // PEM file, relative to DataDir if not absolute
	Key  string `toml:"key"`
}

// SMTP configures the MX role.
type SMTP struct {
	MaxMessageSize int64    `toml:"max_message_size"` // bytes
	MaxRecipients  int      `toml:"max_recipients"`
	ReadTimeout    Duration `toml:"read_timeout"`
	WriteTimeout   Duration `toml:"write_timeout"`
	// MaxConnectionsPerIP (default 20) and MaxConnections (default 0:
	// half the RLIMIT_NOFILE soft limit) bound the connections of all SMTP
	// listeners together (MX, submission, LMTP); GreetingTimeout (default
	// 30s) is how long a client may take to send EHLO/HELO/LHLO.
	MaxConnectionsPerIP int      `toml:"max_connections_per_ip"`
	MaxConnections      int      `toml:"max_connections"`
	GreetingTimeout     Duration `toml:"greeting_timeout"`
	// PerIPExempt are networks without the per-IP bound (default
	// loopback, as Postfix exempts $mynetworks): local webmail, relays
	// and benchmarks. They still count toward MaxConnections.
	PerIPExempt []netip.Prefix `toml:"max_connections_per_ip_exempt"`
}

// Submission configures the submission role (587/465).
type Submission struct {
	// AllowInsecureAuth offers AUTH on 587 before STARTTLS. Off by default:
	// passwords only travel encrypted.
	AllowInsecureAuth bool `toml:"allow_insecure_auth"`
}

// LMTP configures the mailstore role's LMTP listener.
type LMTP struct {
	// IdempotencyPeers are the networks of the Rookery nodes that deliver
	// here; their MAIL FROM ENVID (their queue id) keys the delivery, so a
	// retry after a lost reply stores nothing twice. Empty (the default):
	// no client's ENVID is trusted, as a relay passes on the original
	// sender's, which need not be unique.
	IdempotencyPeers []netip.Prefix `toml:"idempotency_peers"`
}

// Outbound configures delivery to other systems.
type Outbound struct {
	// Resolver is a DNS server (host:port) for MX lookups; empty means the
	// system resolver.
	Resolver string `toml:"resolver"`
	// Port is the SMTP port of remote hosts: 25 on the Internet; tests and
	// labs use others.
	Port int `toml:"port"`
}

// Queue is the retry and notification schedule (Postfix's backoff times,
// maximal_queue_lifetime and delay_warning_time). Empty means the defaults:
// 5m, 10m, 20m, 40m then hourly; 5 days; a warning after 4h.
type Queue struct {
	Engine string `toml:"engine"` // sqlite (data_dir/queue/queue.db) or postgres
	DSN    string `toml:"dsn"`    // postgres: default [postgres] dsn
	Schema string `toml:"schema"` // postgres: default "queue"
	// Bodies is where the postgres queue keeps message bodies:
	// "s3://bucket/prefix" on [s3].
	Bodies string `toml:"bodies"`
	// ClaimTTL is how long a runner's claim on due mail lasts (default
	// 10m): a node that dies holding claims delays that mail by at most
	// this long before another node takes it over.
	ClaimTTL Duration `toml:"claim_ttl"`

	Retry        []Duration `toml:"retry"`
	MaxAge       Duration   `toml:"max_age"`
	DelayWarning Duration   `toml:"delay_warning"`
}

// IMAP configures the IMAP role.
type IMAP struct {
	// AllowInsecureAuth permits plaintext LOGIN without TLS from
	// non-loopback clients. Loopback is always allowed, as in Dovecot.
	AllowInsecureAuth bool     `toml:"allow_insecure_auth"`
	MaxLiteralSize    int64    `toml:"max_literal_size"`
	IdleTimeout       Duration `toml:"idle_timeout"`
	// MaxSessionsPerIP (default 100) and MaxUserIPSessions (default 10,
	// as Dovecot's mail_max_userip_connections) bound concurrent sessions.
	MaxSessionsPerIP  int `toml:"max_sessions_per_ip"`
	MaxUserIPSessions int `toml:"max_userip_sessions"`
	// Compress offers COMPRESS=DEFLATE (RFC 4978). Off by default: mbsync
	// pushing 300 messages of 2-50 KB over it times out (bench clients
	// step), while small syncs work; see internal/imap/compress.go.
	Compress bool `toml:"compress"`
}

// POP3 configures the POP3 role.
type POP3 struct {
	// AllowInsecureAuth permits plaintext USER/PASS and AUTH without TLS
	// from non-loopback clients. Loopback is always allowed, as in Dovecot.
	AllowInsecureAuth bool `toml:"allow_insecure_auth"`
}

// Auth is the login throttling shared by IMAP, POP3 and submission:
// failed logins allowed an hour before attempts are delayed (doubling from
// 1 s to 15 min), per account from one address, per address and per
// account. Addresses the account logged in from before pass the latter
// two. See internal/authlimit.
type Auth struct {
	FailuresPerAccountAddress int `toml:"failures_per_account_address"` // default 5
	FailuresPerAddress        int `toml:"failures_per_address"`         // default 60
	FailuresPerAccount        int `toml:"failures_per_account"`         // default 100
}

// Mailstore configures the embedded mailstores.
type Mailstore struct {
	// MaxMailboxes bounds the mailboxes of one account (default 10000),
	// so one user cannot grow the store without end.
	MaxMailboxes int `toml:"max_mailboxes"`
	// GCInterval is how often message bodies no message references any
	// more are collected (default 1h); GCGrace is how long such a body is
	// kept first (default 1h, at least 1m), so a delivery of the same
	// bytes that is between writing its body and committing keeps it.
	GCInterval Duration `toml:"gc_interval"`
	GCGrace    Duration `toml:"gc_grace"`
	// GCSweepInterval is how often the whole blob store is walked for
	// bodies no message uses that a crash left unlisted (default 168h);
	// its cost grows with the number of stored messages.
	GCSweepInterval Duration `toml:"gc_sweep_interval"`
}

// Log configures logging.
type Log struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// Duration is a time.Duration written as a string ("30m") in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("expected a duration such as \"30s\" or \"5m\", got %q", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration back as a string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Load reads and validates a config file. A relative data_dir is relative
// to the file's directory.
func Load(path string) (*Config, error) {
	var c Config
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, fmt.Errorf("config %s: %s", path, perr.ErrorWithPosition())
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		keys := make([]string, len(un))
		for i, k := range un {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("config %s: unknown key(s): %s", path, strings.Join(keys, ", "))
	}
	if c.DataDir != "" && !filepath.IsAbs(c.DataDir) {
		abs, err := filepath.Abs(filepath.Join(filepath.Dir(path), c.DataDir))
		if err != nil {
			return nil, err
		}
		c.DataDir = abs
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return &c, nil
}

// AllRoles are the roles a node can run.
var AllRoles = []string{"mx", "submission", "outbound", "mailstore", "imap", "pop3", "web", "intel"}

func (c *Config) applyDefaults() {
	if c.Hostname == "" {
		c.Hostname, _ = os.Hostname()
	}
	if len(c.Roles) == 0 {
		c.Roles = AllRoles
	}
	if c.SMTP.MaxMessageSize == 0 {
		c.SMTP.MaxMessageSize = 50 << 20
	}
	if c.SMTP.MaxRecipients == 0 {
		c.SMTP.MaxRecipients = 100
	}
	if c.SMTP.ReadTimeout.Duration == 0 {
		c.SMTP.ReadTimeout.Duration = 5 * time.Minute
	}
	if c.SMTP.WriteTimeout.Duration == 0 {
		c.SMTP.WriteTimeout.Duration = 5 * time.Minute
	}
	if c.SMTP.MaxConnectionsPerIP == 0 {
		c.SMTP.MaxConnectionsPerIP = 20
	}
	if c.SMTP.PerIPExempt == nil {
		c.SMTP.PerIPExempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	if c.SMTP.GreetingTimeout.Duration == 0 {
		c.SMTP.GreetingTimeout.Duration = 30 * time.Second
	}
	if c.Outbound.Port == 0 {
		c.Outbound.Port = 25
	}
	if c.Mailstore.MaxMailboxes == 0 {
		c.Mailstore.MaxMailboxes = mailstore.DefaultMaxMailboxes
	}
	if c.Mailstore.GCInterval.Duration == 0 {
		c.Mailstore.GCInterval.Duration = time.Hour
	}
	if c.Mailstore.GCGrace.Duration == 0 {
		c.Mailstore.GCGrace.Duration = time.Hour
	}
	if c.Mailstore.GCSweepInterval.Duration == 0 {
		c.Mailstore.GCSweepInterval.Duration = 7 * 24 * time.Hour
	}
	if c.IMAP.MaxLiteralSize == 0 {
		c.IMAP.MaxLiteralSize = 50 << 20
	}
	if c.IMAP.IdleTimeout.Duration == 0 {
		c.IMAP.IdleTimeout.Duration = 30 * time.Minute
	}
	if c.Auth.FailuresPerAccountAddress == 0 {
		c.Auth.FailuresPerAccountAddress = 5
	}
	if c.Auth.FailuresPerAddress == 0 {
		c.Auth.FailuresPerAddress = 60
	}
	if c.Auth.FailuresPerAccount == 0 {
		c.Auth.FailuresPerAccount = 100
	}
	c.applyEngineDefaults()
	c.applyClusterDefaults()
	if c.Queue.ClaimTTL.Duration == 0 {
		c.Queue.ClaimTTL.Duration = 10 * time.Minute
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
}

// Validate checks values and says, per key, what is expected.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.DataDir == "" {
		bad("data_dir", "required: the directory for mail, queue and databases")
	}
	if c.Hostname == "" || strings.ContainsAny(c.Hostname, " \t/@") {
		bad("hostname", "expected a DNS host name, got %q", c.Hostname)
	}
	if strings.ContainsAny(c.DefaultDomain, "@ \t") {
		bad("default_domain", "expected a domain name such as \"example.org\", got %q", c.DefaultDomain)
	}
	if _, err := directory.NormalizeAddress(c.Postmaster); c.Postmaster != "" && err != nil {
		bad("postmaster", "expected an account's address such as \"admin@example.org\", got %q", c.Postmaster)
	}
	for _, r := range c.Roles {
		if !contains(AllRoles, r) {
			bad("roles", "unknown role %q; expected some of %s", r, strings.Join(AllRoles, ", "))
		}
	}
	for key, addr := range c.Listen.byKey() {
		if addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad("listen."+key, "expected host:port, got %q", addr)
		}
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		bad("tls", "cert and key must be given together")
	}
	if c.SMTP.MaxMessageSize < 1024 {
		bad("smtp.max_message_size", "expected a size in bytes of at least 1024, got %d", c.SMTP.MaxMessageSize)
	}
	if c.SMTP.MaxRecipients < 1 {
		bad("smtp.max_recipients", "expected at least 1, got %d", c.SMTP.MaxRecipients)
	}
	if c.SMTP.MaxConnectionsPerIP < 0 {
		bad("smtp.max_connections_per_ip", "expected a number of connections, got %d", c.SMTP.MaxConnectionsPerIP)
	}
	if c.SMTP.MaxConnections < 0 {
		bad("smtp.max_connections", "expected a number of connections (0: half the open-file limit), got %d", c.SMTP.MaxConnections)
	}
	if c.Outbound.Port < 1 || c.Outbound.Port > 65535 {
		bad("outbound.port", "expected a TCP port, got %d", c.Outbound.Port)
	}
	if c.Outbound.Resolver != "" {
		if _, _, err := net.SplitHostPort(c.Outbound.Resolver); err != nil {
			bad("outbound.resolver", "expected host:port of a DNS server, got %q", c.Outbound.Resolver)
		}
	}
	for _, d := range c.Queue.Retry {
		if d.Duration <= 0 {
			bad("queue.retry", "expected positive durations such as [\"5m\", \"10m\", \"1h\"], got %v", d)
		}
	}
	if c.Queue.ClaimTTL.Duration < 5*time.Second {
		bad("queue.claim_ttl", "expected at least 5s (a claim must outlast a delivery attempt), got %s", c.Queue.ClaimTTL)
	}
	if c.Queue.MaxAge.Duration < 0 {
		bad("queue.max_age", "expected a positive duration such as \"120h\", got %v", c.Queue.MaxAge)
	}
	if c.IMAP.MaxLiteralSize < 1024 {
		bad("imap.max_literal_size", "expected a size in bytes of at least 1024, got %d", c.IMAP.MaxLiteralSize)
	}
	for _, b := range []struct {
		key string
		n   int
	}{{"failures_per_account_address", c.Auth.FailuresPerAccountAddress},
		{"failures_per_address", c.Auth.FailuresPerAddress}, {"failures_per_account", c.Auth.FailuresPerAccount}} {
		if b.n < 1 {
			bad("auth."+b.key, "expected failed logins an hour, at least 1, got %d", b.n)
		}
	}
	if c.Mailstore.MaxMailboxes < 1 {
		bad("mailstore.max_mailboxes", "expected at least 1, got %d", c.Mailstore.MaxMailboxes)
	}
	if c.Mailstore.GCInterval.Duration < 0 {
		bad("mailstore.gc_interval", "expected a positive duration, got %s", c.Mailstore.GCInterval)
	}
	if c.Mailstore.GCSweepInterval.Duration < c.Mailstore.GCInterval.Duration {
		bad("mailstore.gc_sweep_interval", "expected at least gc_interval (%s), got %s", c.Mailstore.GCInterval, c.Mailstore.GCSweepInterval)
	}
	if c.Mailstore.GCGrace.Duration < time.Minute {
		bad("mailstore.gc_grace", "expected at least 1m (a shorter grace can delete a body a delivery is about to use), got %s", c.Mailstore.GCGrace)
	}
	c.validateEngines(bad)
	c.validateCluster(bad)
	if !contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level", "expected debug, info, warn or error, got %q", c.Log.Level)
	}
	if !contains([]string{"text", "json"}, c.Log.Format) {
		bad("log.format", "expected text or json, got %q", c.Log.Format)
	}
	return errors.Join(errs...)
}

func (l Listen) byKey() map[string]string {
	return map[string]string{
		"mx": l.MX, "submission": l.Submission, "submissions": l.Submissions, "lmtp": l.LMTP,
		"imap": l.IMAP, "imaps": l.IMAPS, "pop3": l.POP3, "pop3s": l.POP3S, "http": l.HTTP,
	}
}

// HasRole reports whether the node runs role.
func (c *Config) HasRole(role string) bool { return contains(c.Roles, role) }

// Path resolves p relative to the data dir.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.DataDir, p)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
