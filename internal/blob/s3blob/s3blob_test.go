package s3blob

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/rookery-mail/rookery/internal/blob"
	"github.com/rookery-mail/rookery/internal/blob/blobtest"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// env is one test's store on a fresh bucket of the test S3 server, with a
// plain client on the same bucket to look behind the store's back.
type env struct {
	s                *Store
	c                *minio.Client
	endpoint, ak, sk string
	bucket           string
	spoolDir         string
}

const testPrefix = "mail/store1"

func newEnv(t *testing.T) env {
	t.Helper()
	endpoint, bucket, ak, sk := testsvc.S3(t)
	spoolDir := t.TempDir()
	s, err := Open(context.Background(), Config{
		Endpoint: endpoint, Region: "us-east-1", AccessKey: ak, SecretKey: sk,
		Bucket: bucket, Prefix: "/" + testPrefix + "/", SpoolDir: spoolDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := testsvc.S3Client(endpoint, ak, sk)
	if err != nil {
		t.Fatal(err)
	}
	return env{s: s, c: c, endpoint: endpoint, ak: ak, sk: sk, bucket: bucket, spoolDir: spoolDir}
}

// TestConformance runs the engine-neutral suite. After each case every
// object in the bucket must be a complete blob at its content address
// (nothing partial, no temporary objects), no multipart upload may be left
// open, and the spool directory must be empty.
func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) (blob.Store, func(*testing.T)) {
		e := newEnv(t)
		return e.s, e.assertClean
	})
}

func (e env) assertClean(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for obj := range e.c.ListObjects(ctx, e.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		id := obj.Key[strings.LastIndex(obj.Key, "/")+1:]
		if !blob.ValidID(id) || obj.Key != e.s.blobKey(id) {
			t.Errorf("object %q is not a blob at its address", obj.Key)
			continue
		}
		o, err := e.c.GetObject(ctx, e.bucket, obj.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(o)
		o.Close()
		if err != nil {
			t.Fatal(err)
		}
		if blob.ID(b) != id {
			t.Errorf("object %q holds other bytes (%d)", obj.Key, len(b))
		}
	}
	for u := range e.c.ListIncompleteUploads(ctx, e.bucket, "", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		t.Errorf("multipart upload left open: %s", u.Key)
	}
	if ents, err := os.ReadDir(e.spoolDir); err != nil || len(ents) != 0 {
		t.Errorf("spool dir: %v, %d entries left", err, len(ents))
	}
}

// TestOpenMissingBucket: a misconfigured bucket fails Open, unless the
// store is told to create it.
func TestOpenMissingBucket(t *testing.T) {
	endpoint, bucket, ak, sk := testsvc.S3(t)
	cfg := Config{Endpoint: endpoint, Region: "us-east-1", AccessKey: ak, SecretKey: sk, Bucket: bucket + "-x"}
	ctx := context.Background()
	if _, err := Open(ctx, cfg); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Open of a missing bucket = %v, want a does-not-exist error", err)
	}
	bad := cfg
	bad.Prefix = "a/../b"
	if _, err := Open(ctx, bad); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("Open with prefix %q = %v, want ErrInvalidKey", bad.Prefix, err)
	}
	cfg.CreateBucket = true
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.core.RemoveBucket(context.Background(), cfg.Bucket) })
	if _, err := Open(ctx, Config{Endpoint: endpoint, Region: "us-east-1", AccessKey: ak, SecretKey: "wrong", Bucket: bucket}); err == nil {
		t.Error("Open with a wrong secret succeeded")
	}
}

