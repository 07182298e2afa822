package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestEnginesDefault: a config naming no engine is the embedded node: a
// SQLite directory and queue, and one SQLite mailstore "default" with its
// bodies under data_dir.
func TestEnginesDefault(t *testing.T) {
	c, err := Load(write(t, "hostname = \"h\"\ndata_dir = \"d\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Directory.Engine != EngineSQLite || c.Queue.Engine != EngineSQLite {
		t.Fatalf("directory %q queue %q, want sqlite", c.Directory.Engine, c.Queue.Engine)
	}
	if len(c.Mailstores) != 1 || c.Mailstores[0].Name != DefaultMailstore || c.Mailstores[0].Engine != EngineSQLite {
		t.Fatalf("mailstores %+v", c.Mailstores)
	}
	loc, err := c.Blobs(c.Mailstores[0])
	if err != nil || loc.Dir != filepath.Join(c.DataDir, "mailstores", "default", "blobs") {
		t.Fatalf("default blobs %+v, %v", loc, err)
	}
}

// TestEnginesPostgresS3: postgres engines take [postgres] dsn unless they
// name their own; s3:// locations use [s3].
func TestEnginesPostgresS3(t *testing.T) {
	c, err := Load(write(t, `hostname = "h"
data_dir = "d"
[postgres]
dsn = "postgres://db/rookery"
[s3]
endpoint = "127.0.0.1:9000"
access_key = "a"
secret_key = "s"
insecure = true
[directory]
engine = "postgres"
[queue]
engine = "postgres"
bodies = "s3://mail/queue"
[[mailstores]]
name = "store-1"
engine = "postgres"
blobs = "s3://mail/store-1/"
[[mailstores]]
name = "local"
dsn = "ignored for sqlite"
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Directory.DSN != "postgres://db/rookery" || c.Directory.Schema != "directory" {
		t.Fatalf("directory %+v", c.Directory)
	}
	if c.Queue.DSN != "postgres://db/rookery" || c.Queue.Schema != "queue" {
		t.Fatalf("queue %+v", c.Queue)
	}
	m, ok := c.MailstoreEngineOf("store-1")
	if !ok || m.Schema != "store_store_1" || m.DSN != "postgres://db/rookery" {
		t.Fatalf("store-1 %+v", m)
	}
	if loc, err := c.Blobs(m); err != nil || loc.Bucket != "mail" || loc.Prefix != "store-1" {
		t.Fatalf("store-1 blobs %+v, %v", loc, err)
	}
	if got := strings.Join(c.StoreNames(), ","); got != "store-1,local" {
		t.Fatalf("store names %s", got)
	}
}

// TestEnginesInvalid: each mistake is reported against its key.
func TestEnginesInvalid(t *testing.T) {
	for _, tc := range []struct{ body, key string }{
		{"[directory]\nengine = \"mysql\"\n", "directory.engine"},
		{"[directory]\nengine = \"postgres\"\n", "directory.dsn"},
		{"[[mailstores]]\nname = \"Bad Name\"\n", "mailstores[0].name"},
		{"[[mailstores]]\nname = \"a\"\n[[mailstores]]\nname = \"a\"\n", "mailstores[1].name"},
		{"[[mailstores]]\nname = \"a\"\nblobs = \"nfs:/x\"\n", "mailstores[0].blobs"},
		{"[[mailstores]]\nname = \"a\"\nblobs = \"s3://b/p\"\n", "s3.endpoint"},
		{"[queue]\nengine = \"postgres\"\ndsn = \"postgres://db\"\n", "queue.bodies"},
		{"[queue]\nengine = \"postgres\"\ndsn = \"postgres://db\"\nbodies = \"fs:q\"\n", "queue.bodies"},
	} {
		_, err := Load(write(t, "hostname = \"h\"\ndata_dir = \"d\"\n"+tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%q: error %v, want one naming %s", tc.body, err, tc.key)
		}
	}
}

func TestParseBlobs(t *testing.T) {
	for _, tc := range []struct{ in, bucket, prefix string }{
		{"s3://mail", "mail", ""},
		{"s3://mail/", "mail", ""},
		{"s3://mail/node1/blobs/", "mail", "node1/blobs"},
	} {
		loc, err := ParseBlobs(tc.in, nil)
		if err != nil || loc.Bucket != tc.bucket || loc.Prefix != tc.prefix {
			t.Errorf("ParseBlobs(%q) = %+v, %v; want %q, %q", tc.in, loc, err, tc.bucket, tc.prefix)
		}
	}
	for _, in := range []string{"", "mail/x", "http://mail/x", "s3:///x", "s3://u@mail/x", "s3://mail/x?y=1", "s3://mail/a//b", "fs:"} {
		if _, err := ParseBlobs(in, nil); err == nil {
			t.Errorf("ParseBlobs(%q) succeeded", in)
		}
	}
}
