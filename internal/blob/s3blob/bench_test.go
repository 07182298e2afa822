package s3blob

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/rookery-mail/rookery/internal/blob"
	"github.com/rookery-mail/rookery/internal/blob/fsblob"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// The benchmarks run fsblob and s3blob side by side on the same sizes, so
// one run gives the cost of moving bodies to S3 (see NOTES for numbers).

var benchSizes = []int{4 << 10, 100 << 10, 10 << 20}

func benchStores(b *testing.B) map[string]blob.Store {
	fs, err := fsblob.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	endpoint, bucket, ak, sk := testsvc.S3(b)
	s3, err := Open(context.Background(), Config{
		Endpoint: endpoint, Region: "us-east-1", AccessKey: ak, SecretKey: sk, Bucket: bucket, SpoolDir: b.TempDir(),
	})
	if err != nil {
		b.Fatal(err)
	}
	return map[string]blob.Store{"fsblob": fs, "s3blob": s3}
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}

// BenchmarkPut stores distinct bodies, so no Put is a dedupe.
func BenchmarkPut(b *testing.B) {
	stores := benchStores(b)
	for _, engine := range []string{"fsblob", "s3blob"} {
		for _, size := range benchSizes {
			b.Run(engine+"/"+sizeName(size), func(b *testing.B) {
				body := make([]byte, size)
				io.ReadFull(pattern{}, body)
				b.SetBytes(int64(size))
				seed := uint64(size) << 40
				for b.Loop() {
					seed++
					binary.BigEndian.PutUint64(body, seed)
					if _, _, err := stores[engine].Put(context.Background(), bytes.NewReader(body)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkPutDuplicate stores the same body again: the cost of a dedupe.
func BenchmarkPutDuplicate(b *testing.B) {
	stores := benchStores(b)
	for _, engine := range []string{"fsblob", "s3blob"} {
		for _, size := range benchSizes[:2] {
			b.Run(engine+"/"+sizeName(size), func(b *testing.B) {
				body := make([]byte, size)
				io.ReadFull(pattern{}, body)
				b.SetBytes(int64(size))
				for b.Loop() {
					if _, _, err := stores[engine].Put(context.Background(), bytes.NewReader(body)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkOpen reads a stored body whole.
func BenchmarkOpen(b *testing.B) {
	stores := benchStores(b)
	for _, engine := range []string{"fsblob", "s3blob"} {
		for _, size := range benchSizes {
			b.Run(engine+"/"+sizeName(size), func(b *testing.B) {
				body := make([]byte, size)
				io.ReadFull(pattern{}, body)
				id, _, err := stores[engine].Put(context.Background(), bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(size))
				for b.Loop() {
					rc, err := stores[engine].Open(context.Background(), id)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.Copy(io.Discard, rc); err != nil {
						b.Fatal(err)
					}
					rc.Close()
				}
			})
		}
	}
}

// BenchmarkStat is the round trip Put spends checking for a duplicate
// before uploading a body that is new (the usual case).
func BenchmarkStat(b *testing.B) {
	s := benchStores(b)["s3blob"].(*Store)
	key := s.blobKey(blob.ID([]byte("missing")))
	for b.Loop() {
		if _, err := s.core.StatObject(context.Background(), s.bucket, key, minio.StatObjectOptions{}); !isNotFound(err) {
			b.Fatal(err)
		}
	}
}

// BenchmarkSpool puts 2 MiB bodies held in memory and spooled to a file,
// the cost MemoryLimit trades against memory.
func BenchmarkSpool(b *testing.B) {
	endpoint, bucket, ak, sk := testsvc.S3(b)
	for _, limit := range []int64{1 << 20, 4 << 20} {
		name := map[int64]string{1 << 20: "file", 4 << 20: "memory"}[limit]
		b.Run(name, func(b *testing.B) {
			s, err := Open(context.Background(), Config{
				Endpoint: endpoint, Region: "us-east-1", AccessKey: ak, SecretKey: sk, Bucket: bucket,
				SpoolDir: b.TempDir(), MemoryLimit: limit,
			})
			if err != nil {
				b.Fatal(err)
			}
			body := make([]byte, 2<<20)
			io.ReadFull(pattern{}, body)
			b.SetBytes(int64(len(body)))
			seed := uint64(limit) << 32
			for b.Loop() {
				seed++
				binary.BigEndian.PutUint64(body, seed)
				if _, _, err := s.Put(context.Background(), bytes.NewReader(body)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