// TestLayout: blobs and keyed objects live under the prefix where the
// package doc says, so operators can find and list them.
func TestLayout(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, _, err := e.s.Put(ctx, strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.PutKey(ctx, "q/123", strings.NewReader("body")); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{testPrefix + "/blobs/" + id[:2] + "/" + id, testPrefix + "/keys/q/123"} {
		if _, err := e.c.StatObject(ctx, e.bucket, k, minio.StatObjectOptions{}); err != nil {
			t.Errorf("object %s: %v", k, err)
		}
	}
}

func TestKeyed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	readKey := func(key string) (string, error) {
		rc, err := e.s.OpenKey(ctx, key)
		if err != nil {
			return "", err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		return string(b), err
	}
	if n, err := e.s.PutKey(ctx, "queue/a1", strings.NewReader("first")); err != nil || n != 5 {
		t.Fatalf("PutKey = %d, %v", n, err)
	}
	if got, err := readKey("queue/a1"); err != nil || got != "first" {
		t.Fatalf("OpenKey = %q, %v", got, err)
	}
	// Replace, including by an empty body.
	if _, err := e.s.PutKey(ctx, "queue/a1", strings.NewReader("second, longer")); err != nil {
		t.Fatal(err)
	}
	if got, err := readKey("queue/a1"); err != nil || got != "second, longer" {
		t.Fatalf("after replace = %q, %v", got, err)
	}
	// A failing reader keeps the old object.
	if _, err := e.s.PutKey(ctx, "queue/a1", io.MultiReader(strings.NewReader("x"), errReader{})); err == nil {
		t.Fatal("PutKey from a failing reader succeeded")
	}
	if got, err := readKey("queue/a1"); err != nil || got != "second, longer" {
		t.Fatalf("after a failed replace = %q, %v", got, err)
	}
	if _, err := e.s.PutKey(ctx, "queue/a1", strings.NewReader("")); err != nil {
		t.Fatal(err)
	}
	if got, err := readKey("queue/a1"); err != nil || got != "" {
		t.Fatalf("after empty replace = %q, %v", got, err)
	}
	// Keyed objects and blobs do not see each other.
	if _, err := e.s.Open(ctx, blob.ID(nil)); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("a keyed object is readable as a blob: %v", err)
	}
	if err := e.s.DeleteKey(ctx, "queue/a1"); err != nil {
		t.Fatal(err)
	}
	if _, err := readKey("queue/a1"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("OpenKey after DeleteKey = %v, want ErrNotFound", err)
	}
	if err := e.s.DeleteKey(ctx, "queue/a1"); err != nil {
		t.Errorf("DeleteKey of a missing key = %v", err)
	}
	if _, err := readKey("never"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("OpenKey of a missing key = %v, want ErrNotFound", err)
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.s.PutKey(ctx2, "queue/c", strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("PutKey with a canceled context = %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestInvalidKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, key := range []string{"", "/a", "a/", "a//b", "..", "a/../b", "./a", "a\x00b", "a\nb", "a\\b", "\xff", strings.Repeat("k", maxKeyLen+1)} {
		if _, err := e.s.PutKey(ctx, key, strings.NewReader("x")); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("PutKey(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := e.s.OpenKey(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("OpenKey(%q) = %v, want ErrNotFound", key, err)
		}
		if err := e.s.DeleteKey(ctx, key); err != nil {
			t.Errorf("DeleteKey(%q) = %v", key, err)
		}
	}
	// Not "a" and "a/b": versitygw's POSIX backend cannot hold an object
	// and a "directory" of the same name.
	for _, key := range []string{"a", "b/c/d", "Q-1.2_x", "é"} {
		if _, err := e.s.PutKey(ctx, key, strings.NewReader("x")); err != nil {
			t.Errorf("PutKey(%q) = %v", key, err)
		}
	}
}

// TestCorruptUploadRefused: the server checks the body against the hash the
// upload carries, so bytes changed between hashing and sending are refused
// and nothing is stored.
func TestCorruptUploadRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sp := newSpool(ctx, e.spoolDir, 1<<20)
	if err := sp.fill(strings.NewReader("the real body")); err != nil {
		t.Fatal(err)
	}
	sp.mem.Bytes()[0] = 'T' // corrupted after hashing
	key := e.s.blobKey(blob.ID([]byte("the real body")))
	if err := e.s.upload(ctx, key, sp); err == nil {
		t.Fatal("upload of a body that does not match its hash succeeded")
	}
	if _, err := e.s.Open(ctx, blob.ID([]byte("the real body"))); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("a refused upload is readable: %v", err)
	}
}

// TestLargeStreams: a 40 MiB Put spools to disk instead of memory, so the
// bytes it allocates stay well under the body's size.
func TestLargeStreams(t *testing.T) {
	e := newEnv(t)
	const size = 40 << 20
	ctx := context.Background()
	var before, after runtimeStats
	before.read()
	id, n, err := e.s.Put(ctx, io.LimitReader(pattern{}, size))
	after.read()
	if err != nil || n != size {
		t.Fatalf("Put = %d, %v", n, err)
	}
	if grew := after.totalAlloc - before.totalAlloc; grew > size/4 {
		t.Errorf("a %d MiB Put allocated %d MiB", size>>20, grew>>20)
	} else {
		t.Logf("a %d MiB Put allocated %.1f MiB", size>>20, float64(grew)/(1<<20))
	}
	rc, err := e.s.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := blob.NewHasher()
	if m, err := io.Copy(h, rc); err != nil || m != size || h.ID() != id {
		t.Errorf("read back %d bytes, %v, id %s want %s", m, err, h.ID(), id)
	}
}

// pattern is an endless reader of bytes that do not repeat often.
type pattern struct{}

func (pattern) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i*7 + i>>8)
	}
	return len(p), nil
}

// TestOpenCreatesBucketConcurrently: nodes starting together all create
// the missing bucket; none fails because another one made it first.
func TestOpenCreatesBucketConcurrently(t *testing.T) {
	endpoint, bucket, ak, sk := testsvc.S3(t)
	cfg := Config{Endpoint: endpoint, Region: "us-east-1", AccessKey: ak, SecretKey: sk, Bucket: bucket + "-race", CreateBucket: true}
	errs := make(chan error, 8)
	for range 8 {
		go func() { _, err := Open(context.Background(), cfg); errs <- err }()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
	}
	c, err := testsvc.S3Client(endpoint, ak, sk)
	if err != nil {
		t.Fatal(err)
	}
	c.RemoveBucket(context.Background(), cfg.Bucket)
}
