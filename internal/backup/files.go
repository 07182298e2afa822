package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// requireEmpty accepts a missing or empty directory and creates it.
func requireEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s is not empty: back up into a new directory", dir)
	}
	return os.MkdirAll(dir, 0o750)
}

// copyTree copies the file or directory tree src to dst, skipping temp
// files of the blob store (never acknowledged to anyone), and syncs every
// file and directory, so the copy survives a crash right after.
func copyTree(ctx context.Context, src, dst string) error {
	var dirs []string
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			dirs = append(dirs, target)
			return os.MkdirAll(target, 0o750)
		case strings.HasPrefix(d.Name(), ".tmp-") || !d.Type().IsRegular():
			return nil
		}
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // a blob collected meanwhile; checkBlobs judges
		} else if err != nil {
			return err
		}
		defer f.Close()
		return writeFile(target, f)
	})
	if err != nil {
		return err
	}
	dirs = append(dirs, filepath.Dir(dst))
	for i := len(dirs) - 1; i >= 0; i-- { // children first
		if err := syncFile(dirs[i]); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes r to path durably (mode 0600: mail is private).
func writeFile(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncFile fsyncs a file or a directory.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
