package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/rookery-mail/rookery/internal/directory"
)

// Engine names. "sqlite" is the embedded default: files under data_dir,
// no other server. "postgres" keeps metadata in PostgreSQL (the shared
// [postgres] dsn unless the section gives its own) so several nodes can
// use it.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// DefaultMailstore is the one mailstore of a node whose config names none.
const DefaultMailstore = directory.DefaultMailstore

// Postgres is the connection every postgres engine uses by default.
type Postgres struct {
	// DSN is a libpq connection string or URL
	// ("postgres://rookery:secret@db1:5432/rookery?sslmode=verify-full").
	DSN string `toml:"dsn"`
}

// S3 is the object store that "s3://bucket/prefix" blob locations name.
type S3 struct {
	Endpoint  string `toml:"endpoint"` // host:port
	Region    string `toml:"region"`
	AccessKey string `toml:"access_key"`
	SecretKey string `toml:"secret_key"`
	// Insecure talks plain HTTP: only for a server on loopback or a
	// private network the node trusts.
	Insecure bool `toml:"insecure"`
	// CreateBucket creates a missing bucket at startup instead of
	// refusing to start.
	CreateBucket bool `toml:"create_bucket"`
}

// Directory selects the directory engine.
type Directory struct {
	Engine string `toml:"engine"` // sqlite (data_dir/directory.db) or postgres
	DSN    string `toml:"dsn"`    // postgres: default [postgres] dsn
	Schema string `toml:"schema"` // postgres: default "directory"
}

// MailstoreEngine is one named mailstore ([[mailstores]]): where its
// metadata and its message bodies live. A node opens every one it lists.
type MailstoreEngine struct {
	Name   string `toml:"name"`
	Engine string `toml:"engine"` // sqlite (data_dir/mailstores/NAME/store.db) or postgres
	DSN    string `toml:"dsn"`    // postgres: default [postgres] dsn
	Schema string `toml:"schema"` // postgres: default "store_NAME"
	// Blobs is where message bodies go: "fs:DIR" (relative to data_dir;
	// default mailstores/NAME/blobs) or "s3://bucket/prefix" on [s3].
	Blobs string `toml:"blobs"`
}

// BlobLocation is a parsed blobs value.
type BlobLocation struct {
	Dir            string // fs: an absolute directory
	Bucket, Prefix string // s3
}

