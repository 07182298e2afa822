package s3blob

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/rookery-mail/rookery/internal/blob"
)

// TestWalk lists exactly the store's blobs, not its keyed objects, with
// their write times.
func TestWalk(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	before := time.Now().Add(-time.Minute) // generous: server clock, 1s resolution
	var want []string
	for _, body := range []string{"one", "two", "three"} {
		want = append(want, put(t, e.s, body))
	}
	if _, err := e.s.PutKey(ctx, "q1", strings.NewReader("keyed")); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := e.s.Walk(ctx, func(id string, mod time.Time) error {
		got = append(got, id)
		if mod.Before(before) || mod.After(time.Now().Add(time.Minute)) {
			t.Errorf("blob %s modTime %v, want about now", id, mod)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("Walk = %v, want %v", got, want)
	}
	stop := errors.New("stop")
	n := 0
	if err := e.s.Walk(ctx, func(string, time.Time) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("Walk with fn failing = %v after %d calls, want stop after 1", err, n)
	}
}

func put(t *testing.T, s *Store, body string) string {
	t.Helper()
	id, _, err := s.Put(context.Background(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestDeleteIfOlder keeps a blob written at or after cutoff and deletes
// an older one; a missing or malformed id is not an error.
func TestDeleteIfOlder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cutoff := time.Now().Add(-time.Minute)
	id := put(t, e.s, "body")
	if ok, err := e.s.DeleteIfOlder(ctx, id, cutoff); ok || err != nil {
		t.Fatalf("DeleteIfOlder of a blob newer than cutoff = %v, %v", ok, err)
	}
	if _, err := e.s.Open(ctx, id); err != nil {
		t.Fatalf("blob gone after a refused DeleteIfOlder: %v", err)
	}
	if ok, err := e.s.DeleteIfOlder(ctx, id, time.Now().Add(time.Minute)); !ok || err != nil {
		t.Fatalf("DeleteIfOlder of a blob older than cutoff = %v, %v", ok, err)
	}
	if _, err := e.s.Open(ctx, id); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open after DeleteIfOlder = %v", err)
	}
	for _, id := range []string{id, "../x"} {
		if ok, err := e.s.DeleteIfOlder(ctx, id, time.Now().Add(time.Minute)); ok || err != nil {
			t.Errorf("DeleteIfOlder(%q) of nothing = %v, %v", id, ok, err)
		}
	}
}

// TestDedupeRefresh: a de-duplicating Put of a blob older than refreshAge
// uploads it again (renewing the time DeleteIfOlder and Walk see); of a
// younger one, it does not.
func TestDedupeRefresh(t *testing.T) {
	e := newEnv(t)
	id := put(t, e.s, "dup")
	first := stat(t, e, id)
	// The server's times have a resolution of a second (and share this
	// machine's clock): let a second pass so a re-upload would show.
	time.Sleep(time.Until(first.Add(1100 * time.Millisecond)))
	e.s.refreshAge = time.Hour
	put(t, e.s, "dup")
	if got := stat(t, e, id); !got.Equal(first) {
		t.Errorf("a Put of a young duplicate rewrote it: %v -> %v", first, got)
	}
	e.s.refreshAge = 0
	put(t, e.s, "dup")
	if got := stat(t, e, id); !got.After(first) {
		t.Errorf("a Put of an old duplicate did not refresh it: %v -> %v", first, got)
	}
}

// stat returns the blob's LastModified as the server reports it.
func stat(t *testing.T, e env, id string) time.Time {
	t.Helper()
	info, err := e.c.StatObject(context.Background(), e.bucket, e.s.blobKey(id), minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return info.LastModified
}
