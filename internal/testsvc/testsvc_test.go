package testsvc

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
)

// TestPostgres connects to a fresh database, creates a table and reads a row
// back; a second database in the same test proves databases are separate.
func TestPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := Postgres(t)
	t.Logf("PostgreSQL cluster started in %v", pg.started)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'x')"); err != nil {
		t.Fatal(err)
	}
	var v string
	if err := conn.QueryRow(ctx, "SELECT v FROM t WHERE id = 1").Scan(&v); err != nil || v != "x" {
		t.Fatalf("v = %q, %v", v, err)
	}

	start := time.Now()
	dsn2 := Postgres(t)
	t.Logf("second database ready in %v", time.Since(start))
	other, err := pgx.Connect(ctx, dsn2)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	var n int
	if err := other.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 't'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("second database sees %d tables named t, %v; want 0", n, err)
	}
}

// TestS3 puts, lists and gets an object in a fresh bucket.
func TestS3(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	endpoint, bucket, access, secret := S3(t)
	t.Logf("S3 server started in %v", s3.started)
	c, err := S3Client(endpoint, access, secret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("Subject: hello\r\n\r\nbody\r\n")
	if _, err := c.PutObject(ctx, bucket, "a/b", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for obj := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		keys = append(keys, obj.Key)
	}
	if len(keys) != 1 || keys[0] != "a/b" {
		t.Fatalf("listed %q, want [a/b]", keys)
	}
	obj, err := c.GetObject(ctx, bucket, "a/b", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("got %q, %v; want %q", got, err, body)
	}

	// A second bucket in the same test starts empty.
	_, other, _, _ := S3(t)
	for obj := range c.ListObjects(ctx, other, minio.ListObjectsOptions{Recursive: true}) {
		t.Fatalf("new bucket %s holds %q, %v", other, obj.Key, obj.Err)
	}
}

// TestUniqueName keeps names within PostgreSQL's and S3's limits and alphabets.
func TestUniqueName(t *testing.T) {
	t.Run("Very/Long name with Spaces and ÜNICODE "+string(bytes.Repeat([]byte("x"), 100)), func(t *testing.T) {
		for _, sep := range []string{"-", "_"} {
			n := uniqueName(t, sep, 63)
			if len(n) > 63 || len(n) < 3 {
				t.Errorf("%q: length %d", n, len(n))
			}
			for _, r := range n {
				if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || string(r) == sep) {
					t.Errorf("%q: bad rune %q", n, r)
				}
			}
		}
	})
}

// TestOwnPostgresRestart: a private cluster keeps its data across Stop and
// Start and across a SIGKILL (crash recovery), and refuses connections
// while it is down.
func TestOwnPostgresRestart(t *testing.T) {
	s := OwnPostgres(t)
	ctx := t.Context()
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, s.DSN)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE TABLE kept (v int); INSERT INTO kept VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	s.Stop(t)
	if err := exec("SELECT 1"); err == nil {
		t.Fatal("connected to a stopped cluster")
	}
	s.Start(t)
	if err := exec("INSERT INTO kept VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	s.Kill(t)
	s.Start(t)
	conn, err := pgx.Connect(ctx, s.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM kept").Scan(&n); err != nil || n != 2 {
		t.Fatalf("rows after restart and crash: %d, %v; want 2", n, err)
	}
}
