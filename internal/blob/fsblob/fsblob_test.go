package fsblob

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/blob"
	"github.com/rookery-mail/rookery/internal/blob/blobtest"
)

// TestConformance runs the engine-neutral suite; after each case no
// temporary file may be left behind.
func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) (blob.Store, func(*testing.T)) {
		s := open(t)
		return s, func(t *testing.T) { assertNoTemp(t, s) }
	})
}

// TestFanoutPath: a blob lives at dir/ab/cd/abcd..., so no directory
// grows past 65,536 entries.
func TestFanoutPath(t *testing.T) {
	s := open(t)
	id, _, err := s.Put(context.Background(), strings.NewReader("Subject: hi\r\n\r\nhello\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), id[:2], id[2:4], id)); err != nil {
		t.Errorf("fan-out path: %v", err)
	}
}

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func assertNoTemp(t *testing.T, s *Store) {
	t.Helper()
	entries, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			t.Errorf("temp file left: %s", e.Name())
		}
	}
}

func TestOpenRemovesStaleTemp(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, tmpPrefix+"123")
	if err := os.WriteFile(stale, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file still there: %v", err)
	}
	assertNoTemp(t, s)
}

func TestWalkAndDeleteIfOlder(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	id, _, err := s.Put(ctx, strings.NewReader("old"))
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(s.path(id), old, old); err != nil {
		t.Fatal(err)
	}
	var seen []string
	if err := s.Walk(ctx, func(got string, mod time.Time) error {
		seen = append(seen, got)
		if !mod.Before(time.Now().Add(-time.Hour)) {
			t.Errorf("mod time %v not old", mod)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != id {
		t.Fatalf("walk saw %v", seen)
	}

	// A Put that dedupes refreshes the time, protecting it from GC.
	if _, _, err := s.Put(ctx, strings.NewReader("old")); err != nil {
		t.Fatal(err)
	}
	cutoff := time.Now().Add(-time.Hour)
	if deleted, err := s.DeleteIfOlder(ctx, id, cutoff); err != nil || deleted {
		t.Fatalf("DeleteIfOlder after dedupe = %v, %v; want kept", deleted, err)
	}
	if err := os.Chtimes(s.path(id), old, old); err != nil {
		t.Fatal(err)
	}
	if deleted, err := s.DeleteIfOlder(ctx, id, cutoff); err != nil || !deleted {
		t.Fatalf("DeleteIfOlder = %v, %v; want deleted", deleted, err)
	}
}

// TestDeleteAsideRestoredOnOpen: a crash while DeleteIfOlder had a blob
// moved aside loses nothing: Open puts it back (a delivery may reference
// it), where a later collection may delete it if it is garbage.
func TestDeleteAsideRestoredOnOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := s.Put(t.Context(), strings.NewReader("moved aside"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(s.path(id), filepath.Join(dir, deletingPrefix+id)); err != nil { // the crash point
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := s.Open(t.Context(), id)
	if err != nil {
		t.Fatalf("blob moved aside by a crashed delete: %v", err)
	}
	rc.Close()
	if _, err := os.Stat(filepath.Join(dir, deletingPrefix+id)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the aside copy is still there: %v", err)
	}
}
