// Package fsblob is a blob.Store on the local filesystem: one file per blob,
// named by the hex SHA-256 of its content, under two levels of fan-out
// directories (dir/ab/cd/abcd...) so no directory grows too large.
package fsblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rookery-mail/rookery/internal/blob"
)

// tmpPrefix marks files being written. They live in the top directory (same
// filesystem as the targets, so rename is atomic) and are removed at Open:
// a temp file left behind was never acknowledged to anyone.
const tmpPrefix = ".tmp-"

var _ blob.Store = (*Store)(nil)

// Store keeps blobs as files under a directory.
type Store struct {
	dir string

	// mu serializes the "exists? then rename or touch" step of Put with
	// DeleteIfOlder, so garbage collection can never delete a blob that a
	// concurrent Put has just de-duplicated against (content addressing
	// makes the two refer to the same file).
	mu sync.Mutex

	// dirs caches fan-out directories known to exist durably, so Put does
	// not Mkdir and fsync the parents every time.
	dirs sync.Map // string -> struct{}
}

// Open opens (creating if needed) the blob directory and removes temp files
// left by a crash.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("fsblob: create %s: %w", dir, err)
	}
	// Make the directory itself durable in case MkdirAll just created it.
	if err := syncDir(filepath.Dir(filepath.Clean(dir))); err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("fsblob: read %s: %w", dir, err)
	}
	st := &Store{dir: dir}
	for _, e := range entries {
		if id, ok := strings.CutPrefix(e.Name(), deletingPrefix); ok && e.Type().IsRegular() && blob.ValidID(id) {
			// A crash in DeleteIfOlder: the blob may be referenced
			// (a delivery touched it meanwhile), so it goes back; a
			// later collection deletes it if it is garbage.
			if err := st.restore(id); err != nil {
				return nil, err
			}
			continue
		}
		if strings.HasPrefix(e.Name(), tmpPrefix) && e.Type().IsRegular() {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("fsblob: remove stale temp file: %w", err)
			}
		}
	}
	return st, nil
}

// deletingPrefix names a blob DeleteIfOlder has moved aside.
const deletingPrefix = tmpPrefix + "deleting-"

// restore puts a blob moved aside back in place (unless a Put stored the
// same bytes meanwhile), durably, then drops the aside copy.
func (s *Store) restore(id string) error {
	aside := filepath.Join(s.dir, deletingPrefix+id)
	if err := s.ensureDir(s.fanout(id)); err != nil {
		return err
	}
	if err := os.Link(aside, s.path(id)); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("fsblob: keep %s: %w", id, err)
	}
	if err := syncDir(s.fanout(id)); err != nil {
		return fmt.Errorf("fsblob: keep %s: %w", id, err)
	}
	if err := os.Remove(aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fsblob: keep %s: %w", id, err)
	}
	return nil
}

// Dir returns the directory the store lives in.
func (s *Store) Dir() string { return s.dir }

func (s *Store) fanout(id string) string { return filepath.Join(s.dir, id[0:2], id[2:4]) }

func (s *Store) path(id string) string { return filepath.Join(s.fanout(id), id) }

