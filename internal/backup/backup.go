// Package backup copies a node's embedded engines (the SQLite databases of
// the directory, the queue and each mailstore, and the mailstores' blob
// files) to a directory while the node runs, and restores such a copy into
// an empty data directory.
//
// Consistency comes from the order: each database is snapshotted with
// SQLite's VACUUM INTO (one read transaction, so a consistent state that
// writers do not wait for), the queue before the mailstores, so a message
// in flight is either still queued in the copy or already delivered in it
// (a redelivery after restore is de-duplicated by its delivery id); blobs
// are copied after their mailstore's snapshot, since they are immutable and
// content-addressed, every blob the snapshot references exists by then,
// unless a message expunged meanwhile had its blob collected, which the
// final check reports.
package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // driver "sqlite"

	"github.com/rookery-mail/rookery/internal/blob/fsblob"
	"github.com/rookery-mail/rookery/internal/queue/sqlitequeue"
)

// Marker names the file that makes a directory a rookery backup.
const Marker = "rookery-backup"

// The layout inside a data directory, the same in a backup.
const (
	directoryDB = "directory.db"
	queueDB     = "queue/queue.db"
	mailstores  = "mailstores"
	storeDB     = "store.db"
	blobsDir    = "blobs"
)

// Backup writes a consistent copy of the engines in dataDir to dest, which
// must not exist or be empty. The node may be running.
func Backup(ctx context.Context, dataDir, dest string) error {
	if err := requireEmpty(dest); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dataDir, directoryDB)); err != nil {
		return fmt.Errorf("%s is not a rookery data directory: %w", dataDir, err)
	}
	stores, err := storeNames(dataDir)
	if err != nil {
		return err
	}
	// Order matters; see the package comment.
	dbs := []string{directoryDB, queueDB}
	for _, name := range stores {
		dbs = append(dbs, filepath.Join(mailstores, name, storeDB))
	}
	for _, db := range dbs {
		src := filepath.Join(dataDir, db)
		if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) && db == queueDB {
			continue // the node never ran: no queue yet
		}
		if err := snapshot(ctx, src, filepath.Join(dest, db)); err != nil {
			return err
		}
	}
	for _, name := range stores {
		src, dst := filepath.Join(dataDir, mailstores, name, blobsDir), filepath.Join(dest, mailstores, name, blobsDir)
		if err := copyTree(ctx, src, dst); err != nil {
			return err
		}
		if err := checkBlobs(ctx, filepath.Join(dest, mailstores, name)); err != nil {
			return err
		}
	}
	return writeFile(filepath.Join(dest, Marker), strings.NewReader("rookery backup: restore with `rookery restore DIR`\n"))
}

// Restore copies the backup in src into dataDir, which must hold no
// engine data yet (a config, certificates and the like may be there). The
// node must not be running on dataDir; the caller holds its lock.
func Restore(ctx context.Context, src, dataDir string) error {
	if _, err := os.Stat(filepath.Join(src, Marker)); err != nil {
		return fmt.Errorf("%s is not a complete rookery backup (no %s file)", src, Marker)
	}
	for _, p := range []string{directoryDB, queueDB, mailstores} {
		if _, err := os.Stat(filepath.Join(dataDir, p)); err == nil {
			return fmt.Errorf("data directory %s already has %s: restore only into a data directory without mail data", dataDir, p)
		}
	}
	for _, p := range []string{directoryDB, queueDB, mailstores} {
		from := filepath.Join(src, p)
		if _, err := os.Stat(from); errors.Is(err, fs.ErrNotExist) && p != directoryDB {
			continue // a node that never ran, or one without mailstores yet
		}
		if err := copyTree(ctx, from, filepath.Join(dataDir, p)); err != nil {
			return err
		}
	}
	return releaseClaims(ctx, filepath.Join(dataDir, queueDB))
}

// releaseClaims ends the queue claims the backup holds: they belong to
// runners of the backed-up node, and the restored node would otherwise
// wait for them to lapse ([queue] claim_ttl) before delivering that mail.
func releaseClaims(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	q, err := sqlitequeue.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("restore queue: %w", err)
	}
	defer q.Close()
	return q.ReleaseAllClaims(ctx)
}

// snapshot writes a consistent copy of the database at src to dst.
func snapshot(ctx context.Context, src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+src+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("back up %s: %w", src, err)
	}
	defer db.Close()
	// https://sqlite.org/lang_vacuum.html#vacuuminto: a read transaction
	// on src, so writers carry on; the copy is compact and complete.
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("back up %s: %w", src, err)
	}
	return syncFile(dst)
}

// storeNames lists the mailstores of a data directory.
func storeNames(dataDir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dataDir, mailstores))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// checkBlobs verifies that every blob the mailstore copy in dir references
// was copied.
func checkBlobs(ctx context.Context, dir string) error {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, storeDB)+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	blobs, err := fsblob.Open(filepath.Join(dir, blobsDir))
	if err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, "SELECT DISTINCT blob_id FROM messages")
	if err != nil {
		return fmt.Errorf("check blobs of %s: %w", dir, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		rc, err := blobs.Open(ctx, id)
		if err != nil {
			return fmt.Errorf("blob %s vanished during the backup (its message was expunged meanwhile): run the backup again", id)
		}
		rc.Close()
	}
	return rows.Err()
}