// ParseBlobs parses a blobs value; dir resolves a relative fs: path.
func ParseBlobs(v string, dir func(string) string) (BlobLocation, error) {
	switch {
	case strings.HasPrefix(v, "fs:"):
		p := strings.TrimPrefix(v, "fs:")
		if p == "" {
			return BlobLocation{}, fmt.Errorf("expected fs:DIRECTORY, got %q", v)
		}
		return BlobLocation{Dir: dir(p)}, nil
	case strings.HasPrefix(v, "s3://"):
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Contains(u.Path, "//") {
			return BlobLocation{}, fmt.Errorf("expected s3://BUCKET/PREFIX, got %q", v)
		}
		return BlobLocation{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/")}, nil
	}
	return BlobLocation{}, fmt.Errorf("expected fs:DIRECTORY or s3://BUCKET/PREFIX, got %q", v)
}

// Blobs returns where the mailstore's bodies live.
func (c *Config) Blobs(m MailstoreEngine) (BlobLocation, error) { return ParseBlobs(m.Blobs, c.Path) }

// StoreNames lists the mailstores this node opens, in config order.
func (c *Config) StoreNames() []string {
	names := make([]string, len(c.Mailstores))
	for i, m := range c.Mailstores {
		names[i] = m.Name
	}
	return names
}

// MailstoreEngineOf returns the [[mailstores]] entry named name.
func (c *Config) MailstoreEngineOf(name string) (MailstoreEngine, bool) {
	for _, m := range c.Mailstores {
		if m.Name == name {
			return m, true
		}
	}
	return MailstoreEngine{}, false
}

// applyEngineDefaults fills engines left out: everything embedded.
func (c *Config) applyEngineDefaults() {
	if c.Directory.Engine == "" {
		c.Directory.Engine = EngineSQLite
	}
	if c.Directory.Engine == EnginePostgres {
		c.Directory.DSN = or(c.Directory.DSN, c.Postgres.DSN)
		c.Directory.Schema = or(c.Directory.Schema, "directory")
	}
	if len(c.Mailstores) == 0 {
		c.Mailstores = []MailstoreEngine{{Name: DefaultMailstore}}
	}
	for i := range c.Mailstores {
		m := &c.Mailstores[i]
		m.Engine = or(m.Engine, EngineSQLite)
		m.Blobs = or(m.Blobs, "fs:mailstores/"+m.Name+"/blobs")
		if m.Engine == EnginePostgres {
			m.DSN = or(m.DSN, c.Postgres.DSN)
			m.Schema = or(m.Schema, "store_"+strings.ReplaceAll(m.Name, "-", "_"))
		}
	}
	if c.Queue.Engine == "" {
		c.Queue.Engine = EngineSQLite
	}
	if c.Queue.Engine == EnginePostgres {
		c.Queue.DSN = or(c.Queue.DSN, c.Postgres.DSN)
		c.Queue.Schema = or(c.Queue.Schema, "queue")
	}
}

// validateEngines checks the engine sections; bad reports one key.
func (c *Config) validateEngines(bad func(key, format string, args ...any)) {
	engine := func(key, v string, allowed ...string) bool {
		if !contains(allowed, v) {
			bad(key, "expected %s, got %q", strings.Join(allowed, " or "), v)
			return false
		}
		return true
	}
	needDSN := func(key, dsn string) {
		if dsn == "" {
			bad(key, "the postgres engine needs a dsn here or in [postgres]")
		}
	}
	if engine("directory.engine", c.Directory.Engine, EngineSQLite, EnginePostgres) && c.Directory.Engine == EnginePostgres {
		needDSN("directory.dsn", c.Directory.DSN)
	}
	seen := map[string]bool{}
	usesS3 := false
	for i, m := range c.Mailstores {
		key := fmt.Sprintf("mailstores[%d]", i)
		if directory.CheckStoreName(m.Name) != nil {
			bad(key+".name", "expected a name of lower-case letters, digits, - and _ (at most 40), got %q", m.Name)
		}
		if seen[m.Name] {
			bad(key+".name", "%q is listed twice", m.Name)
		}
		seen[m.Name] = true
		if engine(key+".engine", m.Engine, EngineSQLite, EnginePostgres) && m.Engine == EnginePostgres {
			needDSN(key+".dsn", m.DSN)
		}
		loc, err := c.Blobs(m)
		if err != nil {
			bad(key+".blobs", "%v", err)
		}
		usesS3 = usesS3 || loc.Bucket != ""
	}
	if engine("queue.engine", c.Queue.Engine, EngineSQLite, EnginePostgres) && c.Queue.Engine == EnginePostgres {
		needDSN("queue.dsn", c.Queue.DSN)
		// A queue shared by nodes keeps bodies where every node reads them.
		loc, err := ParseBlobs(c.Queue.Bodies, c.Path)
		switch {
		case err != nil:
			bad("queue.bodies", "the postgres queue needs s3://BUCKET/PREFIX: %v", err)
		case loc.Bucket == "":
			bad("queue.bodies", "the postgres queue needs s3://BUCKET/PREFIX (every node must read the bodies), got %q", c.Queue.Bodies)
		}
		usesS3 = true
	}
	if usesS3 {
		if _, _, err := net.SplitHostPort(c.S3.Endpoint); err != nil {
			bad("s3.endpoint", "an s3:// location needs the server's host:port, got %q", c.S3.Endpoint)
		}
		if c.S3.AccessKey == "" || c.S3.SecretKey == "" {
			bad("s3", "access_key and secret_key are required for s3:// locations")
		}
	}
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Embedded reports whether every engine keeps its data in data_dir's
// standard layout (what `rookery backup` copies).
func (c *Config) Embedded() bool {
	if c.Directory.Engine != EngineSQLite || c.Queue.Engine != EngineSQLite {
		return false
	}
	for _, m := range c.Mailstores {
		if m.Engine != EngineSQLite || m.Blobs != "fs:mailstores/"+m.Name+"/blobs" {
			return false
		}
	}
	return true
}
