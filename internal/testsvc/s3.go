package testsvc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// The S3 client for the harness (and, by the same reasoning, for the S3 blob
// engine) is minio-go v7 rather than aws-sdk-go-v2: it speaks the same S3 API
// to any compatible server, streams PUTs of unknown size in parts, and pulls
// in a handful of modules where the AWS SDK pulls in dozens. MinIO's server is
// archived; its Go client is maintained and is not tied to that server.

// Fixed credentials of the test S3 server (scripts/s3-start.sh uses the same).
const (
	S3AccessKey = "rookery-test"
	S3SecretKey = "rookery-test-secret"
)

const s3Hint = "To run S3 tests: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 (or set VERSITYGW to its path)."

var s3 struct {
	once     sync.Once
	endpoint string // host:port
	err      error
	started  time.Duration
}

// S3 returns a new, empty bucket on the test binary's S3 server (plain HTTP on
// loopback), starting the server on first use. The bucket and its objects are
// removed when the test ends.
func S3(t testing.TB) (endpoint, bucket, accessKey, secretKey string) {
	t.Helper()
	s3.once.Do(startS3)
	if s3.err != nil {
		unavailable(t, "S3 (versitygw)", s3.err, s3Hint)
	}
	c, err := S3Client(s3.endpoint, S3AccessKey, S3SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	bucket = uniqueName(t, "-", 63)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("testsvc: make bucket %s: %v", bucket, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for obj := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
			if obj.Err == nil {
				obj.Err = c.RemoveObject(ctx, bucket, obj.Key, minio.RemoveObjectOptions{})
			}
			if obj.Err != nil {
				t.Errorf("testsvc: empty bucket %s: %v", bucket, obj.Err)
				return
			}
		}
		if err := c.RemoveBucket(ctx, bucket); err != nil {
			t.Errorf("testsvc: remove bucket %s: %v", bucket, err)
		}
	})
	return s3.endpoint, bucket, S3AccessKey, S3SecretKey
}

// S3Client is a client for the test S3 server at endpoint (host:port, HTTP).
func S3Client(endpoint, accessKey, secretKey string) (*minio.Client, error) {
	return minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(accessKey, secretKey, ""),
		Secure: false,
		Region: "us-east-1",
	})
}

// versitygwPath finds versitygw where s3-start.sh looks for it, so a missing
// binary is reported as "not installed" rather than as a start failure.
func versitygwPath() (string, error) {
	if p := os.Getenv("VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: VERSITYGW: %v", errMissing, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cache", "rookery-ci", "bin", "versitygw")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w: versitygw is not on PATH nor in %s", errMissing, filepath.Dir(p))
	}
	return p, nil
}

func startS3() {
	start := time.Now()
	if endpoint := os.Getenv("ROOKERY_TEST_S3"); endpoint != "" {
		s3.endpoint = endpoint
		return
	}
	gw, err := versitygwPath()
	if err != nil {
		s3.err = err
		return
	}
	port, _, err := startServer("s3-start.sh", "s3-stop.sh", "rookery-s3-", []string{"VERSITYGW=" + gw})
	if err != nil {
		s3.err = err
		return
	}
	s3.endpoint = fmt.Sprintf("127.0.0.1:%d", port)
	s3.started = time.Since(start)
}

// S3Server is an S3 server of one test's own, for tests that stop and
// restart it under load (the shared one must stay up for the others). Its
// data stays across Stop and Start.
type S3Server struct {
	Endpoint string // host:port, plain HTTP, credentials S3AccessKey/S3SecretKey
	dir      string
	port     int
	env      []string
}

// OwnS3 starts a private S3 server, stopped when the test ends.
func OwnS3(t testing.TB) *S3Server {
	t.Helper()
	gw, err := versitygwPath()
	if err != nil {
		unavailable(t, "S3 (versitygw)", err, s3Hint)
	}
	env := []string{"VERSITYGW=" + gw}
	port, dir, err := startServer("s3-start.sh", "s3-stop.sh", "rookery-owns3-", env)
	if err != nil {
		unavailable(t, "S3 (versitygw)", err, s3Hint)
	}
	t.Cleanup(func() {
		_ = runScript("s3-stop.sh", nil, dir)
		_ = os.RemoveAll(dir)
	})
	return &S3Server{Endpoint: fmt.Sprintf("127.0.0.1:%d", port), dir: dir, port: port, env: env}
}

// Bucket makes a bucket on the server and returns its name.
func (s *S3Server) Bucket(t testing.TB) string {
	t.Helper()
	c, err := S3Client(s.Endpoint, S3AccessKey, S3SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	bucket := uniqueName(t, "-", 63)
	if err := c.MakeBucket(t.Context(), bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("testsvc: make bucket %s: %v", bucket, err)
	}
	return bucket
}

// Stop stops the server; requests are refused until Start.
func (s *S3Server) Stop(t testing.TB) {
	t.Helper()
	if err := runScript("s3-stop.sh", nil, s.dir); err != nil {
		t.Fatalf("testsvc: stop S3: %v", err)
	}
}

// Start starts the stopped server again on the same port and data.
func (s *S3Server) Start(t testing.TB) {
	t.Helper()
	if err := runScript("s3-start.sh", s.env, s.dir, strconv.Itoa(s.port)); err != nil {
		t.Fatalf("testsvc: restart S3: %v", err)
	}
}
