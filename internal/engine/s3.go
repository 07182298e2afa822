package engine

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/rookery-mail/rookery/internal/blob/s3blob"
	"github.com/rookery-mail/rookery/internal/config"
)

// openS3 opens the blob store at loc on the [s3] server. Bodies too large
// to hash in memory are spooled under data_dir/tmp (not /tmp, which is
// often a small tmpfs).
func openS3(ctx context.Context, cfg *config.Config, loc config.BlobLocation, log *slog.Logger) (*s3blob.Store, error) {
	spool := filepath.Join(cfg.DataDir, "tmp")
	if err := os.MkdirAll(spool, 0o750); err != nil {
		return nil, err
	}
	return s3blob.Open(ctx, s3blob.Config{Endpoint: cfg.S3.Endpoint, Secure: !cfg.S3.Insecure, Region: cfg.S3.Region,
		AccessKey: cfg.S3.AccessKey, SecretKey: cfg.S3.SecretKey, Bucket: loc.Bucket, Prefix: loc.Prefix,
		CreateBucket: cfg.S3.CreateBucket, SpoolDir: spool, Logger: log})
}
