package fsblob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/blob"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readAll(t *testing.T, s *Store, id string) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPutOpenRoundTrip(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	body := []byte("Subject: hi\r\n\r\nhello\r\n")
	id, size, err := s.Put(ctx, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if id != hex.EncodeToString(sum[:]) {
		t.Errorf("id = %s, want sha256 of content", id)
	}
	if size != int64(len(body)) {
		t.Errorf("size = %d, want %d", size, len(body))
	}
	if got := readAll(t, s, id); !bytes.Equal(got, body) {
		t.Errorf("content = %q, want %q", got, body)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), id[:2], id[2:4], id)); err != nil {
		t.Errorf("fan-out path: %v", err)
	}
}

func TestPutDedupe(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	id1, _, err := s.Put(ctx, strings.NewReader("same"))
	if err != nil {
		t.Fatal(err)
	}
	id2, size, err := s.Put(ctx, strings.NewReader("same"))
	if err != nil {
		t.Fatal(err)
	}
	if id1 != id2 || size != 4 {
		t.Errorf("second put = %s/%d, want %s/4", id2, size, id1)
	}
	assertNoTemp(t, s)
}

func TestEmptyBlob(t *testing.T) {
	s := open(t)
	id, size, err := s.Put(context.Background(), strings.NewReader(""))
	if err != nil || size != 0 {
		t.Fatalf("put empty: %v size %d", err, size)
	}
	if got := readAll(t, s, id); len(got) != 0 {
		t.Errorf("got %q", got)
	}
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

func TestOpenMissingAndInvalid(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	for _, id := range []string{strings.Repeat("a", 64), "../../etc/passwd", "", strings.Repeat("A", 64)} {
		if _, err := s.Open(ctx, id); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Open(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

func TestDelete(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	id, _, err := s.Put(ctx, strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, id); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Errorf("delete missing: %v", err)
	}
}

func TestPutFailingReaderLeavesNothing(t *testing.T) {
	s := open(t)
	_, _, err := s.Put(context.Background(), io.MultiReader(strings.NewReader("part"), errReader{}))
	if err == nil {
		t.Fatal("want error")
	}
	assertNoTemp(t, s)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestPutCanceled(t *testing.T) {
	s := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.Put(ctx, strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want Canceled", err)
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

func TestConcurrentPutSameContent(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	ids := make([]string, 20)
	errs := make([]error, 20)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i], _, errs[i] = s.Put(ctx, strings.NewReader("concurrent body"))
		}()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("ids differ: %s %s", ids[i], ids[0])
		}
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
