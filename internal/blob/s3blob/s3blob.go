// Package s3blob is a blob.Store and blob.Keyed on an S3-compatible object
// store. Content-addressed blobs live at <prefix>/blobs/<id[0:2]>/<id> and
// keyed objects at <prefix>/keys/<key>, so several stores can share a bucket
// under different prefixes.
//
// Every upload is a single PUT whose payload hash the server checks against
// the signed x-amz-content-sha256 (the blob's own id) and the
// x-amz-checksum-sha256 header, so a body corrupted on the way is refused,
// and an object is either wholly there or absent: there are no multipart
// uploads to abandon. A single PUT limits bodies to 5 GiB, far past any
// message a mail server accepts.
package s3blob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rookery-mail/rookery/internal/blob"
)

var (
	_ blob.Store = (*Store)(nil)
	_ blob.Keyed = (*Store)(nil)
	// What the mailstores' garbage collectors look for (sqlitestore's
	// CollectableBlobs, pgstore's collectableBlobs).
	_ interface {
		DeleteIfOlder(ctx context.Context, id string, cutoff time.Time) (bool, error)
		Walk(ctx context.Context, fn func(id string, modTime time.Time) error) error
	} = (*Store)(nil)
)

// Config says where the store lives and how hard to try. Zero values of the
// tuning fields take the defaults noted on each.
type Config struct {
	Endpoint  string // host:port of the S3 server
	Secure    bool   // HTTPS
	Region    string // "" lets the client ask the server
	AccessKey string
	SecretKey string
	Bucket    string
	Prefix    string // key prefix inside the bucket; slashes at either end are ignored

	// CreateBucket makes Open create a missing bucket instead of failing.
	CreateBucket bool

	// MemoryLimit is the largest body Put keeps in memory while hashing it;
	// larger ones are spooled to an unlinked file in SpoolDir. Default 1 MiB.
	MemoryLimit int64
	// SpoolDir is where large bodies are spooled; "" is os.TempDir().
	SpoolDir string

	// MaxRetries is the number of attempts per request (1 = no retry).
	// Default 3, so a down server fails a delivery in seconds (4xx), not
	// after minio-go's default of 10 attempts.
	MaxRetries int
	// DialTimeout bounds connecting to the server. Default 5s.
	DialTimeout time.Duration
	// ResponseTimeout bounds every wait on the server: for a response's
	// headers once a request is sent, and for each write of a request body
	// to make progress, so a server that accepts but never answers fails
	// the request. A request counts as sent once the kernel has taken it,
	// so the timeout must also cover draining socket buffers (a few MB)
	// over the link: the default suits links of a few hundred KB/s and up.
	// Reading a response body is bounded by the reader's context only.
	// Default 30s.
	ResponseTimeout time.Duration

	// Logger receives failed request attempts; nil is slog.Default().
	Logger *slog.Logger
	// Registerer, if set, gets the request metrics (rookery_s3_*),
	// labelled store="bucket/prefix".
	Registerer prometheus.Registerer
}

// Store is a blob store in one bucket under one prefix. It is safe for
// concurrent use.
type Store struct {
	core        minio.Core
	bucket      string
	prefix      string // "" or ending in "/"
	memoryLimit int64
	spoolDir    string
	refreshAge  time.Duration // a test may shorten it
}

// Open connects to the server and checks the bucket exists (creating it if
// cfg.CreateBucket), so a misconfigured store fails at startup rather than
// at the first delivery.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("s3blob: endpoint and bucket are required")
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		if err := validKey(prefix); err != nil {
			return nil, fmt.Errorf("s3blob: prefix: %w", err)
		}
		prefix += "/"
	}
	cfg = withDefaults(cfg)
	tr, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		return nil, fmt.Errorf("s3blob: %w", err)
	}
	dialer := &stallDialer{net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}, cfg.ResponseTimeout}
	tr.DialContext = dialer.DialContext
	tr.ResponseHeaderTimeout = cfg.ResponseTimeout
	m, err := newMetrics(cfg.Registerer, strings.TrimSuffix(cfg.Bucket+"/"+prefix, "/"))
	if err != nil {
		return nil, fmt.Errorf("s3blob: metrics: %w", err)
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     cfg.Secure,
		Region:     cfg.Region,
		Transport:  observedTransport{tr, cfg.Logger.With("endpoint", cfg.Endpoint, "bucket", cfg.Bucket), m},
		MaxRetries: cfg.MaxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("s3blob: %w", err)
	}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3blob: check bucket %q at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	if !ok && !cfg.CreateBucket {
		return nil, fmt.Errorf("s3blob: bucket %q does not exist at %s", cfg.Bucket, cfg.Endpoint)
	}
	if !ok {
		err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		// Nodes starting together race to create it: whoever loses finds
		// it made (BucketAlreadyOwnedByYou), which is success.
		if code := minio.ToErrorResponse(err).Code; err != nil && code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
			return nil, fmt.Errorf("s3blob: create bucket %q: %w", cfg.Bucket, err)
		}
	}
	return &Store{
		core:        minio.Core{Client: c},
		bucket:      cfg.Bucket,
		prefix:      prefix,
		memoryLimit: cfg.MemoryLimit,
		spoolDir:    cfg.SpoolDir,
		refreshAge:  refreshAge,
	}, nil
}

func withDefaults(cfg Config) Config {
	if cfg.MemoryLimit <= 0 {
		cfg.MemoryLimit = 1 << 20
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 3
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.ResponseTimeout <= 0 {
		cfg.ResponseTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

// blobKey is where the blob with a valid id lives; the two-character level
// spreads keys over prefixes, which S3 implementations partition by.
func (s *Store) blobKey(id string) string { return s.prefix + "blobs/" + id[:2] + "/" + id }

func (s *Store) objectKey(key string) string { return s.prefix + "keys/" + key }
