package s3blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"
)

// A body's id (its SHA-256) is known only once it has been read, and a
// single PUT needs its length up front, so Put reads the body once into a
// spool while hashing it, then uploads from the spool. Small bodies (most
// mail) stay in memory, costing no disk I/O; a body past the memory limit
// moves to a temp file, so a large message is never held whole in memory.
// The alternative, uploading to a temporary key and copying it server-side
// to its address, avoids the local copy but writes every body twice on the
// server and leaves temporary objects behind when a node dies mid-Put.

// spool holds a body being read, in memory up to limit bytes and in an
// unlinked temp file past that. It checks ctx on every write, so a long
// copy stops when the caller gives up.
type spool struct {
	ctx   context.Context
	dir   string
	limit int64
	mem   bytes.Buffer
	file  *os.File
	size  int64
	hash  hash.Hash
}

func newSpool(ctx context.Context, dir string, limit int64) *spool {
	return &spool{ctx: ctx, dir: dir, limit: limit, hash: sha256.New()}
}

// fill reads r to its end into the spool.
func (sp *spool) fill(r io.Reader) error {
	_, err := io.Copy(sp, r)
	return err
}

func (sp *spool) Write(p []byte) (int, error) {
	if err := sp.ctx.Err(); err != nil {
		return 0, err
	}
	if sp.file == nil && sp.size+int64(len(p)) > sp.limit {
		if err := sp.toFile(); err != nil {
			return 0, err
		}
	}
	var n int
	var err error
	if sp.file != nil {
		n, err = sp.file.Write(p)
	} else {
		n, err = sp.mem.Write(p)
	}
	sp.hash.Write(p[:n])
	sp.size += int64(n)
	return n, err
}

// toFile moves what is in memory to a temp file. The file is unlinked at
// once: it stays usable through the open descriptor, and a crash leaves
// nothing behind to clean up.
func (sp *spool) toFile() error {
	f, err := os.CreateTemp(sp.dir, "s3blob-spool-*")
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return fmt.Errorf("spool: unlink: %w", err)
	}
	if _, err := f.Write(sp.mem.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("spool: %w", err)
	}
	sp.file = f
	sp.mem = bytes.Buffer{}
	return nil
}

// sum returns the SHA-256 of everything written.
func (sp *spool) sum() []byte { return sp.hash.Sum(nil) }

// reader returns the spooled bytes from the start. It is seekable, which
// lets the S3 client retry a failed upload.
func (sp *spool) reader() io.ReadSeeker {
	if sp.file != nil {
		return io.NewSectionReader(sp.file, 0, sp.size)
	}
	return bytes.NewReader(sp.mem.Bytes())
}

func (sp *spool) close() {
	if sp.file != nil {
		sp.file.Close()
	}
}