// Put streams r to a temp file while hashing it, fsyncs it, renames it to
// its content address and fsyncs the directory, so the blob is durable when
// Put returns. If the blob already exists the temp file is dropped.
func (s *Store) Put(ctx context.Context, r io.Reader) (id string, size int64, err error) {
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	tmp, err := os.CreateTemp(s.dir, tmpPrefix+"*")
	if err != nil {
		return "", 0, fmt.Errorf("fsblob: put: %w", err)
	}
	tmpName := tmp.Name()
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()

	h := blob.NewHasher()
	size, err = io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if err != nil {
		return "", 0, fmt.Errorf("fsblob: put: write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, fmt.Errorf("fsblob: put: fsync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", 0, fmt.Errorf("fsblob: put: close: %w", err)
	}
	id = h.ID()

	dir := s.fanout(id)
	if err := s.ensureDir(dir); err != nil {
		return "", 0, err
	}
	target := filepath.Join(dir, id)

	s.mu.Lock()
	if _, statErr := os.Stat(target); statErr == nil {
		// Dedupe. Touch the file so a garbage collector with a grace
		// period sees it as fresh: the caller is about to reference it.
		// A collector in another process may have taken it away since
		// the Stat (DeleteIfOlder moves it aside first): then the touch
		// fails with ErrNotExist and this Put's own copy goes in place.
		now := time.Now()
		err = os.Chtimes(target, now, now)
		if !errors.Is(err, fs.ErrNotExist) {
			s.mu.Unlock()
			if err != nil {
				return "", 0, fmt.Errorf("fsblob: put: touch %s: %w", id, err)
			}
			return id, size, nil
		}
	}
	err = os.Rename(tmpName, target)
	s.mu.Unlock()
	if err != nil {
		return "", 0, fmt.Errorf("fsblob: put: rename: %w", err)
	}
	renamed = true
	// The rename is durable only once the directory entry is on disk.
	if err := syncDir(dir); err != nil {
		return "", 0, fmt.Errorf("fsblob: put: %w", err)
	}
	return id, size, nil
}

// ensureDir creates the fan-out directory and its parent if missing and
// fsyncs the directory that received each new entry.
func (s *Store) ensureDir(dir string) error {
	if _, ok := s.dirs.Load(dir); ok {
		return nil
	}
	parent := filepath.Dir(dir)
	for _, d := range []string{parent, dir} {
		err := os.Mkdir(d, 0o750)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("fsblob: mkdir: %w", err)
		}
		// Sync the parent even when the directory already existed: it
		// may have been created by a Put that crashed before its sync.
		if err := syncDir(filepath.Dir(d)); err != nil {
			return fmt.Errorf("fsblob: %w", err)
		}
	}
	s.dirs.Store(dir, struct{}{})
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}

// Open returns a reader for the blob, or an error wrapping blob.ErrNotFound.
func (s *Store) Open(ctx context.Context, id string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !blob.ValidID(id) {
		return nil, fmt.Errorf("fsblob: open %q: %w", id, blob.ErrNotFound)
	}
	f, err := os.Open(s.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("fsblob: open %s: %w", id, blob.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("fsblob: open %s: %w", id, err)
	}
	return f, nil
}

// Delete removes the blob; a missing blob is not an error. Callers that
// collect garbage should use DeleteIfOlder, which cannot race a Put.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !blob.ValidID(id) {
		return nil
	}
	s.mu.Lock()
	err := os.Remove(s.path(id))
	s.mu.Unlock()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fsblob: delete %s: %w", id, err)
	}
	return nil
}

// DeleteIfOlder removes the blob only if it was last written or
// de-duplicated before cutoff. It reports whether it deleted the blob.
//
// Another process (a second handle on the same directory) may de-duplicate
// against the blob at the same moment, and the mutex does not reach it. So
// the blob is first moved aside in one atomic rename, and its time judged
// after the move: a Put that touched it before the move is seen (the blob
// is put back), and one that comes after finds it gone and stores its own
// copy. A crash while it is aside is repaired by Open, which puts it back.
func (s *Store) DeleteIfOlder(ctx context.Context, id string, cutoff time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if !blob.ValidID(id) {
		return false, nil
	}
	p := s.path(id)
	aside := filepath.Join(s.dir, deletingPrefix+id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Rename(p, aside); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("fsblob: delete %s: %w", id, err)
	}
	fi, err := os.Stat(aside)
	if err != nil {
		return false, fmt.Errorf("fsblob: stat %s: %w", id, err)
	}
	if !fi.ModTime().Before(cutoff) {
		return false, s.restore(id) // fresh: a delivery uses it
	}
	if err := os.Remove(aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("fsblob: delete %s: %w", id, err)
	}
	return true, nil
}

// Walk calls fn for every stored blob with the time it was last written or
// de-duplicated. Blobs added during the walk may or may not be seen.
func (s *Store) Walk(ctx context.Context, fn func(id string, modTime time.Time) error) error {
	err := filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !blob.ValidID(d.Name()) {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		return fn(d.Name(), fi.ModTime())
	})
	if err != nil {
		return fmt.Errorf("fsblob: walk: %w", err)
	}
	return nil
}

// ctxReader stops a long copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
